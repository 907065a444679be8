"""Graceful drain (DESIGN.md "Command line": SIGTERM drains — stop taking calls, finish live ones,
exit). While a call is up the gateway gets SIGTERM: a new INVITE gets 503 with Retry-After, OPTIONS
and /readyz answer 503 (so Kamailio's dispatcher and load balancers move on), the live call still
carries audio and DTMF, and the process exits by itself once that call has ended.
"""
import signal
import unittest

from harness import Agent, E2ETestCase, Gateway, dtmf_round_trip, status_of, wait_for, wait_line
from sipp_peer import Sipp, start_caller

SCRIPT = """\
on start: tone 440 2000
on dtmf 7: tone 1000 2000
"""


class Drain(E2ETestCase):
    def test_sigterm_refuses_new_calls_keeps_the_live_one_and_exits_after_it(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        self.assertEqual(gateway.http("GET", "/readyz")[0], 200)
        sipp, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        agent.wait_event(type="start")

        gateway.proc.signal(signal.SIGTERM)
        wait_for(lambda: gateway.http("GET", "/readyz")[0] == 503, 10, "/readyz to answer 503 while draining")
        second = Sipp(self, "uac-invite-rejected-503-retry-after.xml", gateway.sip_port, name="sipp-new-call")
        second.assert_passed()
        self.assertEqual(wait_line(second.media_path, 5, "the Retry-After value of the 503"), "5",
                         "Retry-After is [server] retry_after_s (default 5)")
        self.assertEqual(status_of(gateway.options()), 503, "a draining node answers OPTIONS with 503")
        self.assertTrue(gateway.proc.running(), "the gateway must wait for the live call")

        # The live call still works both ways.
        dtmf_round_trip(agent, rtp, "7")
        self.assertEqual(len(gateway.calls()), 1)

        sipp.trigger()  # the caller hangs up: the last call is gone, the gateway may exit
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")
        self.assertEqual(gateway.proc.wait(15), 0, "the drained gateway must exit 0")


if __name__ == "__main__":
    unittest.main()
