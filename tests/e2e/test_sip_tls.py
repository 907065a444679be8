"""SIP over TLS (RFC 3261 §18, §26.3.1) with self-signed certificates made by openssl in the test's
folder.

- baresip calls the gateway's tls: listener (`;transport=tls`) with mandatory SDES-SRTP into a trunk
  with srtp = "required": the call connects, every SIP message in baresip's trace went over TLS, the
  agent's tone reaches baresip and baresip's reaches the agent, and the RTP on the wire is SRTP
  (test_srtp_caller's loopback capture).
- The agent transfers a caller to a baresip target behind a trunk with transport = "tls", srtp =
  "required" and tls_ca = the target's own certificate (pinned): the gateway connects over TLS,
  checks that certificate, and the bridged call carries SRTP to the target with audio both ways.
  The same trunk with tls_ca = another certificate fails the handshake: the target is never called,
  and the transfer ends `unreachable` at once with the handshake's reason (503 from the transport,
  RFC 3261 §8.1.3.1), not after a timeout.
- A TLS client that trusts exactly the gateway's certificate gets 200 to OPTIONS and CRLF to a
  CRLFCRLF keep-alive; a client that trusts nothing else fails the handshake; check-config refuses a
  tls: listener without tls_cert/tls_key, or with a file that is not a certificate, naming the key.
"""
import random
import socket
import ssl
import subprocess
import time
import unittest
from array import array

import test_srtp_caller as srtp
from baresip_peer import Baresip
from harness import Agent, E2ETestCase, Gateway, free_port, gateway_binary, provider_trunk, unreachable_agent_url, wait_for
from rtp_peer import tone_ratio
from sipp_peer import header

AGENT_HZ = 1000
CALLER_HZ = 440
TARGET_HZ = 700


def make_cert(workdir, name="gateway"):
    """A self-signed certificate for 127.0.0.1 (CN and IP SAN): (cert.pem, key.pem, both.pem)."""
    cert, key, both = workdir / f"{name}-cert.pem", workdir / f"{name}-key.pem", workdir / f"{name}-both.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    return cert, key, both


def sip_trace_vias(output):
    """The transports of every Via line in baresip's SIP trace (`-s`)."""
    return {line.split("SIP/2.0/", 1)[1].split()[0] for line in output.splitlines()
            if line.strip().lower().startswith("via:") and "SIP/2.0/" in line}


def read_response(sock, timeout=5):
    deadline = time.monotonic() + timeout
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no response; got {data!r}")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed; got {data!r}")
        data += chunk
    return data.decode(errors="replace").replace("\r\n", "\n")


def agent_hears(agent, hz):
    """Whether the last 200 ms of caller audio the agent recorded (16 kHz) are a pure `hz` tone."""
    data = agent.received_audio()
    samples = array("h", data[:len(data) - len(data) % 2])
    return len(samples) >= 3200 and tone_ratio(samples[-3200:], hz, 16000) > 0.5


