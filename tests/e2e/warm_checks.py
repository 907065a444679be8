"""Checks shared by the warm transfer tests: what a party heard, told apart by content — speech (the
briefing, the DTMF prompt) by its levels, warmline's hold music by the shipped file itself — and the
call records of a completed warm transfer.

`HoldMusic` recognises conf/audio/hold-music.wav in received audio: it finds where in the loop a
stretch of audio would be, first roughly by the 10 ms energy envelope (each note's attack and decay),
then to the sample by the waveform, and gives the cosine similarity of the two waveforms there. The
gateway plays the file's own samples (resampled once, G.711-coded), so what a held caller hears scores
near 1.0; ringback, silence, a party's tone and speech score near 0, and music with anything mixed in
scores visibly lower (test_warm_transfer_signals.py checks all of these on synthetic input first).
Standard library only, like the rest of the harness.
"""
import json
import math
import operator
import wave

from harness import SOURCE_DIR, cdr_query, wait_for
from rtp_peer import rms

SHIPPED_HOLD_MUSIC = SOURCE_DIR / "conf" / "audio" / "hold-music.wav"

# Levels of 100 ms blocks of what a party received (16-bit samples): espeak-ng's speech is well above
# LOUD, the silence warmline sends once its playout is empty is below QUIET.
BLOCK_S = 0.1
LOUD_RMS = 300
QUIET_RMS = 100


def block_levels(samples, rate):
    n = int(rate * BLOCK_S)
    return [rms(samples[i:i + n]) for i in range(0, len(samples) - n + 1, n)] if n else []


def speech_span(samples, rate, speech_s=1.0, quiet_s=1.5):
    """(start, end) sample indices of the speech in a recording (first to last loud block), once at
    least `speech_s` of loud blocks have come and only quiet ones for `quiet_s` since the last of them;
    else None (not yet). A warm transfer's gate counts what it spoke as played when its last frame
    leaves warmline: `quiet_s` also covers the silence at the end of espeak-ng's clip."""
    levels = block_levels(samples, rate)
    loud = [i for i, level in enumerate(levels) if level > LOUD_RMS]
    if len(loud) * BLOCK_S < speech_s:
        return None
    tail = levels[loud[-1] + 1:]
    if len(tail) * BLOCK_S < quiet_s or any(level > QUIET_RMS for level in tail):
        return None
    block = int(rate * BLOCK_S)
    return loud[0] * block, (loud[-1] + 1) * block


def wait_speech(received, what, timeout=30, speech_s=1.0):
    """Waits until `received()` ((rate, samples) of what a party has heard) holds at least `speech_s`
    of speech followed by quiet (`speech_span`); returns (rate, samples, span)."""
    def spoken():
        rate, samples = received()
        span = speech_span(samples, rate, speech_s=speech_s) if rate else None
        return (rate, samples, span) if span else None
    return wait_for(spoken, timeout, f"{what}: {speech_s:.1f} s of speech, then quiet", interval=0.2)


