"""Session timers (RFC 4028, issue 11 part 3): long calls survive because the sessions are refreshed,
and a session nobody refreshes ends with BYE. Another gateway without them had most outbound calls
reaching 15 minutes torn down by the far end.

RFC 4028's smallest Min-SE is 90 s, so the test runs its cases as concurrent calls through one
gateway (about 100 s in all), with SIPp as the callers and as the dialled target:
- "refreshed": a caller that first asks Session-Expires: 60 gets 422 with Min-SE: 90; its retry asks
  90;refresher=uas; the 200 says Session-Expires: 90;refresher=uas with Require: timer, and the
  gateway then refreshes with UPDATE (the caller's Allow lists it) at half the interval, twice
  (~45 s and ~90 s), each UPDATE with Session-Expires and Supported: timer; the call is still up
  after both, and the caller hangs up;
- "stopper": a caller that is the refresher (90;refresher=uac) refreshes once 30 s in (its 200 carries
  Session-Expires), then stops: the gateway sends BYE 60 s (90 - min(32, 90/3)) after that refresh,
  not 60 s after the answer; the call record's end reason and the agent's stop say session_expired,
  and warmline_sip_sessions_expired_total counts it;
- "dialer": a caller whose agent transfers it (bridged dial) to a target behind a trunk with
  session_timer_s = 90: our INVITE asks Session-Expires: 90, Min-SE: 90, Supported: timer; the target
  answers 90;refresher=uac, and the gateway refreshes leg b with UPDATE at ~45 s; the bridged call goes
  on until the caller hangs up (the gateway then BYEs the target);
- "dialer2": the same through a trunk to a target that does not do UPDATE (its 2xx's Allow lacks it):
  the gateway refreshes leg b with a re-INVITE carrying its SDP (RFC 4028 §7.4), answered with SDP and
  ACKed, twice about 45 s apart, so the bridged call outlives the 90 s interval. Before, such a leg
  was left to expire and was torn down with BYE.

And, on its own: a trunk with session_min_se_s = 1800 answers an INVITE asking Session-Expires: 900
with 422 and Min-SE: 1800 (RFC 4028 §6), and lets one asking 1800 in.
"""
import os
import time
import unittest

from harness import Agent, E2ETestCase, Gateway, cdr_query, provider_trunk, unreachable_agent_url, wait_for, wait_line
from raw_sip import RawSip, header, status_code
from sipp_peer import SippUasScenario, start_caller

TARGET_CALLER_ID = "+27110000001"
AGENT_CALLER_ID = "+27110000002"
SCRIPT = """\
on start: tone 440 200
on dtmf 1: transfer cold Sales
on dtmf 2: transfer cold Support
"""
SIPP_LIMIT_S = 150  # the longest call here lasts about 100 s


