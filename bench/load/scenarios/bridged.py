#!/usr/bin/env python3
"""Bridged calls, beside rtpengine relaying the same packets (scenario 6 of bench/README.md
"Load scenarios"; issue 8's performance goals).

For every concurrency: a fresh warmline (1 shard) whose agent has a target "desk" at
sip:desk@127.0.0.1:TARGET_PORT and whose trunk does not take REFER; `warmline-load --bridge desk`
brings the calls up as AI calls, has its agent transfer each one (a bridged dial) to its own target
on TARGET_PORT, and measures the bridged calls: caller -> target and target -> caller through
warmline's relay, warmline's CPU over the window, and its CPU in the transfer phase. Then, in the same
run, the same packet rate through rtpengine in userspace (rtp_relay.py: a bridged call moves one packet
each way per 20 ms, so 2 x CALLS one-way sessions). Each pair of runs ends with one line in
REPORT_DIR/bridged.md: CPU per relayed packet for both and their ratio, warmline's latency added.

Warm transfers (issue 9): `--transfer-mode warm` has the agent ask for warm transfers instead (the
caller held with hold music while the target rings, screening none), and `--after-bridge listen`
keeps the agent on every bridged call, receiving both parties as stereo frames. The window then
measures what a listening agent costs beside the relay. Their lines go to bridged-MODE-AFTER.md.
"""

import argparse
import os
import shutil
import sys
import time

import loadlib as L
import rtp_relay

PACKETS_PER_CALL_S = 100  # a bridged call: 50 packets/s each way, each received once and sent once


def variant(args):
    """"" for the default cold transfer leaving the call, else e.g. "-warm-listen"."""
    if args.transfer_mode == "cold" and args.after_bridge == "leave":
        return ""
    return f"-{args.transfer_mode}-{args.after_bridge}"


def run_warmline(args, calls, run_dir):
    label = f"bridged{variant(args)}-{calls}"
    os.makedirs(run_dir, exist_ok=True)
    cfg = L.write_warmline_config(os.path.join(run_dir, "warmline.toml"), sip_port=args.sip_port,
                                  http_port=args.http_port, rtp_ports=args.rtp_ports, shards=1,
                                  agent_url=f"ws://127.0.0.1:{args.agent_port}", sample_rate=8000,
                                  target_uri=f"sip:desk@127.0.0.1:{args.target_port}")
    ramp_s = 2 * calls / args.ramp_cps  # the calls, then their transfers, at the same rate
    max_runtime = ramp_s + args.hold_s + 90
    load_before = L.loadavg()
    with L.Procs() as procs:
        gw = L.start_warmline(procs, args.warmline, cfg, os.path.join(run_dir, "warmline.log"), args.http_port)
        argv = [args.load, "--gateway", f"127.0.0.1:{args.sip_port}", "--number", "load", "--calls", str(calls),
                "--ramp-cps", str(args.ramp_cps), "--hold-s", str(args.hold_s),
                "--agent-listen", f"127.0.0.1:{args.agent_port}", "--warmline-pid", str(gw.pid),
                "--bridge", "desk", "--target-listen", f"127.0.0.1:{args.target_port}",
                "--transfer-mode", args.transfer_mode, "--after-bridge", args.after_bridge,
                "--report", args.report_dir, "--label", label, "--max-runtime-s", str(int(max_runtime))]
        L.log(f"{label}: {' '.join(argv)}")
        rc, gen_cpu = L.run_measured(argv, os.path.join(run_dir, "warmline-load.log"), timeout_s=max_runtime + 30)
        gw_alive = gw.poll() is None
        m = L.metrics(args.http_port)
        procs.stop(gw)
    L.append_result(args.report_dir, {
        "scenario": "bridged", "label": label, "transfer_mode": args.transfer_mode,
        "after_bridge": args.after_bridge, "calls": calls, "shards": 1, "hold_s": args.hold_s,
        "ramp_cps": args.ramp_cps, "load_rc": rc, "load_cpu_s_total": round(gen_cpu, 3),
        "warmline_survived": gw_alive, "warmline_exit": gw.returncode, "loadavg_before": load_before,
        "legs_active_end": m.get("warmline_legs_active"),
        "media_overruns": m.get("warmline_media_overruns_total"),
    })
    L.log_tail(f"{label}: warmline-load exit {rc}", os.path.join(run_dir, "warmline-load.log"))
    return rc, label


def last_result(report_dir, label):
    rows = [r for r in L.read_jsonl(os.path.join(report_dir, "results.jsonl")) if r.get("label") == label]
    return rows[-1] if rows else None


def us_per_packet(row):
    """CPU µs per relayed packet over the window: CPU / (calls x 100 packets/s x window)."""
    if not row or row.get("peer_cpu_cores", -1) < 0 or not row.get("calls_up"):
        return None
    pps = row["calls_up"] * PACKETS_PER_CALL_S if row["mode"] != "relay" else row["calls_up"] * 50
    return row["peer_cpu_cores"] * 1e6 / pps


