"""Warm transfers (DESIGN.md "Transfers", warm; docs/agent-protocol.md "Transfers" -> "Warm") with real
peers: a SIPp caller whose RTP is the test's RtpPeer, the reference agent, and a target that warmline
dials itself (a warm transfer always dials, even on a caller's trunk that accepts REFER, as here).

- screening `agent`, baresip as the target: phase by phase, the held caller never hears the target;
  once the target answers it hears the spoken briefing (espeak-ng) and not the caller; the agent's
  transfer.accept, sent once the briefing has played, bridges the two (each hears the other's tone);
  the agent's events come in order and the call records show a warm transfer with two legs;
- the briefing lasts at the target as long as the same text, said by the agent, lasts at the caller
  (it is played at the rate the TTS rendered it at); the caller hanging up while the gate waits
  releases the target (`caller_hung_up`);
- screening `none`, a target answering 486: `busy`, the caller is back with the agent; one answering
  603: `declined`; one that rings out (the request's ring_timeout_s of 2 s): CANCEL, `no_answer`;
- screening `dtmf`, a target that answers and presses no key: `declined` no sooner than 10 s after
  the answer, the target gets a BYE, the caller is back with the agent;
- screening `agent`, a target that hangs up right after its ACK: `failed`;
- the agent's transfer.cancel while the target rings: CANCEL to the target, `cancelled`.

Every transfer is asked for by the agent's script when the caller presses 1; the warm accept of the
first test is sent when the caller presses 2, which the test does once the target's recording shows
that the briefing has played (an observable condition, not a timer): the gate only takes the accept
after the briefing (it answers `not_now` before), and no event tells the agent when that is.

Tones: caller 1000 Hz (RtpPeer), target 700 Hz (baresip's sine; away from the 440+480 Hz US ringback
that a held caller hears today), agent 1400 Hz (its answer to a failed transfer). The caller's hold
is `ringback` here: what it plays does not change when hold music lands.
"""
import unittest

from baresip_peer import Baresip
from harness import Agent, E2ETestCase, Gateway, assert_back_with_agent, matches, wait_for, wait_tone
from rtp_peer import max_tone_ratio
from sipp_peer import SippUasScenario, start_caller
from warm_checks import LOUD_RMS, assert_warm_transfer_records, block_levels, wait_speech

CALLER_HZ = 1000
TARGET_HZ = 700
AGENT_HZ = 1400
RINGBACK_HZ = (440, 480)  # [media] ringback "us", the default
BRIEFING = "Hello Bob, this is the assistant with a customer who needs help with a refund for order forty two"

SCRIPT = """\
on dtmf 1: transfer warm {target} id=t1 {options}
on dtmf 2: accept t1
on transfer ended !completed: tone {agent_hz} 3000
{extra}"""

