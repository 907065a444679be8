"""The trunk's provisional response and the agent's DTMF towards the caller, through the whole gateway
with SIPp as the caller, the test's RtpPeer as the caller's media and the reference agent:
- `provisional = "183"`: 183 Session Progress with the SDP answer, ringback (US: 440 + 480 Hz,
  2 s on / 4 s off) as early media while the agent's WebSocket is not open yet, then 200 OK with
  the same answer and the agent's audio;
- `provisional = "none"`: no 180/183 and no early media, only 100 Trying, then 200 OK;
- the agent's `{"type":"dtmf","digits":"12#"}` reaches the caller as RFC 4733 telephone-events;
- without telephone-event in the caller's offer the agent gets `dtmf_unavailable` and the call goes on.
The agent's handshake is held by a HeldAgent relay, so "before the 200" is a state the test controls,
not a race against a timer.
"""
import unittest

from harness import Agent, E2ETestCase, Gateway, HeldAgent, wait_for, wait_tone
from rtp_peer import FRAME_SAMPLES, PCMU, RtpPeer, rms, tone_ratio
from sipp_peer import Sipp, start_caller

AGENT_TONE_HZ = 1000
SCRIPT = f"on start: tone {AGENT_TONE_HZ} 3000\n"
BLOCK = 800  # 100 ms at 8 kHz: the unit the ringback is analysed in


def sip_lines(sipp, prefix):
    """The start lines of the messages SIPp logged that begin with `prefix` (e.g. "SIP/2.0 18")."""
    return [line for line in sipp.messages().splitlines() if line.startswith(prefix)]


def is_us_ringback(block):
    """440 Hz + 480 Hz in equal parts (each ~half the energy), and nothing else much."""
    low, high = tone_ratio(block, 440), tone_ratio(block, 480)
    return low > 0.3 and high > 0.3 and low + high > 0.85


class EarlyMedia(E2ETestCase):
    def start_held_call(self, provisional, scenario):
        """A call whose agent is reachable but whose WebSocket handshake waits for `held.release()`;
        returns (held, sipp, rtp) once the gateway has opened its connection to the agent."""
        agent = Agent(self, SCRIPT)
        held = HeldAgent(self, agent)
        gateway = Gateway(self, held.url, provisional=provisional)
        rtp = RtpPeer()
        self.addCleanup(rtp.stop)
        sipp = Sipp(self, scenario, gateway.sip_port, rtp_port=rtp.port)

        def connected():
            if not sipp.proc.running():
                raise AssertionError(f"SIPp exited ({sipp.proc.popen.returncode}) before the agent was connected")
            return held.connections() >= 1
        wait_for(connected, 15, "the gateway to connect to the agent")
        return agent, held, sipp, rtp

    def finish_call(self, agent, held, sipp, rtp):
        """Releases the agent: the 200 OK comes, the agent's tone reaches the caller, the caller hangs
        up. Returns the fields of the 200's SDP answer."""
        before = rtp.count()
        held.release()
        ip, port, te_pt = sipp.gateway_media()
        rtp.start_sending(ip, port, te_pt or 101)
        agent.wait_event(type="start")
        wait_tone(rtp, AGENT_TONE_HZ, since=before)
        sipp.trigger()
        sipp.assert_passed()
        agent.wait_event(type="stop", reason="caller_hangup")
        return ip, port, te_pt

    def test_183_with_sdp_and_ringback_as_early_media_then_200(self):
        agent, held, sipp, rtp = self.start_held_call("183", "uac-expect-183-then-200.xml")
        # The scenario only gets here through a 183 whose body has c= and m= (check_it).
        early = sipp.answer_fields(".183")
        self.assertNotEqual(early[1], "0", early)

        # Ringback flows as early media while the agent is still connecting: wait for 2.3 s of it
        # (the gateway's agent connect timeout is 5 s).
        wait_for(lambda: len(rtp.audio()) >= 23 * BLOCK, 4, "2.3 s of early media at the caller")
        self.assertFalse(sipp.media_path.exists(), "the gateway sent 200 OK before the agent was there")
        self.assertEqual(sip_lines(sipp, "SIP/2.0 200"), [], "a 200 arrived before the agent answered")
        packets = rtp.packets()
        self.assertEqual({pt for _, pt, _ in packets}, {PCMU}, "early media must be PCMU only here")
        audio = rtp.audio()
        blocks = [audio[i:i + BLOCK] for i in range(0, 23 * BLOCK, BLOCK)]
        # 2 s on: every 100 ms block from 0.1 s to 1.9 s is the US ringback (440 + 480 Hz) ...
        on = [i for i in range(1, 19) if is_us_ringback(blocks[i])]
        self.assertEqual(on, list(range(1, 19)), [(round(tone_ratio(b, 440), 2), round(tone_ratio(b, 480), 2))
                                                   for b in blocks])
        # ... then off: 2.1 s to 2.3 s is silence.
        self.assertLess(max(rms(b) for b in blocks[21:23]), 50, [round(rms(b)) for b in blocks])

        ip, port, te_pt = self.finish_call(agent, held, sipp, rtp)
        self.assertEqual([early[0], int(early[1])], [ip, port], "the 200's answer differs from the 183's")
        early_te = int(early[2]) if len(early) > 2 else None
        self.assertEqual(early_te, te_pt, "telephone-event differs between the 183 and the 200")
        self.assertIsNotNone(te_pt, "the answer drops the caller's telephone-event")
        self.assertEqual(len(sip_lines(sipp, "SIP/2.0 183")), 1, sipp.messages())
        self.assertEqual(sip_lines(sipp, "SIP/2.0 180"), [], sipp.messages())

    def test_provisional_none_sends_no_180_or_183_and_no_early_media(self):
        agent, held, sipp, rtp = self.start_held_call("none", "uac-expect-no-provisional.xml")
        # The gateway sends its provisional before it connects to the agent, so by now a 180/183
        # would have been sent; the 100 Trying is what the caller has.
        wait_for(lambda: sip_lines(sipp, "SIP/2.0 100"), 10, "100 Trying at the caller")
        self.assertEqual(sip_lines(sipp, "SIP/2.0 18"), [], sipp.messages())
        self.assertEqual(rtp.count(), 0, "media reached the caller before the 200 OK")

        self.finish_call(agent, held, sipp, rtp)
        # The scenario fails on any 18x; this says it in the test's own words too.
        self.assertEqual(sip_lines(sipp, "SIP/2.0 18"), [], sipp.messages())


