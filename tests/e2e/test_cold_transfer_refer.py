"""Cold transfer by REFER (RFC 3515; DESIGN.md "Transfers", cold) with SIPp as the caller's side.

Each test is one outcome of the REFER, each with its own scenario in scenarios/:
- accepted and completed (final NOTIFY "200 OK"): the agent hears `completed`, the gateway hangs up;
- refused with 603, accepted but busy (final NOTIFY "486"), accepted and never reported (refer
  timeout): the agent hears the structured result, and the caller stays on the line with the agent
  (still listed by the HTTP API, and the tone the agent plays in answer reaches the caller). The agent
  has refer_fallback = "agent" here; the default ("dial", a bridged dial to the target) is
  test_refer_fallback_dial.py's.
"""
import unittest

from harness import Agent, E2ETestCase, Gateway, wait_for, wait_tone
from sipp_peer import start_caller

SCRIPT = """\
on start: say "Hello, this is the warmline test agent."
on dtmf 1: transfer cold Support
on transfer ended !completed: tone 1000 3000
"""


class ColdTransferRefer(E2ETestCase):
    def start_call(self, scenario, refer_timeout_s=30):
        self.agent = Agent(self, SCRIPT)
        self.gateway = Gateway(self, self.agent.url, refer_timeout_s=refer_timeout_s,
                               agent_options={"refer_fallback": "agent"}, targets=[
                                   {"name": "Support", "aliases": ["help"], "uri": "sip:support@127.0.0.1:5999"}])
        self.sipp, self.rtp = start_caller(self, self.gateway, scenario)
        self.agent.wait_event(type="start")

    def transfer_by_dtmf(self):
        self.rtp.send_dtmf("1")
        self.agent.wait_event(type="dtmf", digit="1")

    def transfer_by_http(self):
        call_id = self.gateway.only_call()
        status, body = self.gateway.http("POST", f"/v1/calls/{call_id}/transfer",
                                         {"id": "t1", "mode": "cold", "targets": ["Support"]})
        self.assertIn(status, (200, 202), body)

    def assert_back_with_agent(self, result, sip_status, timeout=15):
        """The transfer ended with `result`, and the call goes on with the agent."""
        ended = self.agent.wait_event(timeout, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), result, ended)
        if sip_status is not None:
            self.assertEqual(ended.get("sip_status"), sip_status, ended)
        packets_at_end = self.rtp.count()
        self.assertEqual(len(self.gateway.calls()), 1, "the call must still be listed")
        # The agent answers the event with a 1 kHz tone (unlike ringback or speech): it must reach the
        # caller, so the media path to the agent still works.
        wait_tone(self.rtp, 1000, since=packets_at_end, timeout=15,
                  what="the agent's 1 kHz tone at the caller after the failed transfer")
        self.assertEqual(self.agent.find(type="stop"), [], "the agent's stream must go on")
        self.sipp.trigger()
        self.sipp.assert_passed()
        self.agent.wait_event(type="stop", reason="caller_hangup")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

    def test_refer_accepted_and_completed_ends_the_call(self):
        self.start_call("uac-refer-accept-notify-200.xml")
        self.transfer_by_dtmf()
        # The scenario checks Refer-To, answers 202, sends both NOTIFYs and needs the gateway's BYE.
        self.sipp.assert_passed()
        ended = self.agent.wait_event(type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        self.agent.wait_event(type="stop", reason="transferred")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

    def test_refer_refused_with_603_returns_the_caller_to_the_agent(self):
        self.start_call("uac-refer-reject-603.xml")
        self.transfer_by_http()
        self.assert_back_with_agent("rejected", 603)

    def test_final_notify_486_returns_the_caller_to_the_agent(self):
        self.start_call("uac-refer-accept-notify-486.xml")
        self.transfer_by_dtmf()
        self.assert_back_with_agent("busy", 486)

    def test_no_notify_before_refer_timeout_returns_the_caller_to_the_agent(self):
        self.start_call("uac-refer-accept-no-notify.xml", refer_timeout_s=2)
        self.transfer_by_http()
        self.assert_back_with_agent("timeout", None)


if __name__ == "__main__":
    unittest.main()
