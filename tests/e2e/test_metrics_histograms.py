"""The Prometheus histograms and SIP response counters of GET /metrics (docs/operations.md "Metrics"),
filled by one real call: SIPp calls, the agent greets the caller and hands it over by a cold transfer
(a bridged dial: the caller's trunk takes no REFER) to a SIPp target that echoes RTP; the target hangs
up. Afterwards every histogram has the observations that call made:

- call setup (1: the caller's INVITE answered), transfer to bridge (1), post-dial delay (1);
- caller→AI frames (the caller's RTP reached the agent's socket) and AI→caller frames (the greeting's
  packets left on their ticks);
- RTP loss and jitter once per SIP leg at its end (the caller's and the target's: 2), with nothing lost
  on 127.0.0.1;
- SIP responses by class, sent (our 200s) and received (the target's 180 and 200);
and every histogram is well formed: cumulative buckets ending in +Inf = count.

The Grafana dashboard in deploy/grafana/ is checked against the same scrape: every metric its panels
query exists (a dashboard naming a metric that the gateway does not export would graph nothing).
"""
import json
import re
import unittest
from pathlib import Path

from harness import Agent, E2ETestCase, Gateway, wait_for, wait_tone
from sipp_peer import SippUasScenario, start_caller

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "warmline-dashboard.json"

SCRIPT = """\
on start: tone 440 400
on dtmf 1: transfer cold Support
"""
CALLER_TONE_HZ = 300  # what RtpPeer sends as the caller's voice


def scrape(gateway):
    status, body = gateway.http("GET", "/metrics")
    if status != 200 or not isinstance(body, str):
        raise AssertionError(f"GET /metrics answered {status}: {body}")
    return body


def histogram(text, name):
    """{le: cumulative count}, sum and count of a histogram in Prometheus text."""
    buckets = {}
    for m in re.finditer(rf'^{name}_bucket{{le="([^"]+)"}} (\d+)$', text, re.M):
        buckets[m.group(1)] = int(m.group(2))
    total = re.search(rf"^{name}_count (\d+)$", text, re.M)
    value_sum = re.search(rf"^{name}_sum (\S+)$", text, re.M)
    if not buckets or not total or not value_sum:
        raise AssertionError(f"/metrics has no histogram {name}")
    return buckets, float(value_sum.group(1)), int(total.group(1))


def families(text):
    """The metric families a scrape declares (# TYPE lines)."""
    return set(re.findall(r"^# TYPE (\S+) ", text, re.M))


class MetricsHistograms(E2ETestCase):
    def assert_well_formed(self, text, name):
        buckets, _, count = histogram(text, name)
        values = list(buckets.values())
        self.assertEqual(values, sorted(values), f"{name}: buckets are cumulative")
        self.assertEqual(buckets.get("+Inf"), count, f"{name}: +Inf holds every observation")

    def test_one_transferred_call_fills_every_histogram(self):
        target = SippUasScenario(self, "uas-answer.xml", name="support")
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, accepts_refer=False,
                          targets=[{"name": "Support", "uri": f"sip:support@{target.address}"}])
        before = scrape(gateway)
        for name in ("warmline_call_setup_seconds", "warmline_caller_to_ai_seconds", "warmline_rtp_loss_ratio"):
            self.assertEqual(histogram(before, name)[2], 0, f"{name} before any call")

        caller, rtp = start_caller(self, gateway, "uac-call-expect-bye.xml")
        agent.wait_event(type="start")
        wait_tone(rtp, 440, timeout=10, what="the agent's greeting at the caller")
        wait_for(lambda: agent.caller_audio_frames() > 0, 10, "the caller's audio at the agent")
        rtp.send_dtmf("1")
        agent.wait_event(type="dtmf", digit="1")
        ended = agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        wait_tone(rtp, CALLER_TONE_HZ, since=rtp.count(), timeout=10,
                  what="the caller's voice back from the target's echo, through the bridge")
        target.trigger()  # the target hangs up; warmline hangs up the caller
        target.assert_passed()
        caller.assert_passed()
        wait_for(lambda: gateway.calls() == [], 10, "the call to end")

        text = wait_for(lambda: (t := scrape(gateway)) and histogram(t, "warmline_rtp_loss_ratio")[2] == 2 and t,
                        10, "both legs' RTP loss observed")
        for name in ("warmline_call_setup_seconds", "warmline_transfer_bridge_seconds",
                     "warmline_transfer_setup_seconds", "warmline_post_dial_delay_seconds",
                     "warmline_caller_to_ai_seconds", "warmline_ai_to_caller_seconds", "warmline_rtp_loss_ratio",
                     "warmline_rtp_jitter_seconds"):
            self.assert_well_formed(text, name)
        self.assertEqual(histogram(text, "warmline_call_setup_seconds")[2], 1)
        self.assertEqual(histogram(text, "warmline_transfer_bridge_seconds")[2], 1)
        self.assertEqual(histogram(text, "warmline_post_dial_delay_seconds")[2], 1)
        # The caller sent for seconds (50 packets a second), each reaching the agent's socket.
        self.assertGreater(histogram(text, "warmline_caller_to_ai_seconds")[2], 20)
        # The greeting: 400 ms = 20 frames of the agent's audio, each sent on a tick.
        self.assertGreaterEqual(histogram(text, "warmline_ai_to_caller_seconds")[2], 20)
        loss_buckets, loss_sum, _ = histogram(text, "warmline_rtp_loss_ratio")
        self.assertEqual(loss_buckets["0"], 2, "nothing is lost on 127.0.0.1")
        self.assertEqual(loss_sum, 0)
        self.assertEqual(histogram(text, "warmline_rtp_jitter_seconds")[2], 2)

        def responses(direction, cls):
            return gateway.metric(f'warmline_sip_responses_total{{direction="{direction}",class="{cls}"}}')
        self.assertGreaterEqual(responses("sent", "2xx"), 2, "200 to the INVITE and to the target's BYE")
        self.assertGreaterEqual(responses("received", "1xx"), 1, "the target's 180")
        self.assertGreaterEqual(responses("received", "2xx"), 2, "the target's 200 and the caller's 200 to our BYE")
        self.assertEqual(responses("sent", "4xx"), 0)

    def test_the_grafana_dashboard_queries_only_exported_metrics(self):
        dashboard = json.loads(DASHBOARD.read_text())
        exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
        self.assertGreater(len(exprs), 10, "the dashboard has its panels")
        agent = Agent(self, "on start: tone 440 100\n")
        gateway = Gateway(self, agent.url)
        exported = families(scrape(gateway))
        for expr in exprs:
            for name in re.findall(r"\bwarmline_[a-z_]+", expr):
                family = re.sub(r"_(bucket|sum|count)$", "", name)
                self.assertIn(family, exported, f"the dashboard queries {name} ({expr})")


if __name__ == "__main__":
    unittest.main()
