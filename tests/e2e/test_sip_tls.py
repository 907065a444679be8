"""SIP over TLS (RFC 3261 §18, §26.3.1) with a self-signed certificate made by openssl in the test's
folder: a TLS client that trusts exactly that certificate gets 200 to OPTIONS over the gateway's tls:
listener, and a CRLFCRLF keep-alive its CRLF; a client that trusts nothing else fails the handshake
(so the listener really presents the configured certificate); check-config refuses a tls: listener
without tls_cert/tls_key, or with a file that is not a certificate, naming the key.
"""
import random
import socket
import ssl
import subprocess
import time
import unittest

from harness import E2ETestCase, Gateway, free_port, gateway_binary, unreachable_agent_url
from sipp_peer import header


def make_cert(workdir):
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


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


class SipOverTls(E2ETestCase):
    def tls_gateway(self):
        cert, key = make_cert(self.workdir)
        self.cert = cert
        self.tls_port = free_port(kinds=(socket.SOCK_STREAM,))
        return Gateway(self, unreachable_agent_url(), stream_listen=[f"tls:127.0.0.1:{self.tls_port}"],
                       server_extra=f'tls_cert = "{cert}"\ntls_key = "{key}"\n')

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
        other, _ = make_cert(self.workdir / "other")
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
