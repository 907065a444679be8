"""Peers that fail on purpose, for the fault tests (issue 12 part 7): an agent that stops reading its
socket, and DNS servers that answer SERVFAIL or nothing at all.

`StallingAgent` listens with a small receive buffer. Its first `stall` connections get the WebSocket
upgrade and have their first frame (the native protocol's `start`) read; then the agent never reads
again, while keeping the socket open: what an agent whose process hangs looks like from warmline.
Later connections are relayed byte for byte to a real agent (harness.Agent), so one gateway can
have a stalled call and a healthy one side by side.

`DnsStub` is a UDP DNS server on 127.0.0.1: mode "servfail" answers every query with SERVFAIL
(RCODE 2) and no records; mode "silent" reads every query and never answers. It counts the queries.

Standard library only; one thread per peer (and per connection), bounded by stop().
"""
import base64
import hashlib
import json
import select
import socket
import struct
import threading
import time

from harness import HeldAgent

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


def _recv_exact(sock, n, deadline):
    data = b""
    while len(data) < n:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


def read_ws_frame(sock, timeout=10.0):
    """(opcode, payload) of one client frame (masked, RFC 6455 §5.2)."""
    deadline = time.monotonic() + timeout
    b0, b1 = _recv_exact(sock, 2, deadline)
    length = b1 & 0x7F
    if length == 126:
        length = struct.unpack("!H", _recv_exact(sock, 2, deadline))[0]
    elif length == 127:
        length = struct.unpack("!Q", _recv_exact(sock, 8, deadline))[0]
    mask = _recv_exact(sock, 4, deadline) if b1 & 0x80 else b"\0\0\0\0"
    payload = _recv_exact(sock, length, deadline)
    return b0 & 0x0F, bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def accept_ws_upgrade(sock, timeout=10.0):
    """Reads the HTTP upgrade request and answers 101 with the right Sec-WebSocket-Accept."""
    deadline = time.monotonic() + timeout
    request = b""
    while b"\r\n\r\n" not in request and len(request) < 16384:
        request += _recv_exact(sock, 1, deadline)
    key = ""
    for line in request.decode(errors="replace").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip()
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())


class StallingAgent(HeldAgent):
    """See the module's docstring: a HeldAgent, released at once, whose first `stall` connections
    stall instead of being relayed to `upstream` (a harness.Agent). `starts`: the start frames of the
    stalled connections (parsed JSON), with `stalled_at[i]` the monotonic time the agent stopped
    reading connection i."""

    def __init__(self, case, upstream, stall=1, rcvbuf=4096):
        self.stall = stall
        self.starts, self.stalled_at = [], []
        self._held = []  # stalled sockets, kept open until stop()
        self._seen = 0
        # A small receive buffer: the window the agent advertises stays small, so warmline's writes
        # stop soon after the agent stops reading.
        super().__init__(case, upstream, rcvbuf=rcvbuf)
        self.release()

    def stop(self):
        super().stop()
        with self._lock:
            for s in self._held:
                s.close()

    def _relay(self, conn):
        with self._lock:
            self._seen += 1
            stall = self._seen <= self.stall
        if not stall:
            return super()._relay(conn)
        try:
            accept_ws_upgrade(conn)
            opcode, payload = read_ws_frame(conn)
            start = json.loads(payload) if opcode == 1 else {"opcode": opcode}
        except (OSError, ValueError):
            conn.close()
            return
        with self._lock:
            self.starts.append(start)
            self.stalled_at.append(time.monotonic())
            self._held.append(conn)  # never read again; closed by stop()


class DnsStub:
    """See the module's docstring. `address` goes into `[server] dns_servers`."""

    def __init__(self, case, mode):
        assert mode in ("servfail", "silent")
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.questions = []  # (qname, qtype) of every query received
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"dns-{mode}-{self.port}", daemon=True)
        self._thread.start()
        case.addCleanup(self.stop)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def queries(self):
        with self._lock:
            return list(self.questions)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    def _loop(self):
        while not self._stop.is_set():
            readable, _, _ = select.select([self.sock], [], [], 0.1)
            if not readable:
                continue
            data, source = self.sock.recvfrom(4096)
            if len(data) < 12:
                continue
            qname, end = self._question(data)
            qtype = struct.unpack("!H", data[end:end + 2])[0] if end + 2 <= len(data) else 0
            with self._lock:
                self.questions.append((qname, qtype))
            if self.mode == "servfail":
                qid, flags = struct.unpack("!HH", data[:4])
                # QR=1, the query's opcode and RD, RA=1, RCODE=2; the question echoed, no records.
                reply_flags = 0x8000 | (flags & 0x7900) | 0x0080 | 2
                question = data[12:end + 4]
                self.sock.sendto(struct.pack("!HHHHHH", qid, reply_flags, 1, 0, 0, 0) + question, source)

    @staticmethod
    def _question(data):
        labels, i = [], 12
        while i < len(data) and data[i] != 0 and len(labels) < 64:
            n = data[i]
            labels.append(data[i + 1:i + 1 + n].decode(errors="replace"))
            i += 1 + n
        return ".".join(labels), i + 1
