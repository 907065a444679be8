"""Warm transfers in which the agent talks to the target itself (docs/agent-protocol.md "transfer",
"Binary: the caller's audio", "transfer.accept, transfer.cancel, transfer.complete", "Transfers" ->
Warm; docs/http-api.md ".../transfer/{tid}/accept"), with real peers, checked phase by phase by ear
(Goertzel): a SIPp caller whose RTP is the test's RtpPeer, baresip as the target, and the reference
agent, which records every audio frame it receives and where each event came in that audio.

- consult (screening agent): after `consulting` the agent hears the target alone, the target hears
  the agent's tone, the caller hears hold music and neither of them; the agent's accept (once the
  target has heard its tone: a mark) bridges caller and target;
- introduce: in the three-way each party hears the other two, the agent hears caller and target
  mixed and not itself; its transfer.complete ends it and what it sends after that reaches nobody;
- listen: stereo frames, caller left and target right; what the agent sends is heard by nobody; the
  caller's hang-up ends the agent's stream with `caller_hangup`;
- the HTTP accept: 409 while the target rings, 200 once it answered (bridged), 404 after that;
- the agent killed mid-consult (screening none): the caller is put through all the same.

Tones: caller 1000 Hz (RtpPeer), target 700 Hz (baresip's sine), agent 1400 Hz (its `tone` action).
The hold is the default, music (conf/audio/hold-music.wav: loud in every 100 ms block, nothing at
these three tones, and none of the 480 Hz of the US ringback).
"""
import math
import signal
import struct
import unittest

from baresip_peer import Baresip
from harness import Agent, E2ETestCase, Gateway, matches, wait_for
from rtp_peer import max_tone_ratio, rms, tone_ratio
from sipp_peer import SippUasScenario, start_caller

CALLER_HZ = 1000
TARGET_HZ = 700
AGENT_HZ = 1400
RINGBACK_ONLY_HZ = 480  # in the US ringback (440 + 480 Hz), not in the hold music
AGENT_RATE = 16000  # the harness's agent sample_rate
CALLER_RATE = 8000  # PCMU at the RtpPeer

WINDOW_S = 0.2
PURE = 0.5    # a window that holds this tone alone (and nothing else: NOISE_RMS)
# A window where this tone is one of two or three voices: the caller's tone (RtpPeer, amplitude 4000)
# is about 0.07 of a mix with the target's (baresip's sine, about 15000).
MIXED = 0.03
ABSENT = 0.01  # a window without this tone (the noise of G.711 and resampling stays far below)
# What is left of a window once the tones it should hold are taken out (`leftover_rms`): about 100
# (G.711, resampling) where only they play; the hold music alone is 1,200 to 2,500.
NOISE_RMS = 400
# The agent's mix of caller and target may start with a few frames in which one of them is missing:
# it waits at most 60 ms for the slower stream (docs/agent-protocol.md, "Binary: the caller's audio"),
# and the gap leaves energy outside the tones. Checks of the mix allow for that in its first second.
MIX_SETTLE_S = 1.0
# baresip records what it decoded after its jitter buffer (5-10 frames), so what reached it just
# before the test saw an event can still be written a little after: checks of what it heard after
# an event skip this much.
PEER_LAG_S = 0.5


def samples_of(data):
    """16-bit little-endian PCM bytes as a list of ints."""
    n = len(data) // 2
    return list(struct.unpack(f"<{n}h", data[:2 * n]))


def windows(samples, rate):
    """`samples` cut into whole WINDOW_S windows."""
    n = int(rate * WINDOW_S)
    return [samples[i:i + n] for i in range(0, len(samples) - n + 1, n)]


def leftover_rms(window, hzs, rate):
    """The RMS of `window` less the tones `hzs` (their Goertzel shares of its energy; each tone fills
    whole periods of a window, so the shares add up): the codec's noise where only those tones
    play, else the level of whatever else is mixed in (hold music, another voice)."""
    share = 1.0 - sum(tone_ratio(window, hz, rate) for hz in hzs)
    return math.sqrt(max(0.0, share) * sum(s * s for s in window) / len(window))


