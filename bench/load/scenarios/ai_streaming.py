#!/usr/bin/env python3
"""AI-streamed calls at several concurrencies, through warmline-load (scenarios 1 and 5 of
bench/README.md "Load scenarios").

For every build given (`--builds epoll=build-load/warmline,uring=build-load-uring/warmline`) and every
concurrency (`--calls 100,500,1000,2000`), a fresh warmline is started (so RSS per call starts from an
idle process), with `shards` event loops and an 8 kHz agent (latency is only matched at 8 kHz, see
warmline-load), and warmline-load drives the calls, plays the echo agent, holds them for `--hold-s`
seconds and appends its result to REPORT_DIR/results.jsonl with the label `ai-<build>-<calls>`.
This script adds one record per run to REPORT_DIR/scenarios.jsonl (build, shards, the load average
before the run) that report.py joins on the label.
"""

import argparse
import os
import sys
import time

import loadlib as L


def run_one(args, build, binary, calls, run_dir, label=None, srtp=False, trunk_srtp=None, scenario="ai", media=None,
            tls_listen=None, tls=False):
    """One run; srtp.py reuses it with `srtp` (warmline-load --srtp) and the trunk's `trunk_srtp`.
    `media`: [media] keys for this build's config ({"rtp_io": "plain", "tick_slots": "1"}). tls.py: the
    gateway's `tls_listen` (port, cert, key), and with `tls` the callers' SIP goes there (warmline-load
    --tls, the certificate verified against itself)."""
    label = label or f"ai-{build}-{calls}"
    os.makedirs(run_dir, exist_ok=True)
    cfg = L.write_warmline_config(os.path.join(run_dir, "warmline.toml"), sip_port=args.sip_port,
                                  http_port=args.http_port, rtp_ports=args.rtp_ports, shards=args.shards,
                                  agent_url=f"ws://127.0.0.1:{args.agent_port}", sample_rate=8000,
                                  trunk_srtp=trunk_srtp, tls_listen=tls_listen)
    if media:  # a [media] section of this build's own (the config has none)
        with open(cfg, "a") as f:
            f.write("\n[media]\n" + "".join(
                f"{k} = {v}\n" if v.lstrip("-").isdigit() else f'{k} = "{v}"\n' for k, v in media.items()))
    ramp_s = calls / args.ramp_cps
    max_runtime = ramp_s + args.hold_s + 60  # set-up, the window, teardown: warmline-load stops by itself
    load_before = L.loadavg()
    with L.Procs() as procs:
        gw = L.start_warmline(procs, binary, cfg, os.path.join(run_dir, "warmline.log"), args.http_port)
        argv = [args.load, "--gateway", f"127.0.0.1:{args.sip_port}", "--number", "load", "--calls", str(calls),
                "--ramp-cps", str(args.ramp_cps), "--hold-s", str(args.hold_s),
                "--agent-listen", f"127.0.0.1:{args.agent_port}", "--warmline-pid", str(gw.pid),
                "--report", args.report_dir, "--label", label, "--max-runtime-s", str(int(max_runtime))]
        if srtp:
            argv.append("--srtp")
        if tls:
            argv[argv.index("--gateway") + 1] = f"127.0.0.1:{tls_listen[0]}"
            argv += ["--tls", "--tls-ca", tls_listen[1]]
        L.log(f"{label}: {' '.join(argv)}")
        rc, gen_cpu = L.run_measured(argv, os.path.join(run_dir, "warmline-load.log"), timeout_s=max_runtime + 30)
        gw_alive = gw.poll() is None
        m = L.metrics(args.http_port)  # the media clock's health over the whole run
        procs.stop(gw)  # SIGTERM: drains; a crash on the way out shows as a negative exit (signal)
    L.append_result(args.report_dir, {
        "scenario": scenario, "label": label, "srtp": srtp, "tls": tls, "build": build, "calls": calls, "shards": args.shards,
        "hold_s": args.hold_s, "ramp_cps": args.ramp_cps, "load_rc": rc, "load_cpu_s_total": round(gen_cpu, 3),
        "warmline_survived": gw_alive, "warmline_exit": gw.returncode, "loadavg_before": load_before,
        "media_overruns": m.get("warmline_media_overruns_total"), "media_ticks": m.get("warmline_media_ticks_total"),
        "media_worst_lag_us": m.get("warmline_media_worst_lag_microseconds"),
        "media": media or {},
        # The gateway's own measure: each agent frame from its call's slot deadline to the wire, mean µs.
        "gw_ai_to_caller_mean_us": round(1e6 * m["warmline_ai_to_caller_seconds_sum"] / m["warmline_ai_to_caller_seconds_count"], 1)
        if m.get("warmline_ai_to_caller_seconds_count") else None,
    })
    L.log_tail(f"{label}: warmline-load exit {rc}", os.path.join(run_dir, "warmline-load.log"))
    return rc


