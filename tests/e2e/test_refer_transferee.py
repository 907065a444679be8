"""REFER received (RFC 3515, warmline as the transferee; issue 11 part 6): a SIPp caller is put
through by the agent (a cold transfer, bridged dial) to "Bot", a SIPp UAS reached through the trunk
"aiplatform" — an AI platform on leg b. The bot then sends REFER inside its dialog:

- with the trunk's accepts_refer_from_peer = true:
  - a malformed Refer-To gets 400, a Refer-To the configuration does not name (a number outside the
    agent's allow_patterns, at the address of the agent's carrier trunk) 403; the carrier's address
    (a raw UDP listener) receives not one datagram, the second target is not called, and the caller
    still hears the bot;
  - a Refer-To naming the configured target "Support" (another SIPp UAS): 202, NOTIFYs with
    message/sipfrag bodies 100 Trying, 180 Ringing, 200 OK in that order (Event: refer;id=<CSeq>,
    Subscription-State active, then terminated), Support answered, the bot gets warmline's BYE, and the
    caller — never sent a BYE or re-INVITE (its scenario fails on either) — hears its own voice back
    from Support's RTP echo; GET /v1/calls and the call record show a transfer of mode refer_in;
- with a trunk without the flag: 403, and nothing is dialled (the Refer-To's address, a raw UDP
  listener, receives nothing); the caller stays with the bot.
"""
import json
import unittest

from harness import Agent, E2ETestCase, Gateway, cdr_query, provider_trunk, wait_for, wait_tone
from raw_sip import RawSip
from rtp_peer import RtpPeer
from sipp_peer import SippUasScenario, header, sip_messages, start_caller

SCRIPT = """\
on start: tone 440 200
on dtmf 1: transfer cold Bot
"""
CALLER_HZ = 300  # the caller's voice (start_caller's RtpPeer)
BOT_HZ = 500  # what the bot says
CALLER_ID = "+27115550100"


def cseq_responses(messages, cseq):
    """The status lines of the responses to CSeq `cseq` ("3 REFER") in a SIPp message log, in order
    (retransmissions included)."""
    return [m.split("\n", 1)[0] for m in messages if m.startswith("SIP/2.0 ") and header(m, "CSeq") == cseq]


