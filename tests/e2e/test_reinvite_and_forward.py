"""Mid-call changes from the caller's side and the agent's default forwarding, with SIPp as the caller.

- re-INVITE to a new media address (RFC 3264 §8.3.1): the 200 answers with the same codec on the
  gateway's same RTP port; the agent's audio then goes to the new address (and no longer to the old
  one), and the caller's audio and DTMF from the new port reach the agent; BYE stops the agent's stream.
- re-INVITE to hold (a=sendonly) and back (a=sendrecv) (RFC 3264 §8.4): the answers say a=recvonly,
  then a=sendrecv; after the resume both media directions work.
- default_forward (DESIGN.md "Transfers": the caller is never dropped): the agent is unreachable and
  the agent config names a default_forward target, so the gateway answers and REFERs the caller to that
  target's URI; the caller accepts (202, NOTIFY 100, NOTIFY 200) and the gateway hangs up.
"""
import unittest

from harness import (Agent, E2ETestCase, Gateway, dtmf_round_trip, unreachable_agent_url, wait_for,
                     wait_tone)
from rtp_peer import RtpPeer
from sipp_peer import header, sip_messages, start_caller

# A long tone so the agent's audio is still playing when the caller moves; a digit clears it and
# answers with a different tone, so the answer proves the round trip, not the leftover.
SCRIPT = """\
on start: tone 440 30000
on dtmf 5: clear; tone 1000 3000
"""

SUPPORT_URI = "sip:support@127.0.0.1:5999"


def response_to(messages, cseq):
    """The last final response (2xx) to the request with this `CSeq` value, e.g. "2 INVITE"."""
    found = [m for m in messages if m.startswith("SIP/2.0 2") and header(m, "CSeq") == cseq]
    return found[-1] if found else None


class ReinviteAndForward(E2ETestCase):
    def test_reinvite_moves_the_callers_media_to_a_new_address(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        new_rtp = RtpPeer()
        self.addCleanup(new_rtp.stop)
        sipp, old_rtp = start_caller(self, gateway, "uac-reinvite-new-media-address.xml",
                                     extra=("-key", "rtp_port_new", new_rtp.port))
        gw_ip, gw_port, te_pt = sipp.gateway_media()
        agent.wait_event(type="start")
        wait_tone(old_rtp, 440, what="the agent's 440 Hz tone at the first address")
        wait_for(lambda: agent.caller_audio_frames() >= 25, 10, "the caller's audio at the agent")

        # The caller moves: it stops sending from the old port, then offers the new one. It stops
        # first on purpose: with the gateway as it is, an old-port packet arriving after the 200
        # re-arms and wins the symmetric-RTP latch (rtp/session.cpp set_remote), so the gateway goes
        # back to the old address and drops the new port's audio as foreign.
        old_rtp.stop_sending()
        sipp.trigger()  # the re-INVITE: the caller's RTP moves to new_rtp's port
        fields = sipp.answer_fields(".reinvite")
        self.assertEqual((fields[0], int(fields[1])), (gw_ip, gw_port),
                         "the answer to the re-INVITE must keep the gateway's RTP address")
        self.assertEqual(fields[2], "0", f"the answer must keep PCMU first: m= formats {fields[2:]}")

        # The agent's tone (still playing) now reaches the new address, before the caller sends
        # anything from there: the gateway followed the SDP, not a latched source address.
        wait_tone(new_rtp, 440, what="the agent's 440 Hz tone at the caller's new RTP address")
        self.assertEqual(new_rtp.source(), (gw_ip, gw_port), "RTP must come from the gateway's same port")
        old_at_switch = old_rtp.count()

        new_rtp.start_sending(gw_ip, gw_port, te_pt)
        frames = agent.caller_audio_frames()
        wait_for(lambda: agent.caller_audio_frames() >= frames + 25, 10,
                 "the caller's audio from the new port at the agent")
        dtmf_round_trip(agent, new_rtp, "5")
        # A second and more of audio went to the new address meanwhile; at most packets already in
        # flight at the switch may have reached the old one.
        self.assertLessEqual(old_rtp.count() - old_at_switch, 3,
                             "the gateway kept sending RTP to the caller's old address")

        sipp.trigger()  # BYE
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

        answer = response_to(sip_messages(sipp.messages()), "2 INVITE")
        self.assertIsNotNone(answer, "no 200 to the re-INVITE in the SIPp log")
        self.assertEqual(header(answer, "Content-Type", "c"), "application/sdp", answer)
        self.assertIn(f"m=audio {gw_port} RTP/AVP 0", answer)
        self.assertNotIn("PCMA", answer, "the re-INVITE's answer must not add a codec")

    def test_reinvite_to_hold_is_answered_recvonly_and_resume_sendrecv(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        sipp, rtp = start_caller(self, gateway, "uac-reinvite-hold-then-resume.xml")
        gw_ip, gw_port, _ = sipp.gateway_media()
        agent.wait_event(type="start")
        wait_tone(rtp, 440)

        sipp.trigger()  # re-INVITE with a=sendonly
        hold = sipp.answer_fields(".hold")
        self.assertEqual((hold[0], int(hold[1]), hold[2]), (gw_ip, gw_port, "0"), hold)
        self.assertEqual(len(gateway.calls()), 1, "the held call must stay listed")

        sipp.trigger()  # re-INVITE with a=sendrecv
        resume = sipp.answer_fields(".resume")
        self.assertEqual((resume[0], int(resume[1]), resume[2]), (gw_ip, gw_port, "0"), resume)
        dtmf_round_trip(agent, rtp, "5")

        sipp.trigger()  # BYE
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")

        messages = sip_messages(sipp.messages())
        held, resumed = response_to(messages, "2 INVITE"), response_to(messages, "3 INVITE")
        self.assertIsNotNone(held, "no 200 to the hold re-INVITE in the SIPp log")
        self.assertIn("a=recvonly", held)
        self.assertNotRegex(held, r"a=(sendrecv|sendonly|inactive)", "one direction, and it is recvonly")
        self.assertIsNotNone(resumed, "no 200 to the resuming re-INVITE in the SIPp log")
        self.assertIn("a=sendrecv", resumed)
        self.assertNotRegex(resumed, r"a=(recvonly|sendonly|inactive)", "one direction, and it is sendrecv")

    def test_unreachable_agent_forwards_the_caller_to_default_forward_by_refer(self):
        gateway = Gateway(self, unreachable_agent_url(), default_forward="Support", targets=[
            {"name": "Support", "aliases": ["help"], "uri": SUPPORT_URI}])
        sipp, _ = start_caller(self, gateway, "uac-refer-accept-notify-200.xml", need_dtmf=False)
        # The scenario answers the REFER with 202, sends NOTIFY 100 and 200 and needs the gateway's BYE.
        sipp.assert_passed()
        wait_for(lambda: gateway.calls() == [], 10, "the forwarded call to leave /v1/calls")

        refers = [m for m in sip_messages(sipp.messages()) if m.startswith("REFER ")]
        self.assertEqual(len(refers), 1, refers)
        refer_to = header(refers[0], "Refer-To", "r")
        self.assertIsNotNone(refer_to, refers[0])
        self.assertEqual(refer_to.strip("<>").split(">")[0], SUPPORT_URI, refers[0])


if __name__ == "__main__":
    unittest.main()
