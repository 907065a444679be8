"""Drain and overload for orchestrators (issue 7 item 5; DESIGN.md "Command line", docs: operations).

- POST /v1/drain: /readyz 503, OPTIONS 503 with Retry-After, a new INVITE 503 with Retry-After; the
  live call goes on with audio both ways until its BYE; then the node STAYS UP, not ready, until
  POST /v1/resume makes it ready again (/readyz 200, OPTIONS 200, new calls answered).
- [server] drain_exit = true: the drained node exits 0 once its last call has ended (like SIGTERM).
- [server] max_calls = 1: a second concurrent INVITE gets 503 with Retry-After ([server]
  retry_after_s); the first call is unaffected; once it has ended a new call is accepted.
- While the node exits after SIGTERM, POST /v1/resume answers 409.
"""
import signal
import unittest

from harness import (Agent, E2ETestCase, Gateway, dtmf_round_trip, header_of, status_of, wait_for, wait_line,
                     wait_tone)
from sipp_peer import Sipp, start_caller

SCRIPT = """\
on start: tone 440 2000
on dtmf 7: tone 1000 2000
"""

DEFAULT_RETRY_AFTER = "5"  # [server] retry_after_s default


def refused_with_retry_after(case, gateway, name):
    """A new INVITE gets 503 with a Retry-After header (the scenario fails without one); returns the
    header's value in seconds."""
    sipp = Sipp(case, "uac-invite-rejected-503-retry-after.xml", gateway.sip_port, name=name)
    sipp.assert_passed()
    return wait_line(sipp.media_path, 5, f"{name}: the Retry-After value of the 503").strip()


def wait_starts(agent, count):
    wait_for(lambda: len(agent.find(type="start")) >= count, 15, f"the agent's start #{count}")


class DrainApi(E2ETestCase):
    def test_api_drain_keeps_the_live_call_and_the_node_up_until_resume(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        self.assertEqual(gateway.http("GET", "/readyz"), (200, {"status": "ready"}))
        sipp, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        wait_starts(agent, 1)

        self.assertEqual(gateway.http("POST", "/v1/drain"), (202, {"status": "draining"}))
        self.assertEqual(gateway.http("GET", "/readyz"), (503, {"status": "draining"}))
        options = gateway.options()
        self.assertEqual(status_of(options), 503, options)
        self.assertEqual(header_of(options, "Retry-After"), DEFAULT_RETRY_AFTER, options)
        self.assertEqual(refused_with_retry_after(self, gateway, "sipp-while-draining"), DEFAULT_RETRY_AFTER)

        # The live call still carries audio both ways.
        dtmf_round_trip(agent, rtp, "7")
        self.assertEqual(len(gateway.calls()), 1)

        sipp.trigger()  # the caller hangs up: the node has no call left
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

        # Drained, the node stays up and keeps refusing: a new INVITE, OPTIONS and /readyz all answer
        # 503 after its last call has ended.
        self.assertEqual(refused_with_retry_after(self, gateway, "sipp-after-drain"), DEFAULT_RETRY_AFTER)
        options = gateway.options()
        self.assertEqual(status_of(options), 503, options)
        self.assertEqual(header_of(options, "Retry-After"), DEFAULT_RETRY_AFTER, options)
        self.assertEqual(gateway.http("GET", "/readyz"), (503, {"status": "draining"}))
        self.assertTrue(gateway.proc.running(), "a node drained through the API must stay up")

        # Resume: ready again and a new call is answered.
        self.assertEqual(gateway.http("POST", "/v1/resume"), (200, {"status": "ready"}))
        self.assertEqual(gateway.http("GET", "/readyz"), (200, {"status": "ready"}))
        options = gateway.options()
        self.assertEqual(status_of(options), 200, options)
        again, again_rtp = start_caller(self, gateway, "uac-call-until-trigger.xml", name="sipp-after-resume")
        wait_starts(agent, 2)
        wait_tone(again_rtp, 440)
        again.trigger()
        again.assert_passed()
        self.assertTrue(gateway.proc.running())

    def test_api_drain_with_drain_exit_exits_0_after_the_last_call(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, server_extra="drain_exit = true")
        sipp, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        wait_starts(agent, 1)

        self.assertEqual(gateway.http("POST", "/v1/drain"), (202, {"status": "draining"}))
        self.assertEqual(gateway.http("GET", "/readyz"), (503, {"status": "draining"}))
        self.assertEqual(refused_with_retry_after(self, gateway, "sipp-while-draining"), DEFAULT_RETRY_AFTER)
        dtmf_round_trip(agent, rtp, "7")
        self.assertTrue(gateway.proc.running(), "the node must wait for its live call")

        sipp.trigger()
        sipp.assert_passed()
        self.assertEqual(gateway.proc.wait(15), 0, "with drain_exit the drained node must exit 0")

    def test_max_calls_refuses_a_second_concurrent_call_with_retry_after(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, server_extra="max_calls = 1\nretry_after_s = 7")
        sipp, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        wait_starts(agent, 1)

        self.assertEqual(refused_with_retry_after(self, gateway, "sipp-second-call"), "7")
        self.assertEqual(len(gateway.calls()), 1)
        self.assertEqual(len(agent.find(type="start")), 1, "the refused call must never reach the agent")
        # The first call is unaffected.
        dtmf_round_trip(agent, rtp, "7")

        sipp.trigger()
        sipp.assert_passed()
        wait_for(lambda: gateway.calls() == [], 10, "the first call to leave /v1/calls")
        # A free slot again: a new call is accepted.
        third, third_rtp = start_caller(self, gateway, "uac-call-until-trigger.xml", name="sipp-third-call")
        wait_starts(agent, 2)
        wait_tone(third_rtp, 440)
        third.trigger()
        third.assert_passed()

    def test_resume_is_refused_while_the_node_exits_after_sigterm(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        sipp, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        wait_starts(agent, 1)

        gateway.proc.signal(signal.SIGTERM)
        wait_for(lambda: gateway.http("GET", "/readyz")[0] == 503, 10, "/readyz to answer 503 after SIGTERM")
        status, body = gateway.http("POST", "/v1/resume")
        self.assertEqual(status, 409, body)
        self.assertEqual(gateway.http("GET", "/readyz"), (503, {"status": "draining"}))
        self.assertEqual(status_of(gateway.options()), 503)

        sipp.trigger()
        sipp.assert_passed()
        self.assertEqual(gateway.proc.wait(15), 0, "the SIGTERM drain must still exit 0")


if __name__ == "__main__":
    unittest.main()
