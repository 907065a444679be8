"""Mid-call offers the caller leaves to us, and UPDATE (issue 7 problems 4 and 6), with SIPp as the
caller, the test's RtpPeer as its media and the reference agent:

- a held caller's re-INVITE without SDP (RFC 3261 §14.1, RFC 3264 §8, RFC 6337 §5.3) gets a 200 whose
  offer is our current media: same address and port, same codec (PCMU, nothing added),
  telephone-event, ALWAYS a=sendrecv (offering a=recvonly, the answer we gave to the hold, would leave
  the caller no way to resume), the o= version one above our last SDP's; the caller answers in the
  ACK and both media directions work again;
- UPDATE (RFC 3311) in the confirmed dialog: with an a=sendonly offer (hold) -> 200 with an a=recvonly
  answer; with a=sendrecv (resume) -> a=sendrecv, and media works both ways after it; without a body
  (session refresh) -> 200 without a body, and the call goes on;
- every 200 to a re-INVITE or UPDATE carries the same Allow as the 200 to the INVITE.
The re-INVITE hold/resume case with SDP is test_reinvite_and_forward.py.
"""
import unittest

from harness import Agent, E2ETestCase, Gateway, dtmf_round_trip, wait_for, wait_tone
from raw_sip import (header, parse, responses_to, sdp_audio, sdp_directions, sdp_line, sdp_rtpmaps,
                     sdp_session_version, sip_messages)
from sipp_peer import start_caller

SCRIPT = """\
on start: tone 440 30000
on dtmf 5: clear; tone 1000 30000
on dtmf 7: clear; tone 700 30000
"""


class HoldAndUpdate(E2ETestCase):
    def start_call(self, scenario):
        self.agent = Agent(self, SCRIPT)
        self.gateway = Gateway(self, self.agent.url)
        self.sipp, self.rtp = start_caller(self, self.gateway, scenario)
        self.gw_ip, self.gw_port, self.te_pt = self.sipp.gateway_media()
        self.agent.wait_event(type="start")
        wait_tone(self.rtp, 440)

    def assert_same_media(self, fields, what):
        self.assertEqual((fields[0], int(fields[1])), (self.gw_ip, self.gw_port),
                         f"{what} must keep the gateway's RTP address")
        self.assertEqual(fields[2:], ["0", str(self.te_pt)], f"{what} must keep PCMU + telephone-event")

    def assert_media_both_ways(self, digit, answer_hz, what):
        frames = self.agent.caller_audio_frames()
        wait_for(lambda: self.agent.caller_audio_frames() >= frames + 25, 10, f"the caller's audio at the agent {what}")
        dtmf_round_trip(self.agent, self.rtp, digit, answer_hz=answer_hz)

    def finish(self):
        self.sipp.trigger()  # BYE
        self.sipp.assert_passed()
        self.agent.wait_event(type="stop", reason="caller_hangup")
        return sip_messages(self.sipp.messages())

    def test_reinvite_without_sdp_on_hold_gets_our_current_media_offered_sendrecv(self):
        self.start_call("uac-reinvite-without-sdp.xml")
        self.sipp.trigger()  # re-INVITE a=sendonly: on hold
        self.assert_same_media(self.sipp.answer_fields(".hold"), "the answer to the hold re-INVITE")
        self.sipp.trigger()  # the re-INVITE without SDP; the scenario answers the offer in the ACK
        self.assert_same_media(self.sipp.answer_fields(".offer"), "the offer in the 200")
        self.assertEqual(len(self.gateway.calls()), 1)
        self.assert_media_both_ways("5", 1000, "after the answer in the ACK")
        messages = self.finish()

        hold = responses_to(messages, "2 INVITE", "200")
        offer = responses_to(messages, "3 INVITE", "200")
        self.assertEqual((len(hold), len(offer)), (1, 1), messages)
        hold, offer = hold[0], offer[0]
        self.assertEqual(sdp_directions(hold), ["recvonly"], hold)
        self.assertEqual(header(offer, "Content-Type"), "application/sdp", offer)
        self.assertEqual(sdp_directions(offer), ["sendrecv"],
                         f"our offer must be sendrecv, or the held caller cannot resume:\n{offer}")
        self.assertEqual(sdp_audio(offer), (self.gw_port, ["0", str(self.te_pt)]), offer)
        self.assertEqual(sdp_rtpmaps(offer), {"0": "PCMU/8000", str(self.te_pt): "telephone-event/8000"}, offer)
        # RFC 3264 §8: the same o= line as our last SDP (the hold answer) but the version plus one.
        old_o, new_o = sdp_line(hold, "o=").split(), sdp_line(offer, "o=").split()
        self.assertEqual(new_o[:2] + new_o[3:], old_o[:2] + old_o[3:], (old_o, new_o))
        self.assertEqual(sdp_session_version(offer), sdp_session_version(hold) + 1,
                         "a changed offer must increase the o= version by one (RFC 3264 §8)")
        self.assert_one_allow(messages, [hold, offer])

    def test_update_holds_resumes_and_refreshes_the_session(self):
        self.start_call("uac-update-hold-resume-refresh.xml")
        self.sipp.trigger()  # UPDATE a=sendonly
        self.assert_same_media(self.sipp.answer_fields(".hold"), "the answer to the hold UPDATE")
        self.assertEqual(len(self.gateway.calls()), 1, "the held call must stay listed")

        self.sipp.trigger()  # UPDATE a=sendrecv
        self.assert_same_media(self.sipp.answer_fields(".resume"), "the answer to the resuming UPDATE")
        self.assert_media_both_ways("5", 1000, "after the resume")

        self.sipp.trigger()  # UPDATE without a body
        self.assertEqual(self.sipp.answer_fields(".refresh"), ["refreshed", "ok"])
        self.assertEqual(len(self.gateway.calls()), 1, "the refreshed call must stay listed")
        self.assert_media_both_ways("7", 700, "after the session refresh")
        messages = self.finish()

        hold, resume, refresh = (responses_to(messages, f"{n} UPDATE", "200") for n in (2, 3, 4))
        self.assertEqual((len(hold), len(resume), len(refresh)), (1, 1, 1), messages)
        self.assertEqual(sdp_directions(hold[0]), ["recvonly"], hold[0])
        self.assertEqual(sdp_directions(resume[0]), ["sendrecv"], resume[0])
        self.assertEqual(header(refresh[0], "Content-Length"), "0", refresh[0])
        self.assertEqual(parse(refresh[0])[2].strip(), "", "a 200 to an UPDATE without offer has no body")
        self.assert_one_allow(messages, [hold[0], resume[0], refresh[0]])

    def assert_one_allow(self, messages, responses):
        """Every 200 to a re-INVITE or UPDATE carries the Allow of the 200 to the INVITE (one list)."""
        first = responses_to(messages, "1 INVITE", "200")
        self.assertEqual(len(first), 1, messages)
        allow = header(first[0], "Allow")
        self.assertIsNotNone(allow, first[0])
        for response in responses:
            self.assertEqual(header(response, "Allow"), allow, response)


if __name__ == "__main__":
    unittest.main()
