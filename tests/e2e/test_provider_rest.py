"""The providers' REST call control on warmline's HTTP API (docs/http-api.md "Provider REST paths"): a
bot written for Twilio, Telnyx or Plivo hangs up and transfers its call through the provider's REST
API with only the base URL changed. SIPp is the caller (with the test's RtpPeer as its media), the bot
is tests/e2e/dialect_bot.py on the agent socket in the provider's dialect.

- Twilio, driven by Twilio's own Node.js helper library (npm `twilio`, tests/e2e/node/twilio_rest.js)
  with its HTTP client pointed at warmline: fetch the call; wrong credentials come back as the
  library's RestException with Twilio's 20003; `Status=completed` hangs up (the caller gets BYE, the
  bot `stop`); TwiML built with the library's VoiceResponse, <Say> then <Dial><Sip>, sends the REFER
  once the speech has played and the bot hears the transfer's outcome — completed (the call ends) or
  busy (the caller stays with the bot, warmline's rule, where Twilio would hang up).
- Telnyx's hangup and transfer actions and Plivo's DELETE, as their documentation shows the requests,
  with a Bearer token and Basic credentials, and the providers' answers for a call that has ended.
"""
import base64
import json
import shutil
import subprocess
import unittest
import urllib.error
import urllib.request

from dialect_bot import DialectBot
from harness import E2E_DIR, E2ETestCase, Gateway, wait_for
from rtp_peer import decode_pcmu
from sipp_peer import start_caller

NODE_DIR = E2E_DIR / "node"
TWILIO_ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "e2e-auth-token"
TELNYX_KEY = "KEY0123E2E"
PLIVO_AUTH_ID = "MAE2E0123456789ABCDE"
PLIVO_TOKEN = "e2e-plivo-token"
SUPPORT = {"name": "Support", "uri": "sip:support@127.0.0.1:5999"}