def add_run_args(ap, calls):
    """The options run_one reads (srtp.py shares them)."""
    ap.add_argument("--calls", default=calls)
    ap.add_argument("--hold-s", type=float, default=20.0)
    ap.add_argument("--ramp-cps", type=float, default=200.0)
    ap.add_argument("--shards", type=int, default=1,
                    help="warmline event loops; 1 leaves the other core to warmline-load on 2 cores")
    ap.add_argument("--load", default=os.path.join(L.REPO, "build-load", "bench", "load", "warmline-load"))
    ap.add_argument("--report-dir", default=os.environ.get("REPORT_DIR", os.path.join(L.REPO, "build-load", "load-report")))
    ap.add_argument("--sip-port", type=int, default=35060)
    ap.add_argument("--http-port", type=int, default=38080)
    ap.add_argument("--agent-port", type=int, default=38765)
    ap.add_argument("--rtp-ports", default="12000-19999")
    ap.add_argument("--pause-s", type=float, default=2.0, help="between runs (sockets in TIME_WAIT, timers)")


def add_paired_args(ap, calls, what):
    """srtp.py and tls.py: the options of an interleaved comparison (`what`: "plain + SRTP")."""
    ap.add_argument("--warmline", default=os.path.join(L.REPO, "build-load", "warmline"))
    add_run_args(ap, calls=calls)
    ap.add_argument("--rounds", type=int, default=2, help=f"{what} pairs per concurrency")


def run_paired(args, name, kinds, run_kwargs, extra_tcp=()):
    """srtp.py and tls.py: for every concurrency of --calls, --rounds rounds of one run per kind in
    order (interleaved: every kind sees the same background load), each on a fresh warmline, with
    run_one's keyword arguments `run_kwargs(kind)`. Labels `<name>-<kind>-<calls>-r<round>`. Returns
    (status, counts, started, loads): 1 when a run failed; the concurrencies; the UTC start; the 1-minute
    load average before each run."""
    args.report_dir = os.path.abspath(args.report_dir)
    for path, what in ((args.load, "warmline-load"), (args.warmline, "warmline")):
        if not os.access(path, os.X_OK):
            sys.exit(f"{what} not found at {path}: build it first")
    counts = [int(c) for c in args.calls.split(",") if c]
    if any(c > 4000 for c in counts) or args.rounds < 1 or args.rounds > 10:
        sys.exit("at most 4000 calls (warmline's rtp_ports range) and 1..10 rounds")
    L.require_free(tcp=[args.http_port, args.agent_port, *extra_tcp], udp=[args.sip_port])
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    run_root = os.path.join(args.report_dir, "runs", time.strftime(f"{name}-%Y%m%d-%H%M%S"))
    os.makedirs(run_root, exist_ok=True)
    loads, status = [], 0
    for calls in counts:
        for rnd in range(1, args.rounds + 1):
            for kind in kinds:
                loads.append(L.loadavg())
                label = f"{name}-{kind}-{calls}-r{rnd}"
                status |= run_one(args, name, args.warmline, calls, os.path.join(run_root, label), label=label,
                                  scenario=name, **run_kwargs(kind, run_root)) != 0
                time.sleep(args.pause_s)
    return status, counts, started, loads


def main():
    ap = argparse.ArgumentParser(description="AI-streamed calls through warmline-load at several concurrencies")
    ap.add_argument("--builds", default=f"epoll={os.path.join(L.REPO, 'build-load', 'warmline')}",
                    help="name=binary[:key=value;...],... (e.g. epoll=build-load/warmline,uring=build-load-uring/warmline;"
                         " after a colon, [media] keys for that build: plain=build-load/warmline:rtp_io=plain;tick_slots=1)")
    add_run_args(ap, calls="100,500,1000,2000")
    args = ap.parse_args()
    args.report_dir = os.path.abspath(args.report_dir)  # absolute: some processes run in other folders (kamailio, SIPp)
    if not os.access(args.load, os.X_OK):
        sys.exit(f"warmline-load not found at {args.load}: build the target warmline-load first")
    builds = []
    for b in (b for b in args.builds.split(",") if b):
        name, _, rest = b.partition("=")
        binary, _, keys = rest.partition(":")
        builds.append((name, binary, dict(kv.split("=", 1) for kv in keys.split(";") if kv)))
    counts = [int(c) for c in args.calls.split(",") if c]
    if any(c > 4000 for c in counts):
        sys.exit("at most 4000 calls: warmline's rtp_ports range holds 4000 calls")
    L.require_free(tcp=[args.http_port, args.agent_port], udp=[args.sip_port])
    run_root = os.path.join(args.report_dir, "runs", time.strftime("ai-%Y%m%d-%H%M%S"))
    status = 0
    for calls in counts:
        for name, binary, media in builds:  # builds interleaved per concurrency: both see the same machine state
            if not os.access(binary, os.X_OK):
                sys.exit(f"{name}: no warmline binary at {binary}")
            status |= run_one(args, name, binary, calls, os.path.join(run_root, f"{name}-{calls}"), media=media) != 0
            time.sleep(args.pause_s)
    sys.exit(1 if status else 0)


if __name__ == "__main__":
    main()
