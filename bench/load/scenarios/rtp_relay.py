#!/usr/bin/env python3
"""The AI calls' RTP load relayed by rtpengine in userspace (scenario 3 of bench/README.md
"Load scenarios").

An AI call moves one RTP packet each way per 20 ms (caller -> AI, AI -> caller), so the same load for a
relay is 2 x CALLS one-way relay sessions at 50 packets/s each. For every concurrency: a fresh
rtpengine (`--table=-1`: userspace forwarding, no kernel module), 2 x CALLS sessions allocated over its
ng protocol (rtpengine_ng.py), then `warmline-load --rtp-relay` sends real-time RTP through them and
measures relay latency, loss and rtpengine's CPU (`--relay-pid`). warmline-load appends its result to
REPORT_DIR/results.jsonl with the label `relay-rtpengine-<calls>`; report.py sets it beside the
`ai-epoll-<calls>` run of the same make target.
"""

import argparse
import os
import shutil
import sys
import time

import loadlib as L


def run_one(args, calls, run_dir, label=None):
    label = label or f"relay-rtpengine-{calls}"
    sessions = 2 * calls
    os.makedirs(run_dir, exist_ok=True)
    pairs = os.path.join(run_dir, "relay-pairs.txt")
    load_before = L.loadavg()
    with L.Procs() as procs:
        # One worker thread: the figure is CPU per packet either way; 1 keeps rtpengine's threads from
        # competing with warmline-load for the 2 cores more than warmline's single shard does.
        rtpe = procs.start(["rtpengine", "--table=-1", "--interface=127.0.0.1", f"--listen-ng=127.0.0.1:{args.ng_port}",
                            "--foreground", "--log-stderr", "--log-level=3", f"--port-min={args.port_min}",
                            f"--port-max={args.port_max}", f"--num-threads={args.threads}", "--timeout=120"],
                           os.path.join(run_dir, "rtpengine.log"))
        rc, _ = L.run_measured([sys.executable, os.path.join(L.HERE, "rtpengine_ng.py"), "--ng", f"127.0.0.1:{args.ng_port}",
                                "--sessions", str(sessions), "--callee-ports", str(args.recv_ports), "--out", pairs],
                               os.path.join(run_dir, "allocate.log"), timeout_s=60)
        if rc != 0 or rtpe.poll() is not None:
            raise RuntimeError(f"rtpengine allocation failed; see {run_dir}/allocate.log and rtpengine.log")
        max_runtime = args.hold_s + 60
        argv = [args.load, "--rtp-relay", pairs, "--relay-pid", str(rtpe.pid), "--hold-s", str(args.hold_s),
                "--report", args.report_dir, "--label", label, "--max-runtime-s", str(int(max_runtime))]
        L.log(f"{label}: {sessions} sessions; {' '.join(argv)}")
        rc, gen_cpu = L.run_measured(argv, os.path.join(run_dir, "warmline-load.log"), timeout_s=max_runtime + 30)
        rtpe_alive = rtpe.poll() is None
    L.append_result(args.report_dir, {
        "scenario": "relay", "label": label, "calls": calls, "sessions": sessions, "threads": args.threads,
        "hold_s": args.hold_s, "load_rc": rc, "load_cpu_s_total": round(gen_cpu, 3),
        "rtpengine_survived": rtpe_alive, "loadavg_before": load_before,
    })
    L.log_tail(f"{label}: warmline-load exit {rc}", os.path.join(run_dir, "warmline-load.log"))
    return rc


def main():
    ap = argparse.ArgumentParser(description="rtpengine (userspace) relaying the RTP of N AI calls")
    ap.add_argument("--calls", default="100,500,1000,2000", help="AI-call equivalents (2 sessions each)")
    ap.add_argument("--hold-s", type=float, default=20.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--load", default=os.path.join(L.REPO, "build-load", "bench", "load", "warmline-load"))
    ap.add_argument("--report-dir", default=os.environ.get("REPORT_DIR", os.path.join(L.REPO, "build-load", "load-report")))
    ap.add_argument("--ng-port", type=int, default=32299)
    ap.add_argument("--port-min", type=int, default=40000)
    ap.add_argument("--port-max", type=int, default=59999)
    ap.add_argument("--recv-ports", type=int, default=61000,
                    help="warmline-load receives on ports from here up (one per session; above the ephemeral range)")
    ap.add_argument("--pause-s", type=float, default=2.0)
    args = ap.parse_args()
    args.report_dir = os.path.abspath(args.report_dir)  # absolute: some processes run in other folders (kamailio, SIPp)
    if not shutil.which("rtpengine"):
        sys.exit("rtpengine not found: run scripts/install-load-deps.sh")
    if not os.access(args.load, os.X_OK):
        sys.exit(f"warmline-load not found at {args.load}: build the target warmline-load first")
    counts = [int(c) for c in args.calls.split(",") if c]
    if any(2 * c > 4000 for c in counts):
        sys.exit("at most 2000 calls (4000 relay sessions; see the port plan in bench/README.md)")
    L.require_free(udp=[args.ng_port])
    run_root = os.path.join(args.report_dir, "runs", time.strftime("relay-%Y%m%d-%H%M%S"))
    status = 0
    for calls in counts:
        status |= run_one(args, calls, os.path.join(run_root, f"rtpengine-{calls}")) != 0
        time.sleep(args.pause_s)
    sys.exit(1 if status else 0)


if __name__ == "__main__":
    main()
