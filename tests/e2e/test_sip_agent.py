"""SIP agents (issue 11 part 7; docs/agents.md "SIP agents"): an [[agent]] whose url is a sip: URI is
an AI platform that warmline calls over SIP for each inbound call and bridges to the caller.

- The agent ("bot", a SIPp UAS with the test's RtpPeer as its voice) is reached through the trunk
  "aiplatform", found by its address (the agent names no trunk). The caller is answered once the bot
  answers; the bot's INVITE asserts the caller (P-Asserted-Identity); caller and bot hear each
  other. The bot's REFERs are the transferee case of part 6: a
  malformed Refer-To gets 400, an unconfigured one 403 (nothing is dialled there), a configured
  target "Support" (SIPp UAS with RTP echo) 202, then NOTIFYs 100 -> 180 -> 200 sipfrag; Support
  answers, the bot gets warmline's BYE after the final NOTIFY, and the caller (never re-INVITEd or
  BYEd) hears its own voice back from Support. GET /v1/calls and the call record show it: the bot's
  leg and Support's are b legs, the transfer is refer_in.
- A SIP agent that asks for warm transfers (X-Warmline-Transfer: warm; docs/sip.md "Warm transfers
  a SIP agent asks for"): the caller hears the hold music, never the bot nor the target, while the bot
  consults the target (the bot hears its own voice back from Support's echo); the bot's "*" (SIP INFO)
  releases Support and brings the caller back to the bot (final NOTIFY 487); a second warm REFER to
  Desk and the bot's "#" put the caller through to Desk (final NOTIFY 200, then BYE to the bot).
- An agent that answers 486: the caller is not dropped but goes to the agent's default_forward
  (Support), bridged, hearing its own voice from Support's echo.
- An agent that takes calls only over TLS, with SDES-SRTP and Opus (baresip: its own certificate,
  srtp-mand, audio_codecs opus), as AI platforms reached over SIP often require: warmline calls its
  sips: URL through a trunk with transport = "tls" (tls_ca pinned to its certificate), srtp =
  "required" and codecs = ["opus"]; every SIP message to it goes over TLS, the offer is RTP/SAVP with
  Opus on a dynamic payload type (111) and telephone-event at 48 kHz, the RTP on the agent's leg is
  payload type 111, and the PCMU caller and the agent hear each other through the
  transcoding bridge.
- check-config accepts a sip: agent URL that a trunk's address matches, and refuses one that matches
  no trunk, a sips: one through a UDP trunk and a WebSocket-only key, naming file, line and key.
"""
import subprocess
import unittest

import test_srtp_caller as srtp
from baresip_peer import Baresip
from harness import E2ETestCase, Gateway, cdr_query, gateway_binary, provider_trunk, wait_for, wait_tone
from rtp_peer import max_tone_ratio
from warm_checks import HoldMusic
from test_sip_tls import make_cert, sip_trace_vias
from raw_sip import RawSip
from rtp_peer import RtpPeer
from sipp_peer import SippUasScenario, header, sip_messages, start_caller

CALLER_HZ = 300  # the caller's voice (start_caller's RtpPeer)
BOT_HZ = 500  # what the SIP agent says
CALLER = "+15550001111"  # the From user of the caller's scenarios


def first_notifies(messages):
    """The NOTIFYs of a SIPp message log, one per CSeq (retransmissions dropped), in order."""
    out = []
    for m in messages:
        if m.startswith("NOTIFY ") and header(m, "CSeq") not in [header(n, "CSeq") for n in out]:
            out.append(m)
    return out


def responses_to(messages, cseq):
    """The status lines of the responses to CSeq `cseq` ("3 REFER") in a SIPp message log."""
    return [m.split("\n", 1)[0] for m in messages if m.startswith("SIP/2.0 ") and header(m, "CSeq") == cseq]


