"""A caller-side RTP endpoint owned by the test: SIPp does the signalling and puts this socket's port in
its SDP, so the test sends the caller's audio and RFC 4733 DTMF itself and sees every packet the
gateway sends back (count, payload type, decoded audio) without a pcap.

One thread per peer; it sends a 20 ms PCMU frame on a monotonic schedule (RFC 3551 §4.5.14) and
receives in between. Everything is bounded by `stop()`, which the test's cleanup calls.
"""
import math
import random
import select
import socket
import struct
import threading
import time
from collections import namedtuple

PCMU = 0
PCMA = 8
FRAME_SAMPLES = 160  # 20 ms at 8 kHz
FRAME_SECONDS = 0.020
DTMF_EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}


# One received RFC 4733 telephone-event packet: the RTP header fields that matter for events and the
# decoded 4-byte payload (§2.3: event | E, R, volume | duration).
TelephoneEvent = namedtuple("TelephoneEvent", "seq marker timestamp event end reserved volume duration payload")


def ulaw_encode(sample):
    """ITU-T G.711 µ-law, 16-bit linear in."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not magnitude & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def alaw_encode(sample):
    """ITU-T G.711 A-law, 16-bit linear in (the inverse of alaw_decode)."""
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(abs(sample), 32767) >> 3  # 13-bit magnitude
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5  # 1..7
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


def ulaw_decode(byte):
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84) << ((byte >> 4) & 0x07)
    return -(magnitude - 0x84) if byte & 0x80 else magnitude - 0x84


ULAW_TABLE = [ulaw_decode(b) for b in range(256)]


def alaw_decode(byte):
    """ITU-T G.711 A-law to 16-bit linear."""
    byte ^= 0x55
    exponent = (byte >> 4) & 0x07
    mantissa = byte & 0x0F
    magnitude = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    return magnitude if byte & 0x80 else -magnitude


ALAW_TABLE = [alaw_decode(b) for b in range(256)]


def decode_pcma(payload):
    return [ALAW_TABLE[b] for b in payload]


def decode_pcmu(payload):
    return [ULAW_TABLE[b] for b in payload]


def rms(samples):
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def tone_ratio(samples, freq, rate=8000):
    """Share of the signal's energy at `freq` (Goertzel): about 1.0 for a pure tone, about 0 for
    silence, noise or speech."""
    n = len(samples)
    energy = sum(s * s for s in samples)
    if n == 0 or energy == 0:
        return 0.0
    coeff = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return power / (energy * n / 2.0)


def max_tone_ratio(samples, freq, rate=8000, window_s=0.2):
    """The largest `tone_ratio` of `freq` over consecutive `window_s` windows of `samples` (a partial
    last window is left out): near 1.0 when a pure `freq` tone filled any one window, so "this party
    never heard that tone" is `max_tone_ratio(...) < threshold` over everything it received."""
    n = max(1, int(rate * window_s))
    return max((tone_ratio(samples[i:i + n], freq, rate) for i in range(0, len(samples) - n + 1, n)), default=0.0)


