"""Overload control (issue 12 part 4; docs/operations.md "Overload"):

- twice the capacity: a gateway with `max_calls = N` (2 shards) takes N calls from one SIPp, each
  with its own RtpPeer sending and receiving RTP; then 2N more INVITEs arrive from a second SIPp at
  once. Every one of the excess gets `503 Service Unavailable - call limit reached` with
  Retry-After (SIPp's own statistics: 2N successful calls of a scenario that requires the 503 and
  its Retry-After; warmline_calls_rejected_total grows by exactly 2N), and the N calls already up
  lose no RTP: every packet the gateway sent each caller from before the burst to well after it
  arrived (no gap in the RTP sequence numbers), and both directions of every live call still work
  (the caller's DTMF reaches the agent, whose answering tone reaches the caller). Then they are hung up through the API and SIPp sees each BYE.
- `invite_rate_per_source`: a burst from one source above the rate gets `503 Service Unavailable -
  call rate limit` (+ Retry-After) beyond the bucket, while another source is still served.

The figures (calls, rejects, packets, loss) are printed on stderr; bench/README.md "Overload run"
records a run.
"""
import random
import socket
import sys
import time
import unittest

from attack_peer import exchange
from harness import Agent, E2ETestCase, Gateway, SCENARIOS, dtmf_round_trip, free_port, free_port_range, wait_for
from raw_sip import RawSip, header, status_code
from rtp_peer import RtpPeer
from sipp_peer import sip_messages

CAPACITY = 20  # [server] max_calls
RETRY_AFTER = 7
# Short on purpose: an agent's audio is queued at once, and N agents each sending minutes of it would
# load the node more than the calls do. Between its words warmline sends the callers silence.
SCRIPT = "on start: tone 440 500\non dtmf 5: tone 1000 600\n"


def sipp_many(case, scenario, gateway_port, name, calls, rate, extra=()):
    """One SIPp placing `calls` calls of `scenario`, `rate` a second, all in parallel, with its message
    log and its statistics file (-trace_stat) in the test's folder."""
    stat = case.workdir / f"{name}.stat.csv"
    log = case.workdir / f"{name}.messages.log"
    media_first, _ = free_port_range(4)
    argv = ["sipp", f"127.0.0.1:{gateway_port}", "-sf", SCENARIOS / scenario, "-m", calls, "-l", calls,
            "-r", rate, "-rp", 1000, "-nostdin", "-i", "127.0.0.1", "-bind_local",
            "-p", free_port(kinds=(socket.SOCK_DGRAM,)), "-cp", free_port(kinds=(socket.SOCK_DGRAM,)),
            "-mp", media_first, "-s", "demo", "-timeout", "120s", "-timeout_error", "-max_recv_loops", "1000",
            "-trace_msg", "-message_file", log, "-trace_stat", "-stf", stat, "-fd", 1,
            "-trace_err", "-error_file", case.workdir / f"{name}.errors.log", *extra]
    return case.start(name, argv), stat, log


def sipp_totals(stat):
    """(successful, failed) calls from the last line of a SIPp statistics file."""
    lines = [line for line in stat.read_text().splitlines() if line.strip()]
    names = lines[0].split(";")
    last = lines[-1].split(";")
    return int(last[names.index("SuccessfulCall(C)")]), int(last[names.index("FailedCall(C)")])


def lost_packets(rtp, since, until):
    """(received, lost) of the gateway's RTP at `rtp`, packets `since` to `until`: lost = the sequence
    numbers missing between the first and the last received (16-bit wrap unrolled)."""
    seqs = [h[0] for h in rtp.headers(since)[:until - since]]
    if not seqs:
        return 0, 0
    unrolled, base, prev = [], 0, seqs[0]
    for s in seqs:
        if s < prev and prev - s > 0x8000:
            base += 0x10000
        unrolled.append(base + s)
        prev = s
    distinct = set(unrolled)
    return len(distinct), (max(distinct) - min(distinct) + 1) - len(distinct)


