#!/usr/bin/env python3
"""Call-setup rate ramp with SIPp (scenarios 2 and 4 of bench/README.md "Load scenarios").

Targets, each ramped in fixed-rate steps (SIPp `-r RATE -m RATE*STEP_S`, one SIPp run per step) until a
step shows failed calls, retransmissions, or reaches less than 90 % of the asked rate:
  warmline-noagent  the agent URL points at a closed port and the fallback message is empty, so warmline
                    answers (200) and hangs up at once: SIP + a refused TCP connect, no agent at all.
  warmline-agent    an always-accepting WebSocket agent (null_agent.py, Python) that discards what it
                    gets: SIP + the agent's TCP/WebSocket handshake and `start` frame; the caller BYEs.
  kamailio          the same caller scenario through Kamailio's stateful proxy (kamailio-proxy.cfg.in)
                    to a SIPp UAS (`-sn uas`).
Per step: asked and achieved calls/s, failures, retransmissions, INVITE->200 p50/p99 (SIPp -trace_rtt),
and CPU seconds (/proc, see loadlib.py) of the gateway/proxy, the agent, the UAS and the caller SIPp,
so a reader sees which process ran out of CPU. Records go to REPORT_DIR/scenarios.jsonl.
"""

import argparse
import glob
import os
import shutil
import sys
import time

import loadlib as L

DEFAULT_RATES = "100,200,400,600,800,1000,1300,1600,2000,2500,3000,4000,5000,6000,8000"


def parse_stat(path):
    """Last line of SIPp's -trace_stat CSV as {column: value}."""
    try:
        with open(path, encoding="latin-1") as f:
            lines = [l.strip() for l in f if l.strip()]
    except OSError:
        return {}
    if len(lines) < 2:
        return {}
    head = lines[0].split(";")
    return dict(zip(head, lines[-1].split(";")))


def rtt_percentiles(step_dir):
    values = []
    for path in glob.glob(os.path.join(step_dir, "*_rtt.csv")):
        with open(path, encoding="latin-1") as f:
            for line in f:
                parts = line.strip().split(";")
                if len(parts) >= 2:
                    try:
                        values.append(float(parts[1]))
                    except ValueError:
                        pass  # the header
    if not values:
        return None, None
    values.sort()
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    return pick(0.50), pick(0.99)


def call_rate(stat):
    """SIPp's CallRate(C): calls it created per second over the whole run (None if absent)."""
    try:
        return float(stat["CallRate(C)"])
    except (KeyError, ValueError):
        return None


def stat_int(stat, key):
    try:
        return int(stat.get(key, "0"))
    except ValueError:
        return 0


