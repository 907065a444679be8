"""SIP over TCP (RFC 3261 §18): SIPp calls the gateway's tcp: listener (`-t t1`); the call connects and
ends over that one connection, both ways (the caller's BYE, and the gateway's own BYE sent back over
the caller's connection). On a raw connection: a CRLFCRLF keep-alive gets CRLF (RFC 5626 §4.4.1), a
message without Content-Length gets 400 and one over the size limit 513, each closing the connection
while the gateway stays up, and an idle connection is closed after sip_idle_timeout_s. A transfer to a
target behind a TCP trunk whose port refuses the connection ends `unreachable` at once, with the
connect error as its reason (RFC 3261 §8.1.3.1), not after the 4 s silent-server wait or timer B.
"""
import random
import socket
import time
import unittest

from baresip_peer import Baresip
from harness import Agent, E2ETestCase, Gateway, provider_trunk, unreachable_agent_url, wait_for, wait_tone
from rtp_peer import RtpPeer
from sipp_peer import Sipp, header, sip_messages

SCRIPT = """\
on start: tone 440 4000
"""


def options_text(port, lport, body_headers="Content-Length: 0\r\n", branch=None):
    branch = branch or "z9hG4bK-tcp%08x" % random.getrandbits(32)
    return (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/TCP 127.0.0.1:{lport};branch={branch}\r\n"
            f"From: <sip:e2e@127.0.0.1>;tag=t{random.getrandbits(24):x}\r\n"
            f"To: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: tcp-{random.getrandbits(40):x}@127.0.0.1\r\n"
            f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n{body_headers}\r\n")


class Conn:
    """A raw TCP connection to the gateway; every read has a deadline."""

    def __init__(self, case, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        case.addCleanup(self.sock.close)
        self.lport = self.sock.getsockname()[1]
        self.data = b""

    def send(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)

    def read_until(self, condition, timeout, what):
        """Reads until condition(data) holds; returns the data. A closed connection ends the wait."""
        deadline = time.monotonic() + timeout
        while not condition(self.data):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; got {self.data!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            self.data += chunk
        if not condition(self.data):
            raise AssertionError(f"connection closed before {what}; got {self.data!r}")
        return self.data

    def response(self, timeout=5):
        """The next whole response (headers and its Content-Length body), consumed from the buffer."""
        def whole(d):
            head, sep, rest = d.partition(b"\r\n\r\n")
            if not sep:
                return False
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() in (b"content-length", b"l"):
                    length = int(value.strip())
            return len(rest) >= length
        data = self.read_until(whole, timeout, "a response").decode(errors="replace")
        head, _, rest = data.partition("\r\n\r\n")
        length = int(header(head.replace("\r\n", "\n"), "Content-Length", "l") or 0)
        self.data = rest[length:].encode()
        return head.replace("\r\n", "\n") + "\n\n" + rest[:length]

    def wait_closed(self, timeout):
        """Waits until the gateway closes the connection (recv returns b"")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return
            if not chunk:
                return
            self.data += chunk
        raise AssertionError("the gateway kept the connection open")


def trigger_over_tcp(sipp):
    """Sipp.trigger() for a SIPp that runs over TCP: the INFO goes to its TCP port."""
    tag = "%08x" % random.getrandbits(32)
    with socket.create_connection((sipp.local_ip, sipp.port), timeout=5) as s:
        lport = s.getsockname()[1]
        s.sendall((f"INFO sip:caller@{sipp.local_ip}:{sipp.port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/TCP {sipp.local_ip}:{lport};branch=z9hG4bK-trigger{tag}\r\n"
                   f"From: <sip:e2e-test@{sipp.local_ip}>;tag=trigger{tag}\r\n"
                   f"To: <sip:caller@{sipp.local_ip}:{sipp.port}>\r\n"
                   f"Call-ID: {sipp.call_id}\r\n"
                   f"CSeq: 1 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode())


class SipOverTcp(E2ETestCase):
    def test_transfer_to_a_tcp_target_that_refuses_ends_unreachable_with_the_reason(self):
        # Bound but not listening: every connect to it is refused, and nobody else can take the port.
        refusing = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(refusing.close)
        refusing.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{refusing.getsockname()[1]}"
        agent = Agent(self, "on start: transfer cold Bob\n")
        trunk = provider_trunk(address, name="tcp-target", transport="tcp")
        gateway = Gateway(self, agent.url, accepts_refer=False, trunks=[trunk],
                          targets=[{"name": "Bob", "uri": f"sip:bob@{address}", "via": "tcp-target"}])
        phone = Baresip(self, name="caller", user="alice")
        phone.dial(gateway.uri)
        phone.wait_event(type="CALL_ESTABLISHED")
        ended = agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "unreachable", ended)
        self.assertEqual(ended.get("sip_status"), 503, ended)
        self.assertIn("connect failed", ended.get("reason", ""), ended)
        # The caller is not dropped: still in the call with the agent.
        self.assertEqual(len(gateway.calls()), 1)
        phone.hangup()
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

    def start_tcp_caller(self, gateway, scenario):
        rtp = RtpPeer("127.0.0.1", tone_hz=300.0)
        self.addCleanup(rtp.stop)
        sipp = Sipp(self, scenario, gateway.tcp_port, rtp_port=rtp.port, extra=("-t", "t1"))
        ip, port, te_pt = sipp.gateway_media()
        rtp.start_sending(ip, port, te_pt or 101)
        return sipp, rtp

    def assert_over_tcp(self, sipp, gateway):
        """Every message SIPp got from the gateway names TCP, and the 200's Contact asks for TCP."""
        got = [m for m in sip_messages(sipp.messages()) if "Call-ID: " + sipp.call_id in m]
        ok = [m for m in got if m.startswith("SIP/2.0 200") and "INVITE" in (header(m, "CSeq") or "")]
        self.assertTrue(ok, got)
        contact = header(ok[0], "Contact", "m")
        self.assertIn(f"127.0.0.1:{gateway.tcp_port};transport=tcp", contact, ok[0])
        self.assertTrue(all(header(m, "Via", "v").startswith("SIP/2.0/TCP") for m in got), got)

    def test_call_over_tcp_caller_hangs_up(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, tcp=True)
        sipp, rtp = self.start_tcp_caller(gateway, "uac-call-until-trigger.xml")
        agent.wait_event(type="start")
        wait_tone(rtp, 440)  # the agent's audio reaches the caller: the call is up
        wait_for(lambda: agent.caller_audio_frames() >= 25, 10, "the caller's audio at the agent")
        trigger_over_tcp(sipp)  # the caller sends BYE over its connection
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")
        self.assert_over_tcp(sipp, gateway)

    def test_gateway_bye_goes_back_over_the_callers_connection(self):
        # No agent: the fallback message plays, then the gateway hangs up. SIPp opened the only
        # connection, so its BYE can only arrive over it.
        gateway = Gateway(self, unreachable_agent_url(), tcp=True)
        sipp, _ = self.start_tcp_caller(gateway, "uac-call-expect-bye.xml")
        sipp.assert_passed()
        self.assert_over_tcp(sipp, gateway)
        byes = [m for m in sip_messages(sipp.messages()) if m.startswith("BYE ")]
        self.assertEqual(len(byes), 1, byes)

    def test_keepalive_and_options_on_one_connection(self):
        gateway = Gateway(self, unreachable_agent_url(), tcp=True)
        conn = Conn(self, gateway.tcp_port)
        conn.send("\r\n\r\n")
        self.assertEqual(conn.read_until(lambda d: len(d) >= 2, 5, "the pong"), b"\r\n")
        conn.data = b""
        conn.send(options_text(gateway.tcp_port, conn.lport))
        response = conn.response()
        self.assertTrue(response.startswith("SIP/2.0 200 "), response)
        self.assertTrue(header(response, "Via", "v").startswith(f"SIP/2.0/TCP 127.0.0.1:{conn.lport};"), response)
        # A second ping on the same connection, after a message.
        conn.send("\r\n\r\n")
        self.assertEqual(conn.read_until(lambda d: len(d) >= 2, 5, "the second pong"), b"\r\n")

    def assert_answered_and_closed(self, body_headers, status_line):
        """A message with `body_headers` gets `status_line`, the connection closes, the gateway stays up."""
        gateway = Gateway(self, unreachable_agent_url(), tcp=True)
        conn = Conn(self, gateway.tcp_port)
        conn.send(options_text(gateway.tcp_port, conn.lport, body_headers=body_headers))
        response = conn.response()
        self.assertTrue(response.startswith(status_line + "\n"), response)
        conn.wait_closed(5)
        self.assert_still_up(gateway)

    def test_missing_content_length_gets_400_and_closes(self):
        self.assert_answered_and_closed("", "SIP/2.0 400 Bad Request - Missing Content-Length")

    def test_oversize_message_gets_513_and_closes(self):
        self.assert_answered_and_closed("Content-Type: text/plain\r\nContent-Length: 70000\r\n",
                                        "SIP/2.0 513 Message Too Large")

    def test_idle_connection_is_closed(self):
        gateway = Gateway(self, unreachable_agent_url(), tcp=True, server_extra="sip_idle_timeout_s = 1\n")
        conn = Conn(self, gateway.tcp_port)
        conn.wait_closed(10)
        self.assertEqual(conn.data, b"")
        self.assert_still_up(gateway)

    def assert_still_up(self, gateway):
        conn = Conn(self, gateway.tcp_port)
        conn.send(options_text(gateway.tcp_port, conn.lport))
        response = conn.response()
        self.assertTrue(response.startswith("SIP/2.0 200 "), response)
        self.assertEqual(gateway.calls(), [])


if __name__ == "__main__":
    unittest.main()
