"""A small HEP v3 decoder and a UDP collector for the SIP trace tests (docs/operations.md "SIP trace
(Homer)"). It reads the packet the way a Homer collector does, from the HEP3 specification: "HEP3", the
total length, then chunks {vendor u16, type u16, length u16 (with the 6-byte header), payload}."""
import ipaddress
import socket
import struct
import threading
import time

# Chunk types (vendor 0) this decoder knows; others are kept by number.
CHUNKS = {1: "ip_family", 2: "ip_protocol", 3: "src_ip", 4: "dst_ip", 5: "src_ip", 6: "dst_ip", 7: "src_port",
          8: "dst_port", 9: "seconds", 10: "microseconds", 11: "proto_type", 12: "capture_id", 14: "auth_key",
          15: "payload", 17: "correlation_id"}
U8, U16, U32 = {1, 2, 11}, {7, 8}, {9, 10, 12}


class HepError(ValueError):
    pass


def decode(packet):
    """One HEP v3 packet as a dict keyed by CHUNKS' names (plus "chunks": the types in order). Raises
    HepError for anything that is not a well-formed HEP v3 packet."""
    if len(packet) < 6 or packet[:4] != b"HEP3":
        raise HepError("no HEP3 magic")
    total = struct.unpack("!H", packet[4:6])[0]
    if total != len(packet):
        raise HepError(f"length field {total} but the packet has {len(packet)} bytes")
    out = {"chunks": []}
    pos = 6
    while pos < len(packet):
        if pos + 6 > len(packet):
            raise HepError(f"a chunk header cut at byte {pos}")
        vendor, kind, length = struct.unpack("!HHH", packet[pos:pos + 6])
        if length < 6 or pos + length > len(packet):
            raise HepError(f"chunk {kind} at byte {pos} has length {length}")
        value = packet[pos + 6:pos + length]
        pos += length
        if vendor != 0:
            raise HepError(f"chunk {kind} has vendor {vendor}")
        out["chunks"].append(kind)
        name = CHUNKS.get(kind, kind)
        if kind in U8:
            want = 1
        elif kind in U16:
            want = 2
        elif kind in U32:
            want = 4
        else:
            want = None
        if want is not None:
            if len(value) != want:
                raise HepError(f"chunk {kind} has {len(value)} bytes, not {want}")
            value = int.from_bytes(value, "big")
        elif kind in (3, 4, 5, 6):
            if len(value) != (4 if kind in (3, 4) else 16):
                raise HepError(f"address chunk {kind} has {len(value)} bytes")
            value = str(ipaddress.ip_address(value))
        elif kind in (14, 17):
            value = value.decode()
        if name in out:
            raise HepError(f"chunk {kind} twice")
        out[name] = value
    return out


class HepCollector:
    """A HEP collector on 127.0.0.1 (UDP, an ephemeral port): a thread receives every packet with the
    time it came; `packets()` decodes them. Stopped by the test's cleanup."""

    def __init__(self, case):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.raw = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        case.addCleanup(self.stop)

    @property
    def address(self):
        return f"udp:127.0.0.1:{self.port}"

    def _run(self):
        while self.running:
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.raw.append((time.time(), data))

    def count(self):
        with self.lock:
            return len(self.raw)

    def packets(self):
        """Every packet so far, decoded (a malformed one raises HepError)."""
        with self.lock:
            raw = list(self.raw)
        return [decode(data) for _, data in raw]

    def stop(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


def first_line(hep):
    return hep["payload"].split(b"\r\n", 1)[0].decode(errors="replace")


def sip_call_id(hep):
    """The Call-ID header of the packet's SIP payload (or the compact i:), None when there is none."""
    head = hep["payload"].split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() in ("call-id", "i"):
            return value.strip()
    return None