def holds_only(window, hzs, rate, least):
    """Whether `window` holds every tone of `hzs` (a `tone_ratio` above `least`) and nothing else."""
    return all(tone_ratio(window, hz, rate) > least for hz in hzs) and leftover_rms(window, hzs, rate) < NOISE_RMS


def tone_seconds(samples, hz, rate):
    """How long (whole windows) `samples` hold `hz` alone."""
    return sum(holds_only(w, [hz], rate, PURE) for w in windows(samples, rate)) * WINDOW_S


def both_seconds(samples, hz_a, hz_b, rate):
    """How long (whole windows) `samples` hold both tones at once and nothing else (a mix of two voices)."""
    return sum(holds_only(w, [hz_a, hz_b], rate, MIXED) for w in windows(samples, rate)) * WINDOW_S


def first_pure(samples, hz, rate):
    """The sample index where the first window that is `hz` alone starts, or None."""
    for i, w in enumerate(windows(samples, rate)):
        if holds_only(w, [hz], rate, PURE):
            return i * len(w)
    return None


def window_report(samples, hzs, rate):
    """Each window's ratios of `hzs` and its leftover, for a failure's message."""
    return [(*(round(tone_ratio(w, hz, rate), 2) for hz in hzs), int(leftover_rms(w, hzs, rate)))
            for w in windows(samples, rate)]


def around(samples, at, rate):
    """`samples` before and after the window that starts at `at` (the first one of something new),
    less one window on either side: the change falls within the window before it, and a peer's
    packet loss concealment can carry a trace of the old sound into that one."""
    window = int(WINDOW_S * rate)
    return samples[:max(0, at - window)], samples[at + window:]


def quiet_blocks(samples, rate, level=300):
    """How many 100 ms blocks of `samples` are quieter than `level` (RMS)."""
    n = rate // 10
    return sum(rms(samples[i:i + n]) < level for i in range(0, len(samples) - n + 1, n))


def wait_hears(received, hz, what, seconds=1.0):
    """Waits until `received()` ((rate, samples) a party has heard) holds a window of `hz` alone and
    `seconds` more after its start; returns (rate, samples, where that window starts). From there on
    the party must hear `hz` alone (nothing mixed in) nearly all the time."""
    def heard():
        rate, samples = received()
        at = first_pure(samples, hz, rate) if rate else None
        return (rate, samples, at) if at is not None and len(samples) - at >= seconds * rate else None
    rate, samples, at = wait_for(heard, 15, what)
    rest = samples[at:]
    if tone_seconds(rest, hz, rate) < 0.9 * len(rest) / rate - WINDOW_S:
        raise AssertionError(f"{what}: not alone, {window_report(rest, [hz], rate)}")
    return rate, samples, at


