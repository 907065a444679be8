"""warmline-load --tls against the real gateway (issue 11 "TLS and SRTP in the load generator";
bench/README.md "Load generator"): the callers' SIP over one TLS connection to the gateway's tls:
listener, as a carrier's SBC would send it.

- 20 callers at 200 calls/s, the gateway's certificate verified against the test's own CA (--tls-ca):
  every call is answered and hung up over the connection (no failure, no time-out, no BYE failed), the
  report says SIP went over TLS with a TLS 1.2+ suite and no connection failure, every stamped frame
  makes the round trip, and the set-up CPU figure is there.
- With --tls-ca naming a certificate the gateway's is not signed by: the handshake fails and
  warmline-load says so (exit 1, no report: nothing was dialled).
"""
import json
import socket
import subprocess

from harness import E2ETestCase, Gateway, free_port, gateway_binary, wait_for
from test_sip_tls import make_cert

CALLS = 20


def load_binary():
    return gateway_binary().parent / "bench" / "load" / "warmline-load"


class LoadTlsTest(E2ETestCase):
    def setUp(self):
        super().setUp()
        cert, key, _ = make_cert(self.workdir)
        self.cert = cert
        self.tls_port = free_port(kinds=(socket.SOCK_STREAM,))
        self.agent_port = free_port(kinds=(socket.SOCK_STREAM,))
        self.gateway = Gateway(self, f"ws://127.0.0.1:{self.agent_port}", shards=1, sample_rate=8000,
                               rtp_ports=2 * CALLS + 20, stream_listen=[f"tls:127.0.0.1:{self.tls_port}"],
                               server_extra=f'tls_cert = "{cert}"\ntls_key = "{key}"\n')
        self.binary = load_binary()
        self.assertTrue(self.binary.exists(), f"{self.binary} is not built (target warmline-load)")

    def run_load(self, ca):
        report = self.workdir / "report"
        argv = [str(self.binary), "--gateway", f"127.0.0.1:{self.tls_port}", "--number", "demo", "--calls",
                str(CALLS), "--ramp-cps", "200", "--hold-s", "2", "--agent-listen", f"127.0.0.1:{self.agent_port}",
                "--report", str(report), "--label", "tls", "--max-runtime-s", "60", "--quiet",
                "--warmline-pid", str(self.gateway.proc.popen.pid), "--tls", "--tls-ca", str(ca)]
        log = self.workdir / "warmline-load.log"
        with open(log, "wb") as out:
            rc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=120).returncode
        results = report / "results.jsonl"
        lines = results.read_text().splitlines() if results.exists() else []
        return rc, [json.loads(line) for line in lines], log.read_text(errors="replace")

    def test_callers_over_one_tls_connection_set_up_and_end_every_call(self):
        rc, runs, log = self.run_load(self.cert)
        self.assertEqual(rc, 0, log)
        self.assertEqual(len(runs), 1)
        r = runs[0]
        self.assertEqual(r["sip_transport"], "tls")
        self.assertTrue(r["tls_cipher"], r)
        self.assertEqual((r["transport_failures"], r["transport_error"]), (0, ""))
        self.assertEqual(r["calls_up"], CALLS)
        self.assertEqual(r["failed"] + r["timeouts"] + r["dropped"], 0, f"last refusal: {r['last_failure_status']}")
        self.assertEqual(r["invite_retransmits"] + r["bye_retransmits"], 0, "nothing is retransmitted over TLS")
        self.assertEqual(r["bye_failed"], 0, "every BYE was answered over the connection")
        self.assertGreaterEqual(r["in_sent"], CALLS * 90)  # 2 s at 50 packets/s per call, less edges
        # Every frame made the round trip; one per call may fall across the window's edges (sent before its
        # start, counted received inside it), which is not loss.
        self.assertAlmostEqual(r["in_received"], r["in_sent"], delta=CALLS)
        self.assertAlmostEqual(r["out_received"], r["out_sent"], delta=CALLS)
        self.assertGreater(r["ramp_cpu_s"], 0)
        self.assertGreater(r["setup_cpu_ms_per_call"], 0, "-1: no set-up figure")
        wait_for(lambda: self.gateway.metric("warmline_calls_active") == 0, 10, "every call to have ended")

    def test_a_certificate_the_ca_did_not_sign_fails_the_handshake(self):
        other, _, _ = make_cert(self.workdir, name="stranger")
        rc, runs, log = self.run_load(other)
        self.assertEqual(rc, 1, log)
        self.assertIn("TLS handshake", log)
        self.assertEqual(runs, [])


if __name__ == "__main__":
    import unittest
    unittest.main()