def summarize(args, calls, gw_label, relay_label):
    gw, rel = last_result(args.report_dir, gw_label), last_result(args.report_dir, relay_label)
    gw_us, rel_us = us_per_packet(gw), us_per_packet(rel)

    def num(v, fmt):
        return format(v, fmt) if v is not None and v >= 0 else "-"

    def ms(row, key):
        h = (row or {}).get(key) or {}
        return f"{h['p50_us'] / 1e3:.3f} / {h['p99_us'] / 1e3:.3f}" if h.get("count") else "-"

    cells = [time.strftime("%Y-%m-%d %H:%M", time.gmtime()), str(calls), str((gw or {}).get("bridged", "-")),
             num(gw_us, ".2f"), num(rel_us, ".2f"), num(gw_us / rel_us if gw_us and rel_us else None, ".2f"),
             ms(gw, "in"), ms(gw, "out"), ms(rel, "in"),
             f"{num((gw or {}).get('in_loss_pct'), '.3f')} / {num((gw or {}).get('out_loss_pct'), '.3f')}",
             num((gw or {}).get("setup_cpu_ms_per_transfer"), ".3f"), ms(gw, "transfer_to_ack"),
             (gw or {}).get("host_load", "-")]
    line = "| " + " | ".join(cells) + " |\n"
    path = os.path.join(args.report_dir, f"bridged{variant(args)}.md")
    fresh = not os.path.exists(path)
    with open(path, "a") as f:
        if fresh:
            f.write("| date (UTC) | calls | bridged | warmline µs CPU / packet | rtpengine µs CPU / packet | ratio | "
                    "warmline caller→target p50 / p99 ms | target→caller p50 / p99 ms | rtpengine p50 / p99 ms | "
                    "loss in / out % | warmline ms CPU / transfer | transfer→target ACK p50 / p99 ms | load avg |\n"
                    "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
        f.write(line)
    L.log("bridged: " + line.strip())


def main():
    ap = argparse.ArgumentParser(description="bridged calls through warmline beside rtpengine relaying the same packets")
    ap.add_argument("--calls", default="100,500")
    ap.add_argument("--hold-s", type=float, default=20.0)
    ap.add_argument("--ramp-cps", type=float, default=100.0)
    ap.add_argument("--warmline", default=os.path.join(L.REPO, "build-load", "warmline"))
    ap.add_argument("--load", default=os.path.join(L.REPO, "build-load", "bench", "load", "warmline-load"))
    ap.add_argument("--report-dir", default=os.environ.get("REPORT_DIR", os.path.join(L.REPO, "build-load", "load-report")))
    ap.add_argument("--sip-port", type=int, default=35060)
    ap.add_argument("--http-port", type=int, default=38080)
    ap.add_argument("--agent-port", type=int, default=38765)
    ap.add_argument("--target-port", type=int, default=35095)
    ap.add_argument("--rtp-ports", default="12000-19999")
    ap.add_argument("--transfer-mode", choices=("cold", "warm"), default="cold")
    ap.add_argument("--after-bridge", choices=("leave", "listen"), default="leave")
    # rtpengine (rtp_relay.py's options)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ng-port", type=int, default=32299)
    ap.add_argument("--port-min", type=int, default=40000)
    ap.add_argument("--port-max", type=int, default=59999)
    ap.add_argument("--recv-ports", type=int, default=61000)
    ap.add_argument("--no-rtpengine", action="store_true", help="warmline only (no comparison)")
    ap.add_argument("--pause-s", type=float, default=2.0)
    args = ap.parse_args()
    args.report_dir = os.path.abspath(args.report_dir)
    for path in (args.load, args.warmline):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} not found: build warmline and warmline-load first (bench/load/scenarios/build.sh)")
    if not args.no_rtpengine and not shutil.which("rtpengine"):
        sys.exit("rtpengine not found: run scripts/install-load-deps.sh")
    counts = [int(c) for c in args.calls.split(",") if c]
    if any(c > 2000 for c in counts):
        sys.exit("at most 2000 calls (two RTP ports per leg, two legs per call in 12000-19999)")
    L.require_free(tcp=[args.http_port, args.agent_port], udp=[args.sip_port, args.target_port])
    run_root = os.path.join(args.report_dir, "runs", time.strftime(f"bridged{variant(args)}-%Y%m%d-%H%M%S"))
    status = 0
    for calls in counts:
        rc, gw_label = run_warmline(args, calls, os.path.join(run_root, f"warmline-{calls}"))
        status |= rc != 0
        relay_label = f"relay-rtpengine-bridged-{calls}"
        if not args.no_rtpengine:
            time.sleep(args.pause_s)
            status |= rtp_relay.run_one(args, calls, os.path.join(run_root, f"rtpengine-{calls}"), relay_label) != 0
        summarize(args, calls, gw_label, relay_label)
        time.sleep(args.pause_s)
    sys.exit(1 if status else 0)


if __name__ == "__main__":
    main()
