"""DTMF in SIP INFO (issue 7 problem 5), with SIPp as the caller, the test's RtpPeer as its media and
the reference agent:

- INFO application/dtmf-relay (`Signal=5`, `Duration=160`) -> 200, and the agent receives the very
  frame an RFC 4733 digit 5 of 160 ms gives it: {"type":"dtmf","digit":"5","duration_ms":160};
- INFO application/dtmf (`7`) -> 200, the agent receives digit 7 with the default 100 ms and acts on
  it (its script answers with a tone that reaches the caller);
- INFO text/plain -> 415 with an Accept header naming the DTMF types; INFO without a body -> 200;
  an application/dtmf-relay body without a valid Signal -> 400; none of these reaches the agent.
"""
import unittest

from harness import Agent, E2ETestCase, Gateway, wait_for, wait_tone
from raw_sip import header, responses_to, sip_messages
from sipp_peer import start_caller

SCRIPT = """\
on start: tone 440 30000
on dtmf 5: clear; tone 1000 30000
on dtmf 7: clear; tone 700 30000
"""


class InfoDtmf(E2ETestCase):
    def test_info_digits_reach_the_agent_like_rfc4733_digits(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        sipp, rtp = start_caller(self, gateway, "uac-info-dtmf.xml")
        agent.wait_event(type="start")
        wait_tone(rtp, 440)

        # The reference: digit 5 as RFC 4733 telephone-events, 160 ms.
        before = rtp.count()
        rtp.send_dtmf("5", duration_ms=160)
        rfc4733 = agent.wait_event(type="dtmf", digit="5")
        wait_tone(rtp, 1000, since=before, what="the agent's answer to the RFC 4733 digit")

        def two_fives():
            fives = agent.find(type="dtmf", digit="5")
            return fives if len(fives) >= 2 else None
        sipp.trigger()  # INFO application/dtmf-relay Signal=5 Duration=160
        fives = wait_for(two_fives, 10, "the INFO's digit 5 at the agent")
        self.assertEqual(fives[1], {"type": "dtmf", "digit": "5", "duration_ms": 160}, fives)
        self.assertEqual(fives[1], rfc4733, "an INFO digit must reach the agent exactly like an RFC 4733 one")

        before = rtp.count()
        sipp.trigger()  # INFO application/dtmf "7"
        seven = agent.wait_event(type="dtmf", digit="7")
        self.assertEqual(seven, {"type": "dtmf", "digit": "7", "duration_ms": 100}, seven)
        wait_tone(rtp, 700, since=before, what="the agent's answer to the INFO digit 7")

        sipp.trigger()  # text/plain -> 415, no body -> 200, bad dtmf-relay -> 400
        self.assertEqual(sipp.answer_fields(".refused"), ["refused", "ok"])
        sipp.trigger()  # BYE
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")
        self.assertEqual([(e["digit"], e["duration_ms"]) for e in agent.find(type="dtmf")],
                         [("5", 160), ("5", 160), ("7", 100)],
                         "the refused or empty INFOs must not reach the agent")

        messages = sip_messages(sipp.messages())
        refused = responses_to(messages, "4 INFO", "415")
        self.assertEqual(len(refused), 1, messages)
        accept = header(refused[0], "Accept") or ""
        accepted = [t.strip().split(";")[0].lower() for t in accept.split(",")]
        self.assertIn("application/dtmf-relay", accepted, refused[0])
        self.assertIn("application/dtmf", accepted, refused[0])


if __name__ == "__main__":
    unittest.main()
