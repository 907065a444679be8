#!/usr/bin/env python3
"""Load at scale (`make load-scale`, bench/README.md "Load at scale"): several warmline-load processes
drive one warmline with several shards, so that a many-core machine can be loaded to saturation, and
rtpengine relays the same packets in the same run.

For every concurrency of `--calls`: a fresh warmline with `--shards` event loops and one agent per
generator (generator g dials number `load` (g = 0) or `load-g<g>`, whose agent is its own echo agent on
`--agent-port` + g); `--generators` warmline-load processes start together, each with its share of the
calls and of the ramp rate, so their windows coincide. Each appends its record to REPORT_DIR/results.jsonl
(label `scale-<calls>-g<g>`). Then, unless `--no-rtpengine`, rtp_relay.run_one relays the same packet
rate through rtpengine (label `relay-rtpengine-<calls>`). REPORT_DIR/scale.md gets one line per
concurrency: calls per core, both latencies (the range over the generators: percentiles of separate
processes do not merge), loss, memory, and rtpengine's CPU per packet beside warmline's.

Each generator measures the gateway's whole CPU rate over its own window; the windows overlap (same
start, same ramp length, same hold), so the gateway's cores are the mean of the generators' figures.
"""

import argparse
import os
import subprocess
import sys
import time

import ai_streaming
import loadlib as L
import report as R
import rtp_relay


def number_of(g):
    return "load" if g == 0 else f"load-g{g}"


def shares(total, parts):
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def run_generators(args, calls, run_dir, gw_pid):
    """Starts the generators together and waits for all of them (bounded); returns their exit codes."""
    max_runtime = calls / args.ramp_cps + args.hold_s + 60
    procs = []
    for g, n in enumerate(shares(calls, args.generators)):
        if n == 0:
            continue
        argv = [args.load, "--gateway", f"127.0.0.1:{args.sip_port}", "--number", number_of(g), "--calls", str(n),
                "--ramp-cps", str(args.ramp_cps / args.generators), "--hold-s", str(args.hold_s),
                "--agent-listen", f"127.0.0.1:{args.agent_port + g}", "--warmline-pid", str(gw_pid),
                "--report", args.report_dir, "--label", f"scale-{calls}-g{g}", "--max-runtime-s", str(int(max_runtime)),
                "--quiet"]
        L.log(f"scale-{calls}-g{g}: {' '.join(argv)}")
        with open(os.path.join(run_dir, f"warmline-load-g{g}.log"), "wb") as out:
            procs.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
    deadline = time.monotonic() + max_runtime + 30
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            p.kill()
            codes.append(p.wait(timeout=10))
    return codes


def run_one(args, calls, run_dir):
    os.makedirs(run_dir, exist_ok=True)
    more = [(number_of(g), f"ws://127.0.0.1:{args.agent_port + g}") for g in range(1, args.generators)]
    cfg = L.write_warmline_config(os.path.join(run_dir, "warmline.toml"), sip_port=args.sip_port,
                                  http_port=args.http_port, rtp_ports=args.rtp_ports, shards=args.shards,
                                  agent_url=f"ws://127.0.0.1:{args.agent_port}", sample_rate=8000, more_agents=more)
    load_before = L.loadavg()
    with L.Procs() as procs:
        gw = L.start_warmline(procs, args.warmline, cfg, os.path.join(run_dir, "warmline.log"), args.http_port)
        codes = run_generators(args, calls, run_dir, gw.pid)
        gw_alive = gw.poll() is None
        m = L.metrics(args.http_port)
        procs.stop(gw)  # SIGTERM: drains; a crash on the way out shows as a negative exit (signal)
    L.append_result(args.report_dir, {
        "scenario": "scale", "label": f"scale-{calls}", "calls": calls, "shards": args.shards,
        "generators": args.generators, "hold_s": args.hold_s, "ramp_cps": args.ramp_cps, "load_rcs": codes,
        "warmline_survived": gw_alive, "warmline_exit": gw.returncode, "loadavg_before": load_before,
        "media_overruns": m.get("warmline_media_overruns_total"), "media_ticks": m.get("warmline_media_ticks_total"),
    })
    for g in range(args.generators):
        L.log_tail(f"scale-{calls}-g{g}", os.path.join(run_dir, f"warmline-load-g{g}.log"), chars=600)
    return 0 if all(c == 0 for c in codes) and gw.returncode == 0 else 1


def span(values, digits=0):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return R.fmt(lo, digits) if round(lo, digits) == round(hi, digits) else f"{R.fmt(lo, digits)}–{R.fmt(hi, digits)}"


