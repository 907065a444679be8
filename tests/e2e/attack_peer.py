"""Peers and probes of the attack battery (tests/e2e/test_attack_battery.py):

- `exchange()`: sends one hand-written SIP datagram (malformed on purpose, or from a chosen source)
  through a RawSip endpoint and returns the final response to it, found by the Via branch the text
  carries (RawSip.request cannot send what is not well formed);
- `tcp_exchange()`: the same over a TCP connection (a message larger than the parser's limit cannot
  travel in one UDP datagram);
- `Challenger`: a trunk's server that answers every INVITE with a digest challenge (401) — the first
  with realm `realm`, every later one with `realm_after` (a different realm, or the same one again
  without stale=true: the credentials were rejected) — and records every datagram;
- `PeerWatch`: the datagrams every configured peer port has received, so that each attack can say
  how many reached which peer (expected: none, but for the cases that dial on purpose).
Standard library only.
"""
import random
import socket
import threading
import time

from raw_sip import RawSip, header, header_values, method_of, status_code


def branch_of(text):
    """The branch parameter of the first Via of a message's text, or None."""
    via = header(text, "Via") or ""
    for param in via.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "branch":
            return value.strip()
    return None


def exchange(raw, text, dest, timeout=5.0):
    """Sends `text` (CRLF line ends, complete) from `raw` to `dest`, retransmitted every 500 ms, and
    returns the final response to it — the one whose Via carries the same branch, or, for a request
    without a Via, the same Call-ID — or None after `timeout`. A final response to an INVITE is ACKed
    (RFC 3261 §17.1.1.3), so the gateway does not keep retransmitting it into later cases."""
    branch = branch_of(text)
    call_id = header(text, "Call-ID")
    seen = len(raw.received())

    def final():
        for t, _ in raw.received()[seen:]:
            code = status_code(t)
            if not code or code < 200:
                continue
            if (f"branch={branch}" in (header(t, "Via") or "")) if branch else header(t, "Call-ID") == call_id:
                return t
        return None
    deadline = time.monotonic() + timeout
    response = None
    while response is None and time.monotonic() < deadline:
        raw.send(text, dest)
        resend = min(deadline, time.monotonic() + 0.5)
        while response is None and time.monotonic() < resend:
            response = final()
            if response is None:
                time.sleep(0.02)
    response = response or final()
    if response and method_of(text) == "INVITE":
        raw.send("\r\n".join([f"ACK {text.split(' ', 2)[1]} SIP/2.0", f"Via: {header(text, 'Via')}",
                               f"From: {header(text, 'From')}", f"To: {header(response, 'To')}",
                               f"Call-ID: {call_id}", f"CSeq: {(header(text, 'CSeq') or '1').split()[0]} ACK",
                               "Max-Forwards: 70", "Content-Length: 0"]) + "\r\n\r\n", dest)
    return response


def tcp_exchange(port, data, timeout=10.0):
    """Sends `data` (bytes) to the gateway's TCP listener on 127.0.0.1:`port` and returns the first
    response's text, or None when the connection closes or `timeout` passes first."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the gateway may answer and close before it has read everything
        received = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in received and time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except (socket.timeout, OSError):
                break
            if not chunk:
                break
            received += chunk
    text = received.decode(errors="replace")
    return text if text.startswith("SIP/2.0 ") else None


def sip_text(start, headers, body=""):
    """A message from its start line and header lines; Content-Length is the caller's to give (or
    to forge)."""
    return "\r\n".join([start, *headers]) + "\r\n\r\n" + body


class Challenger(RawSip):
    """A trunk's server that challenges every INVITE (401, WWW-Authenticate Digest) and ACKs nothing
    itself: the first INVITE of a Call-ID is challenged for `realm`, every later one for
    `realm_after` (another realm: warmline must not answer it; the same realm: the credentials were
    rejected). Nonces are fresh each time; stale is never set. A retransmitted INVITE (same Call-ID
    and CSeq) gets the same 401 again, as a transaction would answer it."""

    def __init__(self, case, realm="carrier.example", realm_after=None, name="challenger"):
        self.realm = realm
        self.realm_after = realm_after or realm
        self._challenged = {}  # Call-ID -> challenges sent
        self._answers = {}  # (Call-ID, CSeq) -> the 401 sent
        self._challenge_lock = threading.Lock()
        super().__init__(case, name=name, answer=None)
        self._responder = threading.Thread(target=self._respond_loop, name=f"challenger-{self.port}", daemon=True)
        self._handled = 0
        self._responder.start()

    def invites(self):
        return [(t, s) for t, s in self.requests("INVITE")]

    def _respond_loop(self):
        while not self._stop.is_set():
            with self._arrived:
                self._arrived.wait(0.1)
                pending = self._messages[self._handled:]
                self._handled = len(self._messages)
            for text, source in pending:
                method = method_of(text)
                if method == "INVITE":
                    self._challenge(text, source)
                elif method not in (None, "ACK"):
                    self._respond(text, source, 200)

    def _challenge(self, text, source):
        call_id = header(text, "Call-ID")
        key = (call_id, header(text, "CSeq"))
        with self._challenge_lock:
            earlier = self._answers.get(key)
            n = self._challenged.get(call_id, 0)
            if earlier is None:
                self._challenged[call_id] = n + 1
        if earlier is not None:
            self.send(earlier, source)
            return
        realm = self.realm if n == 0 else self.realm_after
        to_value = header(text, "To") or ""
        if ";tag=" not in to_value:
            to_value += ";tag=ch%08x" % random.getrandbits(32)
        lines = ["SIP/2.0 401 Unauthorized", *[f"Via: {v}" for v in header_values(text, "Via")],
                 f"From: {header(text, 'From')}", f"To: {to_value}", f"Call-ID: {call_id}",
                 f"CSeq: {header(text, 'CSeq')}",
                 f'WWW-Authenticate: Digest realm="{realm}", nonce="n{random.getrandbits(64):016x}", '
                 'algorithm=MD5, qop="auth"',
                 "Content-Length: 0"]
        answer = "\r\n".join(lines) + "\r\n\r\n"
        with self._challenge_lock:
            self._answers[key] = answer
        try:
            self.send(answer, source)
        except OSError:
            pass  # stopping


class PeerWatch:
    """Datagram counts of every configured peer: `counters` maps a peer's name to a function that
    returns how many datagrams (or requests) it has received so far."""

    def __init__(self, counters):
        self.counters = dict(counters)

    def snapshot(self):
        return {name: count() for name, count in self.counters.items()}

    @staticmethod
    def delta(before, after):
        """{peer: datagrams since `before`} for the peers that received any."""
        return {name: after[name] - before[name] for name in after if after[name] != before[name]}