class Target:
    """One thing being ramped: starts its processes once, then is asked to measure steps."""

    def __init__(self, name, args, run_dir, procs):
        self.name, self.args, self.dir, self.procs = name, args, run_dir, procs
        self.run_id = os.path.basename(os.path.dirname(run_dir))  # setup-YYYYmmdd-HHMMSS
        self.server_pid = None   # the gateway or the proxy
        self.server_tree = False
        self.extra = {}          # role -> pid (agent, uas)
        self.http_port = None
        self.scenario = "uac_answer_bye.xml"
        self.dest_port = None

    def start(self):
        a = self.args
        if self.name.startswith("warmline"):
            self.http_port = a.http_port
            if self.name == "warmline-agent":
                agent = self.procs.start([L.SYS_PYTHON, os.path.join(L.HERE, "null_agent.py"),
                                          "--listen", f"127.0.0.1:{a.agent_port}", "--max-seconds", "1800"],
                                         os.path.join(self.dir, "null_agent.log"))
                if not L.wait_tcp(a.agent_port):
                    raise RuntimeError("null_agent.py did not start")
                self.extra["agent"] = agent.pid
                url = f"ws://127.0.0.1:{a.agent_port}"
            else:
                url = f"ws://127.0.0.1:{L.free_port(L.socket.SOCK_STREAM)}"  # closed: connect is refused
                self.scenario = "uac_answer_gw_bye.xml"
            cfg = L.write_warmline_config(os.path.join(self.dir, "warmline.toml"), sip_port=a.sip_port,
                                          http_port=a.http_port, rtp_ports=a.rtp_ports, shards=a.shards,
                                          agent_url=url, sample_rate=8000)
            self.server_pid = L.start_warmline(self.procs, a.warmline, cfg, os.path.join(self.dir, "warmline.log"),
                                               a.http_port).pid
            self.dest_port = a.sip_port
        else:
            uas = self.procs.start(["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(a.uas_port), "-nostdin",
                                    "-timeout", "1800s"], os.path.join(self.dir, "sipp_uas.log"))
            self.extra["uas"] = uas.pid
            with open(os.path.join(L.HERE, "kamailio-proxy.cfg.in")) as f:
                cfg = f.read().replace("@PROXY_PORT@", str(a.proxy_port)).replace("@UAS_PORT@", str(a.uas_port))
            cfg_path = os.path.join(self.dir, "kamailio.cfg")
            with open(cfg_path, "w") as f:
                f.write(cfg)
            # -m 512: tm keeps every transaction in shared memory for its wait timer (5 s); the default
            # 64 MB ran out at 1,000 calls/s ("could not allocate shared memory from shm pool").
            k = self.procs.start(["kamailio", "-DD", "-E", "-f", cfg_path, "-P", os.path.join(self.dir, "kamailio.pid"),
                                  "-Y", self.dir, "-m", "512", "-M", "16", "-x", "tlsf"], os.path.join(self.dir, "kamailio.log"))
            if not L.sip_ping(a.proxy_port):
                raise RuntimeError(f"kamailio does not answer OPTIONS; see {self.dir}/kamailio.log")
            self.server_pid, self.server_tree = k.pid, True
            self.dest_port = a.proxy_port

    def cpu(self):
        user, sys_ = L.user_sys_seconds(self.server_pid, tree=self.server_tree)
        out = {"server": L.cpu_seconds(self.server_pid, tree=self.server_tree), "server_user": user,
               "server_sys": sys_}
        for role, pid in self.extra.items():
            out[role] = L.cpu_seconds(pid)
        return out

    def step(self, rate, index, record=True):
        a = self.args
        step_dir = os.path.join(self.dir, f"step{index:02d}_{rate}")
        os.makedirs(step_dir, exist_ok=True)
        total = int(rate * a.step_seconds)
        argv = ["sipp", f"127.0.0.1:{self.dest_port}", "-sf", os.path.join(L.HERE, self.scenario), "-s", "load",
                "-i", "127.0.0.1", "-p", str(a.uac_port), "-mp", str(a.uac_media_port), "-r", str(rate), "-rp", "1000",
                "-m", str(total), "-l", "100000", "-d", "0", "-nostdin", "-recv_timeout", "8000",
                "-timeout", f"{int(a.step_seconds) + 20}s", "-trace_stat", "-stf", "stat.csv", "-fd", "1",
                "-trace_rtt", "-rtt_freq", "100", "-trace_err",
                # A 180 that arrives after the 200 (Kamailio's two workers can reorder them) is ignored,
                # as a real phone does; by default SIPp would abort the call on it.
                "-default_behaviors", "all,-abortunexp"]
        load_before = L.loadavg()
        before = self.cpu()
        t0 = time.monotonic()
        rc, uac_cpu = L.run_measured(argv, os.path.join(step_dir, "sipp.log"), cwd=step_dir,
                                     timeout_s=a.step_seconds + 30)
        wall = time.monotonic() - t0
        if self.http_port:
            L.wait_calls_drained(self.http_port, timeout_s=10)
        after = self.cpu()
        stat = parse_stat(os.path.join(step_dir, "stat.csv"))
        ok = stat_int(stat, "SuccessfulCall(C)")
        failed = stat_int(stat, "FailedCall(C)")
        retrans = stat_int(stat, "Retransmissions(C)")
        p50, p99 = rtt_percentiles(step_dir)
        cpu = {k: round(after[k] - before[k], 4) for k in after}
        server_us = 1e6 * cpu["server"] / ok if ok else None
        ticks_sys = cpu.pop("server_sys")
        ticks_all = cpu.pop("server_user") + ticks_sys
        sys_share = round(ticks_sys / ticks_all, 2) if ticks_all > 0 else None
        rec = {
            "scenario": "setup", "run": self.run_id, "target": self.name, "rate_asked": rate, "calls_ok": ok, "calls_failed": failed,
            "retransmissions": retrans, "sipp_rc": rc, "wall_s": round(wall, 2),
            "rate_achieved": call_rate(stat),
            "setup_ms_p50": p50, "setup_ms_p99": p99, "cpu_s": dict(cpu, uac=round(uac_cpu, 4)),
            "server_cpu_us_per_call": round(server_us, 1) if server_us else None, "server_sys_share": sys_share,
            "calls_per_core_s": round(1e6 / server_us) if server_us else None,
            "shards": a.shards if self.name.startswith("warmline") else None, "loadavg_before": load_before,
        }
        if not record:
            return rec, False
        L.append_result(a.report_dir, rec)
        L.log(f"{self.name} {rate}/s: ok {ok} failed {failed} retrans {retrans} p50 {p50} ms p99 {p99} ms "
              f"server {rec['server_cpu_us_per_call']} us/call cpu {rec['cpu_s']}")
        saturated = failed > 0 or retrans > 0 or rc != 0 or ok < 0.9 * total or (call_rate(stat) or 0) < 0.9 * rate
        return rec, saturated


