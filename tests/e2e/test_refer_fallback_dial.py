"""A cold transfer whose REFER does not work falls back to a bridged dial (DESIGN.md "Transfers":
the agent's refer_fallback, "dial" by default), with SIPp as the caller and as the target.

The caller's trunk accepts REFER, so warmline REFERs first:
- the caller's side refuses it (603): warmline calls the target itself, bridges caller and target, the
  agent hears `completed` and `stop transferred`; the caller's voice comes back through the target's
  RTP echo; the target hangs up and warmline hangs up the caller;
- the caller's side accepts it (202) but never sends a final NOTIFY: at refer_timeout_s warmline dials
  the target itself the same way; the caller hangs up and warmline hangs up the target;
- with refer_fallback = "agent" a refused REFER goes back to the agent and nothing is dialled.
The call record names the strategy that ran ("dial").
"""
import unittest

from harness import Agent, E2ETestCase, Gateway, cdr_query, wait_for, wait_tone
from sipp_peer import SippUasScenario, sip_messages, start_caller

SCRIPT = """\
on start: tone 440 200
on dtmf 1: transfer cold Support
on transfer ended !completed: tone 1000 3000
"""
CALLER_TONE_HZ = 300  # what RtpPeer sends as the caller's voice


def transfer_rows(path):
    """(strategy, result) of each transfer in the gateway's call records."""
    return cdr_query(path, "SELECT strategy, result FROM transfers")


class ReferFallbackDial(E2ETestCase):
    def start_call(self, caller_scenario, refer_timeout_s=30, agent_options=None):
        self.target = SippUasScenario(self, "uas-answer.xml", name="support")
        self.agent = Agent(self, SCRIPT)
        # The scenarios check that Refer-To names sip:support@...
        self.gateway = Gateway(self, self.agent.url, refer_timeout_s=refer_timeout_s, accepts_refer=True,
                               agent_options=agent_options,
                               targets=[{"name": "Support", "uri": f"sip:support@{self.target.address}"}])
        self.caller, self.rtp = start_caller(self, self.gateway, caller_scenario)
        self.agent.wait_event(type="start")
        self.rtp.send_dtmf("1")
        self.agent.wait_event(type="dtmf", digit="1")

    def assert_bridged(self):
        ended = self.agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Support"), ended)
        self.agent.wait_event(type="stop", reason="transferred")
        refers = [m for m in sip_messages(self.caller.messages()) if m.startswith("REFER ")]
        self.assertEqual(len(refers), 1, "warmline REFERs first, once")
        self.assertEqual(len(self.target.requests("INVITE")), 1, "then it dials the target itself")
        since = self.rtp.count()
        wait_tone(self.rtp, CALLER_TONE_HZ, since=since, timeout=10,
                  what="the caller's own voice back from the target's RTP echo, through the bridge")

    def assert_recorded_as_dial(self):
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        rows = wait_for(lambda: transfer_rows(self.gateway.cdr_path), 10, "the transfer's call record")
        self.assertEqual(rows, [("dial", "completed")])

    def test_refused_refer_falls_back_to_a_bridged_dial(self):
        self.start_call("uac-refer-reject-603-then-bridged.xml")
        self.assert_bridged()
        self.target.trigger()  # the target hangs up; warmline must hang up the caller
        self.target.assert_passed()
        self.caller.assert_passed()
        self.assert_recorded_as_dial()

    def test_unreported_refer_falls_back_to_a_bridged_dial_at_the_refer_timeout(self):
        self.start_call("uac-refer-accept-no-notify.xml", refer_timeout_s=2)
        self.assert_bridged()
        self.caller.trigger()  # the caller hangs up; warmline must hang up the target
        self.caller.assert_passed()
        self.target.assert_passed()
        self.assert_recorded_as_dial()

    def test_refused_refer_with_refer_fallback_agent_stays_with_the_agent(self):
        self.start_call("uac-refer-reject-603.xml", agent_options={"refer_fallback": "agent"})
        ended = self.agent.wait_event(15, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("sip_status")), ("rejected", 603), ended)
        since = self.rtp.count()
        wait_tone(self.rtp, 1000, since=since, timeout=15, what="the agent's 1 kHz tone after the refused REFER")
        self.assertEqual(self.target.requests("INVITE"), [], "refer_fallback = agent: nothing is dialled")
        self.caller.trigger()
        self.caller.assert_passed()
        self.agent.wait_event(type="stop", reason="caller_hangup")


if __name__ == "__main__":
    unittest.main()
