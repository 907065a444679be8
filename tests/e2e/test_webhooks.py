"""Webhooks (docs/webhooks.md) through the whole gateway, received by a local HTTP server
(webhook_receiver.py) that verifies every signature with the secret, as a receiver would:
- a call with a cold transfer (REFER refused, then a bridged dial, as in test_refer_fallback_dial):
  call.started, call.answered, transfer.updated for each transfer state, call.ended with the call
  record; one call id, sequence 1..n in arrival order, and the record matches the CDR's row;
- the receiver answers 503 during the whole call: the call runs and ends as usual meanwhile (its
  record is written, nothing was delivered), and once the receiver recovers the held events arrive,
  in order, through the gateway's retries;
- a receiver with another secret refuses every event (401): the signature is really checked, and a
  refused event is given up at once, not retried.
"""
import os
import unittest

from harness import Agent, E2ETestCase, Gateway, cdr_query, wait_for
from sipp_peer import SippUasScenario, start_caller
from webhook_receiver import WebhookReceiver, webhooks_toml

SECRET = "whsec-e2e-0123456789"
TRANSFER_SCRIPT = """\
on start: tone 440 200
on dtmf 1: transfer cold Support
on transfer ended !completed: tone 1000 3000
"""
CALL_KEYS = {"id", "from", "to", "agent", "state", "started_at", "transfer", "recording"}  # GET /v1/calls' shape


