"""The live-calls page (/ui, docs/http-api.md "Live calls page") and the SIP ladder behind it
(GET /v1/calls/{id}/ladder), with SIPp as the caller and headless Chromium as the browser.

A cold transfer by REFER that the caller's side accepts (202) and then leaves in progress (no NOTIFY,
refer_timeout far away): while it runs, the ladder lists leg a's INVITE / 200 / ACK / REFER / 202 in
order with their directions; Chromium loads /ui#call=<id> and its DOM shows the call, its state and
those ladder rows; a screenshot is saved in the test's folder (kept with WARMLINE_E2E_KEEP=1, or
copied to $WARMLINE_E2E_ARTEFACTS). With [server] http_token set, the page itself loads (under its
Content-Security-Policy) while the API behind it answers 401 without the token.
"""
import os
import shutil
import unittest

from harness import Agent, E2ETestCase, Gateway, wait_for
from sipp_peer import SippUasScenario, start_caller
from ui_peer import dump_dom, fetch, screenshot

SCRIPT = """\
on start: say "Hello, this is the warmline test agent."
on dtmf 1: transfer cold Support
"""
TARGETS = [{"name": "Support", "uri": "sip:support@127.0.0.1:5999"}]
TOKEN = "e2e-ui-token-51c2"


def rows(ladder, leg="a"):
    """"in INVITE", "out 200", ... for `leg`."""
    return [f"{e['direction']} {e['first_line'].split(' ')[0]}" for e in ladder["entries"] if e["leg"] == leg]


def in_order(case, got, expected):
    """`expected` are in `got`, in this order (other messages may come between)."""
    positions = [got.index(x) if x in got else -1 for x in expected]
    case.assertNotIn(-1, positions, (got, expected))
    case.assertEqual(positions, sorted(positions), got)


