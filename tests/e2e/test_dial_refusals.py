"""Toll-fraud rules and caller-ID rules before a bridged dial (DESIGN.md "Toll-fraud rules", "Caller
ID"): a transfer warmline may not place is refused before anything is sent, and the carrier behind the
provider trunk (a SIPp UAS) never hears of it.

- Through the HTTP API: a number outside the agent's allow_patterns (422 number_not_allowed), a SIP URI
  that is not in the configuration (422 unknown_target), and a chain whose first target is allowed but
  whose second is not (422: the whole chain is checked first).
- From the agent: the same two refusals reach it as `transfer ended` with result `failed` and the
  reason's code; the call goes on with the agent.
- Then an allowed number is dialled: the carrier's scenario requires that very number in the first
  INVITE it ever gets (and answers busy), so any INVITE leaked by a refusal would fail it.
- A tel: target with no caller ID that the trunk lets us present: `rejected`, nothing sent.
"""
import unittest

from harness import Agent, E2ETestCase, Gateway, provider_trunk, wait_for, wait_tone
from sipp_peer import SippUasScenario, start_caller

ALLOWED = "+27115550101"  # what uas-provider-busy.xml expects
NOT_ALLOWED = "+27119990000"


class DialRefusals(E2ETestCase):
    def start_call(self, caller_ids=("+27110000001",), agent_caller_id="+27110000001"):
        self.provider = SippUasScenario(self, "uas-provider-busy.xml", name="provider")
        self.intruder = f"sip:intruder@{self.provider.address}"
        self.agent = Agent(self, f"""\
on start: tone 440 200
on dtmf 1: transfer cold Sales
on dtmf 2: transfer cold {self.intruder}
on dtmf 3: transfer cold {NOT_ALLOWED}
on transfer ended !completed: tone 1000 3000
""")
        options = {"trunk": "provider", "allow_patterns": ["+2711555*"]}
        if agent_caller_id:
            options["caller_id"] = agent_caller_id
        self.gateway = Gateway(self, self.agent.url, accepts_refer=False, agent_options=options,
                               trunks=[provider_trunk(self.provider.address, caller_ids=caller_ids)],
                               targets=[{"name": "Sales", "uri": f"tel:{ALLOWED}"}])
        self.caller, self.rtp = start_caller(self, self.gateway, "uac-call-until-trigger.xml")
        self.agent.wait_event(type="start")
        self.call_id = self.gateway.only_call()

    def post_transfer(self, *targets):
        return self.gateway.http("POST", f"/v1/calls/{self.call_id}/transfer",
                                 {"mode": "cold", "targets": list(targets)})

    def assert_refused(self, code, *targets):
        status, body = self.post_transfer(*targets)
        self.assertEqual(status, 422, body)
        self.assertEqual(body["error"]["code"], code, body)

    def agent_transfer(self, digit):
        """The agent asks for a transfer (its script's rule for `digit`); returns its `ended` event."""
        before = len(self.agent.find(type="transfer", state="ended"))
        self.rtp.send_dtmf(digit)
        wait_for(lambda: len(self.agent.find(type="transfer", state="ended")) > before, 15,
                 f"the agent's transfer for digit {digit} to end")
        return self.agent.find(type="transfer", state="ended")[before]

    def gateway_dialled(self):
        """How many legs warmline started to dial (its log, one line per INVITE it sends a target)."""
        return self.gateway.proc.output().count("transfer: dialling ")

    def hang_up(self):
        self.caller.trigger()
        self.caller.assert_passed()
        self.agent.wait_event(type="stop", reason="caller_hangup")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

    def test_targets_outside_the_configuration_are_refused_before_anything_is_sent(self):
        self.start_call()
        self.assert_refused("number_not_allowed", NOT_ALLOWED)
        self.assert_refused("unknown_target", self.intruder)
        self.assert_refused("unknown_target", ALLOWED, self.intruder)

        for digit, code in (("2", "unknown_target"), ("3", "number_not_allowed")):
            ended = self.agent_transfer(digit)
            self.assertEqual(ended.get("result"), "failed", ended)
            self.assertTrue(str(ended.get("reason", "")).startswith(code + ":"), ended)
        self.assertEqual(len(self.gateway.calls()), 1, "the call goes on with the agent")
        self.assertEqual(self.gateway_dialled(), 0, "nothing may be dialled for a refused transfer")

        # An allowed number: the provider's first (and only) INVITE must be this one.
        status, body = self.post_transfer(ALLOWED)
        self.assertEqual(status, 202, body)
        ended = self.agent.wait_event(15, type="transfer", state="ended", result="busy")
        self.assertEqual(ended.get("sip_status"), 486, ended)
        self.provider.assert_passed()
        since = self.rtp.count()
        wait_tone(self.rtp, 1000, since=since, timeout=15, what="the agent's 1 kHz tone after the busy target")
        self.hang_up()
        self.assertEqual(len(self.provider.requests("INVITE")), 1, "only the allowed number reached the carrier")
        self.assertEqual(self.gateway_dialled(), 1)

    def test_a_number_without_a_caller_id_the_trunk_allows_is_rejected_before_anything_is_sent(self):
        self.start_call(caller_ids=(), agent_caller_id=None)
        ended = self.agent_transfer("1")
        self.assertEqual(ended.get("result"), "rejected", ended)
        self.assertIn("caller ID", str(ended.get("reason")), ended)
        since = self.rtp.count()
        wait_tone(self.rtp, 1000, since=since, timeout=15, what="the agent's 1 kHz tone after the refusal")
        self.hang_up()
        # Checked after the hang-up's round trips: an INVITE sent before `ended` has long been logged.
        self.assertEqual(self.provider.requests("INVITE"), [], "nothing may reach the carrier")
        self.assertEqual(self.gateway_dialled(), 0)


if __name__ == "__main__":
    unittest.main()
