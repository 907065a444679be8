"""SIPp as a test peer: one call (`-m 1`) of a scenario from tests/e2e/scenarios/, headless, with every
message it sent or received in `<name>.messages.log` (printed when a test fails).

Conventions the scenarios share (keys passed with `-key`):
- `[rtp_port]`: the caller's RTP port put in the SDP offer: a RtpPeer owned by the test, so the test
  both sends the caller's audio/DTMF and sees what the gateway sends back;
- `[media_file]`: the UAC scenarios write "<ip> <port> <telephone-event payload type>" of the gateway's
  SDP answer there (an <exec>), so the test knows where to send RTP;
- a scenario that waits in `<recv request="INFO">` is released by `trigger()`: the test sends an INFO
  with the call's Call-ID to SIPp's port once it has checked what it needs while the call is up. This
  replaces a fixed pause, so no test races a timer.
"""
import random
import re
import socket

from harness import SCENARIOS, _bindable, free_port, free_port_range, wait_for
from rtp_peer import PCMU, RtpPeer


def sip_messages(log):
    """The SIP messages (start line, headers, body) in a SIPp `-trace_msg` log, in order."""
    out = []
    for chunk in re.split(r"^-{10,}.*$", log, flags=re.M):
        m = re.search(r"^(?:[A-Z]+ \S+ SIP/2\.0|SIP/2\.0 \d{3}).*", chunk, flags=re.M | re.S)
        if m:
            out.append(m.group(0).strip().replace("\r\n", "\n"))
    return out