class Webhooks(E2ETestCase):
    def start_gateway(self, receiver, agent, **options):
        env = dict(os.environ, WARMLINE_WEBHOOK_SECRET=SECRET)
        return Gateway(self, agent.url, extra_trunks=webhooks_toml(receiver.url), env=env, **options)

    def assert_ordered(self, events, call_id):
        """One call's events: its id, sequence 1..n in arrival order, unique ids."""
        self.assertEqual([e["call_id"] for e in events], [call_id] * len(events))
        self.assertEqual([e["sequence"] for e in events], list(range(1, len(events) + 1)))
        self.assertEqual([e["id"] for e in events], [f"{call_id}.{e['sequence']}" for e in events])
        for e in events:
            self.assertRegex(e["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertEqual(set(e["data"]["call"]), CALL_KEYS, e)
            self.assertEqual(e["data"]["call"]["id"], call_id)

    def basic_call(self, gateway):
        """A call answered by the agent that the caller then ends; returns its call id."""
        caller, _ = start_caller(self, gateway, "uac-call-until-trigger.xml")
        call_id = gateway.only_call()
        caller.trigger()
        caller.assert_passed()
        return call_id

    def test_a_transferred_call_reports_each_step_in_order_and_ends_with_its_record(self):
        receiver = WebhookReceiver(self, SECRET)
        target = SippUasScenario(self, "uas-answer.xml", name="support")
        agent = Agent(self, TRANSFER_SCRIPT)
        gateway = self.start_gateway(receiver, agent, accepts_refer=True,
                                     targets=[{"name": "Support", "uri": f"sip:support@{target.address}"}])
        caller, rtp = start_caller(self, gateway, "uac-refer-reject-603-then-bridged.xml")
        call_id = gateway.only_call()
        agent.wait_event(type="start")
        rtp.send_dtmf("1")
        agent.wait_event(20, type="transfer", state="ended")
        agent.wait_event(type="stop", reason="transferred")
        target.trigger()  # the target hangs up; warmline hangs up the caller
        target.assert_passed()
        caller.assert_passed()

        events = wait_for(lambda: [e for e in receiver.received() if e["type"] == "call.ended"] and receiver.received(),
                          30, "call.ended at the receiver")
        self.assert_ordered(events, call_id)
        types = [e["type"] for e in events]
        transfers = [e["data"]["call"]["transfer"] for e in events if e["type"] == "transfer.updated"]
        self.assertEqual(types, ["call.started", "call.answered"] + ["transfer.updated"] * len(transfers)
                         + ["call.ended"], types)
        self.assertEqual(events[0]["data"]["call"]["state"], "ringing")
        self.assertIsNone(events[0]["data"]["call"]["transfer"])
        self.assertEqual(events[1]["data"]["call"]["state"], "answered")
        # The REFER (refused 603) and the bridged dial that followed: each state change, then the end.
        self.assertEqual([(t["state"], t.get("result"), t.get("sip_status")) for t in transfers],
                         [("dialing", None, None), ("dialing", None, None), ("ringing", None, 180),
                          ("ended", "completed", 200)], transfers)
        for t in transfers:
            self.assertEqual((t["id"], t["mode"], t["target"]), ("t1", "cold", "Support"), t)

        # call.ended carries the record the CDR has.
        record = events[-1]["data"]["record"]
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")
        row = wait_for(lambda: cdr_query(gateway.cdr_path, "SELECT id, agent, from_party, to_party, started_at, "
                                         "answered_at, ended_at, end_reason FROM calls"), 10, "the CDR row")
        self.assertEqual(row, [tuple(record[k] for k in ("id", "agent", "from_party", "to_party", "started_at",
                                                         "answered_at", "ended_at", "end_reason"))])
        self.assertEqual(record["end_reason"], "target_hangup")  # the bridged target hung up
        legs = cdr_query(gateway.cdr_path, "SELECT role, direction, sip_call_id, final_status, hangup_side FROM legs "
                                           "ORDER BY role")
        self.assertEqual(legs, [(leg["role"], leg["direction"], leg["sip_call_id"], leg["final_status"],
                                 leg["hangup_side"]) for leg in record["legs"]])
        rows = cdr_query(gateway.cdr_path, "SELECT transfer_id, mode, strategy, result, targets_tried FROM transfers")
        self.assertEqual([(t["transfer_id"], t["mode"], t["strategy"], t["result"], t["targets_tried"])
                          for t in record["transfers"]], [("t1", "cold", "dial", "completed", ["Support"])])
        self.assertEqual(rows, [("t1", "cold", "dial", "completed", '["Support"]')])
        self.assertEqual([a["result"] for a in record["transfers"][0]["attempts"]], ["rejected", "completed"])

        self.assertEqual(gateway.metric("warmline_webhooks_sent_total"), len(events))
        self.assertEqual(gateway.metric("warmline_webhooks_failed_total"), 0)
        self.assertEqual(gateway.metric("warmline_webhooks_dropped_total"), 0)
        self.assertEqual(gateway.metric("warmline_webhooks_pending"), 0)
        self.assertTrue(all(status == 200 for status, _ in receiver.answered()), receiver.answered())

    def test_a_failing_receiver_does_not_hold_up_the_call_and_gets_the_events_later_in_order(self):
        receiver = WebhookReceiver(self, SECRET, failing=True)
        agent = Agent(self, "on start: tone 440 200\n")
        gateway = self.start_gateway(receiver, agent)
        call_id = self.basic_call(gateway)  # the whole call, answered and ended, while every POST fails
        wait_for(lambda: cdr_query(gateway.cdr_path, "SELECT id FROM calls") == [(call_id,)], 10, "the call's record")
        self.assertEqual(receiver.received(), [], "nothing was delivered while the receiver failed")
        refused = receiver.answered()
        self.assertTrue(refused and all(status == 503 for status, _ in refused), refused)
        self.assertEqual({event_id for _, event_id in refused}, {f"{call_id}.1"},
                         "the first event is retried; the ones behind it wait")
        self.assertGreaterEqual(gateway.metric("warmline_webhooks_pending"), 3)

        receiver.set_failing(False)
        events = receiver.wait_events(3, 60, "the held events after the receiver recovered")
        self.assert_ordered(events, call_id)
        self.assertEqual([e["type"] for e in events], ["call.started", "call.answered", "call.ended"])
        self.assertEqual(events[2]["data"]["record"]["end_reason"], "caller_hangup")
        wait_for(lambda: gateway.metric("warmline_webhooks_pending") == 0, 10, "the queue to empty")
        self.assertEqual(gateway.metric("warmline_webhooks_sent_total"), 3)
        self.assertEqual(gateway.metric("warmline_webhooks_retries_total"), len(refused))
        self.assertEqual(gateway.metric("warmline_webhooks_failed_total"), 0)

    def test_a_receiver_with_another_secret_refuses_every_event_and_nothing_is_retried(self):
        receiver = WebhookReceiver(self, "not-" + SECRET)
        agent = Agent(self, "on start: tone 440 200\n")
        gateway = self.start_gateway(receiver, agent)
        call_id = self.basic_call(gateway)
        wait_for(lambda: gateway.metric("warmline_webhooks_failed_total") == 3, 30, "three events given up")
        self.assertEqual(receiver.answered(), [(401, f"{call_id}.{n}") for n in (1, 2, 3)],
                         "each event refused once (a 4xx is not retried)")
        self.assertEqual(receiver.received(), [])
        self.assertEqual(gateway.metric("warmline_webhooks_sent_total"), 0)
        self.assertEqual(gateway.metric("warmline_webhooks_retries_total"), 0)


if __name__ == "__main__":
    unittest.main()