def scale_line(runs, meta, calls, generators):
    gens = [runs[f"scale-{calls}-g{g}"] for g in range(generators) if f"scale-{calls}-g{g}" in runs]
    if not gens:
        return None
    up = sum(r.get("calls_up", 0) for r in gens)
    cores = [r["peer_cpu_cores"] for r in gens if r.get("peer_cpu_cores", -1) >= 0]
    gw_cores = sum(cores) / len(cores) if cores else None
    # Each generator divides the gateway's whole RSS growth by its own calls: scale back to all calls.
    kib = [r["peer_rss_kib_per_call"] * r["calls"] / calls for r in gens if r.get("peer_rss_kib_per_call", -1) >= 0]
    failed = sum(r.get("failed", 0) + r.get("timeouts", 0) for r in gens)
    lat = lambda key, p: span([R.pct(r.get(key), p) for r in gens])
    loss = lambda key: span([r.get(key) for r in gens], 3)
    relay = runs.get(f"relay-rtpengine-{calls}")
    warm_us = gw_cores * 1e6 / (up * 100.0) if gw_cores and up else None  # 2 packets per call per 20 ms
    rtpe_us = R.us_per_packet(relay) if relay else None
    m = meta.get(f"scale-{calls}", {})
    exit_note = "" if m.get("warmline_exit") in (0, None) else f" **exit {m.get('warmline_exit')}**"
    gen_cores = sum(r.get("gen_cpu_cores", 0) for r in gens)
    return (f"| {up} / {calls}{exit_note} | {failed} | {R.fmt(gw_cores, 2)} "
            f"| {R.fmt(up / gw_cores, 0) if gw_cores else '-'} | {R.fmt(gw_cores * 100 / up, 3) if gw_cores and up else '-'} "
            f"| {lat('in', 'p50_us')} / {lat('in', 'p99_us')} "
            f"| {lat('out_beyond_tick', 'p50_us')} / {lat('out_beyond_tick', 'p99_us')} "
            f"| {loss('in_loss_pct')} / {loss('out_loss_pct')} | {R.fmt(sum(kib) / len(kib), 1) if kib else '-'} "
            f"| {R.fmt(warm_us, 2)} | {R.fmt(rtpe_us, 2)} | {R.ratio(warm_us, rtpe_us)} "
            f"| {R.fmt(gen_cores * 100, 0)} | {m.get('loadavg_before', '-')} |")


def write_report(args, counts):
    runs = R.latest_by_label(L.read_jsonl(os.path.join(args.report_dir, "results.jsonl")))
    meta = R.latest_by_label([r for r in L.read_jsonl(os.path.join(args.report_dir, "scenarios.jsonl"))
                              if r.get("scenario") == "scale"])
    lines = [f"### Load at scale: {args.generators} generator processes, {args.shards} shard(s), {L.machine()}", "",
             "Latencies are the range over the generators (each a separate process with its own echo agent); "
             "warmline's cores are the mean of what each generator measured over its window (the windows "
             "overlap). Packets: 2 RTP per AI call per 20 ms; rtpengine relays the same rate (2 sessions per call).", "",
             "| calls up / asked | failed | warmline cores | calls per core | % core per call "
             "| caller→AI p50 / p99 µs | AI→caller beyond tick p50 / p99 µs | loss in / out % | KiB per call "
             "| warmline µs CPU per packet | rtpengine µs per packet | ratio | generators % core | load avg before |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [line for n in counts if (line := scale_line(runs, meta, n, args.generators))]
    path = os.path.join(args.report_dir, "scale.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    L.log(f"wrote {path}\n" + "\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description="several warmline-load processes against one multi-shard warmline")
    ai_streaming.add_run_args(ap, calls="100,200")
    ap.add_argument("--generators", type=int, default=2)
    ap.add_argument("--warmline", default=os.path.join(L.REPO, "build-load", "warmline"))
    ap.add_argument("--no-rtpengine", action="store_true")
    # rtp_relay.run_one's own options (the same defaults as rtp_relay.py)
    ap.add_argument("--threads", type=int, default=1, help="rtpengine worker threads")
    ap.add_argument("--ng-port", type=int, default=32299)
    ap.add_argument("--port-min", type=int, default=40000)
    ap.add_argument("--port-max", type=int, default=59999)
    ap.add_argument("--recv-ports", type=int, default=61000)
    args = ap.parse_args()
    args.report_dir = os.path.abspath(args.report_dir)
    if args.generators < 1 or args.shards < 1:
        sys.exit("--generators and --shards must be at least 1")
    for tool in (args.load, args.warmline):
        if not os.access(tool, os.X_OK):
            sys.exit(f"not found: {tool} (build warmline and warmline-load first)")
    counts = [int(c) for c in args.calls.split(",") if c]
    if any(c > 4000 for c in counts):
        sys.exit("at most 4000 calls: warmline's rtp_ports range holds 4000 calls")
    if not args.no_rtpengine and any(2 * c > 4000 for c in counts):
        sys.exit("rtpengine relays at most 2000 calls (4000 sessions, rtp_relay.py's port plan): add --no-rtpengine")
    L.require_free(tcp=[args.http_port] + [args.agent_port + g for g in range(args.generators)], udp=[args.sip_port])
    run_root = os.path.join(args.report_dir, "runs", time.strftime("scale-%Y%m%d-%H%M%S"))
    status = 0
    for calls in counts:
        status |= run_one(args, calls, os.path.join(run_root, f"warmline-{calls}"))
        time.sleep(args.pause_s)
        if not args.no_rtpengine:
            status |= rtp_relay.run_one(args, calls, os.path.join(run_root, f"rtpengine-{calls}")) != 0
            time.sleep(args.pause_s)
    write_report(args, counts)
    sys.exit(1 if status else 0)


if __name__ == "__main__":
    main()
