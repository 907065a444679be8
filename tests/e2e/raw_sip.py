"""A raw SIP endpoint over UDP, written by the test, and helpers to read SIP messages.

`RawSip` is a faithful minimal UA for what SIPp cannot play: an attacker on another address sending
requests into a live dialog with chosen tags and CSeq, or a record-routing "proxy" address that only
has to receive the gateway's in-dialog request and answer it. Each request is a new client
transaction (fresh branch, Via with `rport`); the final response is returned, provisional ones are
skipped; a non-2xx final response to an INVITE is ACKed in the same transaction and a 2xx with a
separate ACK (RFC 3261 §17.1.1.3, §13.2.2.4), so the gateway never retransmits on our account. Every
request the endpoint receives is kept (and answered when the test asks for it), so a test can also
prove that nothing came (e.g. no BYE to the attacker).

`sip_messages()` splits a SIPp `-trace_msg` log; `header_values()` / `route_entries()` read headers.
Standard library only; one receive thread per endpoint, stopped by the test's cleanup.
"""
import random
import re
import select
import socket
import sys
import threading
import time

from harness import wait_for


# ---------------------------------------------------------------------------------------------------
# Reading SIP messages

def parse(text):
    """(start line, [(header name, value)], body) of one SIP message; folded lines are not used by
    the gateway or SIPp, so they are not joined."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return lines[0].strip(), headers, body


COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
           "c": "content-type", "r": "refer-to", "k": "supported", "e": "content-encoding", "s": "subject"}


def header_values(message, name):
    """Every value of header `name` (long or compact form), in message order."""
    want = name.lower()
    out = []
    for n, v in parse(message)[1]:
        n = n.lower()
        if COMPACT.get(n, n) == want:
            out.append(v)
    return out


def header(message, name):
    values = header_values(message, name)
    return values[0] if values else None


def split_list(value):
    """Splits a header value on the commas between entries (not inside <...> or quotes)."""
    parts, current, depth, quoted = [], [], 0, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        elif ch == "," and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def route_entries(message, name):
    """The entries of every `name` header (Record-Route, Route), in order, as one list: a list in
    one header and the same list in several headers read the same (RFC 3261 §7.3.1)."""
    return [entry for value in header_values(message, name) for entry in split_list(value)]


def status_code(message):
    start = parse(message)[0]
    return int(start.split(" ", 2)[1]) if start.startswith("SIP/2.0 ") else None


def method_of(message):
    start = parse(message)[0]
    return None if start.startswith("SIP/2.0 ") else start.split(" ", 1)[0]


def sip_messages(log):
    """The SIP messages (start line, headers, body) in a SIPp `-trace_msg` log, in order."""
    out = []
    for chunk in re.split(r"^-{10,}.*$", log, flags=re.M):
        m = re.search(r"^(?:[A-Z]+ \S+ SIP/2\.0|SIP/2\.0 \d{3}).*", chunk, flags=re.M | re.S)
        if m:
            out.append(m.group(0).strip().replace("\r\n", "\n"))
    return out


def responses_to(messages, cseq, code_prefix=""):
    """Responses in `messages` whose CSeq is `cseq` (e.g. "1 INVITE") and whose status starts with
    `code_prefix` (e.g. "2", "405")."""
    return [m for m in messages
            if m.startswith("SIP/2.0 " + code_prefix) and header(m, "CSeq") == cseq]


def sdp_attribute_lines(message):
    """The `a=` lines of a message's body."""
    return [line.strip() for line in parse(message)[2].split("\n") if line.strip().startswith("a=")]


def sdp_line(message, prefix):
    """The first body line starting with `prefix` (e.g. "m=audio", "o="), or None."""
    for line in parse(message)[2].split("\n"):
        if line.strip().startswith(prefix):
            return line.strip()
    return None


# ---------------------------------------------------------------------------------------------------
# A raw endpoint

