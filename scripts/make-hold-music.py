#!/usr/bin/env python3
"""Generates warmline's hold music: an original, royalty-free 16-second loop (I-vi-IV-V in C, soft
electric-piano arpeggios over a bass note), mono 16-bit WAV at 16 kHz. Standard library only, fully
deterministic, so the shipped file can be reproduced bit for bit:

    python3 scripts/make-hold-music.py conf/audio/hold-music.wav

Every note fades out before the loop point, so the loop joins without a click."""
import math
import struct
import sys
import wave

RATE = 16000
BEAT = 0.5  # seconds per arpeggio note
CHORDS = [  # (bass, arpeggio) as MIDI note numbers: C, Am, F, G
    (48, [60, 64, 67, 72, 67, 64, 60, 64]),
    (45, [57, 60, 64, 69, 64, 60, 57, 60]),
    (41, [53, 57, 60, 65, 60, 57, 53, 57]),
    (43, [55, 59, 62, 67, 62, 59, 55, 59]),
]
LENGTH = len(CHORDS) * 8 * BEAT  # 16 s


def freq(midi):
    return 440.0 * 2 ** ((midi - 69) / 12)


def add_note(buf, start, dur, midi, level, decay):
    """A soft e-piano tone: fundamental + two decaying harmonics, 10 ms attack, 60 ms release."""
    f = freq(midi)
    n0, n = int(start * RATE), int(dur * RATE)
    attack, release = int(0.010 * RATE), int(0.060 * RATE)
    for i in range(n):
        t = i / RATE
        env = math.exp(-t * decay)
        if i < attack:
            env *= i / attack
        if i > n - release:
            env *= max(0.0, (n - i) / release)
        w = 2 * math.pi * f * t
        v = math.sin(w) + 0.35 * math.exp(-t * 3) * math.sin(2 * w) + 0.12 * math.exp(-t * 5) * math.sin(3 * w)
        buf[(n0 + i) % len(buf)] += level * env * v


def main(path):
    buf = [0.0] * int(LENGTH * RATE)
    for c, (bass, arp) in enumerate(CHORDS):
        chord_start = c * 8 * BEAT
        add_note(buf, chord_start, 8 * BEAT - 0.05, bass, 2600.0, 0.35)
        for k, note in enumerate(arp):
            add_note(buf, chord_start + k * BEAT, 1.2 * BEAT, note, 2200.0, 1.6)
    peak = max(abs(v) for v in buf)
    scale = min(1.0, 14000.0 / peak)  # about -7 dBFS peak: comfortable under G.711
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", int(round(v * scale))) for v in buf))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "conf/audio/hold-music.wav")
