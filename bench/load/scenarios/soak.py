#!/usr/bin/env python3
"""Soak (issue 12 part 8; bench/README.md "Soak"): one warmline runs for SOAK_S seconds while bridged
calls go through it in a loop, and its memory, file descriptors and latency are sampled over time.

One warmline (1 shard) whose agent has a target "desk" at sip:desk@127.0.0.1:TARGET_PORT and whose
trunk does not take REFER. `warmline-load --bridge desk` plays the callers, the agent (which transfers
every call: a cold bridged dial) and the target: one batch is CALLS calls brought up at RAMP_CPS, each
transferred, held HOLD_S seconds bridged, then hung up. Batches run back to back until SOAK_S is spent,
so the concurrency is steady at about CALLS with a short dip between batches.

Every SAMPLE_S seconds a row goes to soak.csv: elapsed seconds, warmline's VmRSS (KiB), its open file
descriptors (/proc/PID/fd), its active calls and legs (GET /metrics), the batches and calls so far and
the latency figures of the last finished batch (setup p99 ms, caller->target p99 ms through the relay);
after each batch has drained one more row, phase "idle" (no call up: what stays behind). At the end
soak.md holds the summary: per figure the first and the last decile of the samples (medians), the
growth between them, the failed calls. The exit status is non-zero when any call failed, warmline
died, or RSS / fds grew more than the thresholds between the first and the last decile.
"""

import argparse
import csv
import os
import re
import signal
import statistics
import sys
import threading
import time

import loadlib as L


STOP = threading.Event()  # SIGTERM / SIGINT: no new batch; the summary is still written


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


class Sampler(threading.Thread):
    """Samples warmline every `period_s` into rows (and the CSV) until stop is set."""

    FIELDS = ["elapsed_s", "phase", "rss_kib", "fds", "calls_active", "legs_active", "batches", "calls_done",
              "calls_failed", "invites_rejected", "media_overruns", "setup_p99_ms", "relay_p99_ms", "loadavg"]

    def __init__(self, pid, http_port, period_s, csv_path, progress):
        super().__init__(daemon=True)
        self.pid, self.http_port, self.period_s = pid, http_port, period_s
        self.csv_path, self.progress = csv_path, progress
        self.rows = []
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def sample(self, phase="calls"):
        """`phase`: "calls" (periodic, calls running) or "idle" (after a batch drained: no call up)."""
        m = L.metrics(self.http_port)
        p = dict(self.progress)
        row = {"elapsed_s": round(time.monotonic() - self.t0, 1), "phase": phase, "rss_kib": L.rss_kib(self.pid),
               "fds": fd_count(self.pid), "calls_active": int(m.get("warmline_calls_active", -1)),
               "legs_active": int(m.get("warmline_legs_active", -1)), "batches": p["batches"],
               "calls_done": p["calls_done"], "calls_failed": p["calls_failed"],
               "invites_rejected": int(m.get("warmline_calls_rejected_total", -1)),
               "media_overruns": int(m.get("warmline_media_overruns_total", -1)), "loadavg": float(L.loadavg()),
               "setup_p99_ms": p["setup_p99_ms"], "relay_p99_ms": p["relay_p99_ms"]}
        self.rows.append(row)
        with open(self.csv_path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.FIELDS).writerow(row)

    def run(self):
        with open(self.csv_path, "w", newline="") as f:
            csv.DictWriter(f, fieldnames=self.FIELDS).writeheader()
        while not self.stop.wait(self.period_s):
            self.sample()


