"""One Allow list, the offerer's codec order and the clock rate (issue 7 problem 7), with SIPp as the
caller, the test's RtpPeer as its media and the reference agent:

- the Allow header is the same text in the 200 to INVITE, the 200 to OPTIONS and the 405 to an
  in-dialog MESSAGE (a method we do not handle; the call goes on), and it lists exactly INVITE, ACK,
  BYE, CANCEL, OPTIONS, UPDATE, INFO, REFER, NOTIFY, PRACK; no listed method is answered 405, while an
  unlisted one (MESSAGE) is, with that same Allow;
- a carrier offering `8 0 101` (PCMA first) gets PCMA, and the agent's audio reaches it as PCMA
  (RFC 3264 §6.1: among the codecs both sides have, the offerer's order wins);
- an offer whose only format is `a=rtpmap:0 PCMU/1` (a clock rate no one can use) gets 488, not 500,
  both in an INVITE (no call) and in a re-INVITE (the call goes on with its media).
"""
import unittest

from harness import (Agent, E2ETestCase, Gateway, dtmf_round_trip, sip_request, status_of, wait_for,
                     wait_tone)
from raw_sip import header, responses_to, sdp_rtpmaps, sip_messages
from rtp_peer import ALAW_TABLE, PCMA, tone_ratio
from sipp_peer import Sipp, start_caller

SCRIPT = """\
on start: tone 440 30000
on dtmf 5: clear; tone 1000 30000
"""
ALLOWED = ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "INFO", "REFER", "NOTIFY", "PRACK"]
def pcma_audio(rtp):
    return [ALAW_TABLE[b] for _, pt, payload in rtp.packets() if pt == PCMA for b in payload]


class AllowAndCodecs(E2ETestCase):
    def test_allow_is_one_list_everywhere_and_every_listed_method_is_handled(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        sipp, rtp = start_caller(self, gateway, "uac-call-message-405.xml")
        agent.wait_event(type="start")
        wait_tone(rtp, 440)

        options = gateway.options()
        self.assertEqual(status_of(options), 200, options)
        listed = [m.strip() for m in (header(options, "Allow") or "").split(",")]
        self.assertEqual(sorted(listed), sorted(ALLOWED), f"Allow in the 200 to OPTIONS:\n{options}")
        before = rtp.count()
        sipp.trigger()  # in-dialog MESSAGE -> 405
        self.assertEqual(sipp.answer_fields(".refused"), ["refused", "ok"])
        self.assertEqual(len(gateway.calls()), 1, "a 405 must not end the call")
        wait_tone(rtp, 440, since=before, what="the agent's tone after the 405")

        # Out of dialog, from the trunk: a listed method is handled (whatever its answer), an unlisted
        # one gets 405 — the probe can tell them apart.
        uri = f"sip:demo@127.0.0.1:{gateway.sip_port}"
        answers = {m: sip_request(m, "127.0.0.1", gateway.sip_port, uri, timeout=2.0)
                   for m in listed if m not in ("ACK", "INVITE")}
        for method, response in answers.items():
            self.assertIsNotNone(response, f"no final answer to an out-of-dialog {method}")
            self.assertNotEqual(status_of(response), 405, f"{method} is in Allow but got 405:\n{response}")
        unlisted = sip_request("MESSAGE", "127.0.0.1", gateway.sip_port, uri, timeout=2.0)
        self.assertEqual(status_of(unlisted), 405, unlisted)

        sipp.trigger()  # BYE
        sipp.assert_passed()
        messages = sip_messages(sipp.messages())
        ok = responses_to(messages, "1 INVITE", "200")
        refused = responses_to(messages, "2 MESSAGE", "405")
        self.assertEqual((len(ok), len(refused)), (1, 1), messages)
        allows = {"200 to INVITE": header(ok[0], "Allow"), "200 to OPTIONS": header(options, "Allow"),
                  "405 to an in-dialog MESSAGE": header(refused[0], "Allow"),
                  "405 to an out-of-dialog MESSAGE": header(unlisted, "Allow")}
        self.assertEqual(len(set(allows.values())), 1, f"Allow differs between responses: {allows}")

    def test_the_offerers_codec_order_wins(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)  # configured ["PCMU", "PCMA"]
        sipp, rtp = start_caller(self, gateway, "uac-call-pcma-first.xml")
        formats = sipp.answer_fields(".formats")[1:]
        self.assertEqual(formats[0], str(PCMA), f"a PCMA-first offer must be answered PCMA first: {formats}")
        agent.wait_event(type="start")
        wait_for(lambda: tone_ratio(pcma_audio(rtp)[-1600:], 440) > 0.5, 10,
                 "the agent's 440 Hz tone at the caller as PCMA")
        audio_types = {pt for _, pt, _ in rtp.packets() if pt < 96}
        self.assertEqual(audio_types, {PCMA}, "the gateway must send the codec it answered")

        sipp.trigger()  # BYE
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")
        answer = responses_to(sip_messages(sipp.messages()), "1 INVITE", "200")
        self.assertEqual(len(answer), 1)
        self.assertEqual(sdp_rtpmaps(answer[0]).get(str(PCMA)), "PCMA/8000", answer[0])

    def test_an_offer_with_a_wrong_clock_rate_gets_488(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        sipp = Sipp(self, "uac-invite-bad-clock-rate-488.xml", gateway.sip_port)
        sipp.assert_passed()  # 488, then the ACK
        self.assertEqual(gateway.calls(), [])
        self.assertEqual(agent.find(type="start"), [], "a refused offer must not start the agent")

    def test_a_reinvite_with_a_wrong_clock_rate_gets_488_and_the_call_goes_on(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        sipp, rtp = start_caller(self, gateway, "uac-reinvite-bad-clock-rate-488.xml")
        gw_ip, gw_port, _ = sipp.gateway_media()
        agent.wait_event(type="start")
        wait_tone(rtp, 440)

        sipp.trigger()  # re-INVITE with only PCMU/1 -> 488
        self.assertEqual(sipp.answer_fields(".refused"), ["refused", "ok"])
        self.assertEqual(len(gateway.calls()), 1, "a refused re-INVITE must not end the call")
        before = rtp.count()
        wait_tone(rtp, 440, since=before, what="the agent's tone after the refused re-INVITE")
        self.assertEqual(rtp.source(), (gw_ip, gw_port))
        frames = agent.caller_audio_frames()
        wait_for(lambda: agent.caller_audio_frames() >= frames + 25, 10, "the caller's audio at the agent")
        dtmf_round_trip(agent, rtp, "5")

        sipp.trigger()  # BYE
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")


if __name__ == "__main__":
    unittest.main()
