#!/usr/bin/env python3
"""SIP over TLS beside SIP over UDP, same run (bench/README.md "Load scenarios", `make load-tls`).

For every concurrency (`--calls 200,500`) the runs are interleaved: udp, tls, udp, tls (`--rounds` pairs),
each on a fresh warmline with the same config (a udp: and a tls: listener, a self-signed certificate this
script makes with openssl), driven by ai_streaming.run_one. The tls runs add `warmline-load --tls
--tls-ca <the certificate>`: every caller's SIP goes over one TLS connection to the tls: listener (as a
carrier's SBC sends it), the gateway's certificate verified. The media is plain RTP in both.

TLS costs at set-up (the handshake, once per connection here; each message encrypted and framed from a
stream) and not per packet, so the figure compared is the gateway's CPU per call set-up: its CPU over the
ramp less the media of the calls already up, per answered call (warmline-load's setup_cpu_ms_per_call),
with the set-up latency beside it. The window's CPU per call (media only) is shown too: it should not
differ.

Output: warmline-load's records (labels `tls-udp-<calls>-r<round>`, `tls-tls-<calls>-r<round>`) in
REPORT_DIR/results.jsonl, and REPORT_DIR/tls.md.
"""

import argparse
import os
import subprocess
import sys

import ai_streaming
import loadlib as L

KINDS = ("udp", "tls")


def label(kind, calls, rnd):
    return f"tls-{kind}-{calls}-r{rnd}"  # as ai_streaming.run_paired names them


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def fmt(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}"


def usable(run):
    """A run whose set-up CPU can be read: not aborted, every call up, the figure there."""
    return (run and not run.get("aborted") and run.get("setup_cpu_ms_per_call", -1) >= 0
            and run.get("calls_up") == run.get("calls") and run.get("failed", 0) + run.get("timeouts", 0) == 0)


def make_cert(folder):
    cert, key = os.path.join(folder, "gateway-cert.pem"), os.path.join(folder, "gateway-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def summarize(report_dir, counts, rounds, started, loads, args):
    runs = {}
    for r in L.read_jsonl(os.path.join(report_dir, "results.jsonl")):
        if r.get("label", "").startswith("tls-") and "sip_transport" in r:
            runs[r["label"]] = r
    lines = [
        "# SIP over TLS vs UDP (`make load-tls`)",
        "",
        f"{started} UTC, {L.machine()}; warmline {args.shards} shard(s), 8 kHz echo agent, calls set up at "
        f"{args.ramp_cps:g}/s, {rounds} interleaved rounds of udp then tls per concurrency, fresh warmline per run. "
        f"Load average (1 min) before each run: {', '.join(loads)}.",
        "",
        "| calls | SIP | calls up (each round) | set-up CPU ms per call (each round) | mean | TLS / UDP | "
        "set-up p50 / p99 ms | window CPU % core per call | TLS suite |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    status = 0
    for calls in counts:
        means = {}
        for kind in KINDS:
            rs = [runs.get(label(kind, calls, n)) for n in range(1, rounds + 1)]
            ok = [r for r in rs if usable(r)]
            if len(ok) < len(rs):
                status = 1
            means[kind] = (ok, rs, mean([r["setup_cpu_ms_per_call"] for r in ok]))
        ratio = means["tls"][2] / means["udp"][2] if means["tls"][2] and means["udp"][2] else None
        for kind in KINDS:
            ok, rs, m = means[kind]
            up = ", ".join(str(r["calls_up"]) if r else "-" for r in rs)
            each = ", ".join(fmt(r["setup_cpu_ms_per_call"]) for r in ok) or "-"
            setup = f"{fmt(mean([r['setup']['p50_us'] / 1e3 for r in ok]), 2)} / {fmt(mean([r['setup']['p99_us'] / 1e3 for r in ok]), 2)}"
            window = fmt(mean([r.get("peer_cpu_pct_per_call") for r in ok if r.get("peer_cpu_pct_per_call", -1) >= 0]))
            ratio_cell = "-" if kind == "udp" or ratio is None else f"{ratio:.2f}×"
            suite = ", ".join(sorted({r.get("tls_cipher", "") for r in ok if r.get("tls_cipher")})) or "-"
            lines.append(f"| {calls} | {kind} | {up} | {each} | {fmt(m)} | {ratio_cell} | {setup} | {window} | {suite} |")
    lines += ["", "A run aborted, with a call not up, or without the set-up figure is left out of the means "
              "(see results.md).", ""]
    path = os.path.join(report_dir, "tls.md")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    L.log(f"TLS report: {path}\n" + "\n".join(lines))
    return status


def main():
    ap = argparse.ArgumentParser(description="SIP over TLS beside SIP over UDP, interleaved, through warmline-load")
    ai_streaming.add_paired_args(ap, calls="200,500", what="udp + tls")
    ap.add_argument("--tls-port", type=int, default=35061)
    args = ap.parse_args()
    certs = {}

    def run_kwargs(kind, run_root):
        if run_root not in certs:  # one certificate for the whole comparison, in its own folder
            certs[run_root] = make_cert(run_root)
        cert, key = certs[run_root]
        return {"tls_listen": (args.tls_port, cert, key), "tls": kind == "tls"}

    status, counts, started, loads = ai_streaming.run_paired(args, "tls", KINDS, run_kwargs, extra_tcp=[args.tls_port])
    status |= summarize(args.report_dir, counts, args.rounds, started, loads, args)
    L.log(f"load average after: {L.loadavg()}")
    sys.exit(1 if status else 0)


if __name__ == "__main__":
    main()
