"""warmline-load --srtp against the real gateway (issue 11, bench/README.md "Load generator", SRTP).

- A trunk with srtp = "optional" and one shard: 20 SRTP callers (RTP/SAVP, AES_CM_128_HMAC_SHA1_80)
  arrive at 200 calls/s right after the gateway started. Every call is answered with keys, every
  packet each way is protected and unprotected without a failure, and every stamped frame makes the
  round trip (caller -> agent -> caller), so the media really was SRTP both ways and decrypted right.
  This also holds the gateway to initialising libsrtp at start: done on the first SRTP call instead,
  its self-tests overran the shard's media clock and the next INVITEs got 503 "media overloaded".
- The same callers against a trunk with srtp = "off": the RTP/SAVP offers are refused, no call is keyed.
"""
import json
import socket
import subprocess

from harness import E2ETestCase, Gateway, free_port, gateway_binary

CALLS = 20


def load_binary():
    return gateway_binary().parent / "bench" / "load" / "warmline-load"


class LoadSrtpTest(E2ETestCase):
    def run_load(self, srtp_policy):
        agent_port = free_port(kinds=(socket.SOCK_STREAM,))
        gw = Gateway(self, f"ws://127.0.0.1:{agent_port}", shards=1, sample_rate=8000, rtp_ports=2 * CALLS + 20,
                     caller_trunk_options={"srtp": srtp_policy})
        binary = load_binary()
        self.assertTrue(binary.exists(), f"{binary} is not built (target warmline-load)")
        report = self.workdir / "report"
        argv = [str(binary), "--gateway", f"127.0.0.1:{gw.sip_port}", "--number", "demo", "--calls", str(CALLS),
                "--ramp-cps", "200", "--hold-s", "2", "--agent-listen", f"127.0.0.1:{agent_port}",
                "--report", str(report), "--label", f"srtp-{srtp_policy}", "--max-runtime-s", "60", "--quiet",
                "--srtp"]
        with open(self.workdir / "warmline-load.log", "wb") as out:
            rc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=120).returncode
        lines = (report / "results.jsonl").read_text().splitlines()
        self.assertEqual(len(lines), 1)
        return rc, json.loads(lines[0])

    def test_srtp_callers_run_srtp_both_ways_from_the_first_call(self):
        rc, r = self.run_load("optional")
        self.assertEqual(rc, 0, r)
        self.assertTrue(r["srtp"])
        self.assertEqual(r["calls_up"], CALLS)
        self.assertEqual(r["failed"] + r["timeouts"], 0, f"last refusal: {r['last_failure_status']}")
        self.assertEqual(r["srtp_calls"], CALLS)
        self.assertEqual(r["srtp_refused"], 0)
        self.assertEqual(r["srtp_protect_failed"], 0)
        self.assertEqual(r["srtp_unprotect_failed"], 0)
        # Each frame the callers sent in the window reached the agent, and each echo came back and read
        # as a stamp after unprotect: caller -> gateway and gateway -> caller both decrypted.
        self.assertGreaterEqual(r["in_sent"], CALLS * 90)  # 2 s at 50 packets/s per call, less edges
        self.assertEqual(r["in_received"], r["in_sent"])
        self.assertEqual(r["out_received"], r["out_sent"])
        self.assertGreater(r["out"]["count"], 0)

    def test_srtp_offers_are_refused_by_a_plain_trunk(self):
        rc, r = self.run_load("off")
        self.assertEqual(rc, 3, r)  # some calls failed
        self.assertEqual(r["calls_up"], 0)
        self.assertEqual(r["failed"], CALLS)
        self.assertEqual(r["last_failure_status"], 488)  # RTP/SAVP only, on a trunk without SRTP
        self.assertEqual(r["srtp_calls"], 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
