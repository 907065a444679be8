"""Late offer (RFC 3261 §13.2.1, §13.3.1; RFC 3264; issue 7 problem 3), with SIPp as a caller whose
INVITE has no SDP:

- the gateway answers 200 OK with ITS offer: the configured codecs in [media] order (PCMU, PCMA),
  telephone-event/8000 and a=sendrecv; the caller's answer comes in the ACK and media starts: the
  agent's tone reaches the caller (frequency-checked) and the caller's audio and DTMF reach the agent;
- an ACK without an SDP answer leaves the gateway without media to send: it hangs up (BYE) and the
  agent's stream stops with reason "sdp_failed".
"""
import unittest

from harness import Agent, E2ETestCase, Gateway, dtmf_round_trip, wait_for, wait_tone
from raw_sip import (header, responses_to, sdp_audio, sdp_directions, sdp_line, sdp_rtpmaps,
                     sip_messages)
from rtp_peer import RtpPeer
from sipp_peer import Sipp

SCRIPT = """\
on start: tone 440 30000
on dtmf 5: clear; tone 1000 3000
"""


class LateOffer(E2ETestCase):
    def test_invite_without_sdp_gets_our_offer_in_the_200_and_the_answer_in_the_ack_starts_media(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        rtp = RtpPeer()
        self.addCleanup(rtp.stop)
        sipp = Sipp(self, "uac-late-offer.xml", gateway.sip_port, rtp_port=rtp.port)
        ip, port, te_pt = sipp.gateway_media()  # from the 200's offer
        self.assertIsNotNone(te_pt, "the gateway's offer has no telephone-event")
        rtp.start_sending(ip, port, te_pt)

        agent.wait_event(type="start")
        wait_tone(rtp, 440, what="the agent's tone at the caller (the ACK's answer says where)")
        self.assertEqual(rtp.source(), (ip, port), "RTP must come from the offered address")
        wait_for(lambda: agent.caller_audio_frames() >= 25, 10, "the caller's audio at the agent")
        dtmf_round_trip(agent, rtp, "5")

        sipp.trigger()  # the caller hangs up
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

        messages = sip_messages(sipp.messages())
        ok = responses_to(messages, "1 INVITE", "200")
        self.assertEqual(len(ok), 1, messages)
        offer = ok[0]
        self.assertEqual(header(offer, "Content-Type"), "application/sdp", offer)
        self.assertEqual(sdp_audio(offer), (port, ["0", "8", str(te_pt)]),
                         f"the offer must list the configured codecs in order, then telephone-event:\n{offer}")
        rtpmaps = sdp_rtpmaps(offer)
        self.assertEqual(rtpmaps.get("0"), "PCMU/8000", offer)
        self.assertEqual(rtpmaps.get("8"), "PCMA/8000", offer)
        self.assertEqual(rtpmaps.get(str(te_pt)), "telephone-event/8000", offer)
        self.assertEqual(sdp_directions(offer), ["sendrecv"], offer)
        self.assertEqual(sdp_line(offer, "c="), f"c=IN IP4 {ip}", offer)

    def test_ack_without_an_answer_makes_the_gateway_hang_up(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        sipp = Sipp(self, "uac-late-offer-ack-without-answer.xml", gateway.sip_port)
        # The scenario passes only if the 200 carried an offer and the gateway's BYE followed the
        # answerless ACK (within 10 s).
        sipp.assert_passed(timeout=30)
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")
        agent.wait_event(type="stop", reason="sdp_failed")


if __name__ == "__main__":
    unittest.main()