class Overload(E2ETestCase):
    def test_twice_the_capacity_the_excess_gets_503_and_live_calls_lose_nothing(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, shards=2, rtp_ports=4 * CAPACITY + 8,
                          server_extra=f"max_calls = {CAPACITY}\nretry_after_s = {RETRY_AFTER}\n")
        peers = [RtpPeer() for _ in range(CAPACITY)]
        for p in peers:
            self.addCleanup(p.stop)
        by_port = {p.port: p for p in peers}
        inf = self.workdir / "callers.csv"
        inf.write_text("SEQUENTIAL\n" + "".join(f"{p.port};\n" for p in peers))
        media = self.workdir / "live.media.txt"
        live, live_stat, _ = sipp_many(self, "uac-overload-hold.xml", gateway.sip_port, "sipp-live", CAPACITY, 10,
                                       ("-inf", inf, "-key", "media_file", media))

        def answered():
            lines = [line.split() for line in (media.read_text() if media.exists() else "").splitlines()]
            return lines if len([w for w in lines if len(w) == 3]) == CAPACITY else None
        for port, ip, gw_port in wait_for(answered, 60, f"the {CAPACITY} calls to be answered"):
            by_port[int(port)].start_sending(ip, int(gw_port))
        self.assertEqual(len(gateway.calls()), CAPACITY)
        wait_for(lambda: all(p.count() >= 50 for p in peers), 20, "a second of RTP at every live caller")

        rejected_before = gateway.metric("warmline_calls_rejected_total")
        marks = [p.count() for p in peers]
        started = time.monotonic()
        excess, excess_stat, excess_log = sipp_many(
            self, "uac-invite-rejected-503-retry-after.xml", gateway.sip_port, "sipp-excess", 2 * CAPACITY, 2 * CAPACITY,
            ("-key", "media_file", self.workdir / "excess.retry-after.txt", "-key", "rtp_port", 9))
        self.assertEqual(excess.wait(60), 0, "every excess INVITE gets 503 with Retry-After")
        # Two more seconds of the live calls after the burst.
        burst_done = time.monotonic()
        wait_for(lambda: all(p.count() >= m + 100 for p, m in zip(peers, marks))
                 and time.monotonic() - burst_done >= 2, 30, "two more seconds of RTP at every live caller")
        window = time.monotonic() - started
        ends = [p.count() for p in peers]

        successful, failed = sipp_totals(excess_stat)
        self.assertEqual((successful, failed), (2 * CAPACITY, 0), "SIPp's statistics of the excess")
        answers = {}
        for m in sip_messages(excess_log.read_text(errors="replace")):
            if m.startswith("SIP/2.0 5"):
                answers[header(m, "Call-ID")] = (m.split("\n", 1)[0], header(m, "Retry-After"))
        self.assertEqual(len(answers), 2 * CAPACITY)
        self.assertEqual(set(answers.values()),
                         {("SIP/2.0 503 Service Unavailable - call limit reached", str(RETRY_AFTER))})
        self.assertEqual(gateway.metric("warmline_calls_rejected_total") - rejected_before, 2 * CAPACITY)
        self.assertEqual(len(gateway.calls()), CAPACITY, "the live calls are all still up")

        figures = []
        for p, mark, end in zip(peers, marks, ends):
            figures.append(lost_packets(p, mark, end))
        print(f"\n[overload] max_calls {CAPACITY}, 2 shards: {2 * CAPACITY} excess INVITEs -> {successful} x 503 "
              f"(Retry-After {RETRY_AFTER}); live calls over {window:.1f} s: packets received per call "
              f"{min(r for r, _ in figures)}..{max(r for r, _ in figures)}, lost {sum(lost for _, lost in figures)} "
              f"({100.0 * sum(lost for _, lost in figures) / sum(r + lost for r, lost in figures):.2f} %)",
              file=sys.stderr)
        self.assertEqual([lost for _, lost in figures], [0] * CAPACITY, "RTP lost at the live callers")
        for p in peers:
            dtmf_round_trip(agent, p, "5")  # both directions of every live call still work

        for call in gateway.calls():
            status, body = gateway.http("POST", f"/v1/calls/{call['id']}/hangup")
            self.assertEqual(status, 200, body)
        self.assertEqual(live.wait(60), 0, "every live call got warmline's BYE")
        self.assertEqual(sipp_totals(live_stat), (CAPACITY, 0))

    def test_a_burst_above_the_per_source_rate_gets_503_and_another_source_is_served(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, trunk_cidrs=["127.0.0.1/32", "127.0.0.2/32"],
                          server_extra=f"invite_rate_per_source = 2\nretry_after_s = {RETRY_AFTER}\n")
        burst = RawSip(self, name="burst")
        other = RawSip(self, "127.0.0.2", name="other-source")
        dest = ("127.0.0.1", gateway.sip_port)

        def invite(raw, n):
            """An INVITE for a number no agent has: taken ones get 404, rate-limited ones 503."""
            me = f"{raw.ip}:{raw.port}"
            return "\r\n".join([
                f"INVITE sip:+27110000000@127.0.0.1:{gateway.sip_port} SIP/2.0",
                f"Via: SIP/2.0/UDP {me};branch=z9hG4bK-rate{n}-{random.getrandbits(48):x};rport",
                "Max-Forwards: 70", f"From: <sip:burst@{me}>;tag=r{n}",
                f"To: <sip:+27110000000@127.0.0.1:{gateway.sip_port}>",
                f"Call-ID: rate-{n}-{random.getrandbits(48):x}@{raw.ip}", "CSeq: 1 INVITE",
                f"Contact: <sip:burst@{me}>", "Content-Length: 0"]) + "\r\n\r\n"

        # Six INVITEs in one go from one source: the bucket holds 2.
        texts = [invite(burst, n) for n in range(6)]
        for text in texts:
            burst.send(text, dest)
        answers = [exchange(burst, text, dest) for text in texts]  # retransmissions are absorbed
        got = [(status_code(a), a.split("\r\n", 1)[0], header(a, "Retry-After") if status_code(a) == 503 else None)
               for a in answers]
        self.assertEqual(sorted(got, key=lambda g: g[0]),
                         [(404, "SIP/2.0 404 Not Found", None)] * 2 +
                         [(503, "SIP/2.0 503 Service Unavailable - call rate limit", str(RETRY_AFTER))] * 4, got)
        # Another source right after: served (404, not the rate limit).
        self.assertEqual(status_code(exchange(other, invite(other, 9), dest)), 404)


if __name__ == "__main__":
    unittest.main()
