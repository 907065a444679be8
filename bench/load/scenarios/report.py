#!/usr/bin/env python3
"""Writes REPORT.md and the plots' data from one load run (bench/README.md "Load scenarios").

Inputs in REPORT_DIR: results.jsonl (warmline-load, one object per run, keyed by its label) and
scenarios.jsonl (the scenario scripts: setup-ramp steps, and the build/shards of each warmline-load
run). The latest record of each label / the latest ramp of each target is what is reported. Output:
OUT/REPORT.md, OUT/*.dat (gnuplot input) and, when gnuplot is installed, OUT/latency.png and
OUT/cpu_per_call.png (bench/load/plot.gp).
"""

import argparse
import os
import shutil
import subprocess
import time

import loadlib as L

GOAL_PCT_PER_CALL = 0.1     # % of a core per AI call
GOAL_IN_P50_US, GOAL_IN_P99_US = 200, 1000
GOAL_SETUP_NOAGENT, GOAL_SETUP_AGENT = 2000, 500  # calls/s per core
GOAL_RSS_KIB = 64


def fmt(v, digits=1, dash="-"):
    if v is None or (isinstance(v, (int, float)) and v < 0):
        return dash
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b and a > 0 and b > 0 else "-"


def latest_by_label(rows):
    out = {}
    for r in rows:
        if "label" in r:
            out[r["label"]] = r
    return out


def pct(p, key):
    """A percentile in µs, None when nothing was matched (a collapsed run reports 0 with count 0)."""
    return (p or {}).get(key) if (p or {}).get("count") else None


def healthy(run):
    """False for a run past saturation: calls failed or not all up, > 1 % loss, or aborted. Its CPU per
    call is then CPU per call *that got through*, so it is shown but kept out of goals and plots."""
    if not run or run.get("aborted") or run.get("failed", 0) + run.get("timeouts", 0) > 0:
        return False
    if run.get("calls_up", 0) < run.get("calls", 0):
        return False
    if run.get("peer_cpu_cores", 0) >= 0.95:  # one shard / one rtpengine thread: a full core is the ceiling
        return False
    return run.get("in_loss_pct", 0) < 1 and run.get("out_loss_pct", 0) < 1


def packets_per_s(run, per_call):
    """Packets/s a run moved: relay -> what arrived relayed over the window; AI call -> 2 RTP packets per
    call per 20 ms (one in, one out) for the calls that were up."""
    if run.get("mode") == "relay" and run.get("window_s"):
        return run.get("in_received", 0) / run["window_s"]
    return run.get("calls_up", 0) * per_call


def us_per_packet(run, per_call=100.0):
    pps = packets_per_s(run, per_call)
    cores = run.get("peer_cpu_cores", -1)
    return cores * 1e6 / pps if pps > 0 and cores is not None and cores >= 0 else None


def crashed(meta):
    return meta.get("warmline_survived") is False or (meta.get("warmline_exit") or 0) < 0


def overruns(meta):
    """warmline's media clock over the whole run (GET /metrics): late ticks and the worst lag."""
    if meta.get("media_overruns") is None:
        return "-"
    return f"{int(meta['media_overruns'])} (worst {fmt(meta.get('media_worst_lag_us', 0) / 1e3, 1)} ms)"


# --- sections -----------------------------------------------------------------------------------------