class WarmConsult(E2ETestCase):
    def start_call(self, script, targets):
        """The recording agent with `script`, the gateway with `targets`, and a caller talking to it."""
        self.agent = Agent(self, script, record=True)
        self.gateway = Gateway(self, self.agent.url, targets=targets)
        self.caller, self.rtp = start_caller(self, self.gateway, "uac-call-until-trigger.xml", tone_hz=CALLER_HZ)
        self.agent.wait_event(type="start")
        wait_for(self.agent.caller_audio_frames, 10, "the caller's audio at the agent before the transfer")

    def start_with_bob(self, options, rules=""):
        """baresip as Bob, and a call whose agent transfers to Bob (warm, id t1, a consult, `options`)
        when the caller presses 1; `rules`: more lines of the agent's script."""
        self.bob = Baresip(self, user="2001", tone_hz=TARGET_HZ)
        self.start_call(f"on dtmf 1: transfer warm Bob id=t1 briefing=agent {options}\n{rules}",
                        [{"name": "Bob", "uri": self.bob.uri}])

    def press(self, digit):
        """The caller presses `digit` and the agent gets it; returns the caller's packet count before."""
        since = self.rtp.count()
        self.rtp.send_dtmf(digit)
        self.agent.wait_event(type="dtmf", digit=digit)
        return since

    def bob_heard(self):
        """How many samples baresip has recorded so far."""
        return len(self.bob.received()[1])

    def agent_heard(self, since_event, until_event=None):
        """The agent's received audio between the first frames matching `since_event` and
        `until_event` (dicts of fields; None: up to now), as samples (interleaved when stereo)."""
        data = self.agent.received_audio()
        start = self.agent.audio_offset(**since_event)
        end = self.agent.audio_offset(**until_event) if until_event else len(data)
        self.assertIsNotNone(start, since_event)
        self.assertIsNotNone(end, until_event)
        return samples_of(data[start:end])

    def samples_per_frame_since(self, **fields):
        """The 16-bit samples in each binary frame the agent received after the first text frame
        with `fields`: from its running totals (`audio` lines, once a second) logged after that frame."""
        lines = self.agent.log_lines()
        first = next(i for i, line in enumerate(lines)
                     if line.get("kind") == "text" and matches(line.get("msg"), fields))
        totals = [(line["frames"], line["samples"]) for line in lines[first:] if line.get("kind") == "audio"]
        self.assertGreaterEqual(len(totals), 2, f"the agent's audio totals after {fields}")
        (frames_a, samples_a), (frames_b, samples_b) = totals[0], totals[-1]
        self.assertGreater(frames_b, frames_a, totals)
        return (samples_b - samples_a) / (frames_b - frames_a)

    def wait_heard_for(self, seconds, caller_since, bob_since):
        """Waits until the caller (from packet `caller_since`) and the target (from sample `bob_since`)
        have heard `seconds` of audio."""
        wait_for(lambda: len(self.rtp.audio(caller_since)) >= seconds * CALLER_RATE, seconds + 10,
                 f"{seconds} s of audio at the caller")
        wait_for(lambda: self.bob_heard() - bob_since >= seconds * self.bob.received()[0], seconds + 10,
                 f"{seconds} s of audio at the target")

    def assert_bridged(self, since):
        """Caller and target hear each other, each the other's tone alone, the caller from its packet
        `since` on. Returns what the caller heard from `since` until the bridge, and the target's rate
        and what it heard before and after the bridge (`around`)."""
        _, heard, at = wait_hears(lambda: (CALLER_RATE, self.rtp.audio(since)), TARGET_HZ,
                                  "the target's 700 Hz tone at the caller")
        rate, bob_heard, bob_at = wait_hears(self.bob.received, CALLER_HZ, "the caller's 1 kHz tone at the target")
        return (around(heard, at, CALLER_RATE)[0], rate, *around(bob_heard, bob_at, rate))

    def assert_never(self, samples, hz, what, rate=CALLER_RATE):
        """No window of `samples` holds `hz` (ABSENT): `what` never happened."""
        self.assertLess(max_tone_ratio(samples, hz, rate), ABSENT, what)

    def hang_up(self):
        """The caller hangs up: its scenario ends cleanly and the target's leg ends too."""
        self.caller.trigger()
        self.caller.assert_passed()
        self.bob.wait_event(type="CALL_CLOSED")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

    def states(self):
        return [e.get("state") for e in self.agent.find(type="transfer")]

    def assert_transferred(self):
        ended = self.agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Bob"), ended)
        self.agent.wait_event(type="stop", reason="transferred")
        self.assertEqual(self.agent.find(type="error"), [])

    # -- a. consult, screening agent ---------------------------------------------------------------

    def test_consult_the_agent_and_target_talk_while_the_caller_hears_music_then_the_accept_bridges(self):
        # The agent speaks to the target for 3 s; its mark is reported when the target has heard all
        # of it, and only then does the agent accept (an observable point, no timer).
        self.start_with_bob("screening=agent", rules=(f"on transfer consulting: tone {AGENT_HZ} 3000; mark consulted\n"
                                                      "on mark consulted: accept t1\n"))
        held_from = self.press("1")
        self.agent.wait_event(20, type="transfer", state="consulting")
        self.assert_transferred()
        on_hold, rate, consulted, bob_bridged = self.assert_bridged(held_from)
        self.assertIn(self.states(), (["dialing", "ringing", "answered", "consulting", "ended"],
                                      ["dialing", "answered", "consulting", "ended"]))

        # The agent, from `consulting` to `ended`: the target's tone alone (not the caller, not the
        # hold music, not itself), for as long as its own tone played to the target.
        consult = self.agent_heard({"type": "transfer", "state": "consulting"},
                                   {"type": "transfer", "state": "ended"})
        self.assertGreater(len(consult), 2.5 * AGENT_RATE, "the consult ended before the agent's tone played")
        self.assertGreater(tone_seconds(consult, TARGET_HZ, AGENT_RATE), 0.9 * len(consult) / AGENT_RATE - WINDOW_S,
                           f"the consulting agent did not hear the target alone: "
                           f"{window_report(consult, [TARGET_HZ], AGENT_RATE)}")
        for hz, who in ((CALLER_HZ, "the caller"), (AGENT_HZ, "itself")):
            self.assert_never(consult, hz, f"the consulting agent heard {who}", AGENT_RATE)

        # The target: the agent's tone (3 s, alone), then from the bridge on the caller.
        self.assertGreaterEqual(tone_seconds(consulted, AGENT_HZ, rate), 2.6, "the target did not hear the agent")
        self.assert_never(consulted, CALLER_HZ, "the target heard the caller in the consult", rate)
        self.assert_never(bob_bridged, AGENT_HZ, "the target heard the agent after the accept", rate)

        # The caller: hold music (loud throughout, not ringback) from the transfer to the bridge, and
        # at no time the agent's tone or, before the bridge, the target's.
        self.assertGreater(len(on_hold) / CALLER_RATE, len(consult) / AGENT_RATE - 2 * WINDOW_S,
                           "the caller was held for less than the consult")
        self.assertLessEqual(quiet_blocks(on_hold[CALLER_RATE // 2:], CALLER_RATE), 1, "the held caller heard silence")
        for hz, what in ((TARGET_HZ, "the target"), (RINGBACK_ONLY_HZ, "ringback, not music")):
            self.assert_never(on_hold, hz, f"the held caller heard {what}")
        self.assert_never(self.rtp.audio(held_from), AGENT_HZ, "the caller heard the agent's consult")
        self.hang_up()

    # -- b. introduce: a three-way until transfer.complete -----------------------------------------

    def test_introduce_all_three_hear_each_other_until_the_agents_complete(self):
        # In the three-way the agent's mark is reported when the caller has heard its tone; then it
        # completes. The tone it sends on `ended` must reach nobody.
        self.start_with_bob("screening=agent introduce=true",
                            rules=("on transfer consulting: accept t1\n"
                                   f"on transfer bridged: tone {AGENT_HZ} 3000; mark introduced\n"
                                   "on mark introduced: complete t1\n"
                                   f"on transfer ended completed: tone {AGENT_HZ} 3000\n"))
        self.press("1")
        bridged = self.agent.wait_event(20, type="transfer", state="bridged")
        three_way_from, bob_from = self.rtp.count(), self.bob_heard()
        self.assertEqual(bridged.get("channels"), 1, bridged)
        self.agent.wait_event(20, type="transfer", state="ended")
        after_from, bob_after = self.rtp.count(), self.bob_heard()
        self.assert_transferred()
        self.assertEqual(self.states()[-3:], ["consulting", "bridged", "ended"])

        # The three-way: the caller hears target and agent at once, the target caller and agent, the
        # agent caller and target mixed, all through its 3 s tone (and not itself).
        caller_3 = self.rtp.audio(three_way_from)[:(after_from - three_way_from) * 160]
        self.assertGreaterEqual(both_seconds(caller_3, TARGET_HZ, AGENT_HZ, CALLER_RATE), 2.4,
                                f"the caller did not hear target and agent together (alone): "
                                f"{window_report(caller_3, [TARGET_HZ, AGENT_HZ], CALLER_RATE)}")
        rate, heard = self.bob.received()
        self.assertGreaterEqual(both_seconds(heard[bob_from:], CALLER_HZ, AGENT_HZ, rate), 2.4,
                                f"the target did not hear caller and agent together (alone): "
                                f"{window_report(heard[bob_from:], [CALLER_HZ, AGENT_HZ], rate)}")
        mixed = self.agent_heard({"type": "transfer", "state": "bridged"}, {"type": "transfer", "state": "ended"})
        self.assertGreater(len(mixed), 2.8 * AGENT_RATE, "the three-way ended before the agent's tone played")
        self.assertGreaterEqual(both_seconds(mixed, CALLER_HZ, TARGET_HZ, AGENT_RATE),
                                len(mixed) / AGENT_RATE - MIX_SETTLE_S,
                                f"the agent did not hear caller and target mixed (alone): "
                                f"{window_report(mixed, [CALLER_HZ, TARGET_HZ], AGENT_RATE)}")
        self.assert_never(mixed, AGENT_HZ, "the agent heard itself", AGENT_RATE)

        # After the complete: caller and target hear each other alone, and the agent's last tone
        # reaches neither (it was sent as fast as the socket took it: 3 s of it would be heard).
        self.assert_bridged(after_from)
        self.wait_heard_for(3.5 + PEER_LAG_S, after_from, bob_after)
        self.assert_never(self.rtp.audio(after_from), AGENT_HZ, "the caller heard the agent after it left")
        rate, heard = self.bob.received()
        after = heard[bob_after + int(PEER_LAG_S * rate):]
        self.assert_never(after, AGENT_HZ, "the target heard the agent after it left", rate)
        self.hang_up()

    # -- c. listen: stereo until the call ends -----------------------------------------------------

    def test_listening_agent_gets_caller_left_target_right_and_is_heard_by_nobody(self):
        self.start_with_bob("screening=agent after_bridge=listen",
                            rules=("on transfer consulting: accept t1\n"
                                   f"on transfer bridged: tone {AGENT_HZ} 3000\n"))
        self.press("1")
        bridged = self.agent.wait_event(20, type="transfer", state="bridged")
        listen_from, bob_from = self.rtp.count(), self.bob_heard()
        self.assertEqual(bridged.get("channels"), 2, bridged)
        ended = self.agent.wait_event(10, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        self.assertEqual(self.states()[-3:], ["consulting", "bridged", "ended"])

        # 3.5 s of stereo at the agent (4 bytes a sample pair), and as long at both parties: the
        # agent's 3 s tone, had it been played, would be in there.
        start = self.agent.audio_offset(type="transfer", state="bridged")
        wait_for(lambda: len(self.agent.received_audio()) - start >= 3.5 * AGENT_RATE * 4, 15,
                 "3.5 s of stereo audio at the listening agent")
        self.assert_bridged(listen_from)
        self.wait_heard_for(3.5, listen_from, bob_from)

        self.assertEqual(self.samples_per_frame_since(type="transfer", state="bridged"), 2 * AGENT_RATE // 50,
                         "a listening agent's frame is 20 ms of stereo")
        stereo = self.agent_heard({"type": "transfer", "state": "bridged"})
        for channel, (hz, other), what in ((stereo[0::2], (CALLER_HZ, TARGET_HZ), "left: the caller"),
                                           (stereo[1::2], (TARGET_HZ, CALLER_HZ), "right: the target")):
            self.assertGreater(tone_seconds(channel, hz, AGENT_RATE), len(channel) / AGENT_RATE - MIX_SETTLE_S,
                               f"{what}, alone: {window_report(channel, [hz], AGENT_RATE)}")
            self.assert_never(channel, other, f"{what}, and nobody else", AGENT_RATE)
        self.assert_never(self.rtp.audio(listen_from), AGENT_HZ, "the caller heard the listening agent")
        rate, heard = self.bob.received()
        self.assert_never(heard[bob_from:], AGENT_HZ, "the target heard the listening agent", rate)
        self.assertEqual(self.agent.find(type="stop"), [], "a listening agent stays until the call ends")

        self.hang_up()
        self.agent.wait_event(type="stop", reason="caller_hangup")
        self.assertEqual(self.agent.find(type="error"), [])

    # -- d. the HTTP accept ------------------------------------------------------------------------

    def test_http_accept_is_not_now_while_ringing_bridges_once_answered_and_then_finds_no_transfer(self):
        carol = SippUasScenario(self, "uas-provider-ring-no-answer.xml", name="carol", rtp_echo=False)
        self.bob = Baresip(self, user="2001", tone_hz=TARGET_HZ)
        self.start_call("on dtmf 1: transfer warm Carol id=t1 screening=agent ring_timeout_s=60\n"
                        "on dtmf 2: transfer warm Bob id=t2 briefing=agent screening=agent\n",
                        [{"name": "Carol", "uri": f"sip:+27115550103@{carol.address}"},
                         {"name": "Bob", "uri": self.bob.uri}])
        call_id = self.gateway.only_call()
        transfer = f"/v1/calls/{call_id}/transfer"

        # t1 rings: an accept is not for now; the API's cancel releases it (CANCEL to Carol).
        self.press("1")
        self.agent.wait_event(15, type="transfer", state="ringing", target="Carol")
        status, body = self.gateway.http("POST", f"{transfer}/t1/accept")
        self.assertEqual((status, body.get("error", {}).get("code")), (409, "not_now"), body)
        self.assertEqual(self.gateway.http("POST", f"{transfer}/t1/cancel"), (200, {"id": "t1", "status": "cancelled"}))
        ended = self.agent.wait_event(type="transfer", state="ended", id="t1")
        self.assertEqual(ended.get("result"), "cancelled", ended)
        carol.assert_passed()

        # t2: Bob answers and the agent consults; the API's accept (not the agent's) bridges.
        self.press("2")
        self.agent.wait_event(20, type="transfer", state="consulting", id="t2")
        shown = self.gateway.http("GET", f"/v1/calls/{call_id}")[1]["transfer"]
        self.assertEqual((shown["id"], shown["mode"], shown["target"], shown["state"]), ("t2", "warm", "Bob", "consulting"))
        self.assertIn("answered_at", shown)
        self.assertNotIn("bridged_at", shown)
        accepted_from = self.rtp.count()
        self.assertEqual(self.gateway.http("POST", f"{transfer}/t2/accept"), (200, {"id": "t2", "status": "accepted"}))
        ended = self.agent.wait_event(10, type="transfer", state="ended", id="t2")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Bob"), ended)
        self.agent.wait_event(type="stop", reason="transferred")
        self.assert_bridged(accepted_from)
        shown = self.gateway.http("GET", f"/v1/calls/{call_id}")[1]
        self.assertEqual((shown["state"], shown["transfer"]["result"]), ("bridged", "completed"), shown)
        self.assertLessEqual(shown["transfer"]["requested_at"], shown["transfer"]["bridged_at"])
        status, body = self.gateway.http("POST", f"{transfer}/t2/accept")
        self.assertEqual((status, body.get("error", {}).get("code")), (404, "no_transfer"), body)
        self.assertEqual(self.agent.find(type="error"), [])
        self.hang_up()

    # -- e. the agent lost mid-consult -------------------------------------------------------------

    def test_agent_killed_mid_consult_still_puts_the_caller_through(self):
        # screening none: a consult cut short counts as ended, and the caller is put through. The
        # agent's tone is longer than the test needs: what is still queued must not follow the bridge.
        self.start_with_bob("screening=none", rules=f"on transfer consulting: tone {AGENT_HZ} 8000\n")
        held_from = self.press("1")
        self.agent.wait_event(20, type="transfer", state="consulting")
        wait_for(lambda: self.bob.hears_tone(AGENT_HZ), 10, "the agent's tone at the target in the consult")
        self.agent.proc.signal(signal.SIGKILL)
        self.agent.proc.wait(10)

        _, rate, _, bob_bridged = self.assert_bridged(held_from)
        self.assert_never(self.rtp.audio(held_from), AGENT_HZ, "the caller heard the agent's consult")
        self.assert_never(bob_bridged, AGENT_HZ, "the target heard the lost agent after the bridge", rate)
        self.hang_up()


if __name__ == "__main__":
    unittest.main()
