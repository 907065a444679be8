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


def sipp_requests(path, method):
    """The requests of `method` SIPp logged (-trace_msg), in order: dicts of the request line ("line")
    and the headers, names lower-cased."""
    text = path.read_text(errors="replace") if path.exists() else ""
    out = []
    for block in text.split("\n----"):
        if "message received" not in block:
            continue
        lines = [line.rstrip("\r") for line in block.splitlines()]
        start = next((i for i, line in enumerate(lines) if line.startswith(method + " ")), None)
        if start is None:
            continue
        request = {"line": lines[start]}
        for line in lines[start + 1:]:
            if not line.strip():
                break
            name, _, value = line.partition(":")
            request[name.strip().lower()] = value.strip()
        out.append(request)
    return out


def trunk(gateway, name):
    status, body = gateway.http("GET", "/v1/trunks")
    if status != 200:
        raise AssertionError(f"GET /v1/trunks answered {status}: {body}")
    return next(t for t in body["trunks"] if t["name"] == name)


def labelled_metric(gateway, name):
    """The value of one labelled sample of GET /metrics, e.g. 'warmline_trunk_up{trunk="x"}'."""
    status, body = gateway.http("GET", "/metrics")
    if status != 200 or not isinstance(body, str):
        raise AssertionError(f"GET /metrics answered {status}: {body}")
    for line in body.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == name:
            return float(words[1])
    raise AssertionError(f"GET /metrics has no {name}")


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
            options = trunk(gateway, "carrier")["options"]
            return options if options["state"] == "up" else None
        options = wait_for(up, 10, "the trunk to answer a ping")
        self.assertEqual(options["status"], 200, options)
        self.assertEqual(options["reason"], "OK", options)
        self.assertRegex(options["changed_at"] or "", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", options)
        self.assertEqual(options["servers"], [{"address": f"127.0.0.1:{port}", "state": "up", "status": 200}])
        self.assertIsNone(trunk(gateway, "local")["options"])  # the callers' trunk has no pings
        self.assertEqual(labelled_metric(gateway, 'warmline_trunk_up{trunk="carrier"}'), 1)

        # The next round, 5 s later: a second OPTIONS with its own Call-ID.
        pings = wait_for(lambda: len(sipp_requests(messages, "OPTIONS")) >= 2 and sipp_requests(messages, "OPTIONS"),
                         9, "a second ping")
        self.assertNotEqual(pings[0]["call-id"], pings[1]["call-id"])
        for p in pings:
            self.assertEqual(p["line"], f"OPTIONS sip:127.0.0.1:{port} SIP/2.0")
            self.assertEqual(p["max-forwards"], "70")
            self.assertEqual(p["cseq"], "1 OPTIONS")
            self.assertNotIn("tag=", p["to"])

        peer.stop()
        def down():
            options = trunk(gateway, "carrier")["options"]
            return options if options["state"] == "down" else None
        options = wait_for(down, 45, "the trunk to be down after its server stopped (next ping + Timer F)",
                           interval=0.5)
        self.assertEqual(options["status"], 408, options)
        self.assertEqual(options["reason"], "no answer", options)
        self.assertEqual(options["servers"][0]["state"], "down", options)
        self.assertEqual(labelled_metric(gateway, 'warmline_trunk_up{trunk="carrier"}'), 0)
        self.assertIn("trunk carrier: down", gateway.proc.stderr_path.read_text(errors="replace")
                      + gateway.proc.stdout_path.read_text(errors="replace"))


if __name__ == "__main__":
    unittest.main()