def ai_section(runs, meta, counts, build="epoll"):
    lines = [f"### 1. AI-streamed calls (warmline {build} build, 8 kHz agent echoing, warmline-load)", "",
             "| calls up / asked | failed | caller→AI p50 / p99 µs | AI→caller p50 / p99 ms (beyond tick p50 / p99 µs) "
             "| loss in / out % | warmline % core | % core per call | calls per core | RSS KiB per call "
             "| generator % core | media clock overruns | load avg before |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in counts:
        r = runs.get(f"ai-{build}-{n}")
        if not r:
            lines.append(f"| - / {n} | not run | | | | | | | | | | |")
            continue
        m = meta.get(r["label"], {})
        per_call = r.get("peer_cpu_pct_per_call", -1)
        inp, out, bt = r.get("in", {}), r.get("out", {}), r.get("out_beyond_tick", {})
        lines.append(
            f"| {r['calls_up']} / {r['calls']}{'' if healthy(r) else ' **saturated**'} "
            f"| {r.get('failed', 0) + r.get('timeouts', 0)} "
            f"| {fmt(pct(inp, 'p50_us'), 0)} / {fmt(pct(inp, 'p99_us'), 0)} "
            f"| {fmt(pct(out, 'p50_us') / 1e3 if out.get('count') else None, 2)} / "
            f"{fmt(pct(out, 'p99_us') / 1e3 if out.get('count') else None, 2)} "
            f"({fmt(pct(bt, 'p50_us'), 0)} / {fmt(pct(bt, 'p99_us'), 0)}) "
            f"| {fmt(r.get('in_loss_pct'), 3)} / {fmt(r.get('out_loss_pct'), 3)} "
            f"| {fmt(r.get('peer_cpu_cores', -1) * 100, 1)} | {fmt(per_call, 3)} "
            f"| {fmt(100 / per_call, 0) if per_call and per_call > 0 else '-'} "
            f"| {fmt(r.get('peer_rss_kib_per_call'), 1)} | {fmt(r.get('gen_cpu_cores', 0) * 100, 1)} "
            f"| {overruns(m)} | {m.get('loadavg_before', r.get('host_load', '-'))} |")
    return lines


def relay_section(runs, counts):
    lines = ["### 3. The same RTP load relayed by rtpengine (userspace, `--table=-1`) vs warmline", "",
             "Per AI call warmline moves 2 RTP packets per 20 ms (caller's in, its own out), each with its "
             "WebSocket frame; the relay gets 2 one-way sessions per call (the same 100 packets/s per call). "
             "µs per packet = the process's CPU over the window / packets per second.", "",
             "| calls | warmline µs CPU per packet | rtpengine µs per relayed packet | ratio warmline / rtpengine "
             "| rtpengine relay p50 / p99 µs | rtpengine loss % | rtpengine % core | generator % core |",
             "|---|---|---|---|---|---|---|---|"]
    for n in counts:
        w, e = runs.get(f"ai-epoll-{n}"), runs.get(f"relay-rtpengine-{n}")
        wu = us_per_packet(w) if w else None
        eu = us_per_packet(e) if e else None
        inp = (e or {}).get("in", {})
        flag = lambda r: "" if not r or healthy(r) else " (saturated)"
        both = healthy(w) and healthy(e)
        lines.append(f"| {n} | {fmt(wu, 2)}{flag(w)} | {fmt(eu, 2)}{flag(e)} | {ratio(wu, eu) if both else '-'} "
                     f"| {fmt(pct(inp, 'p50_us'), 0)} / {fmt(pct(inp, 'p99_us'), 0)} "
                     f"| {fmt((e or {}).get('in_loss_pct'), 3)} | {fmt((e or {}).get('peer_cpu_cores', -1) * 100, 1)} "
                     f"| {fmt((e or {}).get('gen_cpu_cores', -1) * 100, 1)} |")
    return lines


def uring_section(runs, meta, counts):
    lines = ["### 5. io_uring build vs epoll build (same load, same run, interleaved)", "",
             "| calls | epoll % core per call | io_uring % core per call | ratio io_uring / epoll "
             "| caller→AI p50 / p99 µs epoll | io_uring | AI→caller beyond tick p99 µs epoll | io_uring |",
             "|---|---|---|---|---|---|---|---|"]
    for n in counts:
        e, u = runs.get(f"ai-epoll-{n}"), runs.get(f"ai-uring-{n}")
        if not u:
            continue
        ep, up = (e or {}).get("peer_cpu_pct_per_call"), u.get("peer_cpu_pct_per_call")
        lat = lambda r, k: f"{fmt(pct((r or {}).get('in'), 'p50_us'), 0)} / {fmt(pct((r or {}).get('in'), 'p99_us'), 0)}" \
            if k == "in" else fmt(pct((r or {}).get("out_beyond_tick"), "p99_us"), 0)
        flag = lambda r: (" (crashed)" if crashed(meta.get((r or {}).get("label"), {}))
                          else "" if healthy(r) else " (saturated)")
        both = healthy(e) and healthy(u)
        lines.append(f"| {n} | {fmt(ep, 3)}{flag(e)} | {fmt(up, 3)}{flag(u)} | {ratio(up, ep) if both else '-'} "
                     f"| {lat(e, 'in')} | {lat(u, 'in')} "
                     f"| {lat(e, 'out')} | {lat(u, 'out')} |")
    return lines if len(lines) > 4 else []


def latest_ramps(setup_rows):
    """target -> the steps of its most recent ramp."""
    last_run = {}
    for r in setup_rows:
        last_run[r["target"]] = r.get("run")
    return {t: [r for r in setup_rows if r["target"] == t and r.get("run") == run] for t, run in last_run.items()}


def best_clean(steps):
    clean = [s for s in steps if not s["calls_failed"] and not s["retransmissions"] and s.get("sipp_rc") == 0]
    return clean[-1] if clean else None


def setup_section(ramps):
    titles = {"warmline-noagent": "warmline, no agent (refused connect, empty fallback: answers and hangs up)",
              "warmline-agent": "warmline, agent connect (null_agent.py accepts the WebSocket, discards audio)",
              "kamailio": "Kamailio 5.6 stateful proxy (tm, record-route) → SIPp UAS"}
    lines = ["### 2 and 4. Call-setup rate ramp (SIPp, INVITE → 200 → ACK → BYE → 200, fixed-rate steps)", "",
             "Each step runs SIPp at a fixed rate; the ramp stops at the first step with a failed call, a "
             "retransmission or less than 90 % of the asked rate. CPU is the server's (warmline, or every "
             "Kamailio process) over the step.", ""]
    for target in ("warmline-noagent", "warmline-agent", "kamailio"):
        steps = ramps.get(target)
        if not steps:
            continue
        lines += [f"**{titles[target]}**", "",
                  "| calls/s asked | achieved | ok | failed | retransmits | INVITE→200 p50 / p99 ms | server µs CPU per call "
                  "| calls per core-second | agent / UAS CPU s | SIPp caller CPU s | load avg |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in steps:
            c = s["cpu_s"]
            lines.append(f"| {s['rate_asked']} | {fmt(s.get('rate_achieved'), 0)} | {s['calls_ok']} | {s['calls_failed']} "
                         f"| {s['retransmissions']} | {fmt(s.get('setup_ms_p50'), 0)} / {fmt(s.get('setup_ms_p99'), 0)} "
                         f"| {fmt(s.get('server_cpu_us_per_call'), 0)} | {fmt(s.get('calls_per_core_s'))} "
                         f"| {fmt(c.get('agent', c.get('uas')), 2)} "
                         f"| {fmt(c.get('uac'), 2)} | {s.get('loadavg_before', '-')} |")
        lines.append("")
    summary = ["| target | highest clean rate (calls/s) | server µs CPU per call there | calls per core-second there |",
               "|---|---|---|---|"]
    best = {t: best_clean(s) for t, s in ramps.items()}
    for t in ("warmline-noagent", "warmline-agent", "kamailio"):
        b = best.get(t)
        if b:
            summary.append(f"| {t} | {b['rate_asked']} | {fmt(b.get('server_cpu_us_per_call'), 0)} "
                           f"| {fmt(b.get('calls_per_core_s'))} |")
    k = best.get("kamailio")
    for t in ("warmline-noagent", "warmline-agent"):
        w = best.get(t)
        if w and k:
            summary.append(f"| ratio {t} / kamailio | {ratio(w['rate_asked'], k['rate_asked'])} "
                           f"| {ratio(w.get('server_cpu_us_per_call'), k.get('server_cpu_us_per_call'))} "
                           f"| {ratio(w.get('calls_per_core_s'), k.get('calls_per_core_s'))} |")
    return lines + ["Summary:", ""] + summary


def goals_section(runs, ramps, counts):
    lines = ["### Goals (issue 4) against what this run reached", "", "| goal | reached |", "|---|---|"]
    r1k = runs.get("ai-epoll-1000")
    per_call = [runs[f"ai-epoll-{n}"].get("peer_cpu_pct_per_call") for n in counts
                if healthy(runs.get(f"ai-epoll-{n}"))]
    per_call = [p for p in per_call if p and p > 0]
    lines.append(f"| ≤ {GOAL_PCT_PER_CALL} % of a core per AI call | "
                 f"{'-' if not per_call else f'{min(per_call):.3f} – {max(per_call):.3f} %'} (runs below saturation) |")
    ok_counts = [n for n in counts if healthy(runs.get(f"ai-epoll-{n}"))]
    top = runs.get(f"ai-epoll-{ok_counts[-1]}") if ok_counts else None
    def at(fn):
        """The figure at 1,000 calls, and at the largest run below saturation when 1,000 saturated."""
        parts = [f"1,000 calls{'' if healthy(r1k) else ' (saturated)'}: {fn(r1k)}"] if r1k else []
        if top and top is not r1k:
            parts.append(f"{top['calls']:,} calls: {fn(top)}")
        return "; ".join(parts) or "-"
    lat = lambda key: lambda r: f"{fmt(pct(r.get(key), 'p50_us'), 0)} / {fmt(pct(r.get(key), 'p99_us'), 0)} µs"
    lines.append(f"| caller→AI p50 ≤ {GOAL_IN_P50_US} µs, p99 ≤ {GOAL_IN_P99_US} µs at 1,000 calls | {at(lat('in'))} |")
    lines.append(f"| AI→caller p50 ≤ 0.2 ms, p99 ≤ 1 ms at 1,000 calls (beyond the 20 ms tick) "
                 f"| {at(lat('out_beyond_tick'))} |")
    lines.append(f"| ≤ {GOAL_RSS_KIB} KiB per active AI call "
                 f"| {at(lambda r: fmt(r.get('peer_rss_kib_per_call'), 1) + ' KiB')} |")
    for t, goal in (("warmline-noagent", GOAL_SETUP_NOAGENT), ("warmline-agent", GOAL_SETUP_AGENT)):
        b = best_clean(ramps.get(t, []))
        if b:
            lines.append(f"| setup {t}: ≥ {goal} calls/s per core | {fmt(b.get('calls_per_core_s'))} calls per "
                         f"core-second of warmline CPU; highest clean rate {b['rate_asked']}/s on this machine |")
    return lines


# --- plots --------------------------------------------------------------------------------------------

def write_plot_data(out_dir, runs, counts):
    """latency.dat: calls in_p50 in_p99 beyond_tick_p50 beyond_tick_p99 (µs, epoll build);
    cpu.dat: calls epoll_pct_per_call uring_pct_per_call rtpengine_pct_per_call ('?' = missing)."""
    q = lambda v: "?" if v is None or v < 0 else f"{v:.4f}"
    q1 = lambda v: "?" if v is None or v < 0 else f"{max(v, 1.0):.4f}"  # log axis: < 1 µs drawn at 1 µs
    with open(os.path.join(out_dir, "latency.dat"), "w") as f:
        f.write("# calls in_p50_us in_p99_us out_beyond_tick_p50_us out_beyond_tick_p99_us (values < 1 drawn as 1)\n")
        for n in counts:
            r = runs.get(f"ai-epoll-{n}")
            if healthy(r):
                i, o = r.get("in", {}), r.get("out_beyond_tick", {})
                f.write(f"{n} {q1(i.get('p50_us'))} {q1(i.get('p99_us'))} {q1(o.get('p50_us'))} {q1(o.get('p99_us'))}\n")
    with open(os.path.join(out_dir, "cpu.dat"), "w") as f:
        f.write("# calls warmline_epoll_pct_core_per_call warmline_uring rtpengine_relaying_the_same_rtp\n")
        for n in counts:
            e, u, x = (r if healthy(r) else None for r in (runs.get(f"{p}-{n}") for p in ("ai-epoll", "ai-uring", "relay-rtpengine")))
            relay = x.get("peer_cpu_cores", -1) * 100 / n if x and x.get("peer_cpu_cores", -1) >= 0 else None
            f.write(f"{n} {q((e or {}).get('peer_cpu_pct_per_call'))} {q((u or {}).get('peer_cpu_pct_per_call'))} {q(relay)}\n")


def plot(out_dir):
    if not shutil.which("gnuplot"):
        L.log("gnuplot not installed (scripts/install-load-deps.sh): no PNGs")
        return False
    script = os.path.join(L.HERE, "..", "plot.gp")
    rc = subprocess.run(["gnuplot", "-e", f"dir='{out_dir}'", script], timeout=60).returncode
    return rc == 0


def main():
    ap = argparse.ArgumentParser(description="REPORT.md and plots from a load run")
    ap.add_argument("--report-dir", default=os.environ.get("REPORT_DIR", os.path.join(L.REPO, "build-load", "load-report")))
    ap.add_argument("--out", default=os.path.join(L.REPO, "bench", "results"))
    ap.add_argument("--calls", default="100,500,1000,2000")
    args = ap.parse_args()
    args.report_dir = os.path.abspath(args.report_dir)  # absolute: some processes run in other folders (kamailio, SIPp)
    counts = [int(c) for c in args.calls.split(",") if c]
    runs = latest_by_label(L.read_jsonl(os.path.join(args.report_dir, "results.jsonl")))
    scen = L.read_jsonl(os.path.join(args.report_dir, "scenarios.jsonl"))
    meta = latest_by_label([r for r in scen if r.get("scenario") in ("ai", "relay")])
    ramps = latest_ramps([r for r in scen if r.get("scenario") == "setup"])
    os.makedirs(args.out, exist_ok=True)
    write_plot_data(args.out, runs, counts)
    have_png = plot(args.out)
    head = [r"# warmline load report", "",
            f"Generated {time.strftime('%Y-%m-%d %H:%M %Z')} by `make load-all` (bench/README.md \"Load scenarios\") on "
            f"{L.machine()}; commit `{commit()}`. Everything on 127.0.0.1; warmline-load, SIPp, the agents and "
            "the peers share the same cores as the process measured, so their CPU is listed beside it.", ""]
    body = (goals_section(runs, ramps, counts) + [""] + ai_section(runs, meta, counts) + [""]
            + setup_section(ramps) + [""] + relay_section(runs, counts) + [""] + uring_section(runs, meta, counts))
    if have_png:
        body += ["", "### Plots", "", "![latency vs concurrency](latency.png)", "",
                 "![CPU per call vs concurrency](cpu_per_call.png)"]
    notes_path = os.path.join(L.HERE, "report_notes.md")  # how to read the tables (static)
    if os.path.exists(notes_path):
        with open(notes_path) as f:
            body += ["", f.read().rstrip()]
    with open(os.path.join(args.out, "REPORT.md"), "w") as f:
        f.write("\n".join(head + body) + "\n")
    L.log(f"wrote {os.path.join(args.out, 'REPORT.md')}")


def commit():
    try:
        return subprocess.run(["git", "-C", L.REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


if __name__ == "__main__":
    main()