def wav_mono(path):
    """(rate, samples) of a 16-bit WAV file, channels averaged."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise AssertionError(f"{path}: not 16-bit")
        channels, rate = w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    values = memoryview(raw).cast("h")
    return rate, [sum(values[i:i + channels]) // channels for i in range(0, len(values), channels)]


def to_8k(samples, rate):
    """`samples` at 8 kHz. What came over G.711, or the hold music (nothing above 1.6 kHz), has no
    content above 4 kHz, so keeping every n-th sample does not alias."""
    if rate % 8000:
        raise AssertionError(f"cannot take {rate} Hz audio to 8 kHz by decimation")
    return list(samples[::rate // 8000])


def _cosine(a, b):
    dot = sum(map(operator.mul, a, b))
    energy = math.sqrt(sum(map(operator.mul, a, a)) * sum(map(operator.mul, b, b)))
    return dot / energy if energy else 0.0


class HoldMusic:
    RATE = 8000
    COARSE = 8  # the rough search runs at 1 kHz: means of 8 samples
    CANDIDATES = 12  # rough offsets refined to the sample
    PROBE = 250  # coarse samples (250 ms) compared in the rough search

    def __init__(self, path=SHIPPED_HOLD_MUSIC):
        rate, samples = wav_mono(path)
        self.music = to_8k(samples, rate)
        self.music = self.music[:len(self.music) - len(self.music) % self.COARSE]
        self._loop = self.music * 2  # a window may run over the loop point
        self._coarse_loop = self._coarse(self._loop)
        self._coarse_energy = [0.0]  # prefix sums of the squares, for each offset's norm
        for v in self._coarse_loop:
            self._coarse_energy.append(self._coarse_energy[-1] + v * v)

    def _coarse(self, samples):
        k = self.COARSE
        return [sum(samples[i:i + k]) / k for i in range(0, len(samples) - k + 1, k)]

    def _rough_offsets(self, x):
        """The CANDIDATES offsets (in samples) in the loop where `x` may start: where its loudest
        PROBE stretch matches the music best at 1 kHz (the loudest, so that silence at one end of
        `x` does not blind the search)."""
        coarse = self._coarse(x)
        n, energy = self.PROBE, self._coarse_energy
        at = max(range(0, len(coarse) - n + 1, n), key=lambda i: sum(v * v for v in coarse[i:i + n]))
        probe = coarse[at:at + n]
        scores = []
        for j in range(len(self.music) // self.COARSE):
            dot = sum(map(operator.mul, probe, self._coarse_loop[j:j + n]))
            norm = energy[j + n] - energy[j]
            scores.append((dot / math.sqrt(norm) if norm > 0 and dot > 0 else 0.0, j))
        return [(j - at) * self.COARSE for _, j in sorted(scores, reverse=True)[:self.CANDIDATES]]

    def similarity(self, samples, rate):
        """How much `samples` (up to one loop of received audio) are the hold music: the cosine
        similarity of their waveform with the music's at the best offset in the loop, 0..1."""
        x = to_8k(samples, rate)[:len(self.music)]
        if len(x) < self.PROBE * self.COARSE or not any(x):
            return 0.0
        best = 0.0
        for start in self._rough_offsets(x):
            offsets = [o % len(self.music) for o in range(start - self.COARSE, start + self.COARSE + 1)]
            best = max(best, max(_cosine(x, self._loop[o:o + len(x)]) for o in offsets))
        return best

    def window_similarities(self, samples, rate, window_s=1.0):
        """`similarity` of each whole `window_s` window of `samples`, in order."""
        n = int(rate * window_s)
        return [self.similarity(samples[i:i + n], rate) for i in range(0, len(samples) - n + 1, n)]


def assert_warm_transfer_records(case, db, call_id, target, target_uri):
    """The call records (docs/cdr.md) at `db` of a call whose agent's warm transfer to `target` was
    completed: one `transfers` row (warm, by a bridged dial, only `target` tried) with its requested,
    answered and bridged times in order, and two legs: the caller's (a, in) and the target's (b, out,
    its Request-URI containing `target_uri`), both answered."""
    rows = wait_for(lambda: cdr_query(db, "SELECT mode, strategy, targets_tried, result, requested_at, answered_at, "
                                          "bridged_at FROM transfers WHERE call_id = ?", (call_id,)),
                    15, "the transfer's record")
    case.assertEqual(len(rows), 1, rows)
    mode, strategy, tried, result, requested, answered, bridged = rows[0]
    case.assertEqual((mode, strategy, json.loads(tried), result), ("warm", "dial", [target], "completed"))
    case.assertIsNotNone(answered)
    case.assertIsNotNone(bridged)
    # The same format throughout (docs/cdr.md), so the strings order like the times. The briefing
    # played between the answer and the bridge: they cannot be the same moment.
    case.assertTrue(requested <= answered < bridged, (requested, answered, bridged))
    legs = cdr_query(db, "SELECT role, direction, remote_uri, final_status FROM legs WHERE call_id = ? ORDER BY role",
                     (call_id,))
    case.assertEqual([(r[0], r[1], r[3]) for r in legs], [("a", "in", 200), ("b", "out", 200)], legs)
    case.assertIn(target_uri, legs[1][2])
