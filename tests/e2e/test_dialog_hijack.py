"""Dialog security (RFC 3261 §12.2.2; issue 7 problem 1): a live call from the real trunk (SIPp on
127.0.0.1, the only address in the trunk's source_cidrs) and an attacker on 127.0.0.2 who knows the
Call-ID (and, in the worst case, the tags) sends requests into the dialog with a raw SIP endpoint:

- a re-INVITE with made-up tags matches no dialog: 481, and the call goes on;
- a re-INVITE with the real tags that moves the media to the attacker: 403 (and an ACK with an SDP
  pointing at the attacker is ignored); the real caller keeps receiving the agent's RTP and the
  attacker's RTP port gets nothing;
- a BYE with the real tags: 403, and the call is still listed and still has media;
- a request with a huge CSeq: 403, and it does not move the dialog's CSeq: the real caller's next
  re-INVITE (CSeq 2) gets 200.
Every case ends the same way: the real caller's re-INVITE gets 200 and the gateway's BYE (POST
/v1/calls/{id}/hangup) reaches the real caller, and nothing ever reaches the attacker's SIP address
(no remote-target refresh happened).
"""
import unittest

from harness import Agent, E2ETestCase, Gateway, wait_for, wait_tone
from raw_sip import RawSip, status_code
from rtp_peer import RtpPeer
from sipp_peer import start_caller

SCRIPT = "on start: tone 440 30000\n"
ATTACKER_IP = "127.0.0.2"  # outside the trunk's source_cidrs (127.0.0.1/32); loopback routes all of 127/8


