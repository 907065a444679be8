"""Call records (docs/cdr.md) through the whole gateway, read from the test's own cdr.sqlite with
Python's sqlite3 as an operator's tools would read them:
- calls that end get their `calls` and `legs` rows (trunk, SIP Call-ID, final status, who hung up);
- records committed before a `kill -9` of the gateway are all there afterwards, and the database opens
  cleanly (integrity check, WAL, schema version); a call still up at the kill has no rows;
- a call cancelled while ringing is recorded with 487 and no answer time;
- a database written by a newer warmline stops the start with a clear error.
"""
import signal
import sqlite3
import unittest

from harness import Agent, E2ETestCase, Gateway, SilentAgent, cdr_query, config_text, gateway_binary, wait_for
from sipp_peer import Sipp, start_caller

SCRIPT = """\
on start: tone 440 4000
"""


query = cdr_query


def recorded_sip_call_ids(path):
    """The SIP Call-IDs of every caller's leg whose call row is there."""
    rows = query(path, "SELECT legs.sip_call_id FROM legs JOIN calls ON calls.id = legs.call_id "
                       "WHERE legs.role = 'a'")
    return {r[0] for r in rows}


class CallRecords(E2ETestCase):
    def run_calls(self, gateway, prefix, count):
        """`count` callers at once: each is answered, then all hang up. Returns their SIP Call-IDs."""
        callers = [start_caller(self, gateway, "uac-call-until-trigger.xml", name=f"{prefix}{i}")[0]
                   for i in range(count)]
        for sipp in callers:
            sipp.trigger()
        for sipp in callers:
            sipp.assert_passed()
        return [sipp.call_id for sipp in callers]

    def wait_recorded(self, gateway, sip_call_ids, what):
        wait_for(lambda: set(sip_call_ids) <= recorded_sip_call_ids(gateway.cdr_path), 15, what)

    def test_records_committed_before_kill_9_are_all_there(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        db = gateway.cdr_path
        self.assertTrue(db.exists(), "the gateway creates its database at start-up")

        first = self.run_calls(gateway, "first", 3)
        self.wait_recorded(gateway, first, "the first three calls' records")
        calls = query(db, "SELECT agent, from_party, to_party, started_at, answered_at, ended_at, end_reason "
                          "FROM calls")
        self.assertEqual(len(calls), 3, calls)
        for agent_name, from_party, to_party, started, answered, ended, reason in calls:
            self.assertEqual((agent_name, from_party, to_party, reason),
                             ("demo", "+15550001111", "demo", "caller_hangup"))
            self.assertTrue(started <= answered <= ended, (started, answered, ended))
            self.assertRegex(started, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        legs = query(db, "SELECT sip_call_id, role, direction, trunk, codec, final_status, hangup_side, from_uri "
                         "FROM legs ORDER BY sip_call_id")
        self.assertEqual([tuple(leg[:7]) for leg in legs],
                         [(cid, "a", "in", "local", "PCMU", 200, "remote") for cid in sorted(first)])
        for leg in legs:
            self.assertIn("+15550001111", leg[7])

        second = self.run_calls(gateway, "second", 3)
        self.wait_recorded(gateway, second, "the next three calls' records")
        self.assertEqual(gateway.metric("warmline_cdr_written_total"), 6)
        self.assertEqual(gateway.metric("warmline_cdr_dropped_total"), 0)

        # One more call, still up when the gateway is killed.
        live, _ = start_caller(self, gateway, "uac-call-until-trigger.xml", name="live")
        wait_for(lambda: len(gateway.calls()) == 1, 10, "the live call in /v1/calls")

        gateway.proc.signal(signal.SIGKILL)
        self.assertEqual(gateway.proc.wait(10), -signal.SIGKILL)

        self.assertEqual(query(db, "PRAGMA integrity_check"), [("ok",)])
        self.assertEqual(query(db, "PRAGMA journal_mode"), [("wal",)])
        self.assertEqual(query(db, "PRAGMA user_version"), [(2,)])  # 2: calls.recording (docs/cdr.md)
        self.assertEqual(query(db, "SELECT count(*) FROM calls WHERE recording IS NULL"), [(6,)], "none recorded")
        recorded = recorded_sip_call_ids(db)
        self.assertEqual(recorded, set(first) | set(second), "every call that ended before the kill")
        self.assertNotIn(live.call_id, recorded)
        self.assertEqual(query(db, "SELECT count(*) FROM calls"), [(6,)])
        self.assertEqual(query(db, "SELECT count(*) FROM legs"), [(6,)])

    def test_a_call_cancelled_while_ringing_is_recorded_with_487(self):
        agent = SilentAgent(self)  # never answers the WebSocket upgrade: the call rings until cancelled
        gateway = Gateway(self, agent.url)
        sipp = Sipp(self, "uac-cancel-before-answer.xml", gateway.sip_port)
        sipp.assert_passed()
        wait_for(lambda: recorded_sip_call_ids(gateway.cdr_path) == {sipp.call_id}, 15, "the cancelled call's record")
        self.assertEqual(query(gateway.cdr_path, "SELECT answered_at, end_reason FROM calls"),
                         [(None, "caller_cancelled")])
        self.assertEqual(query(gateway.cdr_path, "SELECT answered_at, final_status, hangup_side FROM legs"),
                         [(None, 487, "remote")])

    def test_a_database_from_a_newer_warmline_stops_the_start(self):
        path = self.workdir / "cdr.sqlite"
        con = sqlite3.connect(str(path))
        con.execute("CREATE TABLE calls (id TEXT)")
        con.execute("PRAGMA user_version = 99")
        con.commit()
        con.close()
        config = self.workdir / "warmline.toml"
        config.write_text(config_text({
            "sip_port": 9, "http_port": 9, "rtp_first": 40000, "rtp_last": 40009, "shards": 1, "cdr": str(path),
            "drain_timeout_s": 1, "trunk_cidrs": ["127.0.0.1/32"], "agent_url": "ws://127.0.0.1:9",
            "sample_rate": 8000, "refer_timeout_s": 5, "fallback_message": "", "targets": []}))
        proc = self.start("warmline", [gateway_binary(), "--config", config])
        self.assertEqual(proc.wait(30), 1)
        self.assertIn("newer warmline (schema version 99", proc.output())
        self.assertEqual(query(path, "PRAGMA user_version"), [(99,)])


if __name__ == "__main__":
    unittest.main()
