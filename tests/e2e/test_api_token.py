"""[server] http_token (docs/http-api.md "Authentication"): with a token set, every /v1/* request needs
`Authorization: Bearer <token>` — without it, or with another, 401 and nothing happens to the call —
while /healthz, /readyz and /metrics stay open for probes and scrapers. SIPp is the caller, the
reference agent answers.
"""
import unittest

from harness import Agent, E2ETestCase, Gateway
from sipp_peer import start_caller

TOKEN = "e2e-token-7f3a"


class ApiToken(E2ETestCase):
    def test_v1_needs_the_token_and_probes_stay_open(self):
        agent = Agent(self, "on start: tone 440 30000\n")
        gateway = Gateway(self, agent.url, http_token=TOKEN)
        sipp, _ = start_caller(self, gateway, "uac-call-expect-bye.xml")
        agent.wait_event(type="start")
        call_id = gateway.only_call()  # with the token

        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            status, body = gateway.http("GET", "/v1/calls", headers=headers)
            self.assertEqual(status, 401, (headers, body))
            self.assertEqual(body["error"]["code"], "unauthorized", body)
            status, body = gateway.http("POST", f"/v1/calls/{call_id}/hangup", headers=headers)
            self.assertEqual(status, 401, (headers, body))
        self.assertEqual(len(gateway.calls()), 1, "a refused hang-up must not end the call")

        for path in ("/healthz", "/readyz", "/metrics"):
            status, _ = gateway.http("GET", path, headers={})
            self.assertEqual(status, 200, path)

        status, body = gateway.http("POST", f"/v1/calls/{call_id}/hangup")
        self.assertEqual(status, 200, body)
        agent.wait_event(type="stop")
        sipp.assert_passed()


if __name__ == "__main__":
    unittest.main()
