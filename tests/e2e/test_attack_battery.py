"""The attack battery (issue 12 part 5): every attack of tests/e2e/attack_cases.py against one gateway
whose configuration names several peers — the agent's carrier trunk, a PBX target, an AI platform
reached through a trunk with accepts_refer_from_peer, two trunks that challenge with digest — each
on a 127.0.0.1 UDP port the test holds open and counts. The attacks come from a raw SIP endpoint
inside the callers' trunk (127.0.0.1), one outside every trunk (127.0.0.2), a TCP connection, and
the agent itself (frames its script sends on a DTMF digit).

Each case asserts the exact answer (status and reason, or the agent's error / transfer result) and
the datagrams that reached each peer: none, but for the digest cases (the challenging trunk gets
the INVITE and one answer to its challenge, never a third) and the one transfer the test asks for on
purpose (the AI platform). At the end the gateway still answers OPTIONS, the caller that lived
through it all hangs up normally, and a new call completes. The table (attack, expected, got,
datagrams at peers) is printed on stderr and written to $WARMLINE_ATTACK_TABLE when set; docs/
security.md holds a copy.
"""
import os
import random
import sys
import unittest
from pathlib import Path

from attack_cases import CALLER_ID, CASES, NOT_ALLOWED
from attack_peer import Challenger, PeerWatch, exchange, tcp_exchange
from harness import Agent, E2ETestCase, Gateway, dtmf_round_trip, provider_trunk, wait_for
from raw_sip import RawSip, header, status_code
from sipp_peer import SippUasScenario, sip_messages, start_caller

OUTSIDE_IP = "127.0.0.2"  # in no trunk's source_cidrs (the callers' trunk is 127.0.0.1/32)
DIGITS = "0123456789*ABCD"  # one per agent-driven case; "#" is the final round trip's
PASSWORD = "s3cret"


def tag_of(value):
    for param in (value or "").split(";")[1:]:
        name, _, v = param.partition("=")
        if name.strip().lower() == "tag":
            return v.strip()
    return None


def uri_of(value):
    value = value or ""
    return value[value.index("<") + 1:value.index(">")] if "<" in value else value.split(";")[0].strip()


def described(response):
    """"status reason" of a response's text, or "no answer"."""
    if not response:
        return "no answer (dropped)"
    return response.split("\r\n", 1)[0].split("\n", 1)[0][len("SIP/2.0 "):].strip()