def ramp(target, rates, args):
    # Warm-up, not recorded: first calls pay for page faults, allocator growth and lazy initialisation.
    target.step(100, 99, record=False)
    time.sleep(args.pause_s)
    for i, rate in enumerate(rates):
        _, saturated = target.step(rate, i)
        if saturated:
            L.log(f"{target.name}: failures/retransmissions/shortfall at {rate}/s; ramp ends")
            break
        time.sleep(args.pause_s)  # let retransmission timers of the last step run out


def main():
    ap = argparse.ArgumentParser(description="SIPp call-setup ramp against warmline and Kamailio")
    ap.add_argument("--targets", default="warmline-noagent,warmline-agent,kamailio")
    ap.add_argument("--rates", default=DEFAULT_RATES, help="calls/s per step, comma-separated")
    ap.add_argument("--step-seconds", type=float, default=4.0)
    ap.add_argument("--pause-s", type=float, default=1.0)
    ap.add_argument("--warmline", default=os.path.join(L.REPO, "build-load", "warmline"))
    ap.add_argument("--shards", type=int, default=1, help="warmline shards (1: figures are per core)")
    ap.add_argument("--report-dir", default=os.environ.get("REPORT_DIR", os.path.join(L.REPO, "build-load", "load-report")))
    ap.add_argument("--sip-port", type=int, default=35060)
    ap.add_argument("--http-port", type=int, default=38080)
    ap.add_argument("--agent-port", type=int, default=38790)
    ap.add_argument("--proxy-port", type=int, default=35070)
    ap.add_argument("--uas-port", type=int, default=35080)
    ap.add_argument("--uac-port", type=int, default=35090)
    ap.add_argument("--uac-media-port", type=int, default=36000)
    ap.add_argument("--rtp-ports", default="12000-19999")
    args = ap.parse_args()
    args.report_dir = os.path.abspath(args.report_dir)  # absolute: some processes run in other folders (kamailio, SIPp)
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    if not shutil.which("sipp"):
        sys.exit("sipp not found: run scripts/install-deps.sh")
    L.require_free(tcp=[args.http_port, args.agent_port],
                   udp=[args.sip_port, args.proxy_port, args.uas_port, args.uac_port, args.uac_media_port])
    run_root = os.path.join(args.report_dir, "runs", time.strftime("setup-%Y%m%d-%H%M%S"))
    for name in args.targets.split(","):
        run_dir = os.path.join(run_root, name)
        os.makedirs(run_dir, exist_ok=True)
        with L.Procs() as procs:
            t = Target(name, args, run_dir, procs)
            t.start()
            ramp(t, rates, args)


if __name__ == "__main__":
    main()
