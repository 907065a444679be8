"""Scale-out behind Kamailio (issue 7 item 6; deploy/kamailio/README.md): two gateway nodes behind the
production dispatcher config (deploy/kamailio/dispatcher.cfg: record-routing, round-robin, OPTIONS
pings). SIPp places 50 calls through Kamailio; each lasts a few seconds and the caller hangs up. Every
call completes, both nodes take calls, and in-dialog requests go through the proxy (the scenario fails
a call whose 2xx lacks the proxy's Record-Route). Mid-run node 1 is drained through the HTTP API:
Kamailio's pings see its 503 and take it out of the rotation, after which no INVITE reaches it and
new calls land on node 2; node 1's live calls end normally and it stays up, not ready. After
POST /v1/resume Kamailio puts it back and sends it calls again.
"""
import socket
import unittest

from harness import (SCENARIOS, Agent, E2ETestCase, Gateway, Kamailio, free_port, free_port_range, header_of,
                     status_of, wait_for)

SCRIPT = """\
on dtmf 5: tone 1000 200
"""

CALLS = 50
RATE = 5  # calls per second: the run lasts CALLS / RATE seconds, long enough to drain in the middle
CALL_MS = 3000


class SippLoad:
    """SIPp placing `calls` calls at `rate` per second through the proxy (uac-call-through-proxy.xml),
    with its counters in `<name>.stat.txt` and every message in `<name>.messages.log`."""

    def __init__(self, case, proxy_port, calls, rate, call_ms, name="sipp-load"):
        self.case = case
        self.name = name
        self.calls = calls
        self.stat_path = case.workdir / f"{name}.stat.txt"
        self.messages_path = case.workdir / f"{name}.messages.log"
        media_first, _ = free_port_range(4)
        self.proc = case.start(name, [
            "sipp", f"127.0.0.1:{proxy_port}", "-sf", SCENARIOS / "uac-call-through-proxy.xml",
            "-m", calls, "-r", rate, "-l", calls, "-d", call_ms, "-s", "demo", "-nostdin",
            "-i", "127.0.0.1", "-p", free_port(kinds=(socket.SOCK_DGRAM,)),
            "-cp", free_port(kinds=(socket.SOCK_DGRAM,)), "-mp", media_first,
            "-recv_timeout", "15000", "-timeout", f"{calls // rate + call_ms // 1000 + 60}s", "-timeout_error",
            "-trace_stat", "-stf", self.stat_path, "-fd", "1",
            "-trace_msg", "-message_file", self.messages_path,
            "-trace_err", "-error_file", case.workdir / f"{name}.errors.log",
            # Kamailio's two workers may pass a 180 on after the 200 of the same call; a phone ignores
            # it, SIPp would abort the call. Any real failure still fails the call (no 200 to the BYE
            # within -recv_timeout).
            "-default_behaviors", "all,-abortunexp"])

    def counters(self):
        """The last line of SIPp's statistics file as {column: value}."""
        lines = [l for l in self.stat_path.read_text(errors="replace").splitlines() if l.strip()]
        header, last = lines[0].split(";"), lines[-1].split(";")
        return dict(zip(header, last))

    def assert_all_succeeded(self, timeout):
        rc = self.proc.wait(timeout)
        counters = self.counters()
        summary = {k: counters.get(k) for k in ("SuccessfulCall(C)", "FailedCall(C)", "OutOfCallMsgs(C)")}
        self.case.assertEqual(rc, 0, f"{self.name}: some calls failed (exit {rc}): {summary}")
        self.case.assertEqual(counters.get("SuccessfulCall(C)"), str(self.calls), summary)
        self.case.assertEqual(counters.get("FailedCall(C)"), "0", summary)


def started(node):
    """Calls a node has accepted."""
    return node.metric("warmline_calls_started_total")


def invites_seen(node):
    """INVITEs a node has answered with a final response: accepted plus refused."""
    return node.metric("warmline_calls_started_total") + node.metric("warmline_calls_rejected_total")


class KamailioScaleOut(E2ETestCase):
    def test_calls_spread_over_two_nodes_and_a_drained_node_gets_no_new_calls(self):
        agent = Agent(self, SCRIPT)
        nodes = [Gateway(self, agent.url, name=f"node{i}", shards=1, sample_rate=8000, rtp_ports=120)
                 for i in (1, 2)]
        node1, node2 = nodes
        kamailio = Kamailio(self, [n.sip_port for n in nodes], ping_interval=1)
        # Kamailio's first OPTIONS pings were answered 200: both nodes active and probed.
        wait_for(lambda: kamailio.states() == {f"sip:127.0.0.1:{n.sip_port}": "AP" for n in nodes}, 10,
                 "Kamailio to see both nodes answer its pings")

        load = SippLoad(self, kamailio.port, CALLS, RATE, CALL_MS)
        wait_for(lambda: started(node1) >= 5 and started(node2) >= 5, 30, "both nodes to take calls")
        self.assertGreater(len(node1.calls()), 0, "node 1 has live calls when it is drained")

        status, body = node1.http("POST", "/v1/drain")
        self.assertEqual((status, body), (202, {"status": "draining"}))
        self.assertEqual(node1.http("GET", "/readyz"), (503, {"status": "draining"}))
        # Kamailio's OPTIONS pings get 503: node 1 leaves the rotation (inactive, still probed).
        wait_for(lambda: kamailio.state(node1.sip_port) == "IP", 10, "Kamailio to mark the drained node inactive")
        self.assertEqual(kamailio.state(node2.sip_port), "AP")
        # New calls of the run land on node 2. (Counting node 1's INVITEs only after two of them also
        # leaves time for an INVITE that Kamailio sent to node 1 just before marking it.)
        node2_started = started(node2)
        wait_for(lambda: started(node2) >= node2_started + 2, 10, "new calls of the run to land on node 2")
        node1_invites = invites_seen(node1)

        load.assert_all_succeeded(timeout=CALLS // RATE + CALL_MS // 1000 + 60)
        self.assertEqual(invites_seen(node1), node1_invites,
                         "an INVITE reached node 1 after Kamailio had taken it out of the rotation")
        self.assertEqual(started(node1) + started(node2), CALLS, "every call was taken by exactly one node")

        # Node 1's live calls ended by the callers' BYE (all calls succeeded); it stays up, not ready.
        wait_for(lambda: node1.calls() == [], 15, "node 1's last calls to end")
        wait_for(lambda: node2.calls() == [], 15, "node 2's last calls to end")
        self.assertEqual(node1.http("GET", "/readyz"), (503, {"status": "draining"}))
        options = node1.options()
        self.assertEqual(status_of(options), 503, options)
        self.assertIsNotNone(header_of(options, "Retry-After"), options)
        self.assertTrue(node1.proc.running(), "a node drained through the API must stay up")
        self.assertEqual(kamailio.state(node1.sip_port), "IP")

        # Resume: ready again, Kamailio's next ping puts it back, and it takes calls again.
        status, body = node1.http("POST", "/v1/resume")
        self.assertEqual((status, body), (200, {"status": "ready"}))
        self.assertEqual(node1.http("GET", "/readyz"), (200, {"status": "ready"}))
        wait_for(lambda: kamailio.state(node1.sip_port) == "AP", 10, "Kamailio to put the resumed node back")
        node1_started = started(node1)
        more = SippLoad(self, kamailio.port, 4, 4, 500, name="sipp-after-resume")
        more.assert_all_succeeded(timeout=40)
        self.assertGreater(started(node1), node1_started, "the resumed node got no call")


if __name__ == "__main__":
    unittest.main()
