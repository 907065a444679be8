"""An agent whose socket stalls (issue 12 part 7): it takes the WebSocket upgrade and the `start` frame,
then never reads again while the caller keeps talking (fault_peers.StallingAgent, with a small
receive buffer so the kernel holds little). warmline's outgoing queue to the agent is bounded
(ai_bridge/ws_queue.hpp: 512 KiB or 256 messages); beyond it, or once a write has waited the agent's
`stall_timeout_s` (default 5 s), the agent is lost: counted in warmline_agent_stalled_total and
warmline_agent_failures_total, and the caller hears the fallback message, then the gateway's BYE
(no default_forward here). Another call on the same shard, whose agent reads, goes on unaffected
before and after.

- Default stall_timeout_s at 8 kHz (16 KB/s towards the agent): the agent is lost 5 s after its
  socket stopped taking data, well before the 512 KiB queue would fill (32 s).
- stall_timeout_s = 600 at 24 kHz (48 KB/s): the queue's byte limit ends it (about 11 s), the
  bound that holds whatever the timeout.
"""
import time
import unittest

from fault_peers import StallingAgent
from harness import Agent, E2ETestCase, Gateway, dtmf_round_trip, wait_for
from rtp_peer import rms
from sipp_peer import start_caller

HEALTHY_SCRIPT = """\
on dtmf 5: tone 1000 2000
"""


class FaultAgentStall(E2ETestCase):
    def stalled_call(self, sample_rate, agent_options=None):
        """A healthy agent behind a StallingAgent whose first connection stalls; the gateway (one shard)
        and the first caller, whose agent is the stalled one. Returns (caller, rtp, monotonic time the
        agent stopped reading)."""
        self.healthy = Agent(self, HEALTHY_SCRIPT)
        self.agent = StallingAgent(self, upstream=self.healthy, stall=1)
        self.gateway = Gateway(self, self.agent.url, shards=1, sample_rate=sample_rate, agent_options=agent_options)
        caller, rtp = start_caller(self, self.gateway, "uac-call-expect-bye.xml", name="caller-stalled",
                                   need_dtmf=False, timeout_s=90)
        wait_for(lambda: self.agent.starts, 10, "the start frame at the stalling agent")
        self.assertEqual(self.agent.starts[0].get("type"), "start", self.agent.starts)
        return caller, rtp, self.agent.stalled_at[0]

    def assert_lost_with_fallback(self, caller, rtp, stalled_at, lost_within_s, message):
        """The agent is declared lost (stalled) within `lost_within_s` of the moment it stopped reading,
        the caller hears speech (the fallback message) after that and gets the gateway's BYE.
        Returns the seconds it took."""
        wait_for(lambda: "agent demo lost: " in self.gateway.proc.output(), lost_within_s + 10,
                 "the stalled agent to be declared lost")
        lost_after = time.monotonic() - stalled_at
        print(f"agent declared lost {lost_after:.1f} s after it stopped reading", flush=True)
        self.assertLess(lost_after, lost_within_s)
        self.assertEqual(self.gateway.metric("warmline_agent_stalled_total"), 1)
        self.assertEqual(self.gateway.metric("warmline_agent_failures_total"), 1)
        self.assertIn(f"agent demo lost: stuck {message}", self.gateway.proc.output())
        since = rtp.count()
        caller.assert_passed(60)  # the scenario passes only on the gateway's BYE
        audio = rtp.audio(since)
        loud = [rms(audio[i:i + 800]) for i in range(0, len(audio) - 800, 800)]
        self.assertGreater(sum(1 for r in loud if r > 300), 5,
                           "the fallback message (speech) did not reach the caller after the agent was lost")
        return lost_after

    def test_agent_that_stops_reading_is_lost_after_the_stall_timeout(self):
        caller, rtp, stalled_at = self.stalled_call(8000)
        # A second call, whose agent reads, on the same shard while the first one's agent is stalled.
        other, other_rtp = start_caller(self, self.gateway, "uac-call-until-trigger.xml", name="caller-healthy")
        self.healthy.wait_event(type="start")
        dtmf_round_trip(self.healthy, other_rtp, "5")

        lost_after = self.assert_lost_with_fallback(caller, rtp, stalled_at, 20,
                                                    "agent not reading: a write has waited over 5000 ms")
        # Not at once: only once a write has waited the whole stall_timeout_s.
        self.assertGreater(lost_after, 4.5)

        dtmf_round_trip(self.healthy, other_rtp, "5")  # still unaffected
        self.assertEqual(self.gateway.metric("warmline_agent_stalled_total"), 1, "the healthy agent must stay")
        wait_for(lambda: len(self.gateway.calls()) == 1, 10, "the stalled call to end")
        other.trigger()
        other.assert_passed()
        wait_for(lambda: self.gateway.calls() == [], 10, "the healthy call to end")

    def test_queue_limit_ends_a_stall_whatever_the_timeout(self):
        caller, rtp, stalled_at = self.stalled_call(24000, agent_options={"stall_timeout_s": 600})
        # 512 KiB at 48 KB/s: about 11 s once the kernel's buffers are full.
        self.assert_lost_with_fallback(caller, rtp, stalled_at, 25, "write queue over its limit")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to end")


if __name__ == "__main__":
    unittest.main()
