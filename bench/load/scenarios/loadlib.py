"""Shared pieces of the load scenarios (bench/README.md "Load scenarios").

Processes: every process a scenario starts goes through Procs, which stops exactly those PIDs (SIGTERM,
then SIGKILL after a bounded wait) - never by name. CPU: read from /proc as the sum over a process's
threads of schedstat's on-CPU nanoseconds (user + sys, finer than stat's 10 ms ticks); for a
multi-process peer (Kamailio forks its workers) the whole tree under the PID we started is summed.
Everything listens on 127.0.0.1 and every wait is bounded.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SYS_PYTHON = "/usr/bin/python3"  # Debian's python3-websockets lives there


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- processes ---------------------------------------------------------------------------------------

class Procs:
    """The processes one scenario started; stop_all() ends them by PID, newest first."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log_path, cwd=None, env=None):
        out = open(log_path, "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=cwd, env=env)
        out.close()
        self.procs.append(p)
        return p

    def stop(self, p, grace_s=10.0):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in reversed(list(self.procs)):
            self.stop(p)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()


def run_measured(argv, log_path, cwd=None, timeout_s=120.0):
    """Runs a process to completion (bounded) and returns (exit status, its CPU seconds from rusage)."""
    with open(log_path, "wb") as out:
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd)
    deadline = time.monotonic() + timeout_s
    signalled = None  # None, then "term" (past the deadline), then "kill" (10 s later)
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return p.returncode, usage.ru_utime + usage.ru_stime
        now = time.monotonic()
        if signalled is None and now > deadline:
            p.send_signal(signal.SIGTERM)
            signalled = "term"
        elif signalled == "term" and now > deadline + 10:
            p.kill()
            signalled = "kill"
        time.sleep(0.05)


def log_tail(headline, path, chars=1500):
    """The headline and the end of a tool's output (its summary table), for the run's log."""
    try:
        with open(path, errors="replace") as f:
            tail = f.read()[-chars:]
    except OSError:
        tail = ""
    log(f"{headline}\n{tail}")


# --- /proc -------------------------------------------------------------------------------------------

def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def process_tree(pid):
    seen, todo = [], [pid]
    while todo and len(seen) < 1000:
        p = todo.pop()
        seen.append(p)
        todo.extend(_children(p))
    return seen


def cpu_seconds(pid, tree=False):
    """On-CPU time (user + sys) of every thread of `pid` (and of its descendants when `tree`)."""
    total_ns = 0
    for p in process_tree(pid) if tree else [pid]:
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/schedstat") as f:
                    total_ns += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total_ns / 1e9


def user_sys_seconds(pid, tree=False):
    """(user, sys) CPU seconds from /proc/PID/stat (10 ms ticks): the sys share says how much of a
    process's time is syscalls (packet I/O), which is where a relay's time goes."""
    hz = os.sysconf("SC_CLK_TCK")
    user = sys_ = 0
    for p in process_tree(pid) if tree else [pid]:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            user += int(fields[11])
            sys_ += int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return user / hz, sys_ / hz


def rss_kib(pid, tree=False):
    total = 0
    for p in process_tree(pid) if tree else [pid]:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}"


# --- waits -------------------------------------------------------------------------------------------

def wait_tcp(port, timeout_s=15.0, host="127.0.0.1"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def sip_ping(port, timeout_s=15.0):
    """Bounded wait until something answers an OPTIONS on 127.0.0.1:port (any response will do)."""
    deadline = time.monotonic() + timeout_s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.3)
        lport = s.getsockname()[1]
        n = 0
        while time.monotonic() < deadline:
            n += 1
            msg = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK-ping-{n}-{lport}\r\n"
                   f"From: <sip:ping@127.0.0.1:{lport}>;tag=p{n}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
                   f"Call-ID: ping-{n}-{lport}@127.0.0.1\r\nCSeq: {n} OPTIONS\r\nMax-Forwards: 70\r\n"
                   "Content-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), ("127.0.0.1", port))
            try:
                if s.recv(4096).startswith(b"SIP/2.0"):
                    return True
            except OSError:
                time.sleep(0.1)
    return False


def metrics(http_port):
    """warmline's GET /metrics as {name: value} (unlabelled samples only)."""
    out = {}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line and not line.startswith("#") and "{" not in line:
                    name, _, value = line.partition(" ")
                    out[name] = float(value)
    except OSError:
        pass
    return out


