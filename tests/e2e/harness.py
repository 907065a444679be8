"""Shared pieces of the end-to-end tests: the gateway, the reference agent and the test peers (SIPp,
baresip, a Python RTP endpoint), each started by PID in a per-test temporary folder.

Rules every test relies on (tests/README conventions, DESIGN.md "tests/"):
- everything listens on 127.0.0.x with ports picked free at run time, so tests never collide with a
  developer's running gateway;
- every wait is a poll of a real condition with a deadline (`wait_for`); nothing sleeps to synchronise;
- every process is stopped by its own PID (SIGTERM, then SIGKILL); logs go to files that are printed
  when the test fails.
Standard library only: the tests run under whatever `python3` ctest finds.
"""
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from rtp_peer import tone_ratio

E2E_DIR = Path(__file__).resolve().parent
SCENARIOS = E2E_DIR / "scenarios"
SOURCE_DIR = Path(os.environ.get("WARMLINE_SOURCE_DIR", E2E_DIR.parent.parent))
PEERS_DIR = E2E_DIR / "peers"


def gateway_binary():
    """The gateway under test: $WARMLINE_BIN (set by ctest), else a local build."""
    env = os.environ.get("WARMLINE_BIN")
    if env:
        return Path(env)
    for build in ("build", "build-e2e"):
        candidate = SOURCE_DIR / build / "warmline"
        if candidate.exists():
            return candidate
    raise unittest.SkipTest("WARMLINE_BIN is not set and no built gateway was found")


# ---------------------------------------------------------------------------------------------------
# Waiting and ports


def wait_for(condition, timeout, what, interval=0.05):
    """Polls `condition()` until it returns a truthy value (returned) or `timeout` seconds pass
    (AssertionError naming `what`). The only way tests wait for something."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def wait_line(path, timeout, what):
    """The first line of the file at `path` once it is complete (a peer writes it, e.g. SIPp's <exec>)."""
    path = Path(path)

    def read():
        text = path.read_text(errors="replace") if path.exists() else ""
        return text.partition("\n")[0] if "\n" in text else None
    return wait_for(read, timeout, what)


def _bindable(kind, host, port):
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def _fixed_port_window():
    """Ports the kernel never hands out by itself: below its ephemeral range (bind to port 0, outgoing
    connections). A port chosen there and released cannot be taken by another process's bind(0)
    before the peer it was chosen for binds it (SIPp failed so once: "Unable to bind remote control
    socket ... Address already in use")."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return 10000, max(low, 12000)


def free_port(host="127.0.0.1", kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM)):
    """A port that is free for every socket kind in `kinds` on `host` right now, outside the kernel's
    ephemeral range."""
    rng = random.Random()
    first, end = _fixed_port_window()
    for _ in range(200):
        port = rng.randrange(first, end)
        if all(_bindable(k, host, port) for k in kinds):
            return port
    raise RuntimeError("no free port found")


def free_port_range(count, host="127.0.0.1"):
    """`count` consecutive free UDP ports starting at an even port (RTP, RTCP pairs), outside the
    kernel's ephemeral range."""
    rng = random.Random()
    first_port, end = _fixed_port_window()
    for _ in range(200):
        first = rng.randrange(first_port, end - count) & ~1
        if all(_bindable(socket.SOCK_DGRAM, host, p) for p in range(first, first + count)):
            return first, first + count - 1
    raise RuntimeError("no free port range found")


# ---------------------------------------------------------------------------------------------------
# Processes


# What ASan, LSan and UBSan print (UBSan: "file:line:col: runtime error: ...").
SANITIZER_REPORT = re.compile(r"==\d+==ERROR: (Address|Leak)Sanitizer|:\d+:\d+: runtime error: |"
                              r"WARNING: ThreadSanitizer|SUMMARY: (Address|Leak|UndefinedBehavior|Thread)Sanitizer")


def cdr_query(path, sql, args=()):
    """Rows of `sql` from the call records at `path` (a fresh connection each time, closed again), or
    [] while the file does not exist yet."""
    if not path.exists():
        return []
    con = sqlite3.connect(str(path), timeout=5)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


class Process:
    """One child process we own: started in its own session, logs to files, stopped by PID."""

    def __init__(self, name, argv, workdir, env=None, cwd=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.stdout_path = Path(workdir) / f"{name}.stdout"
        self.stderr_path = Path(workdir) / f"{name}.stderr"
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                      stderr=self._err, cwd=cwd or workdir, env=env,
                                      start_new_session=True)
        self.pid = self.popen.pid
        self._sanitizer_checked = False

    def running(self):
        return self.popen.poll() is None

    def wait(self, timeout):
        """Exit status, or AssertionError if it is still running after `timeout` seconds."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} (pid {self.pid}) still running after {timeout}s")

    def signal(self, sig):
        if self.running():
            os.kill(self.pid, sig)

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL after `grace` seconds; only this PID."""
        if self.running():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=grace)
        self._out.close()
        self._err.close()
        self._check_sanitizer_reports()

    def _check_sanitizer_reports(self):
        """A sanitizer report on this process's stderr fails the test, even when the test itself
        passed (a report at shutdown would otherwise go unseen). `make test-asan` sends ASan and LSan
        reports to files of its own, but GCC's UBSan, linked beside ASan, writes to stderr regardless
        of log_path: with $WARMLINE_SANITIZER_REPORTS set, the stderr is also copied there, where
        scripts/test-sanitizer.sh finds it."""
        if self._sanitizer_checked or not self.stderr_path.exists():
            return
        self._sanitizer_checked = True
        text = self.stderr_path.read_text(errors="replace")
        if not SANITIZER_REPORT.search(text):
            return
        reports = os.environ.get("WARMLINE_SANITIZER_REPORTS")
        if reports:
            Path(reports).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.stderr_path, Path(reports) / f"{self.name}.{self.pid}.stderr")
        raise AssertionError(f"sanitizer report on the stderr of {self.name} (pid {self.pid}):\n"
                             + text[-4000:])

    def output(self):
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")