def request(method, url, body=None, headers=None):
    """(status, headers, body text); HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, data=None if body is None else body.encode(), method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def loud(payload):
    """A PCMU packet with sound in it (speech), not the silence warmline sends while nobody speaks."""
    samples = decode_pcmu(payload)
    return sum(x * x for x in samples) / len(samples) > 300 ** 2


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class ProviderRest(E2ETestCase):
    def start_call(self, protocol, scenario, **agent_options):
        self.bot = DialectBot(self, path=f"/{protocol}")
        agent_options["protocol"] = protocol
        self.gateway = Gateway(self, self.bot.url, sample_rate=8000, targets=[SUPPORT], agent_options=agent_options)
        self.sipp, self.rtp = start_caller(self, self.gateway, scenario)
        self.bot.wait_connection()
        self.bot.wait_event("start")
        return self.gateway.only_call()

    def api(self, path):
        return f"http://127.0.0.1:{self.gateway.http_port}{path}"

    def twilio_node(self, call_id, *args, token=TWILIO_TOKEN):
        """Runs tests/e2e/node/twilio_rest.js: (exit status, the JSON line it printed)."""
        node = shutil.which("node")
        if node is None or not (NODE_DIR / "node_modules" / "twilio").is_dir():
            self.fail("node and tests/e2e/node/node_modules are needed: run scripts/install-deps.sh")
        done = subprocess.run([node, str(NODE_DIR / "twilio_rest.js"), f"http://127.0.0.1:{self.gateway.http_port}",
                               TWILIO_ACCOUNT, token, call_id, *args], capture_output=True, text=True, timeout=60)
        lines = done.stdout.strip().splitlines()
        self.assertTrue(lines, f"twilio_rest.js printed nothing (exit {done.returncode}): {done.stderr}")
        return done.returncode, json.loads(lines[-1])

    # ---- Twilio, through Twilio's helper library

    def start_twilio_call(self, scenario):
        return self.start_call("twilio", scenario, account_id=TWILIO_ACCOUNT, api_key=TWILIO_TOKEN)

    def test_twilio_library_fetches_refuses_a_wrong_token_and_hangs_up(self):
        call_id = self.start_twilio_call("uac-call-expect-bye.xml")
        rc, call = self.twilio_node(call_id, "fetch")
        self.assertEqual(rc, 0, call)
        self.assertEqual(call["sid"], call_id)
        self.assertEqual(call["accountSid"], TWILIO_ACCOUNT)
        self.assertEqual(call["status"], "in-progress")
        self.assertEqual(call["direction"], "inbound")
        self.assertEqual(call["apiVersion"], "2010-04-01")
        self.assertEqual(call["from"], "+15550001111")
        self.assertEqual(call["uri"], f"/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Calls/{call_id}.json")

        rc, wrong = self.twilio_node(call_id, "hangup", token="not-the-token")
        self.assertEqual(rc, 2)
        self.assertEqual(wrong["error"]["status"], 401)
        self.assertEqual(wrong["error"]["code"], 20003)
        self.assertEqual(wrong["error"]["moreInfo"], "https://www.twilio.com/docs/errors/20003")
        self.assertEqual(len(self.gateway.calls()), 1, "a refused request must leave the call alone")

        rc, done = self.twilio_node(call_id, "hangup")
        self.assertEqual(rc, 0, done)
        self.assertEqual(done["status"], "completed")
        self.assertIsNotNone(done["endTime"])
        self.sipp.assert_passed()  # the caller got the gateway's BYE
        self.bot.wait_event("stop")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        rc, gone = self.twilio_node(call_id, "hangup")
        self.assertEqual((rc, gone["error"]["status"], gone["error"]["code"]), (2, 404, 20404))

    def transfer_event(self, state):
        return self.bot.wait_frame(lambda f: f.json is not None and f.json.get("event") == "transfer"
                                   and f.json["transfer"].get("state") == state, f"the transfer's {state} event", 30)

    def test_twilio_library_dials_by_twiml_after_the_speech(self):
        call_id = self.start_twilio_call("uac-refer-accept-notify-200.xml")
        packets = self.rtp.count()
        rc, call = self.twilio_node(call_id, "dial", "Transferring you now.", SUPPORT["uri"])
        self.assertEqual(rc, 0, call)
        self.assertEqual(call["status"], "in-progress")
        # The REFER (the transfer's "dialing") goes out once the speech has played to the caller.
        dialing = self.transfer_event("dialing")
        spoken = [p for p in self.rtp.packets(packets) if p[0] <= dialing.at and loud(p[2])]
        self.assertGreater(len(spoken), 25, "the speech had not reached the caller when the REFER went out")
        # The scenario checks the REFER's Refer-To, answers 202, NOTIFYs 200 and needs the gateway's BYE.
        self.sipp.assert_passed()
        ended = self.transfer_event("ended").json
        self.assertEqual((ended["transfer"]["result"], ended["transfer"]["sip_status"]), ("completed", 200))
        self.assertEqual(ended["streamSid"], self.bot.events(event="start")[0].json["streamSid"])
        self.bot.wait_event("stop")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

    def test_a_busy_target_leaves_the_caller_with_the_bot(self):
        call_id = self.start_twilio_call("uac-refer-accept-notify-486.xml")
        rc, call = self.twilio_node(call_id, "dial", "One moment.", SUPPORT["uri"])
        self.assertEqual(rc, 0, call)
        ended = self.transfer_event("ended").json["transfer"]
        self.assertEqual((ended["result"], ended["sip_status"]), ("busy", 486))
        self.assertEqual(len(self.gateway.calls()), 1, "the caller stays on the call")
        self.assertEqual(self.bot.events(event="stop"), [], "the bot's stream goes on")
        n = len(self.bot.events(event="media"))
        wait_for(lambda: len(self.bot.events(event="media")) > n + 10, 5, "the caller's audio at the bot again")
        self.sipp.trigger()
        self.sipp.assert_passed()
        self.bot.wait_event("stop")

    # ---- Telnyx and Plivo, as their documentation writes the requests

    def test_telnyx_transfer_and_hangup(self):
        call_id = self.start_call("telnyx", "uac-refer-accept-notify-200.xml", api_key=TELNYX_KEY)
        auth = {"Authorization": f"Bearer {TELNYX_KEY}", "Content-Type": "application/json"}
        status, headers, body = request("POST", self.api(f"/v2/calls/{call_id}/actions/transfer"),
                                        json.dumps({"to": "Support"}), {"Content-Type": "application/json"})
        self.assertEqual(status, 401, body)
        self.assertEqual(json.loads(body)["errors"][0]["code"], "10009")
        status, _, body = request("POST", self.api(f"/v2/calls/{call_id}/actions/transfer"),
                                  json.dumps({"to": SUPPORT["uri"], "timeout_secs": 20, "command_id": "e2e-1"}), auth)
        self.assertEqual((status, json.loads(body)), (200, {"data": {"result": "ok"}}))
        self.sipp.assert_passed()
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        # The call is over: Telnyx's own answer, to the letter.
        status, _, body = request("POST", self.api(f"/v2/calls/{call_id}/actions/hangup"), "{}", auth)
        self.assertEqual(status, 422)
        self.assertEqual(json.loads(body), {"errors": [{"code": "90018", "title": "Call has already ended",
                                                        "detail": "This call is no longer active and can't receive commands."}]})

    def test_telnyx_hangup(self):
        call_id = self.start_call("telnyx", "uac-call-expect-bye.xml", api_key=TELNYX_KEY)
        status, _, body = request("POST", self.api(f"/v2/calls/{call_id}/actions/hangup"), "{}",
                                  {"Authorization": f"Bearer {TELNYX_KEY}", "Content-Type": "application/json"})
        self.assertEqual((status, json.loads(body)), (200, {"data": {"result": "ok"}}))
        self.sipp.assert_passed()
        self.bot.wait_event("stop")

    def test_plivo_hangup(self):
        call_id = self.start_call("plivo", "uac-call-expect-bye.xml", account_id=PLIVO_AUTH_ID, api_key=PLIVO_TOKEN)
        path = self.api(f"/v1/Account/{PLIVO_AUTH_ID}/Call/{call_id}/")
        status, headers, body = request("DELETE", path, headers=basic(PLIVO_AUTH_ID, "wrong"))
        self.assertEqual(status, 401, body)
        self.assertEqual(json.loads(body)["error"], "Authentication failed")
        status, headers, body = request("DELETE", path, headers=basic(PLIVO_AUTH_ID, PLIVO_TOKEN))
        self.assertEqual(status, 204)
        self.assertEqual(body, "")
        self.sipp.assert_passed()
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        status, _, body = request("DELETE", path, headers=basic(PLIVO_AUTH_ID, PLIVO_TOKEN))
        self.assertEqual((status, json.loads(body)["error"]), (404, "not found"))


if __name__ == "__main__":
    unittest.main()
