"""Audio in the encodings the provider dialects carry on the agent socket, for the dialect tests' bots:
a tone cut into chunks in µ-law, A-law (ITU-T G.711) or 16-bit little-endian linear PCM (L16) at a
given rate, and each encoding decoded back to samples for tone detection (rtp_peer.tone_ratio).

Which dialect uses which encoding is each test's business (written from its provider's docs); this
module only converts. Standard library only, like the rest of the harness.
"""
import math
import struct

from rtp_peer import alaw_encode, decode_pcma, decode_pcmu, ulaw_encode

MULAW = "mulaw"
ALAW = "alaw"
L16 = "l16"


def tone_samples(hz, seconds, rate=8000, amplitude=6000):
    n = int(rate * seconds)
    return [int(amplitude * math.sin(2 * math.pi * hz * i / rate)) for i in range(n)]


def encode(samples, encoding):
    if encoding == MULAW:
        return bytes(ulaw_encode(s) for s in samples)
    if encoding == ALAW:
        return bytes(alaw_encode(s) for s in samples)
    if encoding == L16:
        return struct.pack(f"<{len(samples)}h", *samples)
    raise ValueError(encoding)


def decode(payload, encoding):
    """Samples of one chunk of `encoding` (an odd trailing byte of L16 is left out)."""
    if encoding == MULAW:
        return decode_pcmu(payload)
    if encoding == ALAW:
        return decode_pcma(payload)
    if encoding == L16:
        return list(struct.unpack(f"<{len(payload) // 2}h", payload[:len(payload) // 2 * 2]))
    raise ValueError(encoding)


def tone_chunks(hz, seconds, encoding, rate=8000, chunk_ms=20):
    """`seconds` of an `hz` tone as `chunk_ms` chunks of `encoding` (what a bot sends, one chunk a frame)."""
    samples = tone_samples(hz, seconds, rate)
    step = rate * chunk_ms // 1000
    return [encode(samples[i:i + step], encoding) for i in range(0, len(samples), step)]
