"""The RTP port range exhausted (issue 12 part 7): a gateway with one shard and a range of 4 ports, so
2 RTP ports (each with its RTCP neighbour), both held by two answered calls.

- The next INVITE is answered `503 Service Unavailable - no free RTP port` with Retry-After (so a
  proxy in front tries another node), counted in warmline_rtp_ports_exhausted_total; never a 500,
  never a crash, the two calls go on.
- A bridged dial needs a port for the target's leg: the transfer ends `failed` with reason
  `no_rtp_port: ...`, the target gets no INVITE, the caller is back with the agent.
- Once a call hangs up its port is free again: a new caller is answered and talks to the agent.
"""
import re
import unittest

from harness import Agent, E2ETestCase, Gateway, dtmf_round_trip, wait_for, wait_tone
from sipp_peer import Sipp, SippUasScenario, start_caller

SCRIPT = """\
on dtmf 1: transfer cold Bob
on transfer ended !completed: tone 1000 3000
on dtmf 5: tone 1000 2000
"""
RETRY_AFTER_S = 5  # [server] retry_after_s's default


class FaultRtpPorts(E2ETestCase):
    def test_exhausted_port_range_refuses_with_503_then_serves_again(self):
        agent = Agent(self, SCRIPT)
        bob = SippUasScenario(self, "uas-answer.xml", name="bob")
        gateway = Gateway(self, agent.url, accepts_refer=False, shards=1, rtp_ports=4,
                          targets=[{"name": "Bob", "uri": f"sip:bob@{bob.address}"}])
        first, first_rtp = start_caller(self, gateway, "uac-call-until-trigger.xml", name="caller-1")
        second, second_rtp = start_caller(self, gateway, "uac-call-until-trigger.xml", name="caller-2", need_dtmf=False)
        wait_for(lambda: len(agent.find(type="start")) == 2, 15, "both calls at the agent")

        # Both RTP ports are taken: a third caller is refused, with a reason and Retry-After.
        refused = Sipp(self, "uac-invite-rejected-503-retry-after.xml", gateway.sip_port, name="caller-refused")
        refused.assert_passed(30)
        self.assertRegex(refused.messages(), r"SIP/2\.0 503 Service Unavailable - no free RTP port\r?\n")
        self.assertEqual(refused.media_path.read_text().strip(), str(RETRY_AFTER_S))
        self.assertEqual(gateway.metric("warmline_rtp_ports_exhausted_total"), 1)
        self.assertEqual(len(gateway.calls()), 2, "the two calls go on")

        # The transfer of the first call needs a port for the target's leg: none.
        first_rtp.send_dtmf("1")
        ended = agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("failed", "Bob"), ended)
        self.assertEqual(ended.get("reason"), "no_rtp_port: no free RTP port for the target's leg", ended)
        wait_tone(first_rtp, 1000, since=first_rtp.count(), timeout=15,
                  what="the agent's tone at the caller after the transfer failed (back with the agent)")
        self.assertEqual(bob.requests("INVITE"), [], "nothing may be dialled without a port")
        self.assertEqual(gateway.metric("warmline_rtp_ports_exhausted_total"), 2)
        self.assertEqual(agent.find(type="stop"), [], "both agent streams go on")

        # The second caller hangs up: its port is free again and a new caller is served.
        second.trigger()
        second.assert_passed()
        second_rtp.stop()  # its port goes to the next call: no stray packets from the old caller there
        wait_for(lambda: len(gateway.calls()) == 1, 10, "the second call to end")
        third, third_rtp = start_caller(self, gateway, "uac-call-until-trigger.xml", name="caller-3")
        dtmf_round_trip(agent, third_rtp, "5")
        self.assertEqual(gateway.metric("warmline_rtp_ports_exhausted_total"), 2)
        self.assertIsNone(re.search(r"SIP/2\.0 5\d\d", third.messages()), "the new caller must not be refused")

        for caller in (first, third):
            caller.trigger()
            caller.assert_passed()
        wait_for(lambda: gateway.calls() == [], 10, "every call to end")


if __name__ == "__main__":
    unittest.main()