def decile_medians(rows, key, phase):
    """Median of `key` over the first and over the last tenth of the samples of `phase` (at least 1 each)."""
    values = [r[key] for r in rows if r["phase"] == phase and r[key] is not None and r[key] >= 0]
    if not values:
        return None, None
    n = max(1, len(values) // 10)
    return statistics.median(values[:n]), statistics.median(values[-n:])


def growth_pct(first, last):
    if first in (None, 0) or last is None:
        return None
    return 100.0 * (last - first) / first


def last_batch(report_dir, label):
    rows = [r for r in L.read_jsonl(os.path.join(report_dir, "results.jsonl")) if r.get("label") == label]
    return rows[-1] if rows else None


def run_batch(args, argv, log_path, max_runtime, progress):
    """One warmline-load run. On a shared machine another process (a test picking a random free port)
    may hold the agent's or target's port for a moment: warmline-load then exits before any call
    with "bind to ...: Address already in use". That is no call of warmline's failing: counted apart,
    and the batch runs again once the ports are free (at most 3 times, each wait bounded)."""
    for _ in range(3):
        rc, _ = L.run_measured(argv, log_path, timeout_s=max_runtime + 30)
        with open(log_path, errors="replace") as f:
            if rc != 1 or "Address already in use" not in f.read():
                return rc
        progress["port_conflicts"] += 1
        L.log(f"a port of the batch was taken by another process; waiting for it (conflict {progress['port_conflicts']})")
        ports = ((args.agent_port, args.target_port), (args.target_port,))
        wait_until = time.monotonic() + 30
        while time.monotonic() < wait_until and not ports_free(*ports):
            time.sleep(0.5)
    return rc


def ports_free(tcp, udp):
    for kind, ports in ((L.socket.SOCK_STREAM, tcp), (L.socket.SOCK_DGRAM, udp)):
        for port in ports:
            with L.socket.socket(L.socket.AF_INET, kind) as s:
                s.setsockopt(L.socket.SOL_SOCKET, L.socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    return False
    return True


def run_batches(args, gw, report_dir, progress, deadline, sampler):
    """Batches of bridged calls until the deadline; returns the failed-batch descriptions."""
    failures = []
    n = 0
    while time.monotonic() < deadline and gw.poll() is None and not STOP.is_set():
        n += 1
        label = f"soak-{n}"
        max_runtime = 2 * args.calls / args.ramp_cps + args.hold_s + 60
        argv = [args.load, "--gateway", f"127.0.0.1:{args.sip_port}", "--number", "load",
                "--calls", str(args.calls), "--ramp-cps", str(args.ramp_cps), "--hold-s", str(args.hold_s),
                "--agent-listen", f"127.0.0.1:{args.agent_port}", "--warmline-pid", str(gw.pid),
                "--bridge", "desk", "--target-listen", f"127.0.0.1:{args.target_port}",
                "--report", report_dir, "--label", label, "--max-runtime-s", str(int(max_runtime)), "--quiet"]
        log_path = os.path.join(report_dir, "warmline-load-last.log")
        rc = run_batch(args, argv, log_path, max_runtime, progress)
        row = last_batch(report_dir, label) or {}
        up = int(row.get("calls_up", 0))
        # A call that never came up is in `failed` (or `timeouts`) already; a missing record counts all.
        failed = max(int(row.get("failed", 0)) + int(row.get("timeouts", 0)), args.calls - up) + \
            int(row.get("transfers_failed", 0))
        progress["batches"] = n
        progress["calls_done"] += up
        progress["calls_failed"] += failed
        progress["setup_p99_ms"] = round(row.get("setup", {}).get("p99_us", -1000) / 1000, 2)
        progress["relay_p99_ms"] = round(row.get("out", {}).get("p99_us", -1000) / 1000, 3)
        if rc != 0 or failed or up != args.calls:
            failures.append(f"batch {n}: warmline-load exit {rc}, {up}/{args.calls} calls up, {failed} failed")
            L.log_tail(f"{label}: warmline-load exit {rc}", log_path)
        # Between batches: every call of this one gone before the next starts (bounded).
        if not L.wait_calls_drained(args.http_port, timeout_s=30):
            failures.append(f"batch {n}: calls still active 30 s after the batch ended")
        sampler.sample("idle")
    return failures


def summarise(args, rows, failures, gw_exit, elapsed_s, progress):
    lines = [f"# Soak: {args.soak_s:.0f} s asked, {elapsed_s:.0f} s run", "",
             f"- command: `{' '.join(sys.argv)}`",
             f"- machine: {L.machine()}, load average at the end {L.loadavg()}",
             f"- batches of {args.calls} bridged calls (cold transfer to a target), hold {args.hold_s:g} s, "
             f"ramp {args.ramp_cps:g} calls/s; sample every {args.sample_s:g} s ({len(rows)} samples)", ""]
    last = rows[-1] if rows else {}
    lines.append(f"- batches {last.get('batches', 0)}, calls up {last.get('calls_done', 0)}, "
                 f"failed {last.get('calls_failed', 0)}; warmline "
                 f"{'still running' if gw_exit is None else f'EXITED with {gw_exit}'}"
                 f"{'; stopped early by a signal' if STOP.is_set() else ''}; batches run again because another "
                 f"process held one of their ports: {progress['port_conflicts']}")
    # A call refused with 503 because the media clock ran late (the machine's CPU taken by others) is
    # the gateway protecting its calls, not a leak; it still counts as failed, and shows here.
    loads = [r["loadavg"] for r in rows]
    lines.append(f"- INVITEs refused by warmline {last.get('invites_rejected', 0)}, media clock overruns "
                 f"{last.get('media_overruns', 0)}; load average min / median / max over the run "
                 f"{min(loads, default=0):.1f} / {statistics.median(loads) if loads else 0:.1f} / {max(loads, default=0):.1f}")
    lines += ["", "| figure | first decile (median) | last decile (median) | growth |", "|---|---|---|---|"]
    bad = list(failures)
    if gw_exit is not None:
        bad.append(f"warmline exited with {gw_exit}")
    limits = {"rss_kib": args.max_rss_growth_pct, "fds": args.max_fd_growth_pct}
    # Idle samples (between batches, no call up) show what stays behind; periodic ones the load.
    for phase, key in (("idle", "rss_kib"), ("idle", "fds"), ("calls", "rss_kib"), ("calls", "fds"),
                       ("calls", "calls_active"), ("idle", "setup_p99_ms"), ("idle", "relay_p99_ms")):
        first, end = decile_medians(rows, key, phase)
        g = growth_pct(first, end)
        lines.append(f"| {key} ({phase}) | {first} | {end} | {'-' if g is None else f'{g:+.1f} %'} |")
        if key in limits and g is not None and g > limits[key]:
            bad.append(f"{key} ({phase}) grew {g:+.1f} % (limit {limits[key]:g} %)")
    if sum(1 for r in rows if r["phase"] == "idle") < 2:
        bad.append("fewer than 2 batches: SOAK_S too short")
    lines += ["", "Result: " + ("PASS" if not bad else "FAIL: " + "; ".join(bad)), ""]
    return "\n".join(lines), bad


def main():
    ap = argparse.ArgumentParser(description="bridged calls in a loop through one warmline; RSS, fds, latency over time")
    ap.add_argument("--soak-s", type=float, default=120.0)
    ap.add_argument("--sample-s", type=float, default=5.0)
    ap.add_argument("--calls", type=int, default=20, help="calls per batch (the steady concurrency)")
    ap.add_argument("--hold-s", type=float, default=10.0)
    ap.add_argument("--ramp-cps", type=float, default=20.0)
    ap.add_argument("--max-rss-growth-pct", type=float, default=10.0)
    ap.add_argument("--max-fd-growth-pct", type=float, default=10.0)
    ap.add_argument("--warmline", default=os.path.join(L.REPO, "build-load", "warmline"))
    ap.add_argument("--load", default=os.path.join(L.REPO, "build-load", "bench", "load", "warmline-load"))
    ap.add_argument("--report-dir", default=os.path.join(L.REPO, "build-load", "soak-report"))
    # Below the kernel's ephemeral range (32768 up): over a long run, an outgoing socket of another
    # process must not take a port that the next batch binds again.
    ap.add_argument("--sip-port", type=int, default=29060)
    ap.add_argument("--http-port", type=int, default=29080)
    ap.add_argument("--agent-port", type=int, default=29765)
    ap.add_argument("--target-port", type=int, default=29095)
    ap.add_argument("--rtp-ports", default="28000-28999")
    ap.add_argument("--no-cdr", action="store_true", help="cdr = \"\": no call records (tells their share of RSS apart)")
    args = ap.parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: STOP.set())

    os.makedirs(args.report_dir, exist_ok=True)
    for name in ("results.jsonl", "results.md", "soak.csv", "soak.md"):
        try:
            os.remove(os.path.join(args.report_dir, name))
        except FileNotFoundError:
            pass
    L.require_free(tcp=(args.http_port, args.agent_port, args.target_port), udp=(args.sip_port, args.target_port))
    cfg = L.write_warmline_config(os.path.join(args.report_dir, "warmline.toml"), sip_port=args.sip_port,
                                  http_port=args.http_port, rtp_ports=args.rtp_ports, shards=1,
                                  agent_url=f"ws://127.0.0.1:{args.agent_port}", sample_rate=8000,
                                  target_uri=f"sip:desk@127.0.0.1:{args.target_port}")
    if args.no_cdr:
        with open(cfg) as f:
            text = re.sub(r'(?m)^cdr = ".*"$', 'cdr = ""', f.read())
        with open(cfg, "w") as f:
            f.write(text)
    progress = {"batches": 0, "calls_done": 0, "calls_failed": 0, "port_conflicts": 0, "setup_p99_ms": None, "relay_p99_ms": None}
    t0 = time.monotonic()
    with L.Procs() as procs:
        gw = L.start_warmline(procs, args.warmline, cfg, os.path.join(args.report_dir, "warmline.log"), args.http_port)
        sampler = Sampler(gw.pid, args.http_port, args.sample_s, os.path.join(args.report_dir, "soak.csv"), progress)
        sampler.start()
        failures = run_batches(args, gw, args.report_dir, progress, t0 + args.soak_s, sampler)
        sampler.stop.set()
        sampler.join(timeout=10)
        gw_exit = gw.poll()
        procs.stop(gw)
    text, bad = summarise(args, sampler.rows, failures, gw_exit, time.monotonic() - t0, progress)
    with open(os.path.join(args.report_dir, "soak.md"), "w") as f:
        f.write(text)
    print(text)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