# ---------------------------------------------------------------------------------------------------
# Small SIP and HTTP clients (the test's own probes, not a peer under test)


def sip_request(method, host, port, uri, local_ip="127.0.0.1", extra_headers="", body="", timeout=1.0):
    """Sends one out-of-dialog request over UDP and returns the first final response's text, or None
    when nothing final arrived within `timeout`. Provisional responses are skipped."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((local_ip, 0))
        lport = s.getsockname()[1]
        tag = "%08x" % random.getrandbits(32)
        msg = (f"{method} {uri} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {local_ip}:{lport};branch=z9hG4bK-e2e{tag};rport\r\n"
               f"From: <sip:probe@{local_ip}:{lport}>;tag={tag}\r\n"
               f"To: <{uri}>\r\n"
               f"Call-ID: e2e-probe-{tag}@{local_ip}\r\n"
               f"CSeq: 1 {method}\r\n"
               f"Max-Forwards: 70\r\n"
               f"{extra_headers}"
               f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
        s.sendto(msg.encode(), (host, port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = s.recv(65535).decode(errors="replace")
            except socket.timeout:
                return None
            if data.startswith("SIP/2.0 ") and not data.startswith("SIP/2.0 1"):
                return data
        return None


def status_of(response):
    return int(response.split(" ", 2)[1]) if response else None


def header_of(response, name):
    """The value of the first `name` header of a SIP message's text (case-insensitive), or None."""
    if not response:
        return None
    for line in response.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name.lower():
            return value.strip()
    return None


def http(method, url, body=None, timeout=5.0, headers=None):
    """(status, parsed JSON or text). HTTP errors are returned, not raised. `headers`: more request
    headers (e.g. Authorization)."""
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json"} if data else {}
    all_headers.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


# ---------------------------------------------------------------------------------------------------
# The test base class


