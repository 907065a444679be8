"""A dial through a trunk tries the servers its OPTIONS pings found up first (issue 11 item 8; docs:
configuration `ping_interval_s`, sip.md "Trunk health").

The trunk's address is a name (`carrier.test`) whose SRV records (dnsmasq) list two servers: the
better priority is a UDP socket the test holds that never answers anything, the other baresip (which
answers OPTIONS). With ping_interval_s = 5 the silent server's first ping times out (Timer F, 32 s)
and GET /v1/trunks shows it down, baresip up. Then the agent's cold transfer (the callers' trunk takes
no REFER, so a bridged dial) to a target reached through that trunk goes to baresip at once: the
silent server, first in the SRV order, never gets the INVITE. Without the pings' order it would get
it first (and the dial would move on only after 4 s of silence; test_bridged_dial_dns.py).
"""
import socket
import unittest

from baresip_peer import Baresip
from dns_peer import DnsServer
from harness import Agent, E2ETestCase, Gateway, wait_for
from rtp_peer import RtpPeer
from sipp_peer import Sipp

SCRIPT = """\
on dtmf 1: transfer cold Bob
"""


def received(sock):
    """Every datagram waiting on `sock`, decoded (non-blocking)."""
    out = []
    sock.settimeout(0)
    while True:
        try:
            out.append(sock.recv(65535).decode(errors="replace"))
        except BlockingIOError:
            return out


class TrunkPingFailover(E2ETestCase):
    def test_a_dial_skips_the_server_the_pings_found_down(self):
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        self.addCleanup(silent.close)
        bob = Baresip(self, user="bob")
        dns = DnsServer(self, [
            "--naptr-record=carrier.test,10,10,S,SIP+D2U,,_sip._udp.carrier.test",
            f"--srv-host=_sip._udp.carrier.test,silent.carrier.test,{silent.getsockname()[1]},10,0",
            f"--srv-host=_sip._udp.carrier.test,bob.carrier.test,{bob.sip_port},20,0",
            "--host-record=silent.carrier.test,127.0.0.1",
            "--host-record=bob.carrier.test,127.0.0.1",
        ])
        agent = Agent(self, SCRIPT)
        trunks = '\n[[trunk]]\nname = "carrier"\naddress = "carrier.test"\nping_interval_s = 5\n'
        gateway = Gateway(self, agent.url, accepts_refer=False, dns_servers=[dns.address], extra_trunks=trunks,
                          targets=[{"name": "Bob", "uri": "sip:bob@carrier.test", "via": "carrier"}])

        silent_at = f"127.0.0.1:{silent.getsockname()[1]}"
        bob_at = f"127.0.0.1:{bob.sip_port}"

        def sorted_out():
            options = gateway.trunk("carrier")["options"]
            states = {s["address"]: s["state"] for s in (options or {}).get("servers", [])}
            return options if states == {silent_at: "down", bob_at: "up"} else None
        options = wait_for(sorted_out, 45, "the pings to find the silent server down and baresip up", interval=0.5)
        self.assertEqual([s["address"] for s in options["servers"]], [silent_at, bob_at], "the SRV order")
        self.assertEqual(options["state"], "up", options)
        pings = received(silent)
        self.assertTrue(pings and all(p.startswith("OPTIONS sip:carrier.test SIP/2.0") for p in pings), pings)

        rtp = RtpPeer(tone_hz=1000)
        self.addCleanup(rtp.stop)
        caller = Sipp(self, "uac-call-until-trigger.xml", gateway.sip_port, name="caller", rtp_port=rtp.port,
                      timeout_s=60)
        ip, port, te_pt = caller.gateway_media()
        rtp.start_sending(ip, port, te_pt)
        agent.wait_event(type="start")
        rtp.send_dtmf("1")
        agent.wait_event(type="dtmf", digit="1")
        bob.wait_event(15, type="CALL_ESTABLISHED")
        ended = agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        self.assertEqual([p.split("\r\n", 1)[0] for p in received(silent) if not p.startswith("OPTIONS ")], [],
                         "the server known down must not get the INVITE")

        caller.trigger()  # uac-call-until-trigger.xml sends its BYE
        caller.assert_passed(30)
        bob.wait_event(type="CALL_CLOSED")


if __name__ == "__main__":
    unittest.main()