def header(message, *names):
    """The first value of a header (any of `names`, e.g. long and compact form), or None."""
    head = message.split("\n\n", 1)[0]
    for line in head.split("\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() in [n.lower() for n in names]:
            return value.strip()
    return None


def media_fields(sipp, path, what, timeout):
    """The words a scenario's <exec> wrote to `path` ("<ip> <port> [<telephone-event pt>]" of the
    gateway's SDP `what`), once the line is complete; AssertionError if SIPp exits first."""
    def read():
        if not sipp.proc.running() and not path.exists():
            raise AssertionError(f"{sipp.name} exited ({sipp.proc.popen.returncode}) before {path.name}")
        text = path.read_text() if path.exists() else ""
        return text.split() if text.endswith("\n") and len(text.split()) >= 2 else None
    return wait_for(read, timeout, f"{sipp.name} to receive the gateway's SDP {what} ({path.name})")


def media_of(fields):
    """(ip, port, telephone-event payload type or None) from `media_fields`."""
    te = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else None
    return fields[0], int(fields[1]), te


class Sipp:
    def __init__(self, case, scenario, gateway_port, name="sipp", local_ip="127.0.0.1", service="demo",
                 rtp_port=None, timeout_s=60, extra=()):
        self.case = case
        self.name = name
        self.local_ip = local_ip
        self.port = free_port(local_ip, kinds=(socket.SOCK_DGRAM,))
        control_port = free_port(kinds=(socket.SOCK_DGRAM,))
        media_first, _ = free_port_range(4, local_ip)
        self.call_id = f"e2e-{name}-{random.getrandbits(40):x}@{local_ip}"
        self.media_path = case.workdir / f"{name}.media.txt"
        self.messages_path = case.workdir / f"{name}.messages.log"
        argv = ["sipp", f"127.0.0.1:{gateway_port}", "-sf", SCENARIOS / scenario, "-m", "1", "-l", "1",
                "-nostdin", "-i", local_ip, "-bind_local", "-p", self.port, "-cp", control_port,
                "-mp", media_first, "-s", service, "-cid_str", self.call_id,
                "-timeout", f"{timeout_s}s", "-timeout_error", "-max_recv_loops", "1000",
                "-trace_msg", "-message_file", self.messages_path,
                "-trace_err", "-error_file", case.workdir / f"{name}.errors.log",
                "-key", "media_file", self.media_path, "-key", "rtp_port", rtp_port or 9, *extra]
        self.proc = case.start(name, argv)

    def wait(self, timeout=60):
        """SIPp's exit status: 0 = the call followed the scenario exactly."""
        return self.proc.wait(timeout)

    def assert_passed(self, timeout=60):
        rc = self.wait(timeout)
        self.case.assertEqual(rc, 0, f"{self.name} failed (exit {rc}); see {self.messages_path.name}")

    def messages(self):
        return self.messages_path.read_text(errors="replace") if self.messages_path.exists() else ""

    def gateway_media(self, timeout=15):
        """(ip, port, telephone-event payload type or None) from the gateway's SDP answer."""
        return media_of(self.answer_fields(timeout=timeout))

    def answer_fields(self, suffix="", timeout=15):
        """The words a scenario's <exec> wrote to `[media_file]<suffix>` (e.g. ".reinvite": the
        answer to a later offer), once the line is complete."""
        return media_fields(self, self.media_path.with_name(self.media_path.name + suffix), "answer", timeout)

    def trigger(self):
        """Releases a scenario waiting in <recv request="INFO"> (see the module comment)."""
        tag = "%08x" % random.getrandbits(32)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((self.local_ip, 0))
            lport = s.getsockname()[1]
            msg = (f"INFO sip:caller@{self.local_ip}:{self.port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {self.local_ip}:{lport};branch=z9hG4bK-trigger{tag}\r\n"
                   f"From: <sip:e2e-test@{self.local_ip}>;tag=trigger{tag}\r\n"
                   f"To: <sip:caller@{self.local_ip}:{self.port}>\r\n"
                   f"Call-ID: {self.call_id}\r\n"
                   f"CSeq: 1 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), (self.local_ip, self.port))



class SippUas:
    """SIPp's built-in UAS (`-sn uas`: 180, 200 with SDP, then waits for the caller's BYE) as a
    transfer target: exit 0 means it was called, answered and hung up on cleanly."""

    def __init__(self, case, name="target", timeout_s=90):
        self.case = case
        self.name = name
        self.port = free_port(kinds=(socket.SOCK_DGRAM,))
        media_first, _ = free_port_range(4)
        self.messages_path = case.workdir / f"{name}.messages.log"
        self.proc = case.start(name, [
            "sipp", "-sn", "uas", "-m", "1", "-nostdin", "-i", "127.0.0.1", "-bind_local", "-p", self.port,
            "-cp", free_port(kinds=(socket.SOCK_DGRAM,)), "-mp", media_first, "-timeout", f"{timeout_s}s",
            "-timeout_error", "-trace_msg", "-message_file", self.messages_path])

    def messages(self):
        return self.messages_path.read_text(errors="replace") if self.messages_path.exists() else ""

    def wait(self, timeout=60):
        return self.proc.wait(timeout)


class SippUasScenario:
    """SIPp answering one call (`-m 1`) with a UAS scenario from scenarios/: a carrier behind a trunk
    or a transfer target that warmline dials. Everything it sent and received goes to
    `<name>.messages.log`. Keys: `[call_file]`: a scenario may write the Call-ID it got there (an
    <exec>), which `trigger()` needs. `rtp_echo`: SIPp sends every RTP packet that reaches its media
    port ([media_port] in its SDP) back to where it came from, so a caller bridged to it hears itself.
    `rtp`: a RtpPeer as the target's media instead (no echo): scenarios that take it put its port in
    their SDP as `[rtp_port]` and write the gateway's offer to `[media_file]` (`gateway_media`)."""

    def __init__(self, case, scenario, name="provider", timeout_s=90, rtp_echo=True, extra=(), rtp=None):
        self.case = case
        self.name = name
        self.port = free_port(kinds=(socket.SOCK_DGRAM,))
        media_first, _ = free_port_range(4)
        self.call_path = case.workdir / f"{name}.call_id.txt"
        self.messages_path = case.workdir / f"{name}.messages.log"
        self.media_path = case.workdir / f"{name}.media.txt"
        if rtp:
            rtp_echo = False
            extra = ("-key", "rtp_port", rtp.port, "-key", "media_file", self.media_path, *extra)
        argv = ["sipp", "-sf", SCENARIOS / scenario, "-m", "1", "-nostdin", "-i", "127.0.0.1", "-bind_local",
                "-p", self.port, "-cp", free_port(kinds=(socket.SOCK_DGRAM,)), "-mp", media_first,
                "-timeout", f"{timeout_s}s", "-timeout_error", "-max_recv_loops", "1000",
                "-trace_msg", "-message_file", self.messages_path,
                "-trace_err", "-error_file", case.workdir / f"{name}.errors.log",
                "-key", "call_file", self.call_path, *(["-rtp_echo"] if rtp_echo else []), *extra]
        self.proc = case.start(name, argv)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def wait_listening(self, timeout=15):
        """Returns once SIPp has bound its SIP port: a test that has warmline dial it straight away must
        not race SIPp's start-up (on a loaded machine it can take seconds)."""
        wait_for(lambda: not _bindable(socket.SOCK_DGRAM, "127.0.0.1", self.port), timeout,
                 f"{self.name} to listen on 127.0.0.1:{self.port}")

    def messages(self):
        return self.messages_path.read_text(errors="replace") if self.messages_path.exists() else ""

    def gateway_media(self, timeout=15):
        """(ip, port, telephone-event payload type or None) of the gateway's SDP offer (with `rtp`)."""
        return media_of(media_fields(self, self.media_path, "offer", timeout))

    def requests(self, method):
        """The `method` requests it has received so far, in order (its message log); a retransmission
        (same CSeq) counts once."""
        out, seen = [], set()
        for m in sip_messages(self.messages()):
            if m.startswith(f"{method} ") and header(m, "CSeq") not in seen:
                seen.add(header(m, "CSeq"))
                out.append(m)
        return out

    def wait(self, timeout=60):
        return self.proc.wait(timeout)

    def assert_passed(self, timeout=60):
        rc = self.wait(timeout)
        self.case.assertEqual(rc, 0, f"{self.name} failed (exit {rc}); see {self.messages_path.name}")

    def trigger(self, timeout=15):
        """Releases a scenario waiting in <recv request="INFO"> for the call it got (see Sipp.trigger)."""
        call_id = wait_for(lambda: self.call_path.exists() and self.call_path.read_text().strip(), timeout,
                           f"{self.name} to write the Call-ID it received")
        tag = "%08x" % random.getrandbits(32)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            lport = s.getsockname()[1]
            msg = (f"INFO sip:{self.name}@127.0.0.1:{self.port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK-trigger{tag}\r\n"
                   f"From: <sip:e2e-test@127.0.0.1>;tag=trigger{tag}\r\n"
                   f"To: <sip:{self.name}@127.0.0.1:{self.port}>\r\n"
                   f"Call-ID: {call_id}\r\n"
                   f"CSeq: 1 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), ("127.0.0.1", self.port))


def start_caller(case, gateway, scenario, name="sipp", local_ip="127.0.0.1", need_dtmf=True, extra=(),
                 tone_hz=300.0, payload_type=PCMU, timeout_s=60):
    """A SIPp caller running `scenario` against the gateway, with the test's RtpPeer as its media:
    returns (sipp, rtp) once the call is answered and the peer is sending to the gateway's media
    address from the SDP answer. `extra`: more SIPp arguments (e.g. `-key NAME VALUE`); `tone_hz`:
    the caller's "voice" (RtpPeer's tone), sent as `payload_type` (PCMU, or PCMA where the scenario's
    offer puts PCMA first); `timeout_s`: SIPp's limit for the whole call."""
    rtp = RtpPeer(local_ip, tone_hz=tone_hz, payload_type=payload_type)
    case.addCleanup(rtp.stop)
    sipp = Sipp(case, scenario, gateway.sip_port, name=name, local_ip=local_ip, rtp_port=rtp.port, extra=extra,
                timeout_s=timeout_s)
    ip, port, te_pt = sipp.gateway_media()
    if need_dtmf:
        case.assertIsNotNone(te_pt, "the gateway's SDP answer drops telephone-event (RFC 4733)")
    rtp.start_sending(ip, port, te_pt or 101)
    return sipp, rtp
