"""Trunk health pings (issue 11 item 8; docs: configuration `ping_interval_s`, http-api
`GET /v1/trunks` "options", metric `warmline_trunk_up`).

SIPp plays a trunk that answers OPTIONS (scenarios/uas-options-answer.xml). With ping_interval_s = 5
the gateway pings it at start and every 5 s: GET /v1/trunks shows it up, each ping a fresh Call-ID
outside any dialog with Max-Forwards 70. Then the test stops that SIPp (the process it started, by
PID): the next ping goes unanswered and after the transaction's timeout (Timer F, 64*T1 = 32 s; T1 is
not configurable) the trunk shows down. Worst case from the stop: 5 s to the next ping + 32 s.
"""
import socket
import unittest

from harness import SCENARIOS, E2ETestCase, Gateway, free_port, unreachable_agent_url, wait_for
from sipp_peer import header, sip_messages


def pings_received(path):
    """The OPTIONS SIPp logged (-trace_msg), in order, one per Call-ID (retransmissions left out)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    out, seen = [], set()
    for m in sip_messages(text):
        if m.startswith("OPTIONS ") and header(m, "Call-ID", "i") not in seen:
            seen.add(header(m, "Call-ID", "i"))
            out.append(m)
    return out


class TrunkOptionsPing(E2ETestCase):
    def test_a_trunk_that_answers_is_up_and_goes_down_when_it_stops(self):
        port = free_port(kinds=(socket.SOCK_DGRAM,))
        messages = self.workdir / "peer.messages.log"
        peer = self.start("peer", [
            "sipp", "-sf", SCENARIOS / "uas-options-answer.xml", "-nostdin", "-i", "127.0.0.1", "-bind_local",
            "-p", port, "-cp", free_port(kinds=(socket.SOCK_DGRAM,)), "-trace_msg", "-message_file", messages,
            "-trace_err", "-error_file", self.workdir / "peer.errors.log"])
        trunks = f'\n[[trunk]]\nname = "carrier"\naddress = "127.0.0.1:{port}"\nping_interval_s = 5\n'
        gateway = Gateway(self, unreachable_agent_url(), extra_trunks=trunks)

        def up():
            options = gateway.trunk("carrier")["options"]
            return options if options["state"] == "up" else None
        options = wait_for(up, 10, "the trunk to answer a ping")
        self.assertEqual(options["status"], 200, options)
        self.assertEqual(options["reason"], "OK", options)
        self.assertRegex(options["changed_at"] or "", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", options)
        self.assertEqual(options["servers"], [{"address": f"127.0.0.1:{port}", "state": "up", "status": 200}])
        self.assertIsNone(gateway.trunk("local")["options"])  # the callers' trunk has no pings
        self.assertEqual(gateway.metric('warmline_trunk_up{trunk="carrier"}'), 1)

        # The next round, 5 s later: a second OPTIONS with its own Call-ID.
        pings = wait_for(lambda: len(pings_received(messages)) >= 2 and pings_received(messages), 9, "a second ping")
        for p in pings:
            self.assertEqual(p.split("\n", 1)[0], f"OPTIONS sip:127.0.0.1:{port} SIP/2.0")
            self.assertEqual(header(p, "Max-Forwards"), "70")
            self.assertEqual(header(p, "CSeq"), "1 OPTIONS")
            self.assertNotIn("tag=", header(p, "To", "t"))

        peer.stop()
        def down():
            options = gateway.trunk("carrier")["options"]
            return options if options["state"] == "down" else None
        options = wait_for(down, 45, "the trunk to be down after its server stopped (next ping + Timer F)",
                           interval=0.5)
        self.assertEqual(options["status"], 408, options)
        self.assertEqual(options["reason"], "no answer", options)
        self.assertEqual(options["servers"][0]["state"], "down", options)
        self.assertEqual(gateway.metric('warmline_trunk_up{trunk="carrier"}'), 0)
        self.assertIn("trunk carrier: down", gateway.proc.stderr_path.read_text(errors="replace")
                      + gateway.proc.stdout_path.read_text(errors="replace"))


if __name__ == "__main__":
    unittest.main()