class UiPage(E2ETestCase):
    def start_transfer(self, http_token=None):
        self.agent = Agent(self, SCRIPT)
        self.gateway = Gateway(self, self.agent.url, refer_timeout_s=120, targets=TARGETS,
                               agent_options={"refer_fallback": "agent"}, http_token=http_token)
        self.sipp, self.rtp = start_caller(self, self.gateway, "uac-refer-accept-no-notify.xml")
        self.agent.wait_event(type="start")
        self.call_id = self.gateway.only_call()
        self.rtp.send_dtmf("1")
        self.agent.wait_event(type="dtmf", digit="1")

    def ladder(self):
        status, body = self.gateway.http("GET", f"/v1/calls/{self.call_id}/ladder")
        self.assertEqual(status, 200, body)
        return body

    def wait_referred(self):
        """The ladder once the caller's 202 to our REFER is in it."""
        return wait_for(lambda: (lambda l: l if "in 202" in rows(l) else None)(self.ladder()), 30,
                        "the caller's 202 to the REFER in the ladder")

    def finish(self):
        self.sipp.trigger()  # the caller hangs up
        self.sipp.assert_passed()
        self.agent.wait_event(type="stop")

    def test_ladder_json_lists_the_legs_messages_in_order_with_directions(self):
        self.start_transfer()
        ladder = self.wait_referred()
        self.assertEqual(ladder["call_id"], self.call_id)
        self.assertEqual([l["leg"] for l in ladder["legs"]], ["a"])
        self.assertEqual(ladder["dropped"], 0)
        r = rows(ladder)
        # What matters, in this order (a 100 Trying or 180 may come between the INVITE and the 200).
        in_order(self, r, ["in INVITE", "out 200", "in ACK", "out REFER", "in 202"])
        self.assertEqual(r.count("out REFER"), 1, r)
        entries = [e for e in ladder["entries"] if e["leg"] == "a"]
        refer = entries[r.index("out REFER")]
        self.assertEqual(refer["cseq_method"], "REFER")
        self.assertIn("sip:support@127.0.0.1:5999", refer["detail"])
        self.assertTrue(refer["detail"].startswith("Refer-To: "), refer)
        accepted = entries[r.index("in 202")]
        self.assertEqual((accepted["cseq"], accepted["cseq_method"]), (refer["cseq"], "REFER"))
        invite = entries[0]
        self.assertEqual((invite["direction"], invite["cseq"], invite["cseq_method"]), ("in", 1, "INVITE"))
        # The transfer runs: its phases so far.
        status, call = self.gateway.http("GET", f"/v1/calls/{self.call_id}")
        self.assertEqual(status, 200, call)
        phases = [p["phase"] for p in call["transfer"]["phases"]]
        self.assertEqual(phases[0], "requested", phases)
        self.assertIn("dialing", phases)
        self.assertNotIn("ended", phases)
        status, body = self.gateway.http("GET", "/v1/calls/c0-nosuchcall/ladder")
        self.assertEqual(status, 404, body)
        self.finish()

    def test_page_shows_the_call_and_its_ladder_in_headless_chromium(self):
        self.start_transfer()
        self.wait_referred()
        url = f"http://127.0.0.1:{self.gateway.http_port}/ui#call={self.call_id}"
        dom = dump_dom(self, url)
        self.assertIn(f'data-call="{self.call_id}"', dom, "the calls table lists the call")
        self.assertIn('<span id="detail-state" class="state">active</span>', dom)
        self.assertIn(f'<span id="detail-id">{self.call_id}</span>', dom)
        self.assertRegex(dom, r'class="label">INVITE sip:demo@127\.0\.0\.1:\d+</span>')
        self.assertRegex(dom, r'class="label">REFER sip:')
        self.assertIn('class="label">200 OK</span>', dom)
        self.assertIn('class="label">202 Accepted</span>', dom)
        self.assertIn("Refer-To: &lt;sip:support@127.0.0.1:5999&gt;", dom, "the header shown as text")
        self.assertIn("requested", dom, "the transfer's phases")
        self.assertRegex(dom, r'<form id="auth" hidden', "no token asked for: the node has none")
        self.assertEqual(dom.count('class="ladder-row"'), len(self.ladder()["entries"]))

        shot = screenshot(self, url, self.workdir / "ui-ladder.png")
        data = shot.read_bytes()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n", "a PNG")
        self.assertGreater(len(data), 20000, "a screenshot with something drawn in it")
        artefacts = os.environ.get("WARMLINE_E2E_ARTEFACTS")
        if artefacts:
            os.makedirs(artefacts, exist_ok=True)
            shutil.copyfile(shot, os.path.join(artefacts, "ui-ladder.png"))
        print(f"\n[e2e] screenshot: {shot}")
        self.finish()

    def test_bridged_dial_shows_the_target_leg_in_its_own_column(self):
        """The caller refuses the REFER (603): warmline dials the target itself (leg b1) and bridges."""
        target = SippUasScenario(self, "uas-answer.xml", name="support")
        self.agent = Agent(self, SCRIPT)
        self.gateway = Gateway(self, self.agent.url, targets=[{"name": "Support", "uri": f"sip:support@{target.address}"}])
        self.sipp, self.rtp = start_caller(self, self.gateway, "uac-refer-reject-603-then-bridged.xml")
        self.agent.wait_event(type="start")
        self.call_id = self.gateway.only_call()
        self.rtp.send_dtmf("1")
        self.agent.wait_event(type="stop", timeout=20)  # transferred: the agent leaves the bridge
        wait_for(lambda: self.gateway.calls()[0]["state"] == "bridged", 10, "the call bridged")
        ladder = wait_for(lambda: (lambda l: l if "out ACK" in rows(l, "b1") else None)(self.ladder()), 15,
                          "warmline's ACK to the target's 200 in the ladder")
        self.assertEqual([l["leg"] for l in ladder["legs"]], ["a", "b1"])
        in_order(self, rows(ladder), ["in INVITE", "out 200", "in ACK", "out REFER", "in 603"])
        in_order(self, rows(ladder, "b1"), ["out INVITE", "in 200", "out ACK"])
        a_refused = [e["at"] for e in ladder["entries"] if e["leg"] == "a" and e["first_line"].startswith("603")]
        b_invite = [e["at"] for e in ladder["entries"] if e["leg"] == "b1" and e["first_line"].startswith("INVITE")]
        self.assertLessEqual(a_refused[0], b_invite[0], "the dial follows the refused REFER")
        status, call = self.gateway.http("GET", f"/v1/calls/{self.call_id}")
        phases = [p["phase"] + (":" + p["result"] if "result" in p else "") for p in call["transfer"]["phases"]]
        in_order(self, phases, ["requested", "dialing", "ended:rejected", "bridged", "ended:completed"])

        url = f"http://127.0.0.1:{self.gateway.http_port}/ui#call={self.call_id}"
        dom = dump_dom(self, url)
        self.assertIn('<th class="node">target b1</th>', dom)
        self.assertIn('<span id="detail-state" class="state">bridged</span>', dom)
        self.assertRegex(dom, r'class="label">INVITE sip:support@127\.0\.0\.1:\d+</span>')
        self.assertIn('class="label">603 Decline</span>', dom)
        self.assertIn('<tr class="ladder-row" data-leg="b1" data-direction="out">', dom)
        shot = screenshot(self, url, self.workdir / "ui-ladder-bridged.png")
        self.assertEqual(shot.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
        artefacts = os.environ.get("WARMLINE_E2E_ARTEFACTS")
        if artefacts:
            os.makedirs(artefacts, exist_ok=True)
            shutil.copyfile(shot, os.path.join(artefacts, "ui-ladder-bridged.png"))
        target.trigger()  # the target hangs up; warmline hangs up the caller
        target.assert_passed()
        self.sipp.assert_passed()

    def test_with_a_token_the_page_loads_and_the_api_needs_it(self):
        self.start_transfer(http_token=TOKEN)
        self.wait_referred()  # (with the token: the harness's requests carry it)
        base = f"http://127.0.0.1:{self.gateway.http_port}"
        for path, kind in (("/ui", "text/html"), ("/ui/", "text/html"), ("/ui/app.js", "text/javascript"),
                           ("/ui/style.css", "text/css")):
            status, headers, body = fetch(base + path)
            self.assertEqual(status, 200, path)
            self.assertTrue(headers["content-type"].startswith(kind), (path, headers))
            csp = headers.get("content-security-policy", "")
            self.assertIn("default-src 'self'", csp)
            self.assertIn("script-src 'self'", csp)
            self.assertNotIn("unsafe-inline", csp)
            self.assertEqual(headers.get("x-content-type-options"), "nosniff")
        status, _, page = fetch(base + "/ui")
        self.assertIn(b'<script src="/ui/app.js" defer></script>', page)
        self.assertNotRegex(page.decode(), r"<script>", "no inline script")
        for path in ("/v1/calls", f"/v1/calls/{self.call_id}", f"/v1/calls/{self.call_id}/ladder"):
            status, headers, _ = fetch(base + path)
            self.assertEqual(status, 401, path)
            status, _, _ = fetch(base + path, headers={"Authorization": f"Bearer {TOKEN}"})
            self.assertEqual(status, 200, path)
        self.finish()


if __name__ == "__main__":
    unittest.main()
