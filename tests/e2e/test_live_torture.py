"""Live torture (issue 12 part 3): every RFC 4475 torture message of tests/data/rfc4475 (its 49 cases
and the archive's stray test.dat), as its exact bytes, sent to a running gateway over UDP (one datagram
each) and over TCP (a fresh connection each), ROUNDS times over. This stands in for the PROTOS c07-sip
suite, which cannot be fetched on the machines that build warmline (docs/security.md, "Live torture").

- after every message the gateway still answers an OPTIONS of ours over UDP (no case kills or wedges
  it), and at the end one over TCP on a fresh connection (the stream listener survived too);
- none of the torture INVITEs became a call (the agent answers only `demo`): /v1/calls stays empty;
- the gateway never resolved a name it read in a message (a Via host, inv2543.dat's
  Record-Route `maddr=ss1.example.com`): its `dns_servers` is a UDP socket of this test, which
  receives no datagram;
- its RSS grows by less than MESSAGE_RSS_BOUND_KIB across any one message, and by less than
  RSS_BOUND_KIB over all of them. The server transactions of the requests are still alive at the end
  (Timer J keeps a UDP non-INVITE's for 32 s, Timer H a rejected INVITE's), so these bounds are no
  leak detector (LeakSanitizer in `make test-asan` is): they catch a message that makes the gateway
  allocate by a size the message claims (Content-Length, the overlarge scalars of scalar02.dat) or
  keep far more than it was sent;
- then a valid call connects and both media directions work (the caller's DTMF reaches the agent,
  whose answering tone reaches the caller), and ends normally.
"""
import socket
import sys
import unittest
from pathlib import Path

from harness import Agent, E2ETestCase, Gateway, dtmf_round_trip, wait_for
from raw_sip import status_code
from sipp_peer import start_caller
from test_sip_tcp import Conn, options_text

TORTURE_DIR = Path(__file__).resolve().parent.parent / "data" / "rfc4475"
ROUNDS = 5
MESSAGE_RSS_BOUND_KIB = 1024
RSS_BOUND_KIB = 16384


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


class LiveTorture(E2ETestCase):
    def test_every_torture_message_over_udp_and_tcp_leaves_the_gateway_serving(self):
        cases = sorted(TORTURE_DIR.glob("*.dat"))
        self.assertEqual(len(cases), 50, "49 RFC 4475 cases and test.dat")
        dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(dns.close)
        dns.bind(("127.0.0.1", 0))
        dns.setblocking(False)
        agent = Agent(self, "on dtmf #: tone 1000 600\n")
        gateway = Gateway(self, agent.url, tcp=True, dns_servers=(f"127.0.0.1:{dns.getsockname()[1]}",))
        pid = gateway.proc.pid

        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(udp.close)
        udp.bind(("127.0.0.1", 0))
        rss_before = rss_kib(pid)
        sent = 0
        worst = (0, "")  # the largest RSS step across one message, and which
        for round_no in range(ROUNDS):
            for case in cases:
                data = case.read_bytes()
                for transport in ("UDP", "TCP"):
                    rss = rss_kib(pid)
                    if transport == "UDP":
                        udp.sendto(data, ("127.0.0.1", gateway.sip_port))
                    else:
                        with socket.create_connection(("127.0.0.1", gateway.tcp_port), timeout=5) as conn:
                            conn.sendall(data)
                    what = f"{case.name} over {transport}, round {round_no + 1}"
                    self.assert_serving(gateway, what)
                    worst = max(worst, (rss_kib(pid) - rss, what))
                    sent += 1
        rss_after = rss_kib(pid)
        print(f"\nlive torture: {sent} messages ({len(cases)} cases x UDP + TCP x {ROUNDS} rounds); "
              f"RSS {rss_before} -> {rss_after} KiB ({rss_after - rss_before:+d}); "
              f"largest step {worst[0]} KiB ({worst[1]})", file=sys.stderr)
        self.assertLess(worst[0], MESSAGE_RSS_BOUND_KIB, f"RSS grew {worst[0]} KiB across {worst[1]}")

        tcp = Conn(self, gateway.tcp_port)
        tcp.send(options_text(gateway.tcp_port, tcp.lport))
        self.assertEqual(status_code(tcp.response()), 200, "OPTIONS over a fresh TCP connection")
        self.assertEqual(gateway.calls(), [], "no torture INVITE became a call")
        self.assertLess(rss_after - rss_before, RSS_BOUND_KIB,
                        f"RSS grew from {rss_before} to {rss_after} KiB over {sent} torture messages")
        try:
            query = dns.recv(4096)
        except BlockingIOError:
            query = None
        self.assertIsNone(query, "the gateway looked up a name it read in a torture message")

        caller, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        dtmf_round_trip(agent, rtp, "#", 1000)
        caller.trigger()
        caller.assert_passed()
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

    def assert_serving(self, gateway, after):
        if not gateway.proc.running():
            raise AssertionError(f"the gateway exited ({gateway.proc.popen.returncode}) after {after}")
        # A lost datagram on loopback is not expected, but one retry keeps a slow CI machine honest.
        for _ in range(2):
            if status_code(gateway.options(timeout=2.0) or "") == 200:
                return
        raise AssertionError(f"no 200 to OPTIONS after {after}")


if __name__ == "__main__":
    unittest.main()
