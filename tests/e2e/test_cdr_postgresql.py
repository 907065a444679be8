"""Call records in PostgreSQL (docs/cdr.md) against a real server the test starts: a throwaway cluster
(initdb) under the test's folder, on 127.0.0.1 and a free port, stopped by its PID.

- With `cdr = "postgresql://..."` the gateway creates the schema and writes each ended call's rows
  (calls, legs), the password never appearing in its log.
- The database goes away (fast shutdown) with the gateway running: a call still ends normally, its
  record is held (warmline_cdr_pending 1, warmline_cdr_store_up 0); when the database is back, the
  record is written once and the metrics return to 1 / 0 with nothing dropped.
"""
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import Agent, E2ETestCase, Gateway, free_port, wait_for
from sipp_peer import start_caller

SCRIPT = """\
on start: tone 440 4000
"""
PASSWORD = "s3cret-pw"


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise AssertionError(f"PostgreSQL's {name} is not installed (scripts/install-deps.sh installs postgresql)")
    return found[-1]


class Postgres:
    """One throwaway PostgreSQL server. PostgreSQL refuses to run as root: as root the server runs as the
    `postgres` user that Debian's package creates."""

    def __init__(self, case):
        self.case = case
        # Its own folder outside the test's (which only root may enter); removed at the end.
        self.dir = Path(tempfile.mkdtemp(prefix="warmline-e2e-pg-"))
        case.addCleanup(shutil.rmtree, self.dir, True)
        self.data = self.dir / "data"
        self.port = free_port(kinds=(socket.SOCK_STREAM,))
        self.as_user = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_user = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--"]
        init = subprocess.run(self.as_user + [pg_bin("initdb"), "-D", str(self.data), "-A", "scram-sha-256",
                                              "-U", "warmline", "--pwfile", self._pwfile(), "-N"],
                              capture_output=True, text=True, timeout=120)
        if init.returncode != 0:
            raise AssertionError(f"initdb failed: {init.stdout}{init.stderr}")
        self.proc = None
        self.start()

    def _pwfile(self):
        path = self.dir / "pw"
        path.write_text(PASSWORD + "\n")
        if self.as_user:
            shutil.chown(path, "postgres", "postgres")
        return str(path)

    def start(self):
        self.proc = self.case.start("postgres", self.as_user + [
            pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.dir),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        wait_for(self.ready, 30, "PostgreSQL to accept connections")

    def ready(self):
        if not self.proc.running():
            raise AssertionError(f"postgres exited with {self.proc.popen.returncode}")
        return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", str(self.port)],
                              capture_output=True).returncode == 0

    def stop_fast(self):
        """Fast shutdown (SIGINT): clients are disconnected, as when a database server goes down."""
        self.proc.signal(signal.SIGINT)
        self.proc.wait(30)

    @property
    def url(self):
        return f"postgresql://warmline:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def query(self, sql):
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "warmline", "-d", "postgres",
                              "-At", "-F", "|", "-c", sql], capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, PGPASSWORD=PASSWORD))
        if out.returncode != 0:
            raise AssertionError(f"psql: {out.stderr}")
        return [line.split("|") for line in out.stdout.splitlines() if line]


def one_call(case, gateway, name):
    sipp, _rtp = start_caller(case, gateway, "uac-call-until-trigger.xml", name=name)
    sipp.trigger()
    sipp.assert_passed()
    return sipp.call_id


# A database of schema version 1 (before calls.recording), as that release created it.
SCHEMA_V1 = """
CREATE TABLE warmline_schema (version integer NOT NULL);
INSERT INTO warmline_schema (version) VALUES (1);
CREATE TABLE calls (id text PRIMARY KEY, agent text NOT NULL, from_party text NOT NULL, to_party text NOT NULL,
  started_at timestamptz NOT NULL, answered_at timestamptz, ended_at timestamptz NOT NULL, end_reason text NOT NULL);
CREATE TABLE legs (call_id text NOT NULL REFERENCES calls(id), role text NOT NULL, direction text NOT NULL,
  remote_uri text NOT NULL, trunk text, sip_call_id text NOT NULL, from_uri text NOT NULL, to_uri text NOT NULL,
  pai text, codec text, started_at timestamptz NOT NULL, answered_at timestamptz, ended_at timestamptz,
  final_status integer, hangup_side text);
CREATE TABLE transfers (call_id text NOT NULL REFERENCES calls(id), transfer_id text NOT NULL, mode text NOT NULL,
  targets_tried jsonb NOT NULL, strategy text NOT NULL, attempts jsonb NOT NULL, result text,
  requested_at timestamptz NOT NULL, answered_at timestamptz, bridged_at timestamptz, ended_at timestamptz);
INSERT INTO calls VALUES ('c0-old', 'demo', '1', '2', now(), NULL, now(), 'caller_hangup');
"""


class CdrPostgresql(E2ETestCase):
    def test_a_version_1_database_gets_the_recording_column(self):
        pg = Postgres(self)
        pg.query(SCHEMA_V1)
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, cdr=pg.url)
        call = one_call(self, gateway, "sipp-first")
        wait_for(lambda: pg.query("SELECT count(*) FROM calls") == [["2"]], 15, "the call's row beside the old one")
        self.assertEqual(pg.query("SELECT max(version) FROM warmline_schema"), [["2"]])
        self.assertEqual(pg.query("SELECT c.id = 'c0-old', c.recording IS NULL FROM calls c ORDER BY 1"),
                         [["f", "t"], ["t", "t"]])
        self.assertEqual(pg.query("SELECT l.sip_call_id FROM legs l"), [[call]])

    def test_records_reach_postgresql_and_survive_an_outage(self):
        pg = Postgres(self)
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, cdr=pg.url)

        first = one_call(self, gateway, "sipp-first")
        wait_for(lambda: pg.query("SELECT count(*) FROM calls") == [["1"]], 15, "the first call's row")
        rows = pg.query("SELECT c.agent, c.end_reason, l.role, l.sip_call_id, l.final_status, "
                        "c.started_at <= c.ended_at FROM calls c JOIN legs l ON l.call_id = c.id")
        self.assertEqual(rows, [["demo", "caller_hangup", "a", first, "200", "t"]])
        self.assertEqual(pg.query("SELECT version FROM warmline_schema"), [["2"]])  # 2: calls.recording
        self.assertEqual(pg.query("SELECT recording IS NULL FROM calls"), [["t"]], "a call not recorded")
        log = gateway.proc.stderr_path.read_text()
        self.assertNotIn(PASSWORD, log, "the database password must never be logged")
        self.assertIn("postgresql://warmline:***@127.0.0.1", log)

        pg.stop_fast()
        second = one_call(self, gateway, "sipp-during-outage")
        wait_for(lambda: gateway.metric("warmline_cdr_store_up") == 0, 15, "the store to be seen down")
        self.assertEqual(gateway.metric("warmline_cdr_pending"), 1)

        pg.start()
        wait_for(lambda: gateway.metric("warmline_cdr_pending") == 0, 45, "the held record to be written")
        self.assertEqual(gateway.metric("warmline_cdr_store_up"), 1)
        self.assertEqual(gateway.metric("warmline_cdr_dropped_total"), 0)
        self.assertEqual(gateway.metric("warmline_cdr_written_total"), 2)
        self.assertGreaterEqual(gateway.metric("warmline_cdr_write_retries_total"), 1)
        self.assertEqual(sorted(r[0] for r in pg.query("SELECT sip_call_id FROM legs WHERE role = 'a'")),
                         sorted([first, second]))


if __name__ == "__main__":
    unittest.main()