class AgentDtmf(E2ETestCase):
    def test_agent_digits_reach_the_caller_as_rfc4733_events(self):
        agent = Agent(self, f"on start: dtmf 12#; tone {AGENT_TONE_HZ} 1000\n")
        gateway = Gateway(self, agent.url)
        sipp, rtp = start_caller(self, gateway, "uac-call-until-trigger.xml")
        _, _, te_pt = sipp.gateway_media()
        self.assertEqual(te_pt, 101)

        def complete_events():
            events = rtp.telephone_events(te_pt)
            return events if sum(1 for e in events if e.end) >= 9 else None
        events = wait_for(complete_events, 10, "three complete telephone-events at the caller")
        # The agent's tone, queued behind the digits, plays once they are done: the call goes on.
        wait_tone(rtp, AGENT_TONE_HZ)
        self.assertEqual(agent.find(type="error"), [])

        by_start = {}
        for e in events:
            by_start.setdefault(e.timestamp, []).append(e)
        self.assertEqual(len(by_start), 3, events)
        presses = list(by_start.values())
        self.assertEqual([p[0].event for p in presses], [1, 2, 11], events)
        for press in presses:
            self.check_press(press)

        starts = list(by_start)
        for a, b in zip(starts, starts[1:]):
            # 100 ms of event, then a pause of about 60 ms (more than 0, less than 300 ms).
            self.assertGreaterEqual((b - a) & 0xFFFFFFFF, 800 + 3 * FRAME_SAMPLES, starts)
            self.assertLessEqual((b - a) & 0xFFFFFFFF, 800 + 15 * FRAME_SAMPLES, starts)
        # The audio clock skips the time the events cover: no audio packet is stamped inside one.
        audio_ts = [ts for (_, pt, _), (_, _, ts) in zip(rtp.packets(), rtp.headers()) if pt == PCMU]
        inside = [ts for ts in audio_ts for s in starts if 0 <= (ts - s) & 0xFFFFFFFF < 800]
        self.assertEqual(inside, [], "audio packets stamped inside an event")

        sipp.trigger()
        sipp.assert_passed()

    def check_press(self, press):
        """One key press, RFC 4733 §2.5: one timestamp (grouped by it), marker on the first packet only,
        consecutive sequence numbers, a growing duration every 20 ms up to 100 ms (800 units), and the
        final packet with the E bit sent three times, identical."""
        self.assertEqual({p.event for p in press}, {press[0].event}, press)
        self.assertEqual([p.marker for p in press], [True] + [False] * (len(press) - 1), press)
        self.assertEqual([p.seq for p in press], [(press[0].seq + i) & 0xFFFF for i in range(len(press))], press)
        self.assertEqual([p.end for p in press], [False] * (len(press) - 3) + [True] * 3, press)
        self.assertEqual([p.duration for p in press if not p.end],
                         [FRAME_SAMPLES * i for i in range(1, len(press) - 2)], press)
        ends = press[-3:]
        self.assertEqual([p.duration for p in ends], [800] * 3, press)
        self.assertEqual({p.payload for p in ends}, {ends[0].payload}, press)
        self.assertTrue(all(not p.reserved and p.volume <= 63 for p in press), press)

    def test_without_telephone_event_the_agent_gets_dtmf_unavailable_and_the_call_goes_on(self):
        agent = Agent(self, f"on start: dtmf 12#\non error: tone {AGENT_TONE_HZ} 2000\n")
        gateway = Gateway(self, agent.url)
        sipp, rtp = start_caller(self, gateway, "uac-call-without-telephone-event.xml", need_dtmf=False)
        self.assertIsNone(sipp.gateway_media()[2], "the answer offers telephone-event the caller did not")

        error = agent.wait_event(type="error", code="dtmf_unavailable")
        self.assertTrue(error.get("message"), error)
        wait_tone(rtp, AGENT_TONE_HZ, what="the agent's audio after the error (the call goes on)")
        self.assertEqual({pt for _, pt, _ in rtp.packets()}, {PCMU}, "something but PCMU reached the caller")
        self.assertEqual(len(agent.find(type="error")), 1, agent.events())

        sipp.trigger()
        sipp.assert_passed()  # no BYE from the gateway meanwhile
        agent.wait_event(type="stop", reason="caller_hangup")


if __name__ == "__main__":
    unittest.main()