class RawSip:
    def __init__(self, case, ip="127.0.0.1", name="raw", answer=None):
        """`answer`: status code (e.g. 200) to answer every non-ACK request this endpoint receives
        with, or None to leave them unanswered (they are recorded either way)."""
        self.ip = ip
        self.name = name
        self.answer = answer
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.port = self.sock.getsockname()[1]
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # notified for every datagram received
        self._messages = []  # (text, source address), every datagram received
        self._sent = []  # every message sent, for the log printed on failure
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"raw-sip-{name}", daemon=True)
        self._thread.start()
        case.addCleanup(self.stop)
        case.printers.append(self.print_log)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    def print_log(self):
        with self._lock:
            received = list(self._messages)
            sent = list(self._sent)
        print(f"----- raw SIP endpoint {self.name} ({self.ip}:{self.port}) -----", file=sys.stderr)
        for text in sent:
            print(f">>> sent\n{text}", file=sys.stderr)
        for text, source in received:
            print(f"<<< from {source}\n{text}", file=sys.stderr)

    # -- what arrived ------------------------------------------------------------------------------

    def received(self):
        with self._lock:
            return list(self._messages)

    def requests(self, method=None):
        """(text, source) of every request received, optionally of one method."""
        return [(t, s) for t, s in self.received()
                if method_of(t) is not None and (method is None or method_of(t) == method)]

    def wait_request(self, method, timeout=10):
        return wait_for(lambda: (self.requests(method) or [None])[0], timeout,
                        f"a {method} at {self.name} ({self.ip}:{self.port})")

    # -- sending -----------------------------------------------------------------------------------

    def send(self, text, dest):
        with self._lock:
            self._sent.append(text)
        self.sock.sendto(text.encode(), dest)

    def request(self, method, dest, uri, call_id, from_uri, from_tag, to_uri, to_tag=None, cseq=1,
                contact=None, body="", content_type=None, extra=(), timeout=5.0):
        """Sends one request to `dest` (host, port) and returns the final response's text (None when
        none came within `timeout`; the request is retransmitted every 500 ms meanwhile, RFC 3261
        Timer A/E). `extra`: more header lines."""
        branch = "z9hG4bK-raw%016x" % random.getrandbits(64)
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {self.ip}:{self.port};branch={branch};rport",
                 "Max-Forwards: 70",
                 f"From: <{from_uri}>;tag={from_tag}",
                 f"To: <{to_uri}>" + (f";tag={to_tag}" if to_tag else ""),
                 f"Call-ID: {call_id}",
                 f"CSeq: {cseq} {method}"]
        if contact:
            lines.append(f"Contact: <{contact}>")
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines.extend(extra)
        lines.append(f"Content-Length: {len(body.encode())}")
        text = "\r\n".join(lines) + "\r\n\r\n" + body
        with self._lock:
            seen = len(self._messages)
        self.send(text, dest)

        def final():  # called with the lock held
            for t, _ in self._messages[seen:]:
                code = status_code(t)
                if code and code >= 200 and f"branch={branch}" in (header(t, "Via") or ""):
                    return t
            return None
        deadline = time.monotonic() + timeout
        next_retransmit = time.monotonic() + 0.5
        response = None
        while True:
            with self._arrived:
                response = final()
                now = time.monotonic()
                if response or now >= deadline:
                    break
                if now < next_retransmit:
                    self._arrived.wait(min(next_retransmit, deadline) - now)
                    continue
            self.send(text, dest)
            next_retransmit += 0.5
        if response and method == "INVITE":
            self._ack(response, dest, uri, branch, call_id, from_uri, from_tag, cseq)
        return response

    def _ack(self, response, dest, uri, branch, call_id, from_uri, from_tag, cseq):
        to_value = header(response, "To")
        code = status_code(response)
        if code >= 300:  # same transaction: same branch (RFC 3261 §17.1.1.3)
            ack_branch = branch
        else:  # a 2xx is ACKed end to end in a new transaction (§13.2.2.4)
            ack_branch = "z9hG4bK-rawack%016x" % random.getrandbits(64)
        text = "\r\n".join([
            f"ACK {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.ip}:{self.port};branch={ack_branch};rport",
            "Max-Forwards: 70",
            f"From: <{from_uri}>;tag={from_tag}",
            f"To: {to_value}",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} ACK",
            "Content-Length: 0"]) + "\r\n\r\n"
        self.send(text, dest)

    def _respond(self, request, source, code):
        reasons = {200: "OK", 481: "Call/Transaction Does Not Exist"}
        lines = [f"SIP/2.0 {code} {reasons.get(code, 'Status')}"]
        lines += [f"Via: {v}" for v in header_values(request, "Via")]
        to_value = header(request, "To") or ""
        if ";tag=" not in to_value:
            to_value += ";tag=raw%08x" % random.getrandbits(32)
        lines += [f"From: {header(request, 'From')}", f"To: {to_value}",
                  f"Call-ID: {header(request, 'Call-ID')}", f"CSeq: {header(request, 'CSeq')}",
                  "Content-Length: 0"]
        # The response goes back where the request came from (RFC 3581 rport: the Via's sent-by
        # and the source are the same here).
        self.send("\r\n".join(lines) + "\r\n\r\n", source)

    # -- the thread --------------------------------------------------------------------------------

    def _loop(self):
        while not self._stop.is_set():
            readable, _, _ = select.select([self.sock], [], [], 0.1)
            if not readable:
                continue
            try:
                data, source = self.sock.recvfrom(65535)
            except OSError:
                return
            text = data.decode(errors="replace")
            with self._arrived:
                self._messages.append((text, source))
                self._arrived.notify_all()
            method = method_of(text)
            if method and method != "ACK" and self.answer is not None:
                try:
                    self._respond(text, source, self.answer)
                except OSError:
                    pass  # stopping


# ---------------------------------------------------------------------------------------------------
# SDP in a message's body

def sdp_audio(message):
    """(port, [payload types]) of the body's m=audio line, or None."""
    line = sdp_line(message, "m=audio")
    if not line:
        return None
    words = line.split()
    return int(words[1]), words[3:]


def sdp_rtpmaps(message):
    """{payload type: "encoding/clock rate"} of the body's a=rtpmap lines."""
    out = {}
    for a in sdp_attribute_lines(message):
        if a.startswith("a=rtpmap:"):
            pt, _, encoding = a[len("a=rtpmap:"):].partition(" ")
            out[pt] = encoding.strip()
    return out


def sdp_directions(message):
    """The direction attributes (sendrecv, sendonly, recvonly, inactive) in the body, in order."""
    return [a[2:] for a in sdp_attribute_lines(message)
            if a[2:] in ("sendrecv", "sendonly", "recvonly", "inactive")]


def sdp_session_version(message):
    """The o= line's session version (RFC 4566 §5.2), as an int, or None."""
    line = sdp_line(message, "o=")
    return int(line.split()[2]) if line and len(line.split()) > 2 else None