class RtpPeer:
    def __init__(self, ip="127.0.0.1", tone_hz=300.0, payload_type=PCMU):
        """`payload_type`: PCMU or PCMA, what it sends its tone in (the codec its call negotiated)."""
        self.ip = ip
        self.payload_type = payload_type
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.port = self.sock.getsockname()[1]
        self._frames = self._tone_frames(tone_hz, alaw_encode if payload_type == PCMA else ulaw_encode)
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # held while a packet is sent (stop_sending)
        self._received = []  # (monotonic time, payload type, payload)
        self._headers = []  # (sequence number, marker, timestamp), one per entry of _received
        self._remote = None
        self._te_pt = 101
        self._dtmf_queue = []
        self._stop = threading.Event()
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._thread = threading.Thread(target=self._loop, name=f"rtp-{self.port}", daemon=True)
        self._thread.start()

    @staticmethod
    def _tone_frames(freq, encode=ulaw_encode):
        # One second of a quiet tone, cut into 20 ms frames: the caller's "voice".
        samples = [int(4000 * math.sin(2 * math.pi * freq * i / 8000)) for i in range(8000)]
        return [bytes(encode(s) for s in samples[i:i + FRAME_SAMPLES])
                for i in range(0, 8000, FRAME_SAMPLES)]

    # -- control (test thread) ---------------------------------------------------------------------

    def start_sending(self, remote_ip, remote_port, te_pt=101):
        with self._lock:
            self._remote = (remote_ip, int(remote_port))
            self._te_pt = int(te_pt)

    def stop_sending(self):
        """Stops sending (the caller moved its media elsewhere); receiving goes on. Once this
        returns no packet of this peer is on its way any more (`_send` checks under the same lock)."""
        with self._send_lock, self._lock:
            self._remote = None

    def send_dtmf(self, digit, duration_ms=160):
        """Queues one RFC 4733 event: packets every 20 ms with growing duration, then three end
        packets (§2.5.1.4), all with the event's start timestamp; audio pauses meanwhile."""
        code = DTMF_EVENTS[digit]
        steps = max(1, duration_ms // 20)
        with self._lock:
            for i in range(1, steps + 1):
                self._dtmf_queue.append((code, False, i * FRAME_SAMPLES, i == 1))
            for _ in range(3):
                self._dtmf_queue.append((code, True, steps * FRAME_SAMPLES, False))

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    # -- what arrived ------------------------------------------------------------------------------

    def count(self):
        with self._lock:
            return len(self._received)

    def packets(self, since=0):
        with self._lock:
            return list(self._received[since:])

    def headers(self, since=0):
        """(sequence number, marker, timestamp) of every packet from index `since` on, in the order
        of `packets()`."""
        with self._lock:
            return list(self._headers[since:])

    def telephone_events(self, pt, since=0):
        """Every packet of payload type `pt` from index `since` on, decoded as an RFC 4733 event
        (`TelephoneEvent`), in arrival order; packets too short for an event payload are skipped."""
        with self._lock:
            rows = list(zip(self._received[since:], self._headers[since:]))
        out = []
        for (_, ptype, payload), (seq, marker, ts) in rows:
            if ptype == pt and len(payload) >= 4:
                event, flags, duration = struct.unpack("!BBH", payload[:4])
                out.append(TelephoneEvent(seq, marker, ts, event, bool(flags & 0x80), bool(flags & 0x40),
                                          flags & 0x3F, duration, bytes(payload)))
        return out

    def audio(self, since=0):
        """Decoded PCMU samples of every audio packet from index `since` on."""
        out = []
        for _, pt, payload in self.packets(since):
            if pt == PCMU:
                out.extend(decode_pcmu(payload))
        return out

    def source(self):
        """Where the gateway's RTP came from (for symmetric-RTP checks), or None."""
        return getattr(self, "_source", None)

    # -- the thread --------------------------------------------------------------------------------

    def _loop(self):
        next_send = time.monotonic()
        frame = 0
        event_ts = None
        while not self._stop.is_set():
            wait = max(0.0, next_send - time.monotonic())
            readable, _, _ = select.select([self.sock], [], [], min(wait, 0.1))
            if readable:
                self._receive()
            if time.monotonic() < next_send:
                continue
            next_send += FRAME_SECONDS
            with self._lock:
                remote = self._remote
                dtmf = self._dtmf_queue.pop(0) if self._dtmf_queue else None
            if remote is None:
                continue
            if dtmf:
                code, end, duration, first = dtmf
                if first:
                    event_ts = self._ts
                payload = struct.pack("!BBH", code, (0x80 if end else 0) | 10, duration)
                self._send(remote, self._te_pt, first, event_ts, payload)
            else:
                self._send(remote, self.payload_type, False, self._ts, self._frames[frame % len(self._frames)])
                frame += 1
            self._ts = (self._ts + FRAME_SAMPLES) & 0xFFFFFFFF

    def _send(self, remote, pt, marker, ts, payload):
        header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, self._seq, ts, self._ssrc)
        self._seq = (self._seq + 1) & 0xFFFF
        with self._send_lock:
            if self._remote is None:  # stop_sending() ran after this frame was prepared
                return
            try:
                self.sock.sendto(header + payload, remote)
            except OSError:
                pass  # the gateway's port may be gone after the call ended; not this peer's verdict

    def _receive(self):
        try:
            data, source = self.sock.recvfrom(2048)
        except OSError:
            return
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        cc = data[0] & 0x0F
        offset = 12 + 4 * cc
        if data[0] & 0x10 and len(data) >= offset + 4:  # header extension (RFC 3550 §5.3.1)
            offset += 4 + 4 * struct.unpack("!H", data[offset + 2:offset + 4])[0]
        payload = data[offset:]
        if data[0] & 0x20 and payload:  # padding
            payload = payload[:-payload[-1]]
        with self._lock:
            self._source = source
            self._received.append((time.monotonic(), data[1] & 0x7F, payload))
            self._headers.append((struct.unpack("!H", data[2:4])[0], bool(data[1] & 0x80),
                                  struct.unpack("!I", data[4:8])[0]))