class SipOverTls(E2ETestCase):
    def tls_gateway(self, agent_url=None, **options):
        cert, key, _ = make_cert(self.workdir)
        self.cert = cert
        self.tls_port = free_port(kinds=(socket.SOCK_STREAM,))
        return Gateway(self, agent_url or unreachable_agent_url(), stream_listen=[f"tls:127.0.0.1:{self.tls_port}"],
                       server_extra=f'tls_cert = "{cert}"\ntls_key = "{key}"\n', **options)

    def test_baresip_calls_over_tls_with_mandatory_srtp(self):
        agent = Agent(self, f"on start: tone {AGENT_HZ} 30000\n", record=True)
        gateway = self.tls_gateway(agent.url, caller_trunk_options={"srtp": "required"})
        capture = srtp.LoopbackCapture(self, gateway.config["rtp_first"], gateway.config["rtp_last"])
        phone = Baresip(self, name="caller", user="alice", tone_hz=CALLER_HZ, mediaenc="srtp-mand", tls_ca=self.cert)
        phone.dial(f"sip:demo@127.0.0.1:{self.tls_port};transport=tls")
        phone.wait_event(type="CALL_ESTABLISHED")
        agent.wait_event(type="start")
        trace = phone.proc.output()
        self.assertIn("RTP/SAVP", trace)
        self.assertEqual(sip_trace_vias(trace), {"TLS"}, "every SIP message went over TLS")
        self.assertIn(f"<sip:127.0.0.1:{self.tls_port};transport=tls>", trace, "the gateway's Contact asks for TLS")
        wait_for(lambda: phone.hears_tone(AGENT_HZ), 15, "the agent's tone in baresip's recording")
        wait_for(lambda: agent_hears(agent, CALLER_HZ), 15, "baresip's tone in the audio the agent received")
        srtp.assert_srtp_on_wire(self, capture, gateway, CALLER_HZ, AGENT_HZ)
        phone.hangup()
        phone.wait_event(type="CALL_CLOSED")
        agent.wait_event(type="stop", reason="caller_hangup")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

    def target_over_tls(self, pinned):
        """A plain caller, an agent that transfers it to a baresip target reached through a TLS trunk
        whose tls_ca is `pinned`; returns (gateway, agent, phone, target, capture)."""
        _, _, target_pem = make_cert(self.workdir, "target")
        target = Baresip(self, name="target", user="bob", tone_hz=TARGET_HZ, mediaenc="srtp-mand", tls_cert=target_pem)
        agent = Agent(self, "on start: transfer cold Bob\n")
        address = f"127.0.0.1:{target.tls_port}"
        trunk = provider_trunk(address, name="tls-target", transport="tls", tls_ca=str(pinned(target_pem)), srtp="required")
        gateway = self.tls_gateway(agent.url, accepts_refer=False, trunks=[trunk],
                                   targets=[{"name": "Bob", "uri": f"sip:bob@{address}", "via": "tls-target"}])
        capture = srtp.LoopbackCapture(self, gateway.config["rtp_first"], gateway.config["rtp_last"])
        phone = Baresip(self, name="caller", user="alice", tone_hz=CALLER_HZ)
        phone.dial(gateway.uri)
        phone.wait_event(type="CALL_ESTABLISHED")
        return gateway, agent, phone, target, capture

    def test_transfer_to_a_target_over_tls_with_srtp_and_a_pinned_certificate(self):
        gateway, agent, phone, target, capture = self.target_over_tls(lambda target_pem: target_pem)
        target.wait_event(type="CALL_ESTABLISHED")
        ended = agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        trace = target.proc.output()
        self.assertIn("RTP/SAVP", trace)
        self.assertEqual(sip_trace_vias(trace), {"TLS"}, "every SIP message to the target went over TLS")
        wait_for(lambda: target.hears_tone(CALLER_HZ), 15, "the caller's tone at the target")
        wait_for(lambda: phone.hears_tone(TARGET_HZ), 15, "the target's tone at the caller")
        srtp.assert_srtp_on_wire(self, capture, gateway, TARGET_HZ, CALLER_HZ, peer_ports=target.rtp_ports)
        phone.hangup()
        target.wait_event(type="CALL_CLOSED")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

    def test_target_with_another_certificate_than_the_pinned_one_is_not_called(self):
        other, _, _ = make_cert(self.workdir, "other")
        gateway, agent, phone, target, _ = self.target_over_tls(lambda target_pem: other)
        ended = agent.wait_event(60, type="transfer", state="ended")
        # The failed handshake ends the attempt at once, saying why (not a timeout 5-32 s later).
        self.assertEqual(ended.get("result"), "unreachable", ended)
        self.assertEqual(ended.get("sip_status"), 503, ended)
        self.assertIn("TLS handshake failed", ended.get("reason", ""), ended)
        self.assertIn("certificate verify failed", ended.get("reason", ""), ended)
        self.assertEqual(target.find(type="CALL_INCOMING"), [], "the target must not get the call")
        self.assertNotIn("INVITE sip:bob", target.proc.output())
        phone.hangup()
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

    def connect(self, cafile):
        ctx = ssl.create_default_context(cafile=str(cafile))
        raw = socket.create_connection(("127.0.0.1", self.tls_port), timeout=5)
        self.addCleanup(raw.close)
        tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.addCleanup(tls.close)
        return tls

    def test_options_and_keepalive_over_tls(self):
        self.tls_gateway()
        tls = self.connect(self.cert)
        self.assertGreaterEqual(tls.version(), "TLSv1.2")
        lport = tls.getsockname()[1]
        tls.sendall(b"\r\n\r\n")
        tls.settimeout(5)
        self.assertEqual(tls.recv(2), b"\r\n")
        branch = "z9hG4bK-tls%08x" % random.getrandbits(32)
        tls.sendall((f"OPTIONS sip:127.0.0.1:{self.tls_port} SIP/2.0\r\n"
                     f"Via: SIP/2.0/TLS 127.0.0.1:{lport};branch={branch}\r\n"
                     f"From: <sip:e2e@127.0.0.1>;tag=tls1\r\nTo: <sip:127.0.0.1:{self.tls_port}>\r\n"
                     f"Call-ID: tls-{random.getrandbits(40):x}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n"
                     f"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode())
        response = read_response(tls)
        self.assertTrue(response.startswith("SIP/2.0 200 "), response)
        self.assertEqual(header(response, "Via", "v"), f"SIP/2.0/TLS 127.0.0.1:{lport};branch={branch}", response)

    def test_a_client_that_does_not_trust_the_certificate_fails(self):
        self.tls_gateway()
        (self.workdir / "other").mkdir()
        other, _, _ = make_cert(self.workdir / "other")
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.connect(other)

    def test_check_config_needs_cert_and_key(self):
        port = free_port(kinds=(socket.SOCK_STREAM,))
        base = f'[server]\nsip_listen = ["udp:127.0.0.1:{port}", "tls:127.0.0.1:{port}"]\n'
        cases = [("", "a tls: address needs [server] tls_cert"),
                 (f'tls_cert = "{self.workdir / "missing.pem"}"\ntls_key = "{self.workdir / "missing.pem"}"\n',
                  "tls_cert: cannot use")]
        for i, (extra, expected) in enumerate(cases):
            path = self.workdir / f"check{i}.toml"
            path.write_text(base + extra)
            out = subprocess.run([str(gateway_binary()), "check-config", str(path)], capture_output=True,
                                 text=True, timeout=30)
            self.assertEqual(out.returncode, 2, out)
            self.assertIn(expected, out.stdout + out.stderr, out)
            self.assertIn(f"{path}:", out.stdout + out.stderr, out)


if __name__ == "__main__":
    unittest.main()
