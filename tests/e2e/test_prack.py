"""Reliable provisional responses (RFC 3262, 100rel and PRACK) both ways, with SIPp peers:

- a caller whose INVITE has `Supported: 100rel`, or `Require: 100rel` (never a 420), calling a trunk
  with provisional = "183": the 183 carries `Require: 100rel`, an RSeq and the SDP answer; the
  caller PRACKs it (RAck = that RSeq, 1 INVITE) only once the agent is connected (the test releases
  the PRACK), and the PRACK gets 200; only then does the INVITE's 200 come (§3: no 2xx while a
  reliable provisional with SDP is unacknowledged);
- a late-offer caller (no SDP in the INVITE) with `Supported: 100rel`: the gateway's offer rides in
  the reliable 183 and the caller answers in its PRACK; the agent's audio reaches the address that
  answer named, the 200 repeats the 183's SDP and the ACK carries none;
- a caller that never PRACKs: the 183 is sent again (the scenario needs at least two retransmissions,
  all with the same RSeq), then after 64*T1 the INVITE is refused with 500 and the agent's stream
  stops with `no_prack`;
- a target that warmline dials (a cold transfer on a trunk without REFER) answering 183 with
  `Require: 100rel` and `RSeq: 1`: warmline's INVITE lists 100rel in Supported, and it PRACKs in the
  183's early dialog with `RAck: 1 <the INVITE's CSeq> INVITE`; the target answers the PRACK and then
  the INVITE, and the caller and the target are bridged (the caller hears itself through the
  target's RTP echo).
"""
import unittest

from harness import Agent, E2ETestCase, Gateway, wait_for, wait_tone
from rtp_peer import RtpPeer
from sipp_peer import Sipp, SippUasScenario, header, sip_messages, start_caller

AGENT_HZ = 1000
CALLER_HZ = 300  # RtpPeer's tone: the caller's voice


def cseq_of(message):
    number, method = header(message, "CSeq").split()
    return int(number), method


def received(sipp, start):
    """The messages in `sipp`'s log whose start line begins with `start`, in order (retransmissions
    included)."""
    return [m for m in sip_messages(sipp.messages()) if m.startswith(start)]