class ReferTransferee(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.carrier = RawSip(self, name="carrier")  # the agent's trunk: numbers would be dialled here

    def start_call(self, scenario, flag, refer_ok_to, extra_keys=()):
        """The caller bridged to the bot through the trunk "aiplatform" (accepts_refer_from_peer =
        `flag`); the bot runs `scenario` with `-key refer_ok <refer_ok_to>` and `extra_keys`."""
        self.bot_rtp = RtpPeer(tone_hz=BOT_HZ)
        self.addCleanup(self.bot_rtp.stop)
        self.bot = SippUasScenario(self, scenario, name="bot", rtp=self.bot_rtp,
                                   extra=("-key", "refer_ok", refer_ok_to, *extra_keys))
        self.bot.wait_listening()
        self.agent = Agent(self, SCRIPT)
        self.gateway = Gateway(
            self, self.agent.url, accepts_refer=False,
            agent_options={"trunk": "carrier", "allow_patterns": ["+2711555*"], "caller_id": CALLER_ID},
            trunks=[provider_trunk(self.bot.address, name="aiplatform", accepts_refer_from_peer=flag),
                    provider_trunk(f"127.0.0.1:{self.carrier.port}", name="carrier", caller_ids=[CALLER_ID])],
            targets=[{"name": "Bot", "uri": f"sip:bot@{self.bot.address}", "via": "aiplatform"},
                     {"name": "Support", "uri": self.support_uri}])
        self.caller, self.rtp = start_caller(self, self.gateway, "uac-call-until-trigger.xml")
        self.agent.wait_event(type="start")
        self.rtp.send_dtmf("1")
        ended = self.agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Bot"), ended)
        self.agent.wait_event(type="stop", reason="transferred")
        ip, port, te = self.bot.gateway_media()
        self.bot_rtp.start_sending(ip, port, te or 101)
        wait_tone(self.rtp, BOT_HZ, timeout=10, what="the bot's voice at the caller (bridged)")
        self.call_id = self.gateway.only_call()

    def bot_messages(self):
        return sip_messages(self.bot.messages())

    def wait_bot_response(self, cseq):
        return wait_for(lambda: cseq_responses(self.bot_messages(), cseq), 15, f"the answer to the bot's {cseq}")[0]

    def assert_still_with_the_bot(self, what):
        calls = self.gateway.calls()
        self.assertEqual([(c["id"], c["state"]) for c in calls], [(self.call_id, "bridged")], what)
        since = self.rtp.count()
        wait_for(lambda: self.rtp.count() >= since + 25, 5, f"RTP at the caller after {what}")
        wait_tone(self.rtp, BOT_HZ, since=since, timeout=10, what=f"the bot's voice at the caller after {what}")

    def test_refer_from_the_bridged_target_moves_the_caller_to_a_configured_target(self):
        self.support = SippUasScenario(self, "uas-answer.xml", name="support")
        self.support.wait_listening()
        self.support_uri = f"sip:support@{self.support.address}"
        self.start_call("uas-bot-refers-on-trigger.xml", True, f"<{self.support_uri}>",
                        ("-key", "refer_bad", "<sip:support@127.0.0.1",
                         "-key", "refer_unconfigured", f"<sip:+442079460000@127.0.0.1:{self.carrier.port}>"))

        # Refused first: malformed (400), then not configured (403). Nothing is dialled.
        self.bot.trigger()
        self.assertEqual(self.wait_bot_response("1 REFER"), "SIP/2.0 400 Bad Request - Malformed Refer-To")
        self.assertEqual(self.wait_bot_response("2 REFER"), "SIP/2.0 403 Forbidden - Refer-To Not Configured")
        self.assert_still_with_the_bot("two refused REFERs")
        self.assertEqual(self.carrier.received(), [], "an unconfigured Refer-To was dialled")
        self.assertEqual(self.support.requests("INVITE"), [])

        # Then a configured one: 202, NOTIFYs in order, Support answers, the bot is released.
        self.bot.trigger()
        self.assertEqual(self.wait_bot_response("3 REFER"), "SIP/2.0 202 Accepted")
        wait_for(lambda: self.support.requests("INVITE"), 15, "warmline to call Support")
        self.bot.assert_passed(timeout=30)  # the NOTIFYs it checks, then warmline's BYE
        msgs = self.bot_messages()
        notifies = []
        for m in msgs:
            if m.startswith("NOTIFY ") and header(m, "CSeq") not in [header(n, "CSeq") for n in notifies]:
                notifies.append(m)
        self.assertEqual([m.split("\n\n", 1)[1].strip() for m in notifies],
                         ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK"])
        self.assertEqual([header(m, "Event", "o") for m in notifies], ["refer;id=3"] * 3)
        self.assertEqual([header(m, "Subscription-State") for m in notifies],
                         ["active;expires=60", "active;expires=60", "terminated;reason=noresource"])
        last_notify = max(i for i, m in enumerate(msgs) if m.startswith("NOTIFY "))
        byes = [i for i, m in enumerate(msgs) if m.startswith("BYE ")]
        self.assertTrue(byes and byes[0] > last_notify, "warmline's BYE to the bot comes after the final NOTIFY")

        # The caller, never hung up on, now talks to Support: its voice comes back from Support's echo.
        since = self.rtp.count()
        wait_tone(self.rtp, CALLER_HZ, since=since, timeout=10,
                  what="the caller's own voice back from Support's RTP echo, through the new bridge")
        calls = self.gateway.calls()
        self.assertEqual(len(calls), 1, calls)
        self.assertEqual(calls[0]["state"], "bridged")
        transfer = calls[0]["transfer"]
        self.assertEqual((transfer["mode"], transfer["target"], transfer["result"]), ("refer_in", "Support", "completed"))

        self.caller.trigger()  # the caller hangs up: warmline hangs up Support
        self.caller.assert_passed()
        self.support.assert_passed()
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        rows = wait_for(lambda: cdr_query(self.gateway.cdr_path, "SELECT mode, strategy, result, targets_tried "
                                          "FROM transfers ORDER BY requested_at"), 10, "the call's transfer rows")
        self.assertEqual([(m, s, r, json.loads(t)) for m, s, r, t in rows],
                         [("cold", "dial", "completed", ["Bot"]), ("refer_in", "dial", "completed", ["Support"])])
        self.assertEqual(self.carrier.received(), [], "nothing ever reached the carrier")

    def test_refer_through_a_trunk_without_the_flag_is_refused_and_dials_nothing(self):
        self.would_be = RawSip(self, name="would-be-target")
        self.support_uri = f"sip:support@127.0.0.1:{self.would_be.port}"
        self.start_call("uas-bot-refer-refused.xml", False, f"<{self.support_uri}>")
        self.bot.trigger()
        self.assertEqual(self.wait_bot_response("1 REFER"), "SIP/2.0 403 Forbidden - REFER not accepted")
        self.assert_still_with_the_bot("a REFER from a trunk without accepts_refer_from_peer")
        self.assertEqual(self.would_be.received(), [], "the Refer-To was dialled")
        self.assertEqual(self.carrier.received(), [])
        self.caller.trigger()  # the caller hangs up: warmline hangs up the bot
        self.caller.assert_passed()
        self.bot.assert_passed()
        self.assertEqual(self.would_be.received(), [], "the Refer-To was dialled")


if __name__ == "__main__":
    unittest.main()