class SipAgent(E2ETestCase):
    def start_support(self):
        self.support = SippUasScenario(self, "uas-answer.xml", name="support")
        self.support.wait_listening()
        self.support_uri = f"sip:support@{self.support.address}"

    def test_sip_agent_answers_is_bridged_and_refers_the_caller_to_a_configured_target(self):
        self.start_support()
        elsewhere = RawSip(self, name="elsewhere")  # an address no configuration names
        bot_rtp = RtpPeer(tone_hz=BOT_HZ)
        self.addCleanup(bot_rtp.stop)
        bot = SippUasScenario(self, "uas-bot-refers-on-trigger.xml", name="bot", rtp=bot_rtp, extra=(
            "-key", "refer_ok", f"<{self.support_uri}>",
            "-key", "refer_bad", "<sip:support@127.0.0.1",
            "-key", "refer_unconfigured", f"<sip:+442079460000@127.0.0.1:{elsewhere.port}>"))
        bot.wait_listening()
        gateway = Gateway(self, f"sip:bot@{bot.address}", accepts_refer=False,
                          trunks=[provider_trunk(bot.address, name="aiplatform", accepts_refer_from_peer=True)],
                          targets=[{"name": "Support", "uri": self.support_uri}])
        caller, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")

        # The bot was called first, asserting the caller; the caller was answered when it answered.
        invite = wait_for(lambda: bot.requests("INVITE"), 15, "warmline to call the SIP agent")[0]
        self.assertTrue(invite.startswith(f"INVITE sip:bot@{bot.address} SIP/2.0"), invite)
        self.assertRegex(header(invite, "P-Asserted-Identity"), rf"^<sip:\{CALLER}@")
        ip, port, te = bot.gateway_media()
        bot_rtp.start_sending(ip, port, te or 101)
        wait_tone(rtp, BOT_HZ, timeout=10, what="the SIP agent's voice at the caller")
        wait_tone(bot_rtp, CALLER_HZ, timeout=10, what="the caller's voice at the SIP agent")
        calls = gateway.calls()
        self.assertEqual([(c["agent"], c["state"], c["transfer"]) for c in calls], [("demo", "bridged", None)])
        call_id = calls[0]["id"]

        # REFERs: malformed (400), unconfigured (403, nothing dialled), then Support (202).
        bot.trigger()
        self.assertEqual(wait_for(lambda: responses_to(sip_messages(bot.messages()), "1 REFER"), 15, "400")[0],
                         "SIP/2.0 400 Bad Request - Malformed Refer-To")
        self.assertEqual(wait_for(lambda: responses_to(sip_messages(bot.messages()), "2 REFER"), 15, "403")[0],
                         "SIP/2.0 403 Forbidden - Refer-To Not Configured")
        self.assertEqual(elsewhere.received(), [], "an unconfigured Refer-To was dialled")
        self.assertEqual(self.support.requests("INVITE"), [])
        bot.trigger()
        self.assertEqual(wait_for(lambda: responses_to(sip_messages(bot.messages()), "3 REFER"), 15, "202")[0],
                         "SIP/2.0 202 Accepted")
        wait_for(lambda: self.support.requests("INVITE"), 15, "warmline to call Support")
        bot.assert_passed(timeout=30)  # the NOTIFYs its scenario checks, then warmline's BYE
        msgs = sip_messages(bot.messages())
        notifies = first_notifies(msgs)
        self.assertEqual([m.split("\n\n", 1)[1].strip() for m in notifies],
                         ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK"])
        self.assertEqual([header(m, "Event", "o") for m in notifies], ["refer;id=3"] * 3)
        last_notify = max(i for i, m in enumerate(msgs) if m.startswith("NOTIFY "))
        byes = [i for i, m in enumerate(msgs) if m.startswith("BYE ")]
        self.assertTrue(byes and byes[0] > last_notify, "warmline's BYE to the bot comes after the final NOTIFY")

        # The caller is still up, now bridged to Support: its own voice comes back from Support's echo.
        wait_tone(rtp, CALLER_HZ, since=rtp.count(), timeout=10, what="the caller's voice back from Support's echo")
        calls = gateway.calls()
        self.assertEqual([(c["id"], c["state"]) for c in calls], [(call_id, "bridged")])
        transfer = calls[0]["transfer"]
        self.assertEqual((transfer["mode"], transfer["target"], transfer["result"]), ("refer_in", "Support", "completed"))

        caller.trigger()  # the caller hangs up: warmline hangs up Support
        caller.assert_passed()
        self.support.assert_passed()
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")
        legs = wait_for(lambda: cdr_query(gateway.cdr_path, "SELECT role, direction, remote_uri, trunk, pai, "
                                          "final_status FROM legs WHERE call_id = ? ORDER BY started_at",
                                          (call_id,)), 10, "the call's leg rows")
        self.assertEqual([(r[0], r[1], r[3]) for r in legs], [("a", "in", "local"), ("b", "out", "aiplatform"),
                                                               ("b", "out", None)], legs)
        self.assertEqual(legs[1][2], f"sip:bot@{bot.address}")
        self.assertRegex(legs[1][4] or "", rf"^<sip:\{CALLER}@")
        self.assertEqual(legs[2][2], self.support_uri)
        rows = cdr_query(gateway.cdr_path, "SELECT agent, end_reason FROM calls WHERE id = ?", (call_id,))
        self.assertEqual(rows, [("demo", "caller_hangup")])
        transfers = cdr_query(gateway.cdr_path, "SELECT mode, strategy, result FROM transfers WHERE call_id = ?",
                              (call_id,))
        self.assertEqual(transfers, [("refer_in", "dial", "completed")])

    def test_sip_agent_asks_for_warm_transfers_consults_cancels_with_star_and_accepts_with_hash(self):
        self.start_support()
        desk = SippUasScenario(self, "uas-answer.xml", name="desk")
        desk.wait_listening()
        desk_uri = f"sip:desk@{desk.address}"
        bot_rtp = RtpPeer(tone_hz=BOT_HZ)
        self.addCleanup(bot_rtp.stop)
        bot = SippUasScenario(self, "uas-bot-warm-refers-on-trigger.xml", name="bot", rtp=bot_rtp, extra=(
            "-key", "refer_first", f"<{self.support_uri}>", "-key", "refer_second", f"<{desk_uri}>"))
        bot.wait_listening()
        gateway = Gateway(self, f"sip:bot@{bot.address}", accepts_refer=False,
                          trunks=[provider_trunk(bot.address, name="aiplatform", accepts_refer_from_peer=True)],
                          targets=[{"name": "Support", "uri": self.support_uri}, {"name": "Desk", "uri": desk_uri}])
        caller, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        ip, port, te = bot.gateway_media()
        bot_rtp.start_sending(ip, port, te or 101)
        wait_tone(rtp, BOT_HZ, timeout=10, what="the SIP agent's voice at the caller")
        call_id = gateway.calls()[0]["id"]

        # A warm REFER to Support: the caller is held with music while Support is dialled and answers.
        held_from = rtp.count()
        bot.trigger()
        wait_for(lambda: self.support.requests("INVITE"), 15, "warmline to call Support")
        # The consult: the bot hears its own voice back from Support's echo, which only a bot joined
        # to Support can hear (the caller sends 300 Hz and echoes nothing).
        wait_tone(bot_rtp, BOT_HZ, since=bot_rtp.count(), timeout=10, what="the bot's voice back from Support")
        music = HoldMusic()
        wait_for(lambda: music.similarity(rtp.audio(held_from)[-8000:], 8000) > 0.95, 10,
                 "the hold music at the held caller")
        transfer = gateway.calls()[0]["transfer"]
        self.assertEqual((transfer["mode"], transfer["target"], transfer.get("result")), ("refer_in", "Support", None))
        self.assertEqual(transfer["phases"][-1]["phase"], "consulting", transfer["phases"])
        self.assertLess(max_tone_ratio(rtp.audio(held_from), BOT_HZ), 0.1, "the held caller heard the bot")
        self.assertEqual(self.support.requests("BYE"), [])

        # "*": Support is released, the caller is back with the bot.
        back_from = rtp.count()
        bot.trigger()
        self.support.assert_passed(timeout=15)  # answered, then warmline's BYE
        wait_tone(rtp, BOT_HZ, since=back_from, timeout=10, what="the bot's voice at the caller after the cancel")
        wait_tone(bot_rtp, CALLER_HZ, since=bot_rtp.count(), timeout=10, what="the caller's voice at the bot again")
        self.assertEqual(gateway.calls()[0]["transfer"]["result"], "cancelled")

        # A warm REFER to Desk, accepted with "#": the caller is put through to Desk.
        bot.trigger()
        wait_for(lambda: desk.requests("INVITE"), 15, "warmline to call Desk")
        wait_tone(bot_rtp, BOT_HZ, since=bot_rtp.count(), timeout=10, what="the bot's voice back from Desk")
        through_from = rtp.count()
        bot.trigger()
        bot.assert_passed(timeout=30)  # the final NOTIFY 200, then warmline's BYE
        wait_tone(rtp, CALLER_HZ, since=through_from, timeout=10, what="the caller's voice back from Desk's echo")
        calls = gateway.calls()
        self.assertEqual([(c["id"], c["state"], c["transfer"]["target"], c["transfer"]["result"]) for c in calls],
                         [(call_id, "bridged", "Desk", "completed")])
        self.assertIn("consulting", [p["phase"] for p in calls[0]["transfer"]["phases"]])

        caller.trigger()
        caller.assert_passed()
        desk.assert_passed()
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")
        transfers = wait_for(lambda: cdr_query(gateway.cdr_path, "SELECT mode, result FROM transfers WHERE call_id = ? "
                                               "ORDER BY requested_at", (call_id,)), 10, "the transfer rows")
        self.assertEqual(transfers, [("refer_in", "cancelled"), ("refer_in", "completed")])

    def test_busy_sip_agent_sends_the_caller_to_the_default_forward(self):
        self.start_support()
        bot = SippUasScenario(self, "uas-agent-busy.xml", name="bot", rtp_echo=False)
        bot.wait_listening()
        gateway = Gateway(self, f"sip:bot@{bot.address}", accepts_refer=False, default_forward="Support",
                          trunks=[provider_trunk(bot.address, name="aiplatform")],
                          agent_options={"trunk": "aiplatform"},
                          targets=[{"name": "Support", "uri": self.support_uri}])
        caller, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        bot.assert_passed(timeout=30)  # INVITE with the caller's identity, 486, ACK
        wait_for(lambda: self.support.requests("INVITE"), 15, "warmline to call the default_forward")
        wait_tone(rtp, CALLER_HZ, timeout=10, what="the caller's voice back from Support's echo (forwarded)")
        calls = gateway.calls()
        self.assertEqual([(c["state"], c["transfer"]["target"], c["transfer"]["result"]) for c in calls],
                         [("bridged", "Support", "completed")])
        self.assertEqual(gateway.metric("warmline_agent_failures_total"), 1)
        caller.trigger()
        caller.assert_passed()
        self.support.assert_passed()

    def test_sip_agent_over_tls_with_mandatory_srtp_and_opus(self):
        _, _, bot_pem = make_cert(self.workdir, "bot")
        bot = Baresip(self, name="bot", user="bot", tone_hz=BOT_HZ, audio_codecs="opus", mediaenc="srtp-mand",
                      tls_cert=bot_pem)
        address = f"127.0.0.1:{bot.tls_port}"
        trunk = provider_trunk(address, name="aiplatform", transport="tls", tls_ca=str(bot_pem), srtp="required",
                               codecs=["opus"])
        gateway = Gateway(self, f"sips:bot@{address}", accepts_refer=False, trunks=[trunk],
                          codecs=["PCMU", "PCMA", "opus"])
        capture = srtp.LoopbackCapture(self, gateway.config["rtp_first"], gateway.config["rtp_last"])
        caller, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        bot.wait_event(type="CALL_ESTABLISHED")
        trace = bot.proc.output()
        self.assertEqual(sip_trace_vias(trace), {"TLS"}, "every SIP message to the agent went over TLS")
        self.assertIn("m=audio", trace)
        self.assertRegex(trace, r"m=audio \d+ RTP/SAVP 111 101")
        self.assertIn("a=rtpmap:111 opus/48000/2", trace)
        self.assertIn("a=rtpmap:101 telephone-event/48000", trace)
        self.assertIn("a=crypto:", trace)

        wait_tone(rtp, BOT_HZ, timeout=15, what="the SIP agent's voice at the caller (Opus -> PCMU)")
        wait_for(lambda: bot.hears_tone(CALLER_HZ), 15, "the caller's voice at the SIP agent (PCMU -> Opus)")

        # The agent's leg on the wire: Opus (payload type 111) both ways; SRTP leaves the headers clear.
        # That it is SRTP the tones above prove: baresip with srtp-mand takes and sends nothing else.
        first, last = gateway.config["rtp_first"], gateway.config["rtp_last"]
        lo, hi = bot.rtp_ports
        leg = wait_for(lambda: (lambda p: p if len(p) >= 100 else None)(
            [(s_, d, p) for s_, d, p in capture.rtp() if (first <= s_ <= last and lo <= d <= hi) or
             (first <= d <= last and lo <= s_ <= hi)]), 10, "RTP both ways on the agent's leg")
        self.assertEqual({p[1] & 0x7F for _, _, p in leg}, {111}, "payload types on the agent's leg")
        self.assertTrue(any(first <= d <= last for _, d, _ in leg) and any(first <= s_ <= last for s_, _, _ in leg))

        caller.trigger()  # the caller hangs up: warmline hangs up the agent
        caller.assert_passed()
        bot.wait_event(type="CALL_CLOSED")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

    def check_config(self, name, text):
        path = self.workdir / name
        path.write_text(text)
        out = subprocess.run([str(gateway_binary()), "check-config", str(path)], capture_output=True, text=True,
                             timeout=30)
        return path, out.returncode, out.stdout + out.stderr

    def test_check_config_dials_a_sip_agent_only_through_a_configured_trunk(self):
        trunk = '[[trunk]]\nname = "aiplatform"\naddress = "127.0.0.1:5990"\n\n'
        agent = '[[agent]]\nname = "demo"\nnumbers = ["demo"]\n'
        path, rc, out = self.check_config("ok.toml", trunk + agent + 'url = "sip:bot@127.0.0.1:5990"\n')
        self.assertEqual(rc, 0, out)
        cases = [
            ("nomatch.toml", trunk + agent + 'url = "sip:bot@127.0.0.1:5991"\n', 8,
             "agent[0].url: a sip: agent is dialled through a trunk"),
            ("sips.toml", trunk + agent + 'url = "sips:bot@127.0.0.1:5990"\n', 8,
             'agent[0].url: a sips: agent needs a trunk with transport = "tls" (trunk aiplatform is udp)'),
            ("token.toml", trunk + agent + 'url = "sip:bot@127.0.0.1:5990"\ntoken = "x"\n', 9,
             "agent[0].token: only for a WebSocket agent"),
            ("unknown.toml", trunk + agent + 'url = "sip:bot@127.0.0.1:5990"\ntrunk = "nope"\n', 9,
             "agent[0].trunk: 'nope' is not a configured trunk"),
            ("scheme.toml", trunk + agent + 'url = "http://bot.example"\n', 8,
             "agent[0].url: 'http://bot.example' must start with ws://, wss://, sip: or sips:"),
        ]
        for name, text, line, expected in cases:
            path, rc, out = self.check_config(name, text)
            self.assertEqual(rc, 2, out)
            self.assertIn(f"{path}:{line}: {expected}", out)


if __name__ == "__main__":
    unittest.main()