class DialogHijack(E2ETestCase):
    def setUp(self):
        self.agent = Agent(self, SCRIPT)
        self.gateway = Gateway(self, self.agent.url, trunk_cidrs=["127.0.0.1/32"])
        self.sipp, self.rtp = start_caller(self, self.gateway, "uac-call-reinvite-then-expect-bye.xml")
        self.gw_ip, self.gw_port, _ = self.sipp.gateway_media()
        self.agent.wait_event(type="start")
        wait_tone(self.rtp, 440, what="the agent's tone at the real caller")
        self.call_id = self.gateway.only_call()
        tags = self.sipp.answer_fields(".tags")
        self.caller_tag, self.gateway_tag = tags[0], tags[1]
        self.attacker = RawSip(self, ATTACKER_IP, name="attacker")
        self.attacker_rtp = RtpPeer(ATTACKER_IP)
        self.addCleanup(self.attacker_rtp.stop)

    # -- the attacker's requests -------------------------------------------------------------------

    def attack(self, method, from_tag, to_tag, cseq, body="", content_type=None):
        response = self.attacker.request(
            method, ("127.0.0.1", self.gateway.sip_port), self.gateway.uri, self.sipp.call_id,
            from_uri=f"sip:+15550001111@{ATTACKER_IP}", from_tag=from_tag,
            to_uri=self.gateway.uri, to_tag=to_tag, cseq=cseq,
            contact=f"sip:caller@{ATTACKER_IP}:{self.attacker.port}", body=body, content_type=content_type)
        self.assertIsNotNone(response, f"no final response to the attacker's {method}")
        return response

    def attacker_offer(self):
        """An SDP offer that would move the call's media to the attacker's RTP port."""
        return ("v=0\r\no=caller 1 2 IN IP4 {ip}\r\ns=e2e\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
                "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n"
                ).format(ip=ATTACKER_IP, port=self.attacker_rtp.port)

    # -- what must still hold after an attack ------------------------------------------------------

    def assert_call_goes_on(self, what):
        calls = self.gateway.calls()
        self.assertEqual([c["id"] for c in calls], [self.call_id], f"the call must still be live after {what}")
        self.assertEqual(self.agent.find(type="stop"), [], f"the agent's call ended after {what}")
        # The agent's audio keeps reaching the real caller: one more second of it ...
        before = self.rtp.count()
        wait_for(lambda: self.rtp.count() >= before + 50, 5, f"the agent's RTP at the real caller after {what}")
        wait_tone(self.rtp, 440, since=before, what=f"the agent's tone at the real caller after {what}")
        self.assertEqual(self.rtp.source(), (self.gw_ip, self.gw_port))
        # ... and none of it went to the attacker's port.
        self.assertEqual(self.attacker_rtp.count(), 0, f"the gateway sent RTP to the attacker after {what}")

    def finish(self, what):
        """The real caller's re-INVITE (CSeq 2) gets 200; the gateway's BYE reaches the real caller
        and nothing reaches the attacker's SIP address."""
        self.sipp.trigger()
        fields = self.sipp.answer_fields(".reinvite")
        self.assertEqual((fields[0], int(fields[1])), (self.gw_ip, self.gw_port), fields)
        status, body = self.gateway.http("POST", f"/v1/calls/{self.call_id}/hangup")
        self.assertEqual(status, 200, body)
        self.sipp.assert_passed(timeout=30)  # it got the BYE and answered 200
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        self.assertEqual(self.attacker.requests(), [],
                         f"the gateway sent a request to the attacker's address after {what}")
        self.assertEqual(self.attacker_rtp.count(), 0, "the gateway sent RTP to the attacker")

    # -- the cases ---------------------------------------------------------------------------------

    def test_reinvite_with_made_up_tags_gets_481(self):
        response = self.attack("INVITE", "madeup-from", "madeup-to", 2,
                               self.attacker_offer(), "application/sdp")
        self.assertEqual(status_code(response), 481, response)
        self.assert_call_goes_on("a re-INVITE with made-up tags")
        self.finish("a re-INVITE with made-up tags")

    def test_reinvite_with_the_real_tags_from_outside_the_trunk_gets_403_and_moves_nothing(self):
        response = self.attack("INVITE", self.caller_tag, self.gateway_tag, 2,
                               self.attacker_offer(), "application/sdp")
        self.assertEqual(status_code(response), 403, response)
        # An ACK with the real tags carrying an "answer" that points at the attacker is ignored too
        # (no response is due to an ACK; what counts is that the media stays, checked below).
        body = self.attacker_offer()
        self.attacker.send("\r\n".join([
            f"ACK {self.gateway.uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {ATTACKER_IP}:{self.attacker.port};branch=z9hG4bK-rawack-hijack;rport",
            "Max-Forwards: 70", f"From: <sip:+15550001111@{ATTACKER_IP}>;tag={self.caller_tag}",
            f"To: <{self.gateway.uri}>;tag={self.gateway_tag}", f"Call-ID: {self.sipp.call_id}",
            "CSeq: 1 ACK", "Content-Type: application/sdp",
            f"Content-Length: {len(body.encode())}"]) + "\r\n\r\n" + body, ("127.0.0.1", self.gateway.sip_port))
        self.assert_call_goes_on("a hijacking re-INVITE")
        self.finish("a hijacking re-INVITE")

    def test_bye_with_the_real_tags_from_outside_the_trunk_gets_403_and_the_call_goes_on(self):
        response = self.attack("BYE", self.caller_tag, self.gateway_tag, 2)
        self.assertEqual(status_code(response), 403, response)
        self.assert_call_goes_on("a BYE from outside the trunk")
        self.finish("a BYE from outside the trunk")

    def test_huge_cseq_from_outside_the_trunk_gets_403_and_does_not_move_the_dialogs_cseq(self):
        response = self.attack("INFO", self.caller_tag, self.gateway_tag, 2**31 - 1)
        self.assertEqual(status_code(response), 403, response)
        self.assert_call_goes_on("a request with a huge CSeq")
        self.finish("a request with a huge CSeq")  # the real caller's CSeq 2 re-INVITE must get 200


if __name__ == "__main__":
    unittest.main()