class E2ETestCase(unittest.TestCase):
    """Gives each test a temporary folder and a list of processes; stops them (by PID) at the end and
    prints every log when the test failed."""

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"warmline-e2e-{self._testMethodName}-"))
        self.processes = []
        self.printers = []
        try:
            super().run(result)
        finally:
            if len(result.failures) + len(result.errors) > before:
                self._print_logs()
            if os.environ.get("WARMLINE_E2E_KEEP"):
                print(f"\n[e2e] kept {self.workdir}", file=sys.stderr)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)
        return result

    def _print_logs(self):
        print(f"\n===== logs of {self.id()} ({self.workdir}) =====", file=sys.stderr)
        for path in sorted(self.workdir.rglob("*")):
            if path.is_file() and path.suffix in (".stdout", ".stderr", ".log", ".jsonl", ".toml", ".txt"):
                text = path.read_text(errors="replace")
                if len(text) > 60000:
                    text = "...\n" + text[-60000:]
                print(f"----- {path.name} -----\n{text}", file=sys.stderr)
        for printer in self.printers:
            printer()

    def start(self, name, argv, env=None, cwd=None):
        p = Process(name, argv, self.workdir, env=env, cwd=cwd)
        self.processes.append(p)
        self.addCleanup(p.stop)
        return p


# ---------------------------------------------------------------------------------------------------
# The gateway


def toml_value(value):
    """A Python value as TOML: booleans, integers, strings, lists of strings (JSON's forms of
    strings and arrays are valid TOML) and dicts (inline tables)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


def toml_keys(values, skip=()):
    """`key = value` lines for every entry of `values` but those in `skip` or set to None."""
    return "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items() if v is not None and k not in skip)


def provider_trunk(address, name="provider", username=None, password=None, caller_ids=(), number_format=None,
                   tech_prefix=None, **more):
    """A `[[trunk]]` that warmline dials out through (DESIGN.md "Reaching a target", "Caller ID"), for
    Gateway's `trunks`: `address` "host:port"; digest `username`/`password` answered on 401/407;
    `caller_ids` we may present; `number_format` "e164" | "no_plus"; `tech_prefix`. `more`: any other
    trunk key (e.g. source_cidrs=[...], accepts_refer=True). No source_cidrs by default: calls from
    127.0.0.1 still come in on the test's "local" trunk, which is listed first."""
    trunk = {"name": name, "address": address, "username": username, "password": password,
             "caller_ids": list(caller_ids) if caller_ids else None, "number_format": number_format,
             "tech_prefix": tech_prefix}
    trunk.update(more)
    return trunk


def config_text(c):
    """The gateway config for one test (keys: server/config.hpp, conf/warmline.toml). `c` is a dict
    built by Gateway; everything but the ports has a test-friendly default there."""
    # A target's name, aliases and uri always; its other keys (via, caller_id, ring_timeout_s) when given.
    targets = "".join(
        f'\n[[agent.target]]\nname = "{t["name"]}"\naliases = {json.dumps(t.get("aliases", []))}\n'
        f'uri = "{t["uri"]}"\n' + toml_keys(t, skip=("name", "aliases", "uri")) for t in c["targets"])
    forward = f'default_forward = "{c["default_forward"]}"\n' if c.get("default_forward") else ""
    provisional = f'provisional = "{c["provisional"]}"\n' if c.get("provisional") else ""
    dns = f'dns_servers = {json.dumps(list(c["dns_servers"]))}\n' if c.get("dns_servers") else ""
    trunks = "".join(f"\n[[trunk]]\n{toml_keys(t)}" for t in c.get("trunks", ()))
    return f'''# generated by tests/e2e/harness.py for one test
[server]
sip_listen = {json.dumps([f"udp:127.0.0.1:{c['sip_port']}", *c.get("stream_listen", ())])}
http = "127.0.0.1:{c["http_port"]}"
rtp_ports = "{c["rtp_first"]}-{c["rtp_last"]}"
shards = {c["shards"]}
cdr = "{c["cdr"]}"
drain_timeout_s = {c["drain_timeout_s"]}
log_level = "debug"
{dns}{c.get("server_extra", "")}
[media]
codecs = {json.dumps(list(c.get("codecs", ("PCMU", "PCMA"))))}

[[trunk]]
name = "local"
source_cidrs = {json.dumps(c["trunk_cidrs"])}
accepts_refer = {toml_value(c.get("accepts_refer", True))}
{provisional}{toml_keys(c.get("caller_trunk_options", {}))}{trunks}{c.get("extra_trunks", "")}
[[agent]]
name = "demo"
numbers = ["demo"]
url = "{c["agent_url"]}"
sample_rate = {c["sample_rate"]}
refer_timeout_s = {c["refer_timeout_s"]}
fallback_message = "{c["fallback_message"]}"
{forward}{toml_keys(c.get("agent_options", {}))}{targets}'''


