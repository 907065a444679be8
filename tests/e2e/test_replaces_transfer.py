"""Attended transfer with Replaces (mode "replaces"; RFC 3891, RFC 5589 §7; docs/transfers.md) with real
peers: a SIPp "PBX" that places the caller's call (one SIPp process, RTP from the test's RtpPeer) and is
also where the target is dialled (a second SIPp process on the same address, behind the caller's trunk
"local": its `address`), the reference agent consulting the target (briefing "agent", its accept once
the target has heard its tone), and the gateway.

- the PBX takes the REFER: the Refer-To is the target's Contact with `?Replaces=` naming leg b exactly
  (its Call-ID, to-tag = the target's tag, from-tag = ours, escaped), the REFER carries Referred-By;
  202, NOTIFY 100 then 200: warmline BYEs the caller's dialog and leg b, the agent hears `completed`
  with strategy `refer`, the call record says mode replaces, strategy refer;
- the PBX answers the REFER 405: warmline bridges caller and target itself (each hears the other's
  tone), `completed` with strategy `dial` and the 405 in the reason; the record has both attempts;
- the target reached directly, not through the caller's trunk: no REFER, bridged (strategy `dial`).

Tones: caller 1000 Hz, target 700 Hz, agent 1400 Hz (its consult).
"""
import json
import re
import unittest
from urllib.parse import quote

from harness import Agent, E2ETestCase, Gateway, cdr_query, wait_for, wait_tone
from rtp_peer import RtpPeer
from sipp_peer import SippUasScenario, header, sip_messages, start_caller

CALLER_HZ = 1000
TARGET_HZ = 700
AGENT_HZ = 1400

SCRIPT = f"""\
on dtmf 1: transfer replaces Bob id=t1 briefing=agent screening=agent hold=music
on transfer consulting: tone {AGENT_HZ} 1000; mark consulted
on mark consulted: accept t1
"""


def messages_of(peer, start):
    """The messages in `peer`'s SIPp log whose first line starts with `start`."""
    return [m for m in sip_messages(peer.messages()) if m.startswith(start)]


def tag_of(value):
    m = re.search(r";\s*tag=([^;>\s]+)", value or "")
    return m.group(1) if m else None


def hvalue_escape(text):
    """RFC 3261 §25.1 hvalue: unreserved and hnv-unreserved as they are, everything else %XX."""
    return quote(text, safe="-_.!~*'()[]/?:+$")


