"""What each party of a warm or semi-attended transfer hears, phase by phase (issue 9; DESIGN.md
"Transfers"; docs/agent-protocol.md "Transfers"), with real peers on 127.0.0.1 and the reference agent:

- the hold music detector (warm_checks.HoldMusic, built from the shipped conf/audio/hold-music.wav)
  accepts the music as G.711 carries it and refuses ringback, silence, the parties' tones, speech and
  music with another sound mixed in: the checks below cannot pass on anything but the music;
- warm, hold `music`, screening `none`, two baresip phones (caller and target, each sending its own
  tone): the caller hears the agent, then the hold music and nothing else for at least as long as the
  briefing lasts at the target, then the target; the target hears the spoken briefing, never the
  caller nor the music before it, then the caller; the agent only ever hears the caller; the call
  records show two legs and one transfer with its requested < answered < bridged times;
- semi: a target ringing with early media (183 + SDP, its own tone): the agent leaves (`completed`,
  `stop` "transferred") while it rings, the caller hears the target's early media before the answer,
  and once the target answers (released by the test) caller and target hear each other;
- screening `dtmf`, the target's key sent as RFC 4733 once it has heard the prompt: 1 puts the held
  caller (who heard the hold music all along) through; 2 declines at once, the target gets a BYE and
  the caller is back with the agent.
(test_warm_transfer.py covers screening `agent`, no key, busy, a target hanging up and the agent's
cancel.)

Tones: caller 1000 Hz, target 700 Hz, agent 1400 Hz (its greeting, and its answer to a failed transfer).
"""
import math
import unittest

from baresip_peer import Baresip
from harness import Agent, E2ETestCase, Gateway, assert_back_with_agent, wait_for, wait_tone
from rtp_peer import PCMU, RtpPeer, decode_pcmu, max_tone_ratio, rms, tone_ratio, ulaw_decode, ulaw_encode
from sipp_peer import SippUasScenario, start_caller
from warm_checks import (BLOCK_S, LOUD_RMS, QUIET_RMS, SHIPPED_HOLD_MUSIC, HoldMusic, assert_warm_transfer_records,
                         block_levels, to_8k, wait_speech, wav_mono)

CALLER_HZ = 1000
TARGET_HZ = 700
AGENT_HZ = 1400
BRIEFING = "Hello Bob, this is the assistant with a customer who needs help with a refund for order forty two"
# At least this much speech at a target of screening dtmf means the prompt ("You have a transferred
# call. Press 1 to accept it, or 2 to decline.", about 4 s) has been heard: the short briefing those
# tests use is about 1 s of speech.
PROMPT_SPEECH_S = 2.5

MUSIC = HoldMusic()
IS_MUSIC = 0.95  # HoldMusic.similarity of what a held caller hears (near 1.0; below with anything mixed in)
NOT_MUSIC = 0.5  # ... of anything else (near 0)
WINDOW_S = 0.2  # tone checks look at windows this long

TRANSFER_ON_KEY = """\
on dtmf 1: transfer {mode} {target} id=t1 {options}
on transfer ended !completed: tone {agent_hz} 3000
"""


def g711(samples):
    """`samples` (8 kHz) after a PCMU round trip, as a caller receives them."""
    return [ulaw_decode(ulaw_encode(s)) for s in samples]


def tone(hz, seconds=1.0, amplitude=4000, rate=8000):
    """`hz` (one frequency, or a tuple of them added up) as 16-bit samples."""
    freqs = hz if isinstance(hz, tuple) else (hz,)
    return [int(sum(amplitude * math.sin(2 * math.pi * f * i / rate) for f in freqs))
            for i in range(int(rate * seconds))]


def tone_windows(samples, rate, hz):
    """Start indices of the WINDOW_S windows of `samples` that are mostly an `hz` tone."""
    n = int(rate * WINDOW_S)
    return [i for i in range(0, len(samples) - n + 1, n) if tone_ratio(samples[i:i + n], hz, rate) > 0.5]


def share_of_tone(samples, rate, hz):
    """The share of WINDOW_S windows of `samples` that are mostly an `hz` tone."""
    windows = len(samples) // int(rate * WINDOW_S)
    return len(tone_windows(samples, rate, hz)) / windows if windows else 0.0


def audible_from(samples, rate):
    """The index of the first 100 ms block of `samples` above QUIET_RMS (len(samples) if none)."""
    levels = block_levels(samples, rate)
    first = next((i for i, level in enumerate(levels) if level > QUIET_RMS), len(levels))
    return min(len(samples), first * int(rate * BLOCK_S))