class InboundReliable183(E2ETestCase):
    def call_with(self, hundredrel):
        agent = Agent(self, f"on start: tone {AGENT_HZ} 5000\n")
        gateway = Gateway(self, agent.url, provisional="183")
        rtp = RtpPeer()
        self.addCleanup(rtp.stop)
        caller = Sipp(self, "uac-100rel-prack.xml", gateway.sip_port, rtp_port=rtp.port,
                      extra=("-key", "hundredrel", hundredrel))
        # The agent is connected, so the gateway would answer now, but the 183 is not PRACKed yet.
        agent.wait_event(type="start")
        wait_for(lambda: received(caller, "SIP/2.0 183"), 10, "the 183 at the caller")
        self.assertEqual(received(caller, "SIP/2.0 200"), [], "a 200 before the PRACK")
        caller.trigger()  # the PRACK
        ip, port, te_pt = caller.gateway_media()
        rtp.start_sending(ip, port, te_pt or 101)
        wait_tone(rtp, AGENT_HZ, what="the agent's tone at the caller after the 200")

        log = sip_messages(caller.messages())
        starts = [m.split("\n", 1)[0] for m in log]
        early = received(caller, "SIP/2.0 183")
        self.assertEqual(header(early[0], "Require"), "100rel", early[0])
        self.assertEqual({header(m, "RSeq") for m in early}, {header(early[0], "RSeq")}, "one reliable 183")
        self.assertIn("100rel", header(early[0], "Supported", "k") or "", early[0])
        rseq = int(header(early[0], "RSeq"))
        self.assertTrue(1 <= rseq <= 2 ** 31 - 1, rseq)
        prack = [m for m in log if m.startswith("PRACK ")]
        self.assertEqual(len(prack), 1, starts)
        self.assertEqual(header(prack[0], "RAck"), f"{rseq} 1 INVITE")
        oks = [(i, cseq_of(m)) for i, m in enumerate(log) if m.startswith("SIP/2.0 200")]
        self.assertEqual([c for _, c in oks[:2]], [(2, "PRACK"), (1, "INVITE")],
                         "the INVITE's 200 waits for the PRACK's:\n" + "\n".join(starts))
        late = [m for m in log[oks[0][0]:] if m.startswith("SIP/2.0 183")]
        self.assertEqual(late, [], "the 183 is not sent again once PRACKed")
        self.assertEqual([m for m in log if m.startswith("SIP/2.0 420")], [], "100rel is supported")

        calls = gateway.calls()
        self.assertEqual(len(calls), 1, calls)
        caller.trigger()
        caller.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")

    def test_supported_100rel_gets_a_reliable_183_and_the_200_after_the_prack(self):
        self.call_with("Supported: 100rel")

    def test_require_100rel_is_honoured_not_refused(self):
        self.call_with("Require: 100rel")

    def test_a_late_offer_gets_our_offer_in_a_reliable_183_and_answers_in_the_prack(self):
        agent = Agent(self, f"on start: tone {AGENT_HZ} 5000\n")
        gateway = Gateway(self, agent.url, provisional="183")
        rtp = RtpPeer()
        self.addCleanup(rtp.stop)
        caller = Sipp(self, "uac-late-offer-100rel.xml", gateway.sip_port, rtp_port=rtp.port)
        ip, port, te_pt = caller.gateway_media()  # the offer in the 183
        rtp.start_sending(ip, port, te_pt or 101)
        # The caller's only SDP is the answer in its PRACK: the agent's tone reaching the RtpPeer shows
        # the gateway took the address and codec from there.
        wait_tone(rtp, AGENT_HZ, what="the agent's tone at the address the PRACK's answer named")

        log = sip_messages(caller.messages())
        early = received(caller, "SIP/2.0 183")
        ok = [m for m in log if m.startswith("SIP/2.0 200") and cseq_of(m) == (1, "INVITE")]
        self.assertTrue(ok, "the INVITE's 200")
        self.assertEqual(ok[0].split("\n\n", 1)[1], early[0].split("\n\n", 1)[1],
                         "the offer/answer is done: the 200 repeats the 183's SDP")
        prack_ok = [m for m in log if m.startswith("SIP/2.0 200") and cseq_of(m) == (2, "PRACK")]
        self.assertEqual(len(prack_ok), 1)
        self.assertIsNone(header(prack_ok[0], "Content-Type", "c"), "an answer is not answered")
        self.assertEqual(len(gateway.calls()), 1)
        caller.trigger()
        caller.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")

    def test_a_caller_that_never_pracks_gets_the_183_again_then_500(self):
        agent = Agent(self, f"on start: tone {AGENT_HZ} 5000\n")
        gateway = Gateway(self, agent.url, provisional="183")
        rtp = RtpPeer()
        self.addCleanup(rtp.stop)
        # -nr: SIPp passes each retransmitted 183 to the scenario, which counts them.
        caller = Sipp(self, "uac-100rel-never-prack.xml", gateway.sip_port, rtp_port=rtp.port, extra=("-nr",))
        agent.wait_event(type="start")
        caller.assert_passed(timeout=60)  # 64*T1 = 32 s, then the 500
        early = received(caller, "SIP/2.0 183")
        self.assertGreaterEqual(len(early), 3, "the 183 and two retransmissions at least")
        self.assertEqual({header(m, "RSeq") for m in early}, {header(early[0], "RSeq")},
                         "a retransmission keeps its RSeq")
        self.assertEqual(received(caller, "SIP/2.0 200"), [], "no 200 without the PRACK")
        finals = received(caller, "SIP/2.0 500")
        self.assertTrue(finals, "the INVITE is refused with 500")
        agent.wait_event(type="stop", reason="no_prack")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")


class OutboundPrack(E2ETestCase):
    def test_a_target_reliable_183_is_pracked_and_the_call_is_bridged(self):
        bob = SippUasScenario(self, "uas-reliable-183-expect-prack.xml", name="bob")
        bob.wait_listening()
        agent = Agent(self, "on dtmf 1: transfer cold Bob\n")
        gateway = Gateway(self, agent.url, accepts_refer=False,
                          targets=[{"name": "Bob", "uri": f"sip:bob@{bob.address}"}])
        caller, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml", tone_hz=CALLER_HZ)
        agent.wait_event(type="start")
        rtp.send_dtmf("1")
        ended = agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        agent.wait_event(type="stop", reason="transferred")
        wait_tone(rtp, CALLER_HZ, since=rtp.count(), what="the caller's voice back through the target's echo")

        invites = bob.requests("INVITE")
        self.assertEqual(len(invites), 1)
        self.assertIn("100rel", header(invites[0], "Supported", "k"), invites[0])
        invite_cseq, _ = cseq_of(invites[0])
        pracks = bob.requests("PRACK")
        self.assertEqual(len(pracks), 1, bob.messages())
        prack = pracks[0]
        self.assertEqual(header(prack, "RAck"), f"1 {invite_cseq} INVITE")
        self.assertEqual(cseq_of(prack), (invite_cseq + 1, "PRACK"))
        early = [m for m in sip_messages(bob.messages()) if m.startswith("SIP/2.0 183")][0]
        to_tag = header(early, "To", "t").split("tag=")[1]
        self.assertIn(f"tag={to_tag}", header(prack, "To", "t"), "the PRACK goes in the 183's early dialog")

        caller.trigger()
        caller.assert_passed()
        bob.assert_passed()
        byes = bob.requests("BYE")
        self.assertEqual(len(byes), 1)
        self.assertGreater(cseq_of(byes[0])[0], invite_cseq + 1, "the dialog's CSeq goes on after the PRACK")


if __name__ == "__main__":
    unittest.main()