class ReplacesTransfer(E2ETestCase):
    def start_call(self, caller_scenario, through_callers_trunk=True):
        """The target (SIPp with a RtpPeer), the agent, the gateway (the caller's trunk `local` reaches
        the target's SIPp when `through_callers_trunk`, and Bob is dialled through it) and the caller.
        The caller presses 1; returns the caller's packet count at that moment."""
        self.target_rtp = RtpPeer(tone_hz=TARGET_HZ)
        self.addCleanup(self.target_rtp.stop)
        self.target = SippUasScenario(self, "uas-answer-with-rtp-peer.xml", name="target", rtp=self.target_rtp)
        self.target.wait_listening()
        bob = {"name": "Bob", "uri": f"sip:2001@{self.target.address}"}
        if through_callers_trunk:
            bob["via"] = "local"
        self.agent = Agent(self, SCRIPT)
        self.gateway = Gateway(self, self.agent.url, targets=[bob], refer_timeout_s=10,
                               caller_trunk_options={"address": self.target.address} if through_callers_trunk else {})
        self.caller, self.rtp = start_caller(self, self.gateway, caller_scenario, tone_hz=CALLER_HZ)
        self.agent.wait_event(type="start")
        self.call_id = self.gateway.only_call()
        since = self.rtp.count()
        self.rtp.send_dtmf("1")
        self.agent.wait_event(type="dtmf", digit="1")
        ip, port, te_pt = self.target.gateway_media(20)
        self.target_rtp.start_sending(ip, port, te_pt or 101)
        self.agent.wait_event(20, type="transfer", state="consulting", target="Bob")
        return since

    def ended(self):
        ended = self.agent.wait_event(30, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Bob"), ended)
        self.assertEqual(self.agent.find(type="error"), [])
        return ended

    def leg_b_replaces(self):
        """The Replaces value that names leg b, from the target's log: the Call-ID of the INVITE it
        got, its own tag (the 200's To) as to-tag, warmline's (the INVITE's From) as from-tag."""
        invite = messages_of(self.target, "INVITE ")[0]
        ok = [m for m in messages_of(self.target, "SIP/2.0 200") if "INVITE" in (header(m, "CSeq") or "")][0]
        call_id, ours, theirs = header(invite, "Call-ID", "i"), tag_of(header(invite, "From", "f")), tag_of(header(ok, "To", "t"))
        self.assertTrue(call_id and ours and theirs, (call_id, ours, theirs))
        return f"{call_id};to-tag={theirs};from-tag={ours}"

    def record(self):
        rows = wait_for(lambda: cdr_query(self.gateway.cdr_path, "SELECT mode, strategy, targets_tried, result, "
                                          "attempts FROM transfers WHERE call_id = ?", (self.call_id,)),
                        15, "the transfer's record")
        self.assertEqual(len(rows), 1, rows)
        mode, strategy, tried, result, attempts = rows[0]
        return mode, strategy, json.loads(tried), result, [(a["strategy"], a["result"], a["sip_status"])
                                                          for a in json.loads(attempts)]

    def assert_bridged(self, since):
        """Caller and target hear each other (each the other's tone), the caller from packet `since`."""
        wait_tone(self.rtp, TARGET_HZ, since=since, timeout=15, what="the target's 700 Hz tone at the caller")
        wait_tone(self.target_rtp, CALLER_HZ, since=self.target_rtp.count(), timeout=15,
                  what="the caller's 1 kHz tone at the target")

    def hang_up_bridged(self):
        self.caller.trigger()  # the caller hangs up: warmline BYEs the target
        self.caller.assert_passed()
        self.target.assert_passed()
        self.assertEqual(len(self.target.requests("BYE")), 1)
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

    def test_pbx_takes_the_refer_with_replaces_and_warmline_leaves_both_dialogs(self):
        self.start_call("uac-replaces-refer-accept-notify-200.xml")
        ended = self.ended()
        self.assertEqual((ended.get("strategy"), ended.get("sip_status")), ("refer", 200), ended)
        self.agent.wait_event(type="stop", reason="transferred")
        # The scenario checked the REFER's form, answered 202, sent both NOTIFYs and got our BYE.
        self.caller.assert_passed()
        refers = messages_of(self.caller, "REFER ")
        self.assertEqual(len({header(m, "CSeq") for m in refers}), 1, refers)
        expected = f"<sip:target@{self.target.address}?Replaces={hvalue_escape(self.leg_b_replaces())}>"
        self.assertEqual(header(refers[0], "Refer-To", "r"), expected)
        self.assertTrue(header(refers[0], "Referred-By", "b"), refers[0])
        # Leg b: warmline's BYE once the PBX reported the target joined (its only BYE).
        self.target.assert_passed()
        self.assertEqual(len(self.target.requests("BYE")), 1)
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        self.assertEqual(self.record(), ("replaces", "refer", ["Bob"], "completed", [("refer", "completed", 200)]))

    def test_pbx_refusing_the_refer_with_405_gets_caller_and_target_bridged_by_warmline(self):
        since = self.start_call("uac-replaces-refer-405-then-bridged.xml")
        ended = self.ended()
        self.assertEqual(ended.get("strategy"), "dial", ended)
        self.assertIn("405", ended.get("reason", ""), ended)
        self.assertEqual(len(messages_of(self.caller, "REFER ")), 1)
        self.assert_bridged(since)
        self.assertEqual(self.target.requests("BYE"), [], "the target must stay up while bridged")
        self.hang_up_bridged()
        self.assertEqual(self.record(), ("replaces", "dial", ["Bob"], "completed",
                                         [("refer", "rejected", 405), ("dial", "completed", 200)]))

    def test_target_not_behind_the_callers_trunk_is_bridged_without_a_refer(self):
        since = self.start_call("uac-call-until-trigger.xml", through_callers_trunk=False)
        ended = self.ended()
        self.assertEqual(ended.get("strategy"), "dial", ended)
        self.assertIn("not reached through the caller's trunk", ended.get("reason", ""), ended)
        self.assert_bridged(since)
        self.assertEqual(messages_of(self.caller, "REFER "), [], "no REFER for a target on another route")
        self.hang_up_bridged()
        self.assertEqual(self.record(), ("replaces", "dial", ["Bob"], "completed", [("dial", "completed", 200)]))


if __name__ == "__main__":
    unittest.main()
