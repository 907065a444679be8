#!/usr/bin/env python3
"""SRTP on the caller leg beside plain RTP, same run (bench/README.md "Load scenarios", `make load-srtp`).

For every concurrency (`--calls 100,300`) the runs are interleaved: plain, SRTP, plain, SRTP (`--rounds`
pairs), each on a fresh warmline with the same config (trunk `srtp = "optional"`: a plain RTP/AVP offer
stays plain, an RTP/SAVP one gets SRTP), driven by ai_streaming.run_one; the SRTP runs add
`warmline-load --srtp` (RTP/SAVP offer, AES_CM_128_HMAC_SHA1_80, every packet protected and unprotected by
the callers). Interleaving is what makes the ratio meaningful on a shared machine: both kinds of run see
the same background load. Only the media is encrypted: the SIP stays on UDP (TLS for the signalling costs
per call set-up, not per packet; SDES keys in clear SIP are fine on 127.0.0.1, never on a real network).

Output: warmline-load's records (labels `srtp-plain-<calls>-r<round>`, `srtp-srtp-<calls>-r<round>`) in
REPORT_DIR/results.jsonl, and REPORT_DIR/srtp.md: per concurrency, gateway CPU per call (% of a core)
for both kinds (mean of the rounds), the ratio SRTP / plain against the goal (<= 1.3x), latencies, loss
and the SRTP failure counters, with the machine and its load average.
"""

import argparse
import os
import sys

import ai_streaming
import loadlib as L

GOAL_RATIO = 1.3
KINDS = ("plain", "srtp")


def label(kind, calls, rnd):
    return f"srtp-{kind}-{calls}-r{rnd}"


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def pct(run, key, field, scale=1.0):
    p = run.get(key) or {}
    return p.get(field) * scale if p.get("count") else None


def fmt(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}"


def usable(run):
    """A run whose CPU per call can be read: not aborted, a CPU figure, and at least 95 % of the calls up
    in the window (CPU per call is divided by the calls up; a few refused at set-up, e.g. 503 while the
    shared machine stalled the shard, do not skew it). The table shows calls up per round."""
    return (run and not run.get("aborted") and run.get("peer_cpu_pct_per_call", -1) >= 0
            and run.get("calls_up", 0) >= 0.95 * run.get("calls", 1))


def summarize(report_dir, counts, rounds, started, loads):
    """REPORT_DIR/srtp.md from this run's records (the latest record of each label)."""
    runs = {}
    for r in L.read_jsonl(os.path.join(report_dir, "results.jsonl")):
        if r.get("label", "").startswith("srtp-"):
            runs[r["label"]] = r
    lines = [
        "# SRTP on the caller leg vs plain RTP (`make load-srtp`)",
        "",
        f"{started} UTC, {L.machine()}; warmline 1 shard, 8 kHz echo agent, trunk `srtp = \"optional\"`, "
        f"{rounds} interleaved rounds of plain then SRTP per concurrency, fresh warmline per run. "
        f"Load average (1 min) before each run: {', '.join(loads)}. Other work on the machine (compilers) "
        "varies between runs; the interleaving gives both kinds the same conditions, so the ratio is the "
        "figure to read, not the absolute CPU.",
        "",
        "| calls | kind | calls up (each round) | gateway CPU % core per call (each round) | mean | SRTP / plain | in p50 / p99 µs | "
        "out p50 / p99 ms | in / out loss % | SRTP keyed / refused / protect fail / unprotect fail |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    status = 0
    for calls in counts:
        means = {}
        for kind in KINDS:
            rs = [runs.get(label(kind, calls, n)) for n in range(1, rounds + 1)]
            ok = [r for r in rs if usable(r)]
            if len(ok) < len(rs):
                status = 1
            means[kind] = mean([r["peer_cpu_pct_per_call"] for r in ok])
            means[kind + "_rows"] = ok
            means[kind + "_up"] = ", ".join(str(r["calls_up"]) if r else "-" for r in rs)
        ratio = means["srtp"] / means["plain"] if means["srtp"] and means["plain"] else None
        for kind in KINDS:
            ok = means[kind + "_rows"]
            each = ", ".join(fmt(r["peer_cpu_pct_per_call"]) for r in ok) or "-"
            lat_in = f"{fmt(mean([pct(r, 'in', 'p50_us') for r in ok]), 0)} / {fmt(mean([pct(r, 'in', 'p99_us') for r in ok]), 0)}"
            lat_out = (f"{fmt(mean([pct(r, 'out', 'p50_us', 1e-3) for r in ok]), 2)} / "
                       f"{fmt(mean([pct(r, 'out', 'p99_us', 1e-3) for r in ok]), 2)}")
            loss = f"{fmt(mean([r.get('in_loss_pct') for r in ok]), 3)} / {fmt(mean([r.get('out_loss_pct') for r in ok]), 3)}"
            srtp = "-"
            if kind == "srtp" and ok:
                srtp = " / ".join(str(sum(r.get(k, 0) for r in ok)) for k in
                                  ("srtp_calls", "srtp_refused", "srtp_protect_failed", "srtp_unprotect_failed"))
            verdict = "-"
            if kind == "srtp":
                verdict = "-" if ratio is None else f"{ratio:.2f}× ({'meets' if ratio <= GOAL_RATIO else 'misses'} ≤ {GOAL_RATIO}×)"
            lines.append(f"| {calls} | {kind} | {means[kind + '_up']} | {each} | {fmt(means[kind])} | {verdict} | {lat_in} | {lat_out} | "
                         f"{loss} | {srtp} |")
    lines += ["", "A run aborted, without a CPU figure or with under 95 % of its calls up is left out of the means "
              "(see results.md).", ""]
    path = os.path.join(report_dir, "srtp.md")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    L.log(f"SRTP report: {path}\n" + "\n".join(lines))
    return status


def main():
    ap = argparse.ArgumentParser(description="SRTP callers beside plain ones, interleaved, through warmline-load")
    ai_streaming.add_paired_args(ap, calls="100,300", what="plain + SRTP")
    args = ap.parse_args()
    status, counts, started, loads = ai_streaming.run_paired(
        args, "srtp", KINDS, lambda kind, _: {"srtp": kind == "srtp", "trunk_srtp": "optional"})
    status |= summarize(args.report_dir, counts, args.rounds, started, loads)
    L.log(f"load average after: {L.loadavg()}")
    sys.exit(1 if status else 0)


if __name__ == "__main__":
    main()