class Gateway:
    """The gateway under test with a config generated for this test (fresh ports), started and
    waited for until it answers OPTIONS and /healthz."""

    def __init__(self, case, agent_url, targets=(), refer_timeout_s=30, trunk_cidrs=("127.0.0.1/32",),
                 fallback_message="Sorry, our assistant is not available. Please call again later.",
                 drain_timeout_s=60, shards=2, sample_rate=16000, default_forward=None, provisional=None,
                 name="warmline", rtp_ports=40, server_extra="", accepts_refer=True, trunks=(),
                 agent_options=None, dns_servers=(), extra_trunks="", caller_trunk_options=None, http_token=None, env=None,
                 tcp=False, stream_listen=(), cdr=None, codecs=("PCMU", "PCMA")):
        """`name`: the process and file names (several gateways in one test need their own); `codecs`:
        [media] codecs;
        `rtp_ports`: size of its RTP range (two per call); `server_extra`: more `key = value` lines
        for the [server] section (e.g. "max_calls = 1").
        Transfers that dial (DESIGN.md "Transfers"): `accepts_refer` of the callers' trunk ("local",
        127.0.0.1), and `caller_trunk_options`: more keys for it (e.g. {"username": ..., "password":
        ...}, the credentials that answer its challenges to our REFER and BYE); `trunks`: more
        [[trunk]] tables after it (see `provider_trunk`); `extra_trunks`: more [[trunk]] tables as
        TOML text; `agent_options`: more agent keys, e.g. {"trunk":
        "provider", "caller_id": "+27...", "allow_patterns": [...], "refer_fallback": "agent",
        "ring_timeout_s": 2, "decline_is_final": False}; `targets` may give `via`, `caller_id` and
        `ring_timeout_s` besides name, aliases and uri; `dns_servers`: `[server] dns_servers`
        ("127.0.0.1:PORT" of a DnsServer), for `sip:` targets found by RFC 3263."""
        self.case = case
        self.name = name
        # `cdr`: [server] cdr instead of the test's own SQLite file (a postgresql:// URL).
        # `http_token`: [server] http_token; the test's own API calls (self.http) then carry it.
        self.http_token = http_token
        if http_token:
            server_extra += f'\nhttp_token = "{http_token}"\n'
        self.sip_port = free_port(kinds=(socket.SOCK_DGRAM,))
        # `tcp`: a tcp: listener too ([server] sip_listen), on tcp_port; `stream_listen`: more entries.
        self.tcp_port = free_port(kinds=(socket.SOCK_STREAM,)) if tcp else None
        self.http_port = free_port(kinds=(socket.SOCK_STREAM,))
        rtp_first, rtp_last = free_port_range(rtp_ports)
        # Call records go into the test's own folder (docs/cdr.md); tests may read them.
        self.cdr_path = case.workdir / ("cdr.sqlite" if name == "warmline" else f"{name}-cdr.sqlite")
        self.config = {
            "sip_port": self.sip_port, "http_port": self.http_port, "rtp_first": rtp_first,
            "rtp_last": rtp_last, "shards": shards, "cdr": cdr or str(self.cdr_path),
            "drain_timeout_s": drain_timeout_s, "trunk_cidrs": list(trunk_cidrs), "agent_url": agent_url,
            "sample_rate": sample_rate, "refer_timeout_s": refer_timeout_s,
            "fallback_message": fallback_message, "targets": list(targets),
            "default_forward": default_forward, "provisional": provisional, "server_extra": server_extra,
            "accepts_refer": accepts_refer, "trunks": list(trunks), "agent_options": dict(agent_options or {}),
            "dns_servers": list(dns_servers), "extra_trunks": extra_trunks,
            "caller_trunk_options": dict(caller_trunk_options or {}),
            "stream_listen": ([f"tcp:127.0.0.1:{self.tcp_port}"] if tcp else []) + list(stream_listen),
            "codecs": list(codecs),
        }
        self.config_path = case.workdir / f"{name}.toml"
        self.config_path.write_text(config_text(self.config))
        # `env`: the gateway's whole environment (None: this process's), e.g. with NOTIFY_SOCKET.
        self.proc = case.start(name, [gateway_binary(), "--config", self.config_path], env=env)
        wait_for(self._ready, 30, "the gateway to answer OPTIONS and /healthz")

    def _ready(self):
        if not self.proc.running():
            raise AssertionError(f"the gateway exited with {self.proc.popen.returncode} at start-up")
        return status_of(self.options()) == 200 and self.http("GET", "/healthz")[0] == 200

    @property
    def uri(self):
        return f"sip:demo@127.0.0.1:{self.sip_port}"

    def options(self, timeout=1.0):
        return sip_request("OPTIONS", "127.0.0.1", self.sip_port, f"sip:127.0.0.1:{self.sip_port}",
                           timeout=timeout)

    def http(self, method, path, body=None, headers=None):
        """`headers`: instead of the Authorization with the gateway's http_token (when it has one)."""
        if headers is None:
            headers = {"Authorization": f"Bearer {self.http_token}"} if self.http_token else {}
        try:
            return http(method, f"http://127.0.0.1:{self.http_port}{path}", body, headers=headers)
        except OSError as e:  # not listening (yet, or any more)
            return None, str(e)

    def calls(self):
        status, body = self.http("GET", "/v1/calls")
        if status != 200:
            raise AssertionError(f"GET /v1/calls answered {status}: {body}")
        return body["calls"]

    def only_call(self):
        """The id of the single live call (waits for it to be listed)."""
        calls = wait_for(self.calls, 10, "GET /v1/calls to list the call")
        self.case.assertEqual(len(calls), 1, calls)
        return calls[0]["id"]

    def trunk(self, name):
        """The entry of trunk `name` in GET /v1/trunks (its registration and OPTIONS state)."""
        status, body = self.http("GET", "/v1/trunks")
        if status != 200:
            raise AssertionError(f"GET /v1/trunks answered {status}: {body}")
        return next(t for t in body["trunks"] if t["name"] == name)

    def metric(self, name):
        """The value of a metric of GET /metrics (Prometheus text): a name, or a name with its labels
        as exported (`warmline_trunk_up{trunk="carrier"}`)."""
        status, body = self.http("GET", "/metrics")
        if status != 200 or not isinstance(body, str):
            raise AssertionError(f"GET /metrics answered {status}: {body}")
        for line in body.splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == name:
                return float(words[1])
        raise AssertionError(f"GET /metrics has no {name}")