class SessionTimers(E2ETestCase):
    def line(self, peer, suffix, timeout, what):
        """The line a scenario's <exec> wrote to the peer's file + `suffix` (a caller's media_file, the
        target's call_file), and when the test saw it."""
        path = peer.call_path if isinstance(peer, SippUasScenario) else peer.media_path
        text = wait_line(path.with_name(path.name + suffix), timeout, what)
        return text.strip(), time.monotonic()

    def assert_between(self, seconds, low, high, what):
        self.assertTrue(low <= seconds <= high, f"{what}: {seconds:.1f} s, expected {low} to {high} s")

    def test_the_trunks_min_se_is_what_a_422_asks_for(self):
        gateway = Gateway(self, unreachable_agent_url(), caller_trunk_options={"session_min_se_s": 1800})
        phone = RawSip(self, name="phone", answer=200)  # answers the BYE after the fallback message
        uri = f"sip:demo@127.0.0.1:{gateway.sip_port}"
        sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {phone.port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

        def invite(session_expires, call_id):
            return phone.request("INVITE", ("127.0.0.1", gateway.sip_port), uri, call_id, "sip:probe@127.0.0.1",
                                 "p1", uri, contact=f"sip:probe@127.0.0.1:{phone.port}", body=sdp,
                                 content_type="application/sdp",
                                 extra=("Supported: timer", f"Session-Expires: {session_expires}", "Min-SE: 90"))
        r = invite(900, "min-se-1@127.0.0.1")
        self.assertEqual(status_code(r), 422, r)
        self.assertEqual(header(r, "Min-SE"), "1800", r)
        # At our Min-SE the call is taken: answered (the unreachable agent's fallback) with 1800.
        r = invite(1800, "min-se-2@127.0.0.1")
        self.assertEqual(status_code(r), 200, r)
        self.assertTrue((header(r, "Session-Expires") or "").startswith("1800;"), r)
        phone.wait_request("BYE", timeout=30)  # the fallback message played; the gateway hung up

    def test_refreshes_422_expiry_and_a_dialled_leg(self):
        target = SippUasScenario(self, "uas-session-timer-refresher-uac.xml", name="target", timeout_s=SIPP_LIMIT_S)
        target2 = SippUasScenario(self, "uas-session-timer-reinvite-refresh.xml", name="target2",
                                  timeout_s=SIPP_LIMIT_S)
        agent = Agent(self, SCRIPT)
        trunk = provider_trunk(target.address, caller_ids=[TARGET_CALLER_ID, AGENT_CALLER_ID], session_timer_s=90)
        no_update = provider_trunk(target2.address, name="no-update", session_timer_s=90)
        gateway = Gateway(self, agent.url, accepts_refer=False, trunks=[trunk, no_update],
                          targets=[{"name": "Sales", "uri": "tel:+27115550100", "caller_id": TARGET_CALLER_ID},
                                   {"name": "Support", "uri": f"sip:support@{target2.address}", "via": "no-update"}],
                          agent_options={"trunk": "provider", "caller_id": AGENT_CALLER_ID})
        target.wait_listening()
        target2.wait_listening()

        stopper, _ = start_caller(self, gateway, "uac-session-timer-refresh-once-then-stop.xml", name="stopper",
                                  timeout_s=SIPP_LIMIT_S)
        stopper_answered = time.monotonic()
        refreshed, _ = start_caller(self, gateway, "uac-session-timer-422-then-gateway-refreshes.xml",
                                    name="refreshed", timeout_s=SIPP_LIMIT_S)
        refreshed_answered = time.monotonic()
        dialer, dialer_rtp = start_caller(self, gateway, "uac-call-until-trigger.xml", name="dialer",
                                          timeout_s=SIPP_LIMIT_S)
        dialer2, dialer2_rtp = start_caller(self, gateway, "uac-call-until-trigger.xml", name="dialer2",
                                            timeout_s=SIPP_LIMIT_S)

        # The answers: 422 with our Min-SE, then the terms each caller asked for, with Require: timer.
        self.assertEqual(self.line(refreshed, ".422", 5, "the 422's Min-SE")[0], "90")
        self.assertEqual(self.line(refreshed, ".answer", 5, "the 200's timer headers")[0], "90;refresher=uas timer")
        self.assertEqual(self.line(stopper, ".answer", 5, "the 200's timer headers")[0], "90;refresher=uac timer")

        # Leg b: the dialer's agent transfers it to the target through the trunk with session_timer_s.
        wait_for(lambda: agent.find(type="start") and len(agent.find(type="start")) >= 4, 15, "four agent starts")
        dialer_rtp.send_dtmf("1")
        ended = agent.wait_event(20, type="transfer", state="ended", target="Sales")
        self.assertEqual(ended.get("result"), "completed", ended)
        target_answered = time.monotonic()
        self.assertEqual(self.line(target, ".invite", 5, "the target's INVITE timer headers")[0], "90 90 timer")
        # Leg b to the target without UPDATE.
        dialer2_rtp.send_dtmf("2")
        ended = agent.wait_event(20, type="transfer", state="ended", target="Support")
        self.assertEqual(ended.get("result"), "completed", ended)

        # The stopper refreshes once, 30 s in: answered with Session-Expires.
        refresh, stopper_refreshed = self.line(stopper, ".refresh1", 45, "the stopper's refresh answered")
        self.assertEqual(refresh, "90;refresher=uac")

        # The gateway refreshes the caller who asked it to, and leg b, at half the interval.
        refresh, first = self.line(refreshed, ".refresh1", 70, "the gateway's first refresh of the caller")
        self.assertEqual(refresh, "90;refresher=uac timer")
        self.assert_between(first - refreshed_answered, 40, 52, "the first refresh after the answer")
        refresh, target_refresh = self.line(target, ".refresh1", 70, "the gateway's refresh of leg b")
        self.assertEqual(refresh, "90;refresher=uac")
        self.assert_between(target_refresh - target_answered, 40, 52, "leg b's refresh after its answer")
        # The refreshed leg b is still bridged; the dialer hangs up (its scenario waits 60 s at most).
        dialer.trigger()  # the gateway BYEs the target
        dialer.assert_passed()
        target.assert_passed()

        # The stopper refreshes no more: BYE 60 s after its refresh (90 s after the answer, not 60).
        self.line(stopper, ".bye", 80, "the gateway's BYE to the caller who stopped refreshing")
        bye_at = time.monotonic()
        self.assert_between(bye_at - stopper_refreshed, 55, 67, "the BYE after the last refresh")
        self.assertGreater(bye_at - stopper_answered, 85, "a refresh must restart the session timer")
        stopper.assert_passed()
        agent.wait_event(type="stop", reason="session_expired")
        wait_for(lambda: cdr_query(gateway.cdr_path, "SELECT calls.end_reason FROM calls JOIN legs ON "
                                   "legs.call_id = calls.id WHERE legs.sip_call_id = ?", (stopper.call_id,)),
                 15, "the expired call's record")
        self.assertEqual(cdr_query(gateway.cdr_path, "SELECT calls.end_reason FROM calls JOIN legs ON "
                                   "legs.call_id = calls.id WHERE legs.sip_call_id = ?", (stopper.call_id,)),
                         [("session_expired",)])
        self.assertEqual(gateway.metric("warmline_sip_sessions_expired_total"), 1)

        # The refreshed caller: a second refresh 45 s after the first, and the call is still up.
        refresh, second = self.line(refreshed, ".refresh2", 70, "the gateway's second refresh of the caller")
        self.assertEqual(refresh, "90;refresher=uac timer")
        self.assert_between(second - first, 40, 52, "the second refresh after the first")
        self.assertEqual(len(gateway.calls()), 2, "the refreshed call stays up (beside dialer2's, bridged)")
        refreshed.trigger()
        refreshed.assert_passed()

        # Leg b without UPDATE: two re-INVITE refreshes with SDP, about 45 s apart, each ACKed (the
        # scenario writes the file on the ACK); the bridged call is still up after both.
        refresh1 = self.line(target2, ".refresh1", 70, "the gateway's first re-INVITE refresh of leg b")[0]
        self.assertRegex(refresh1, r"^90;refresher=uac m=audio \d+ RTP/AVP$")
        refresh2 = self.line(target2, ".refresh2", 70, "the gateway's second re-INVITE refresh of leg b")[0]
        self.assertEqual(refresh2, refresh1, "the same session description, unchanged")
        base = target2.call_path
        apart = os.path.getmtime(base.with_name(base.name + ".refresh2")) - \
            os.path.getmtime(base.with_name(base.name + ".refresh1"))
        self.assert_between(apart, 40, 52, "the second re-INVITE refresh after the first")
        dialer2.trigger()  # the gateway BYEs the target
        dialer2.assert_passed()
        target2.assert_passed()
        self.assertEqual(gateway.metric("warmline_sip_sessions_expired_total"), 1, "no other session expired")


if __name__ == "__main__":
    unittest.main()