class AttackBattery(E2ETestCase):
    def setUp(self):
        self.carrier = RawSip(self, name="carrier")
        self.pbx = RawSip(self, name="pbx")
        self.billing_realm = Challenger(self, realm="carrier.example", realm_after="evil.example",
                                        name="billing-realm")
        self.billing_again = Challenger(self, realm="carrier.example", name="billing-again")
        self.bot = SippUasScenario(self, "uas-answer.xml", name="bot")
        self.bot.wait_listening()
        self.inside = RawSip(self, name="attacker-inside")
        self.outside = RawSip(self, OUTSIDE_IP, name="attacker-outside")
        self.watch = PeerWatch({
            "carrier": lambda: len(self.carrier.received()),
            "pbx": lambda: len(self.pbx.received()),
            "billing-realm": lambda: len(self.billing_realm.received()),
            "billing-again": lambda: len(self.billing_again.received()),
            "ai-platform": lambda: len([m for m in sip_messages(self.bot.messages()) if not m.startswith("SIP/2.0")]),
        })
        self.ctx = {"carrier": f"127.0.0.1:{self.carrier.port}", "pbx": f"127.0.0.1:{self.pbx.port}",
                    "not_allowed": NOT_ALLOWED, "allowed": CALLER_ID[:-1] + "1"}

        self.agent_cases = [c for c in CASES if c.kind in ("agent", "digest")]
        rules = ["on start: tone 440 300"]
        for digit, case in zip(DIGITS, self.agent_cases):
            if case.kind == "digest":
                rules.append(f"on dtmf {digit}: transfer cold {case.target}")
            else:
                rules.append(f"on dtmf {digit}: send {case.frame(self.ctx)}")
        self.bot_digit = DIGITS[len(self.agent_cases)]
        rules += [f"on dtmf {self.bot_digit}: transfer cold Bot", "on dtmf #: tone 1000 1500"]
        self.assertLessEqual(len(self.agent_cases) + 1, len(DIGITS), "one DTMF digit per agent case")
        self.agent = Agent(self, "\n".join(rules) + "\n")

        def challenging(name, peer):
            return provider_trunk(f"127.0.0.1:{peer.port}", name=name, username="warmline", password=PASSWORD,
                                  caller_ids=[CALLER_ID])
        self.gateway = Gateway(
            self, self.agent.url, accepts_refer=False, tcp=True,
            agent_options={"trunk": "carrier", "allow_patterns": ["+2711555*"], "caller_id": CALLER_ID},
            trunks=[provider_trunk(self.ctx["carrier"], name="carrier", caller_ids=[CALLER_ID]),
                    provider_trunk(self.bot.address, name="aiplatform", accepts_refer_from_peer=True),
                    challenging("billing-realm", self.billing_realm),
                    challenging("billing-again", self.billing_again)],
            targets=[{"name": "Support", "uri": f"sip:support@{self.ctx['pbx']}"},
                     {"name": "Bot", "uri": f"sip:bot@{self.bot.address}", "via": "aiplatform"},
                     {"name": "BillingRealm", "uri": f"sip:billing@127.0.0.1:{self.billing_realm.port}",
                      "via": "billing-realm"},
                     {"name": "BillingAgain", "uri": f"sip:billing@127.0.0.1:{self.billing_again.port}",
                      "via": "billing-again"}])
        self.dest = ("127.0.0.1", self.gateway.sip_port)
        self.ctx["gw"] = f"127.0.0.1:{self.gateway.sip_port}"
        self.rows = []

    # -- running one case --------------------------------------------------------------------------

    def sender(self, case):
        return self.outside if case.source == "outside" else self.inside

    def run_raw(self, case):
        raw = self.sender(case)
        ctx = dict(self.ctx, me=f"{raw.ip}:{raw.port}", branch="z9hG4bK-atk%016x" % random.getrandbits(64),
                   tag="atk%08x" % random.getrandbits(32), cid=f"atk-{random.getrandbits(48):x}@{raw.ip}")
        text = case.text(ctx)
        if case.kind == "tcp":
            return tcp_exchange(self.gateway.tcp_port, text.encode())
        # A request the gateway cannot answer: wait long enough for an answer to have come (2 s).
        return exchange(raw, text, self.dest, timeout=5.0 if case.expected else 2.0)

    def run_dialog(self, case, cseq):
        raw = self.sender(case)
        real = case.ids == "real"
        body, content_type = "", None
        if case.method == "INVITE":
            body = (f"v=0\r\no=attacker 1 2 IN IP4 {raw.ip}\r\ns=-\r\nc=IN IP4 {raw.ip}\r\nt=0 0\r\n"
                    "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
            content_type = "application/sdp"
        extra = [f"Refer-To: <sip:{NOT_ALLOWED}@{self.ctx['carrier']}>"] if case.method == "REFER" else []
        return raw.request(case.method, self.dest, self.gateway.uri, self.caller_ids["call_id"],
                           from_uri=self.caller_ids["from_uri"],
                           from_tag=self.caller_ids["from_tag"] if real else "forged-from",
                           to_uri=self.gateway.uri, to_tag=self.caller_ids["to_tag"] if real else "forged-to",
                           cseq=cseq, contact=f"sip:attacker@{raw.ip}:{raw.port}", body=body,
                           content_type=content_type, extra=extra)

    def run_refer(self, case, cseq):
        raw = self.sender(case)
        real = case.ids == "real"
        ids = self.bot_ids
        extra = [f"Refer-To: {value.format(**self.ctx)}" for value in case.refer_to]
        return raw.request("REFER", self.dest, ids["gateway_uri"], ids["call_id"], from_uri=ids["bot_uri"],
                           from_tag=ids["bot_tag"] if real else "forged-from", to_uri=ids["gateway_uri"],
                           to_tag=ids["gateway_tag"] if real else "forged-to", cseq=cseq,
                           contact=f"sip:bot@{raw.ip}:{raw.port}", extra=extra)

    def run_agent(self, case, digit):
        """Sends `digit`; the agent's rule sends the case's frame (or transfer). Returns the frame it
        got back: the first `error` or `transfer ended` after the digit."""
        before = len(self.agent.events())
        self.rtp.send_dtmf(digit)
        want = "error" if case.expected[0] == "error" else "transfer"

        def answer():
            for e in self.agent.events()[before:]:
                if e.get("type") == want and (want == "error" or e.get("state") == "ended"):
                    return e
            return None
        return wait_for(answer, 30, f"the agent's answer to case {case.name!r}")

    def record(self, case, got, before, expected_peers):
        delta = PeerWatch.delta(before, self.watch.snapshot())
        self.rows.append((case.name, case.kind, case.expected_text(), got, delta))
        self.assertEqual(got, case.expected_text(), case.name)
        self.assertEqual(set(delta), set(expected_peers), f"{case.name}: datagrams reached {delta}")

    # -- the battery -------------------------------------------------------------------------------

    def test_every_attack_gets_its_exact_answer_and_nothing_is_dialled(self):
        self.caller, self.rtp = start_caller(self, self.gateway, "uac-call-until-trigger.xml")
        self.agent.wait_event(type="start")
        self.call_id = self.gateway.only_call()
        msgs = sip_messages(self.caller.messages())
        invite = next(m for m in msgs if m.startswith("INVITE "))
        ok = next(m for m in msgs if m.startswith("SIP/2.0 200") and header(m, "CSeq") == "1 INVITE")
        self.caller_ids = {"call_id": header(invite, "Call-ID"), "from_uri": uri_of(header(invite, "From")),
                           "from_tag": tag_of(header(invite, "From")), "to_tag": tag_of(header(ok, "To"))}
        cseq = 2
        digits = iter(DIGITS)
        try:
            for case in CASES:
                if case.kind == "refer":
                    continue  # after the AI platform is bridged, below
                with self.subTest(case=case.name):
                    before = self.watch.snapshot()
                    if case.kind in ("raw", "tcp"):
                        got = described(self.run_raw(case))
                        peers = ()
                    elif case.kind == "dialog":
                        got = described(self.run_dialog(case, cseq))
                        cseq += 1
                        peers = ()
                    else:
                        ended = self.run_agent(case, next(digits))
                        if case.kind == "digest":
                            got = f"transfer ended {ended.get('result')} {ended.get('sip_status')}"
                            peers = ("billing-realm",) if case.target == "BillingRealm" else ("billing-again",)
                            challenger = self.billing_realm if case.target == "BillingRealm" else self.billing_again
                            invites = {header(t, "CSeq") for t, _ in challenger.invites()}
                            self.assertEqual(len(invites), case.invites, f"{case.name}: INVITEs {sorted(invites)}")
                            # Its ACK of each 401 may come just after the result: counted in this case.
                            wait_for(lambda: len({header(t, "CSeq") for t, _ in challenger.requests("ACK")})
                                     >= case.invites, 10, f"{case.name}: warmline's ACK of each 401")
                        elif ended.get("type") == "error":
                            got = f"error {ended.get('code')}"
                            peers = ()
                        else:
                            code = str(ended.get("reason", "")).split(":", 1)[0]
                            got = f"transfer ended {ended.get('result')} {code}"
                            peers = ()
                    self.record(case, got, before, peers)
            self.assertEqual([c["id"] for c in self.gateway.calls()], [self.call_id], "the caller's call goes on")

            # The AI platform: the agent transfers the caller there on purpose (it gets the INVITE).
            before = self.watch.snapshot()
            self.rtp.send_dtmf(self.bot_digit)
            ended = self.agent.wait_event(30, type="transfer", state="ended", target="Bot")
            wait_for(lambda: [m for m in sip_messages(self.bot.messages()) if m.startswith("ACK ")], 10,
                     "warmline's ACK of the AI platform's 200")
            delta = PeerWatch.delta(before, self.watch.snapshot())
            self.rows.append(("(control) the agent transfers the caller to the AI platform", "agent",
                              "transfer ended completed", f"transfer ended {ended.get('result')}", delta))
            self.assertEqual(ended.get("result"), "completed", ended)
            self.assertEqual(set(delta), {"ai-platform"})
            self.bot_ids = self.bot_dialog()

            cseq = 1
            for case in CASES:
                if case.kind != "refer":
                    continue
                with self.subTest(case=case.name):
                    before = self.watch.snapshot()
                    got = described(self.run_refer(case, cseq))
                    cseq += 1
                    self.record(case, got, before, ())
            calls = self.gateway.calls()
            self.assertEqual([(c["id"], c["state"]) for c in calls], [(self.call_id, "bridged")],
                             "the caller is still with the AI platform")
        finally:
            self.write_table()

        # Still serving: OPTIONS, the caller hangs up normally (the platform gets the BYE), a new call.
        self.assertEqual(status_code(self.gateway.options() or ""), 200)
        self.caller.trigger()
        self.caller.assert_passed()
        self.bot.assert_passed()
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        caller2, rtp2 = start_caller(self, self.gateway, "uac-call-until-trigger.xml", name="sipp-after")
        dtmf_round_trip(self.agent, rtp2, "#", 1000)
        caller2.trigger()
        caller2.assert_passed()
        self.assertEqual(self.carrier.received(), [], "nothing ever reached the carrier")
        self.assertEqual(self.pbx.received(), [], "nothing ever reached the PBX")

    def bot_dialog(self):
        """The AI platform's dialog ids, from its SIPp log: the INVITE warmline sent it and its 200."""
        def read():
            msgs = sip_messages(self.bot.messages())
            invite = next((m for m in msgs if m.startswith("INVITE ")), None)
            ok = next((m for m in msgs if m.startswith("SIP/2.0 200") and (header(m, "CSeq") or "").endswith("INVITE")),
                      None)
            return (invite, ok) if invite and ok else None
        invite, ok = wait_for(read, 10, "the AI platform's INVITE and 200 in its log")
        return {"call_id": header(invite, "Call-ID"), "gateway_uri": uri_of(header(invite, "Contact")),
                "gateway_tag": tag_of(header(invite, "From")), "bot_uri": uri_of(header(ok, "To")),
                "bot_tag": tag_of(header(ok, "To"))}

    def write_table(self):
        lines = ["| attack | surface | expected | got | datagrams at peers |", "|---|---|---|---|---|"]
        for name, kind, expected, got, delta in self.rows:
            peers = ", ".join(f"{k}: {v}" for k, v in sorted(delta.items())) or "0"
            cell = got.replace("|", "\\|")
            lines.append(f"| {name} | {kind} | {expected} | {cell} | {peers} |")
        table = "\n".join(lines) + "\n"
        print("\n" + table, file=sys.stderr)
        (self.workdir / "attack-table.txt").write_text(table)
        if os.environ.get("WARMLINE_ATTACK_TABLE"):
            Path(os.environ["WARMLINE_ATTACK_TABLE"]).write_text(table)


if __name__ == "__main__":
    unittest.main()