# ---------------------------------------------------------------------------------------------------
# Agents


def agent_python():
    """An interpreter that can run examples/agent.py: this one, or Debian's when only Debian's has
    python3-websockets (a pyenv shim in PATH often lacks it)."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        if Path(candidate).exists() and subprocess.run(
                [candidate, "-c", "import websockets"], capture_output=True).returncode == 0:
            return candidate
    return sys.executable


def matches(event, fields):
    return isinstance(event, dict) and all(event.get(k) == v for k, v in fields.items())


class Agent:
    """examples/agent.py (the reference agent, examples/README.md) with a script. Its events file has
    one JSON line per thing it saw; `events()` gives the protocol frames it received (the `msg` of
    each `"kind":"text"` line), which is what the tests assert on."""

    def __init__(self, case, script, record=False):
        """`record`: the agent keeps the audio it receives (`received_audio`, `audio_offset`,
        `recorded`)."""
        self.case = case
        self.script_path = case.workdir / "agent-script.txt"
        self.script_path.write_text(script)
        self.events_path = case.workdir / "agent-events.jsonl"
        self.record_dir = case.workdir / "agent-audio"
        self.proc = case.start("agent", [
            agent_python(), SOURCE_DIR / "examples" / "agent.py", "--listen", "127.0.0.1:0",
            "--script", self.script_path, "--events", self.events_path,
            *(["--record", self.record_dir] if record else [])])
        # Port 0: the agent picks a free port and prints "agent listening on ws://HOST:PORT" first.
        self.url = wait_for(self._listening_url, 15, "the agent to listen")

    def _listening_url(self):
        if not self.proc.running():
            raise AssertionError(f"the agent exited with {self.proc.popen.returncode}")
        first = self.proc.stdout_path.read_text(errors="replace").partition("\n")
        if not first[1]:
            return None
        words = first[0].split()
        return words[-1] if first[0].startswith("agent listening on ws://") else None

    def log_lines(self):
        if not self.events_path.exists():
            return []
        out = []
        for line in self.events_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # a line still being written
        return out

    def events(self):
        return [line["msg"] for line in self.log_lines() if line.get("kind") == "text" and "msg" in line]

    def caller_audio_frames(self):
        """How many binary (audio) frames of the caller the agent has received so far."""
        return max([line.get("frames", 0) for line in self.log_lines() if line.get("kind") == "audio"], default=0)

    def find(self, **fields):
        return [e for e in self.events() if matches(e, fields)]

    def recorded(self, conn=1, timeout=10):
        """(rate, samples) of the mono audio connection `conn` received, once it has ended (needs
        `record`; the rate is the one its `start` frame announced)."""
        wait_for(lambda: any(line.get("kind") == "disconnect" and line.get("conn") == conn
                             for line in self.log_lines()), timeout, f"the agent's connection {conn} to end")
        starts = [line["msg"] for line in self.log_lines() if line.get("kind") == "text" and line.get("conn") == conn
                  and matches(line.get("msg"), {"type": "start"})]
        rate = ((starts[0].get("audio") or {}).get("sample_rate") if starts else None) or 16000
        data = self.received_audio(conn)
        return rate, list(memoryview(data[:len(data) // 2 * 2]).cast("h"))

    def received_audio(self, conn=1):
        """The bytes of audio (L16 as warmline sent them) connection `conn` has received so far;
        needs `record`."""
        path = self.record_dir / f"conn-{conn}.raw"
        return path.read_bytes() if path.exists() else b""

    def audio_offset(self, conn=1, **fields):
        """Where in `received_audio(conn)` the first text frame with all `fields` came: the bytes
        received before it (needs `record`), or None before that frame has come."""
        for line in self.log_lines():
            if line.get("kind") == "text" and line.get("conn") == conn and matches(line.get("msg"), fields):
                return line["audio_bytes"]
        return None

    def wait_event(self, timeout=15, **fields):
        """The first frame with all `fields` (e.g. type="transfer", state="ended")."""
        found = wait_for(lambda: self.find(**fields), timeout, f"agent event {fields}")
        return found[0]


class SilentAgent:
    """A TCP port that accepts connections (kernel backlog) and never answers the WebSocket upgrade:
    an agent that never picks up."""

    def __init__(self, case):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        case.addCleanup(self.sock.close)

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}"


class HeldAgent:
    """A TCP relay in front of a real agent: it accepts the gateway's connection at once but passes
    the bytes on (so the WebSocket handshake completes) only after the test calls `release()`. The
    call stays in setup exactly as long as the test needs, e.g. to look at what the caller gets
    before the answer, with no timer to race. Mind the gateway's agent connect timeout (5 s)."""

    def __init__(self, case, agent, rcvbuf=None):
        """`rcvbuf`: SO_RCVBUF of the listening socket (the accepted ones inherit it)."""
        parsed = urllib.parse.urlsplit(agent.url)
        self.upstream = (parsed.hostname, parsed.port)
        self.path = parsed.path
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._released = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._connections = 0
        self._threads = [threading.Thread(target=self._accept_loop, name=f"held-agent-{self.port}", daemon=True)]
        self._threads[0].start()
        case.addCleanup(self.stop)

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}{self.path}"

    def connections(self):
        """How many connections the gateway has opened to this relay so far."""
        with self._lock:
            return self._connections

    def release(self):
        self._released.set()

    def stop(self):
        self._stop.set()
        self._threads[0].join(timeout=5)  # the accept loop: no relay starts after this
        for t in self._threads[1:]:
            t.join(timeout=5)
        self.sock.close()

    def _accept_loop(self):
        while not self._stop.is_set():
            readable, _, _ = select.select([self.sock], [], [], 0.1)
            if not readable:
                continue
            conn, _ = self.sock.accept()
            with self._lock:
                self._connections += 1
            t = threading.Thread(target=self._relay, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _relay(self, conn):
        with conn:
            while not self._released.wait(0.1):  # bounded by stop()
                if self._stop.is_set():
                    return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                return
            with upstream:
                peers = {conn: upstream, upstream: conn}
                while not self._stop.is_set():
                    readable, _, _ = select.select(list(peers), [], [], 0.1)
                    for s in readable:
                        try:
                            data = s.recv(65536)
                            if not data:
                                return
                            peers[s].sendall(data)
                        except OSError:
                            return


def unreachable_agent_url():
    """A ws:// URL where nothing listens (connection refused)."""
    return f"ws://127.0.0.1:{free_port(kinds=(socket.SOCK_STREAM,))}"


# ---------------------------------------------------------------------------------------------------
# Media checks shared by the tests


def wait_tone(rtp, hz, since=0, timeout=10, what=None):
    """Waits until the last 200 ms of audio the gateway sent to `rtp` (from packet `since` on) is a
    pure `hz` tone, e.g. one the agent's script plays. Speech, ringback and silence never pass."""
    wait_for(lambda: tone_ratio(rtp.audio(since)[-1600:], hz) > 0.5, timeout,
             what or f"a {hz} Hz tone from the agent at the caller")


def assert_back_with_agent(case, agent, gateway, caller, rtp, result, target=None, sip_status=None, agent_hz=1000,
                           timeout=20):
    """A transfer ended with `result` (and `target`, `sip_status` when given) and the caller is back with
    the agent: the agent's script answers the failure with an `agent_hz` tone, which must reach the
    caller (`rtp`), so the media path to the agent works again; its stream goes on. Then the caller
    (`caller`, a sipp_peer.Sipp whose scenario waits for trigger()) hangs up and the call ends.
    Returns the `ended` event."""
    ended = agent.wait_event(timeout, type="transfer", state="ended")
    case.assertEqual(ended.get("result"), result, ended)
    if target is not None:
        case.assertEqual(ended.get("target"), target, ended)
    if sip_status is not None:
        case.assertEqual(ended.get("sip_status"), sip_status, ended)
    since = rtp.count()
    wait_tone(rtp, agent_hz, since=since, timeout=15,
              what=f"the agent's {agent_hz} Hz tone at the caller after the transfer ended {result}")
    case.assertEqual(agent.find(type="stop"), [], "the agent's stream must go on")
    caller.trigger()
    caller.assert_passed()
    agent.wait_event(type="stop", reason="caller_hangup")
    wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")
    return ended


def dtmf_round_trip(agent, rtp, digit, answer_hz=1000):
    """The caller sends `digit` (RFC 4733); the agent must get a dtmf frame and answer with its
    script's `answer_hz` tone, which must reach the caller: both media directions work."""
    before = rtp.count()
    rtp.send_dtmf(digit)
    agent.wait_event(type="dtmf", digit=digit)
    wait_tone(rtp, answer_hz, since=before, what=f"the agent's answer to digit {digit} at the caller")


# ---------------------------------------------------------------------------------------------------
# Kamailio in front of gateways (deploy/kamailio/dispatcher.cfg)


class Kamailio:
    """Kamailio 5.6 running the production dispatcher config (deploy/kamailio/dispatcher.cfg) on free
    ports, with this test's dispatcher.list (set 1 = `node_ports` on 127.0.0.1); started by PID with
    -DD (its main process stays the one we started, so stopping that PID stops its workers)."""

    CONFIG = SOURCE_DIR / "deploy" / "kamailio" / "dispatcher.cfg"

    def __init__(self, case, node_ports, ping_interval=1, name="kamailio"):
        self.case = case
        self.port = free_port(kinds=(socket.SOCK_DGRAM,))
        self.node_uris = [f"sip:127.0.0.1:{p}" for p in node_ports]
        self.list_path = case.workdir / "dispatcher.list"
        self.list_path.write_text("# setid destination flags priority\n" +
                                  "".join(f"1 {uri} 0 0\n" for uri in self.node_uris))
        # kamcmd's control socket on a loopback TCP port (a Unix socket path under the test's folder
        # can pass the 104-byte limit).
        self.ctl = f"tcp:127.0.0.1:{free_port(kinds=(socket.SOCK_STREAM,))}"
        self.pid_path = case.workdir / f"{name}.pid"
        defines = [f"LISTEN=udp:127.0.0.1:{self.port}", f'DS_LIST="{self.list_path}"',
                   f'CTL_SOCKET="{self.ctl}"', f"PING_INTERVAL={ping_interval}", "CHILDREN=2"]
        defines = [arg for d in defines for arg in ("-A", d)]
        check = subprocess.run(["kamailio", "-c", "-f", self.CONFIG, *defines], capture_output=True, text=True,
                               timeout=30)
        if check.returncode != 0:
            raise AssertionError(f"kamailio -c refused {self.CONFIG}:\n{check.stdout}{check.stderr}")
        self.proc = case.start(name, ["kamailio", "-DD", "-E", "-f", self.CONFIG, "-P", self.pid_path,
                                      "-Y", case.workdir, "-m", "64", "-M", "8", *defines])
        wait_for(self._ready, 20, "Kamailio to answer OPTIONS")
        pid = self.pid_path.read_text().strip()
        case.assertEqual(pid, str(self.proc.pid), "kamailio -DD must keep the PID we started")

    def _ready(self):
        if not self.proc.running():
            raise AssertionError(f"kamailio exited with {self.proc.popen.returncode} at start-up")
        return status_of(sip_request("OPTIONS", "127.0.0.1", self.port, f"sip:127.0.0.1:{self.port}")) == 200

    def states(self):
        """{node URI: dispatcher flags} as `kamcmd dispatcher.list` reports them: first letter A
        (active), I (inactive), T (trying) or D (disabled); second P (probed with OPTIONS)."""
        out = subprocess.run(["kamcmd", "-s", self.ctl, "dispatcher.list"], capture_output=True, text=True,
                             timeout=10)
        states, uri = {}, None
        for line in out.stdout.splitlines():
            key, _, value = line.strip().partition(": ")
            if key == "URI":
                uri = value
            elif key == "FLAGS" and uri:
                states[uri] = value
        return states

    def state(self, node_port):
        return self.states().get(f"sip:127.0.0.1:{node_port}", "")