def wait_heard(phone, hz, what, timeout=10):
    """(rate, samples) of what baresip `phone` has received, once its last second is an `hz` tone
    throughout (its recording is read again until then: it is still being written)."""
    def heard():
        rate, samples = phone.received()
        last = samples[-rate:] if rate and len(samples) >= rate else []
        return (rate, samples) if last and share_of_tone(last, rate, hz) == 1.0 else None
    return wait_for(heard, timeout, what)


def rtp_audio(rtp, start, end):
    """Decoded PCMU of the packets `rtp` received from index `start` up to `end`."""
    return [s for _, pt, payload in rtp.packets(start)[:end - start] if pt == PCMU for s in decode_pcmu(payload)]


class WarmTransferSignals(E2ETestCase):
    def assert_hold_music(self, held, rate, what):
        """`held` (from when the hold began) is the hold music throughout (1 s windows), at least 2 s of
        it, and never the target. The music may start a little later than `held` (up to 1 s)."""
        start = audible_from(held, rate)
        self.assertLess(start / rate, 1.0, f"{what}: {start / rate:.1f} s of silence before the hold music")
        held = held[start:]
        similarities = MUSIC.window_similarities(held, rate)
        self.assertGreaterEqual(len(similarities), 2, f"{what}: only {len(held) / rate:.1f} s on hold")
        self.assertTrue(all(s > IS_MUSIC for s in similarities),
                        f"{what}: not the hold music and nothing else; similarity per second: {similarities}")
        self.assertLess(max_tone_ratio(held, TARGET_HZ, rate), 0.1, f"{what}: the held caller heard the target")

    # -- the detector itself -------------------------------------------------------------------------

    def test_hold_music_detector_tells_the_music_from_ringback_silence_tones_and_speech(self):
        rate, music = wav_mono(SHIPPED_HOLD_MUSIC)
        music = to_8k(music, rate)
        speech_rate, speech = wav_mono(SHIPPED_HOLD_MUSIC.parent / "please-hold.wav")  # espeak-ng
        speech = to_8k(speech, speech_rate)[8000:16000]
        second = music[26400:34400]  # 1 s from 3.3 s on: anywhere in the loop
        self.assertGreater(MUSIC.similarity(g711(second), 8000), IS_MUSIC)
        self.assertGreater(MUSIC.similarity(g711([s // 3 for s in music[-4000:] + music[:4000]]), 8000), IS_MUSIC,
                           "quieter, and across the loop point")
        not_music = {"silence": [0] * 8000, "US ringback": tone((440, 480)), "the caller": tone(CALLER_HZ),
                     "the target": tone(TARGET_HZ), "the agent": tone(AGENT_HZ), "speech": speech}
        for name, samples in not_music.items():
            self.assertLess(MUSIC.similarity(g711(samples), 8000), NOT_MUSIC, name)
        under = tone(TARGET_HZ, amplitude=1500)
        mixed = {"the music and speech": [a + b for a, b in zip(second, speech)],
                 "the music and the target's tone under it": [a + b for a, b in zip(second, under)]}
        for name, samples in mixed.items():
            self.assertLess(MUSIC.similarity(g711(samples), 8000), IS_MUSIC, name)

    # -- warm, music, screening none: two phones -------------------------------------------------------

    def test_warm_transfer_between_two_phones_phase_by_phase(self):
        bob = Baresip(self, name="bob", user="2001", tone_hz=TARGET_HZ)
        agent = Agent(self, f'on start: tone {AGENT_HZ} 1500; transfer warm Bob id=t1 briefing="{BRIEFING}" '
                            f'screening=none hold=music\n', record=True)
        gateway = Gateway(self, agent.url, targets=[{"name": "Bob", "uri": bob.uri}])
        alice = Baresip(self, name="alice", user="1001", tone_hz=CALLER_HZ)
        alice.dial(gateway.uri)
        alice.wait_event(type="CALL_ESTABLISHED", peeruri=gateway.uri)
        agent.wait_event(type="start")
        call_id = gateway.only_call()

        agent.wait_event(20, type="transfer", state="answered", target="Bob")
        bob.wait_event(type="CALL_ESTABLISHED")
        # Screening none: the bridge follows the briefing. Each phone then hears the other's tone.
        rate_b, heard_b = wait_heard(bob, CALLER_HZ, "the caller's tone at Bob after the briefing", timeout=30)
        rate_a, heard_a = wait_heard(alice, TARGET_HZ, "Bob's tone at the caller")
        ended = agent.wait_event(type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Bob"), ended)
        agent.wait_event(type="stop", reason="transferred")

        # Bob: the briefing (speech, neither the caller nor the music), then the caller. Up to the
        # window before the first of the caller's tone (that one may already hold some of it).
        bridged_b = tone_windows(heard_b, rate_b, CALLER_HZ)[0]
        briefed = heard_b[:bridged_b - int(rate_b * WINDOW_S)]
        loud = [i for i, level in enumerate(block_levels(briefed, rate_b)) if level > LOUD_RMS]
        self.assertGreaterEqual(len(loud) * BLOCK_S, 2.0, "Bob heard no briefing before the caller")
        briefing_s = (loud[-1] + 1 - loud[0]) * BLOCK_S
        self.assertLess(max_tone_ratio(briefed, CALLER_HZ, rate_b), 0.2, "Bob heard the caller during the briefing")
        self.assertTrue(all(s < NOT_MUSIC for s in MUSIC.window_similarities(briefed, rate_b)),
                        "Bob heard the hold music")
        self.assertGreater(share_of_tone(heard_b[bridged_b:], rate_b, CALLER_HZ), 0.9,
                           "after the bridge Bob hears the caller, and nothing else")

        # Alice: the agent's greeting, then the hold music alone, then Bob.
        bridged_a = tone_windows(heard_a, rate_a, TARGET_HZ)[0]
        greeting = [i for i in tone_windows(heard_a, rate_a, AGENT_HZ) if i < bridged_a]
        self.assertTrue(greeting, "the caller never heard the agent before the transfer")
        # The window after the last one that is mostly the greeting may still hold up to half of it:
        # the hold is checked from the one after that.
        held_from = greeting[-1] + 2 * int(rate_a * WINDOW_S)
        self.assert_hold_music(heard_a[held_from:bridged_a - int(rate_a * WINDOW_S)], rate_a, "the caller on hold")
        # ... for as long as the briefing took at Bob at least (to the precision of the windows and
        # blocks the two are measured in): the caller was not put through before it had played.
        held_s = (bridged_a - held_from) / rate_a
        self.assertGreaterEqual(held_s, briefing_s - 2 * WINDOW_S - BLOCK_S,
                                f"the caller was put through {held_s:.1f} s after the hold began, "
                                f"while the briefing took {briefing_s:.1f} s")
        self.assertGreater(share_of_tone(heard_a[bridged_a:], rate_a, TARGET_HZ), 0.9,
                           "after the bridge the caller hears Bob, and nothing else")

        # The agent heard the caller before it left, and nothing else: no hold music, no Bob.
        rate_g, got = agent.recorded()
        n = int(rate_g * WINDOW_S)
        voiced = [got[i:i + n] for i in range(0, len(got) - n + 1, n) if rms(got[i:i + n]) > LOUD_RMS]
        self.assertGreaterEqual(len(voiced) * WINDOW_S, 1.0, "the agent heard too little of the caller")
        self.assertTrue(all(tone_ratio(w, CALLER_HZ, rate_g) > 0.5 for w in voiced),
                        "the agent heard something besides the caller")
        self.assertTrue(all(s < NOT_MUSIC for s in MUSIC.window_similarities(got, rate_g)),
                        "the agent heard hold music")

        alice.hangup()  # Bob's leg ends too, and the records are written
        alice.wait_event(type="CALL_CLOSED")
        bob.wait_event(type="CALL_CLOSED")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")
        assert_warm_transfer_records(self, gateway.cdr_path, call_id, "Bob", bob.uri.removeprefix("sip:"))

    # -- SIPp caller and target, each with the test's RtpPeer ------------------------------------------

    def start_call(self, mode, name, scenario, options):
        """A target (SIPp on `scenario` with a RtpPeer sending the target's tone), the agent (its
        `mode` transfer to it on the caller's key 1), the gateway and a SIPp caller talking to the
        agent. Then the caller presses 1; returns the caller's RTP packet count at that moment."""
        self.target_rtp = RtpPeer(tone_hz=TARGET_HZ)
        self.addCleanup(self.target_rtp.stop)
        self.target = SippUasScenario(self, scenario, name=name.lower(), rtp=self.target_rtp)
        self.agent = Agent(self, TRANSFER_ON_KEY.format(mode=mode, target=name, options=options, agent_hz=AGENT_HZ))
        self.gateway = Gateway(self, self.agent.url,
                               targets=[{"name": name, "uri": f"sip:{name.lower()}@{self.target.address}"}])
        self.caller, self.rtp = start_caller(self, self.gateway, "uac-call-until-trigger.xml", tone_hz=CALLER_HZ)
        self.agent.wait_event(type="start")
        wait_for(self.agent.caller_audio_frames, 10, "the caller's audio at the agent before the transfer")
        since = self.rtp.count()
        self.rtp.send_dtmf("1")
        self.agent.wait_event(type="dtmf", digit="1")
        ip, port, te_pt = self.target.gateway_media(20)
        self.assertIsNotNone(te_pt, "the gateway's offer to the target lacks telephone-event (RFC 4733)")
        self.target_rtp.start_sending(ip, port, te_pt)
        return since

    def target_heard(self):
        return 8000, self.target_rtp.audio()

    def test_semi_caller_hears_the_targets_early_media_then_the_target(self):
        since = self.start_call("semi", "Erin", "uas-early-media-then-answer-on-trigger.xml", "hold=music")
        # The agent leaves as soon as the target rings.
        self.agent.wait_event(15, type="transfer", state="ringing", target="Erin")
        ended = self.agent.wait_event(type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target"), ended.get("sip_status")),
                         ("completed", "Erin", 183), ended)
        self.agent.wait_event(type="stop", reason="transferred")
        self.assertEqual([e.get("state") for e in self.agent.find(type="transfer")], ["dialing", "ringing", "ended"])

        # Before the answer: the caller hears the target's early media.
        wait_tone(self.rtp, TARGET_HZ, since=since, timeout=10, what="the target's early media at the caller")
        self.assertEqual(self.target.requests("ACK"), [], "the target must not have answered yet")

        answered_caller, answered_target = self.rtp.count(), self.target_rtp.count()
        self.target.trigger()  # the target answers: 200 OK, the ACK
        wait_for(lambda: self.target.requests("ACK"), 10, "the gateway's ACK to the target's 200")
        wait_tone(self.target_rtp, CALLER_HZ, since=answered_target, timeout=10,
                  what="the caller's tone at the target after the answer")
        wait_tone(self.rtp, TARGET_HZ, since=answered_caller, timeout=10,
                  what="the target's tone at the caller after the answer")

        self.caller.trigger()  # the caller hangs up: the target gets a BYE
        self.caller.assert_passed()
        self.target.assert_passed()
        self.assertEqual(len(self.target.requests("BYE")), 1)
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

    def press_key_after_the_prompt(self, key):
        """The target waits until it has heard the briefing and the whole prompt, then presses `key`
        (RFC 4733). Returns the caller's and the target's RTP packet counts at that moment."""
        self.agent.wait_event(20, type="transfer", state="answered")
        wait_speech(self.target_heard, "the briefing and the prompt at the target", speech_s=PROMPT_SPEECH_S)
        self.assertEqual(self.agent.find(type="transfer", state="ended"), [], "the gate waits for the key")
        counts = self.rtp.count(), self.target_rtp.count()
        self.target_rtp.send_dtmf(key)
        return counts

    def test_dtmf_screening_key_1_puts_the_held_caller_through(self):
        since = self.start_call("warm", "Dora", "uas-answer-with-rtp-peer.xml",
                                'briefing="A customer for you." screening=dtmf hold=music')
        call_id = self.gateway.only_call()
        pressed, pressed_target = self.press_key_after_the_prompt("1")
        ended = self.agent.wait_event(10, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Dora"), ended)
        self.agent.wait_event(type="stop", reason="transferred")
        wait_tone(self.rtp, TARGET_HZ, since=pressed, timeout=10, what="the target's tone at the caller")
        wait_tone(self.target_rtp, CALLER_HZ, since=pressed_target, timeout=10, what="the caller's tone at the target")
        # Until the key, the caller heard the hold music (dial, briefing, prompt: several seconds).
        self.assert_hold_music(rtp_audio(self.rtp, since, pressed), 8000, "the caller on hold")
        screened = rtp_audio(self.target_rtp, 0, pressed_target)
        self.assertLess(max_tone_ratio(screened, CALLER_HZ), 0.2, "the target heard the caller before it accepted")
        self.assertTrue(all(s < NOT_MUSIC for s in MUSIC.window_similarities(screened, 8000)),
                        "the target heard the hold music")

        self.caller.trigger()
        self.caller.assert_passed()
        self.target.assert_passed()  # warmline's BYE after the caller's
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        assert_warm_transfer_records(self, self.gateway.cdr_path, call_id, "Dora", f"dora@{self.target.address}")

    def test_dtmf_screening_key_2_declines_and_the_caller_is_back_with_the_agent(self):
        self.start_call("warm", "Dora", "uas-answer-with-rtp-peer.xml",
                        'briefing="A customer for you." screening=dtmf hold=music')
        self.press_key_after_the_prompt("2")
        ended = assert_back_with_agent(self, self.agent, self.gateway, self.caller, self.rtp, "declined",
                                       target="Dora", agent_hz=AGENT_HZ)
        self.assertIn("pressed 2", ended.get("reason", ""), ended)  # the key, not the 10 s without one
        self.target.assert_passed()  # answered, then warmline's BYE
        self.assertEqual(len(self.target.requests("BYE")), 1)


if __name__ == "__main__":
    unittest.main()