class WarmTransfer(E2ETestCase):
    def start_call(self, target_name, target_uri, options, extra_rules=""):
        """The agent (SCRIPT with `options` for its warm transfer to `target_name`, and `extra_rules`),
        the gateway with that target, and a caller talking to the agent."""
        self.agent = Agent(self, SCRIPT.format(target=target_name, options=options, agent_hz=AGENT_HZ,
                                               extra=extra_rules))
        self.gateway = Gateway(self, self.agent.url, targets=[{"name": target_name, "uri": target_uri}])
        self.caller, self.rtp = start_caller(self, self.gateway, "uac-call-until-trigger.xml", tone_hz=CALLER_HZ)
        self.agent.wait_event(type="start")
        wait_for(self.agent.caller_audio_frames, 10, "the caller's audio at the agent before the transfer")

    def press_transfer(self):
        """The caller presses 1: the agent's transfer starts. Returns the caller's RTP packet count at
        that moment (what it heard from then on is the transfer's)."""
        since = self.rtp.count()
        self.rtp.send_dtmf("1")
        self.agent.wait_event(type="dtmf", digit="1")
        return since

    def transfer_states(self):
        return [e.get("state") for e in self.agent.find(type="transfer")]

    def transfer_event_time(self, state):
        """When the agent received its first transfer event in `state` (its events log's `ts`)."""
        stamps = [line["ts"] for line in self.agent.log_lines()
                  if matches(line.get("msg"), {"type": "transfer", "state": state})]
        self.assertTrue(stamps, f"no transfer {state} event")
        return stamps[0]

    def sipp_target(self, scenario, name, number):
        """A SIPp target on `scenario` (no RTP echo: it sends nothing) and its SIP URI, whose user is
        the `number` the provider scenarios expect."""
        target = SippUasScenario(self, scenario, name=name, rtp_echo=False)
        return target, f"sip:{number}@{target.address}"

    # -- 1. screening agent: briefing, accept, bridge ----------------------------------------------

    def test_briefed_target_accepted_by_the_agent_is_bridged_to_the_held_caller(self):
        bob = Baresip(self, user="2001", tone_hz=TARGET_HZ)
        self.start_call("Bob", f"sip:2001@127.0.0.1:{bob.sip_port}",
                        f'briefing="{BRIEFING}" screening=agent hold=ringback')
        held_from = self.press_transfer()

        self.agent.wait_event(20, type="transfer", state="answered", target="Bob")
        bob.wait_event(type="CALL_ESTABLISHED")
        self.assertEqual(bob.find(type="CALL_CLOSED"), [])

        # The briefing plays to the target; the agent waits (screening agent) until the test sees it
        # has played, and only then has the caller press 2 for the agent's accept.
        rate, briefed, (_, end) = wait_speech(bob.received, "the briefing in baresip's recording")
        self.assertEqual(self.agent.find(type="transfer", state="ended"), [], "the gate waits for the agent")
        self.assertEqual(bob.find(type="CALL_CLOSED"), [])

        # Before the accept: the target heard speech, and neither the caller nor the caller's hold audio.
        self.assertLess(max_tone_ratio(briefed, CALLER_HZ, rate), 0.2, "the target heard the caller before the accept")
        for hz in RINGBACK_HZ:
            self.assertLess(max_tone_ratio(briefed[:end], hz, rate), 0.3, "the target heard the caller's ringback")
        # ... and the held caller heard its hold audio (not silence), never the target.
        held = self.rtp.audio(held_from)
        self.assertLess(max_tone_ratio(held, TARGET_HZ), 0.1, "the held caller heard the target")
        self.assertGreater(max(block_levels(held, 8000), default=0), LOUD_RMS, "the held caller heard nothing")

        accepted_from = self.rtp.count()
        self.rtp.send_dtmf("2")
        self.agent.wait_event(type="dtmf", digit="2")
        ended = self.agent.wait_event(10, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Bob"), ended)
        self.agent.wait_event(type="stop", reason="transferred")

        # Bridged: each side hears the other's tone.
        wait_tone(self.rtp, TARGET_HZ, since=accepted_from, timeout=10, what="the target's 700 Hz tone at the caller")
        wait_for(lambda: bob.hears_tone(CALLER_HZ), 10, "the caller's 1 kHz tone in baresip's recording")

        self.assertEqual(self.agent.find(type="error"), [], "the agent's accept must have been taken")
        self.assertIn(self.transfer_states(), (["dialing", "ringing", "answered", "ended"],
                                               ["dialing", "answered", "ended"]))
        kinds = [(e.get("type"), e.get("state") or e.get("reason")) for e in self.agent.events()
                 if e.get("type") in ("transfer", "stop")]
        self.assertEqual(kinds[-2:], [("transfer", "ended"), ("stop", "transferred")], kinds)
        call_id = self.gateway.only_call()

        self.caller.trigger()  # the caller hangs up: the target's leg ends too, and the records are written
        self.caller.assert_passed()
        bob.wait_event(type="CALL_CLOSED")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        assert_warm_transfer_records(self, self.gateway.cdr_path, call_id, "Bob", f"2001@127.0.0.1:{bob.sip_port}")

    # -- the briefing's speed; the caller hanging up while the gate waits --------------------------

    def test_briefing_lasts_as_long_at_the_target_as_the_same_text_at_the_caller(self):
        # The same text from the same TTS: the caller hears it as the agent's `say`, the target as the
        # briefing. Played at the rate it was rendered at, it lasts as long on both legs; rendered at
        # one rate and played at another, it is slower (and lower) or faster (and higher) by their ratio.
        bob = Baresip(self, user="2001", tone_hz=TARGET_HZ)
        self.start_call("Bob", f"sip:2001@127.0.0.1:{bob.sip_port}",
                        f'briefing="{BRIEFING}" screening=agent hold=ringback',
                        extra_rules=f'on start: say "{BRIEFING}"\n')
        _, _, (said_from, said_to) = wait_speech(lambda: (8000, self.rtp.audio()), "the agent's say at the caller")
        self.press_transfer()
        self.agent.wait_event(20, type="transfer", state="answered", target="Bob")
        rate, _, (briefed_from, briefed_to) = wait_speech(bob.received, "the briefing in baresip's recording")

        # The caller hangs up while the gate waits for the agent: the target is released too.
        self.caller.trigger()
        self.caller.assert_passed()
        ended = self.agent.wait_event(type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("caller_hung_up", "Bob"), ended)
        bob.wait_event(type="CALL_CLOSED")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

        said_s = (said_to - said_from) / 8000
        briefed_s = (briefed_to - briefed_from) / rate
        self.assertAlmostEqual(briefed_s / said_s, 1.0, delta=0.2,
                               msg=f"the briefing lasted {briefed_s:.1f} s at the target, the same text "
                                   f"{said_s:.1f} s at the caller")

    # -- 2. screening none, busy target ------------------------------------------------------------

    def test_busy_target_returns_the_caller_to_the_agent(self):
        target, uri = self.sipp_target("uas-provider-busy.xml", "busy", "+27115550101")
        self.start_call("Busy", uri, f'briefing="{BRIEFING}" screening=none hold=ringback')
        self.press_transfer()
        assert_back_with_agent(self, self.agent, self.gateway, self.caller, self.rtp, "busy", target="Busy",
                               sip_status=486, agent_hz=AGENT_HZ)
        target.assert_passed()  # its INVITE got 486 and the ACK
        self.assertNotIn("answered", self.transfer_states())

    def test_declining_target_returns_the_caller_to_the_agent(self):
        target, uri = self.sipp_target("uas-provider-decline.xml", "decline", "+27115550102")
        self.start_call("Nope", uri, f'briefing="{BRIEFING}" screening=none hold=music')
        self.press_transfer()
        assert_back_with_agent(self, self.agent, self.gateway, self.caller, self.rtp, "declined", target="Nope",
                               sip_status=603, agent_hz=AGENT_HZ)
        target.assert_passed()

    def test_target_ringing_out_is_cancelled_and_the_caller_returns_to_the_agent(self):
        target, uri = self.sipp_target("uas-provider-ring-no-answer.xml", "ringout", "+27115550103")
        self.start_call("Late", uri, f'briefing="{BRIEFING}" screening=none hold=music ring_timeout_s=2')
        self.press_transfer()
        assert_back_with_agent(self, self.agent, self.gateway, self.caller, self.rtp, "no_answer", target="Late",
                               agent_hz=AGENT_HZ)
        target.assert_passed()  # the CANCEL came, 487 and its ACK
        self.assertIn("ringing", self.transfer_states())

    # -- 3. screening dtmf, no key -----------------------------------------------------------------

    def test_target_pressing_no_key_declines_after_10_s(self):
        target, uri = self.sipp_target("uas-answer.xml", "quiet", "+27115550102")
        self.start_call("Quiet", uri, 'briefing="A customer for you." screening=dtmf hold=ringback')
        self.press_transfer()
        self.agent.wait_event(20, type="transfer", state="answered", target="Quiet")
        # The briefing and the prompt play, then 10 s pass without a key: bounded generously.
        assert_back_with_agent(self, self.agent, self.gateway, self.caller, self.rtp, "declined", target="Quiet",
                               agent_hz=AGENT_HZ, timeout=60)
        target.assert_passed()  # answered, then warmline's BYE (the scenario ends on it)
        self.assertEqual(len(target.requests("BYE")), 1)
        # The 10 s start after the prompt, so a decline sooner than 10 s after the answer is wrong.
        waited = self.transfer_event_time("ended") - self.transfer_event_time("answered")
        self.assertGreaterEqual(waited, 10.0, "declined before the target's 10 s to press a key were over")

    # -- 4. screening agent, the target hangs up at once -------------------------------------------

    def test_target_hanging_up_before_the_accept_fails(self):
        target, uri = self.sipp_target("uas-answer-then-bye.xml", "gone", "+27115550104")
        self.start_call("Gone", uri, f'briefing="{BRIEFING}" screening=agent hold=ringback')
        self.press_transfer()
        self.agent.wait_event(20, type="transfer", state="answered", target="Gone")
        target.assert_passed()  # its BYE got warmline's 200
        assert_back_with_agent(self, self.agent, self.gateway, self.caller, self.rtp, "failed", target="Gone",
                               agent_hz=AGENT_HZ)

    # -- 5. the agent cancels while the target rings -----------------------------------------------

    def test_agent_cancel_while_the_target_rings_cancels_it(self):
        target, uri = self.sipp_target("uas-provider-ring-no-answer.xml", "ringing", "+27115550103")
        # The agent cancels as soon as it hears the target ring; the ring timeout (60 s) is far beyond
        # the 10 s within which the scenario needs the CANCEL.
        self.start_call("Carol", uri, "screening=agent hold=ringback ring_timeout_s=60",
                        extra_rules="on transfer ringing: cancel\n")
        self.press_transfer()
        self.agent.wait_event(15, type="transfer", state="ringing", target="Carol")
        target.assert_passed()  # CANCEL, 200, 487, ACK
        self.assertEqual(len(target.requests("CANCEL")), 1)
        assert_back_with_agent(self, self.agent, self.gateway, self.caller, self.rtp, "cancelled", target="Carol",
                               agent_hz=AGENT_HZ)
        self.assertNotIn("answered", self.transfer_states())


if __name__ == "__main__":
    unittest.main()