def wait_calls_drained(http_port, timeout_s=20.0):
    """Bounded wait until warmline reports no active call (between ramp steps)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if metrics(http_port).get("warmline_calls_active", 1) <= 0:
            return True
        time.sleep(0.2)
    return False


# --- warmline ----------------------------------------------------------------------------------------

def write_warmline_config(path, *, sip_port, http_port, rtp_ports, shards, agent_url, sample_rate=8000,
                          fallback_message="", cdr=None, target_uri=None, trunk_srtp=None, more_agents=(),
                          tls_listen=None):
    """A config for load: log level error (no log line per call), one inbound trunk for 127.0.0.0/8, and
    one agent that takes every number the load tools dial ("load", "demo", "echo"). With `target_uri`
    (bridged runs) the agent has a target "desk" at that SIP URI and the trunk does not take REFER, so
    a cold transfer is a bridged dial. `trunk_srtp` ("optional", "required") sets the trunk's srtp key
    (srtp.py: SRTP callers beside plain ones on one config). `more_agents`: (number, url) pairs, one more
    agent each taking that one number (scale.py: one agent per generator process). `tls_listen`: (port,
    cert, key): a tls: listener beside the UDP one (tls.py: callers over TLS beside UDP ones)."""
    cdr = cdr or os.path.join(os.path.dirname(os.path.abspath(path)), "cdr.sqlite")
    srtp_line = f'srtp = "{trunk_srtp}"\n' if trunk_srtp else ""
    listen = [f"udp:127.0.0.1:{sip_port}"]
    tls_lines = ""
    if tls_listen:
        port, cert, key = tls_listen
        listen.append(f"tls:127.0.0.1:{port}")
        tls_lines = f'tls_cert = "{cert}"\ntls_key = "{key}"\n'
    text = f"""# Written by bench/load/scenarios/loadlib.py for a load run.
[server]
sip_listen = {json.dumps(listen)}
{tls_lines}http = "127.0.0.1:{http_port}"
rtp_ports = "{rtp_ports}"
shards = {shards}
cdr = "{cdr}"
drain_timeout_s = 5
log_level = "error"

[[trunk]]
name = "load"
source_cidrs = ["127.0.0.0/8"]
accepts_refer = {"false" if target_uri else "true"}
{srtp_line}
[[agent]]
name = "load"
numbers = ["load", "demo", "echo"]
url = "{agent_url}"
sample_rate = {sample_rate}
fallback_message = "{fallback_message}"
"""
    if target_uri:
        text += f"""
[[agent.target]]
name = "desk"
uri = "{target_uri}"
"""
    for i, (number, url) in enumerate(more_agents):
        text += f"""
[[agent]]
name = "load-{i + 1}"
numbers = ["{number}"]
url = "{url}"
sample_rate = {sample_rate}
fallback_message = "{fallback_message}"
"""
    with open(path, "w") as f:
        f.write(text)
    return path


def start_warmline(procs, binary, config, log_path, http_port):
    p = procs.start([binary, "--config", config], log_path)
    if not wait_tcp(http_port, timeout_s=20):
        raise RuntimeError(f"warmline did not open its HTTP port {http_port}; see {log_path}")
    return p


def require_free(tcp=(), udp=()):
    """Exits with a clear message when a port the run needs is taken (another engineer's run, a
    leftover process): a load run sharing ports with something else measures nonsense."""
    busy = []
    for kind, ports in ((socket.SOCK_STREAM, tcp), (socket.SOCK_DGRAM, udp)):
        for port in ports:
            with socket.socket(socket.AF_INET, kind) as s:
                # SO_REUSEADDR as the servers set it: a TIME_WAIT left by the last run is not "in use".
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    busy.append(f"{'tcp' if kind == socket.SOCK_STREAM else 'udp'}/{port}")
    if busy:
        sys.exit(f"ports in use: {', '.join(busy)} (pick others with the --*-port options)")


def free_port(kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- results -----------------------------------------------------------------------------------------

def append_result(report_dir, record):
    """One JSON line per measured step in REPORT_DIR/scenarios.jsonl (warmline-load keeps its own
    results.jsonl in the same folder; report.py reads both)."""
    os.makedirs(report_dir, exist_ok=True)
    record = dict(record, time=time.strftime("%Y-%m-%dT%H:%M:%S"), loadavg_before=record.get("loadavg_before"))
    with open(os.path.join(report_dir, "scenarios.jsonl"), "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def read_jsonl(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    except OSError:
        pass
    return rows
