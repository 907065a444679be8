"""A plain inbound call through the whole gateway, with SIPp as the caller and the reference agent:
answer with SDP, the agent's audio reaches the caller, the caller's DTMF reaches the agent, the
caller's BYE ends the agent's stream; plus OPTIONS, the trunk ACL (403), CANCEL before answer (487)
and an unreachable agent (fallback message, then the gateway hangs up).
"""
import unittest

from harness import (Agent, E2ETestCase, Gateway, SilentAgent, dtmf_round_trip, status_of, unreachable_agent_url,
                     wait_for, wait_tone)
from rtp_peer import rms
from sipp_peer import Sipp, start_caller

SCRIPT = """\
on start: tone 440 4000
on dtmf 5: tone 1000 2000
"""


class BasicCall(E2ETestCase):
    def test_audio_both_ways_dtmf_and_caller_hangup(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        sipp, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")

        start = agent.wait_event(type="start")
        self.assertEqual(start.get("audio", {}).get("sample_rate"), 16000, start)
        self.assertIn("demo", start.get("call", {}).get("to", ""), start)
        self.assertIn("+15550001111", start.get("call", {}).get("from", ""), start)

        # The agent's 440 Hz tone, resampled 16 kHz -> 8 kHz and sent as PCMU, reaches the caller.
        wait_tone(rtp, 440)
        # ... and the caller's audio reaches the agent (binary frames; the agent logs running totals).
        wait_for(lambda: agent.caller_audio_frames() >= 25, 10, "the caller's audio at the agent")
        source = rtp.source()
        self.assertEqual(source[0], "127.0.0.1", source)

        calls = gateway.calls()
        self.assertEqual(len(calls), 1, calls)
        self.assertEqual(calls[0].get("agent"), "demo", calls)
        status, one = gateway.http("GET", f"/v1/calls/{calls[0]['id']}")
        self.assertEqual(status, 200, one)
        self.assertEqual(one.get("id"), calls[0]["id"], one)

        dtmf_round_trip(agent, rtp, "5")

        sipp.trigger()  # the caller hangs up
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

    def test_options_answers_200(self):
        gateway = Gateway(self, unreachable_agent_url())
        response = gateway.options()
        self.assertEqual(status_of(response), 200, response)

    def test_invite_from_outside_the_trunk_cidrs_is_forbidden(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, trunk_cidrs=["127.0.0.1/32"])
        sipp = Sipp(self, "uac-invite-rejected-403.xml", gateway.sip_port, local_ip="127.0.0.2")
        sipp.assert_passed()
        self.assertEqual(gateway.calls(), [])
        self.assertEqual(agent.log_lines(), [], "a refused call must never reach the agent")
        # Answered statelessly before any call or transaction was made, and counted.
        self.assertGreaterEqual(gateway.metric("warmline_sip_unknown_source_total"), 1)
        self.assertEqual(gateway.metric("warmline_calls_rejected_total"), 0)

    def test_cancel_before_answer_gets_487(self):
        # The agent accepts the TCP connection but never answers the WebSocket upgrade, so the call
        # cannot be answered and stays in setup until the caller cancels it.
        agent = SilentAgent(self)
        gateway = Gateway(self, agent.url)
        sipp = Sipp(self, "uac-cancel-before-answer.xml", gateway.sip_port)
        sipp.assert_passed()
        wait_for(lambda: gateway.calls() == [], 10, "the cancelled call to leave /v1/calls")
        # The gateway is still healthy after the cancelled setup.
        self.assertEqual(status_of(gateway.options()), 200)

    def test_unreachable_agent_plays_the_fallback_message_then_hangs_up(self):
        gateway = Gateway(self, unreachable_agent_url())
        sipp, rtp = start_caller(self, gateway, "uac-call-expect-bye.xml", need_dtmf=False)
        # The scenario passes only if the gateway itself sends BYE (within 30 s).
        sipp.assert_passed()
        audio = rtp.audio()
        self.assertGreater(len(audio), 8000, "less than a second of audio reached the caller")
        loud = [rms(audio[i:i + 800]) for i in range(0, len(audio) - 800, 800)]
        self.assertGreater(sum(1 for r in loud if r > 300), 5,
                           "the fallback message (speech) did not reach the caller")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")


if __name__ == "__main__":
    unittest.main()
