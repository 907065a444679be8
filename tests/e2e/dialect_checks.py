"""The call set-up and the checks every provider-dialect test shares (test_dialect_*.py): SIPp as the
caller with the test's RtpPeer as its media, warmline, and a DialectBot speaking the dialect.

What the dialect's frames look like is each test's own (written from its provider's documentation);
what is shared here is only what holds whatever the dialect:
- a mark (checkpoint, notify) comes back once the audio before it has been played to the caller: a
  causal check on what the caller had received when the bot got it, never a timer on warmline's speed;
- after a clear the bot's audio stops at the caller;
- a cold transfer through the warmline extension frame {"event":"transfer","mode":"cold",...} to a SIPp
  target (bridged dial: the caller's trunk takes no REFER) completes, and the caller then hears its own
  voice echoed by the target.
"""
from harness import E2ETestCase, Gateway, wait_for, wait_tone
from rtp_peer import PCMU, decode_pcmu, tone_ratio
from sipp_peer import SippUasScenario, start_caller
from dialect_bot import DialectBot

CALLER_HZ = 300  # RtpPeer's tone: the caller's voice
BOT_HZ = 1000    # what the bots play
CALLER_NUMBER = "+15550001111"  # the From of the caller scenarios


class DialectCase(E2ETestCase):
    """Subclasses set PROTOCOL, PATH and AGENT_OPTIONS (account_id, parameters); SAMPLE_RATE is the
    agent's sample_rate (8000, or 16000 for Vonage)."""
    PROTOCOL = None
    PATH = "/stream"
    SAMPLE_RATE = 8000
    AGENT_OPTIONS = {}

    def start_call(self, scenario="uac-call-until-trigger.xml", payload_type=PCMU, **gateway_args):
        """Starts the bot, warmline and the caller (sending `payload_type`); returns once warmline has
        connected to the bot."""
        self.bot = DialectBot(self, path=self.PATH)
        options = {"protocol": self.PROTOCOL, **self.AGENT_OPTIONS}
        self.gateway = Gateway(self, self.bot.url, sample_rate=self.SAMPLE_RATE, agent_options=options,
                               **gateway_args)
        self.sipp, self.rtp = start_caller(self, self.gateway, scenario, tone_hz=CALLER_HZ,
                                            payload_type=payload_type)
        self.bot.wait_connection()

    def start_transfer_call(self):
        """A call whose agent has one target, "Support": a SIPp UAS that answers and echoes RTP."""
        self.target = SippUasScenario(self, "uas-answer.xml", name="support")
        self.target.wait_listening()
        self.start_call(accepts_refer=False,
                        targets=[{"name": "Support", "uri": f"sip:support@{self.target.address}"}])

    # -- what the caller heard ---------------------------------------------------------------------

    def tone_packets(self, since, until, hz=BOT_HZ):
        """How many PCMU packets the caller had received by monotonic time `until` (from packet index
        `since` on) that carry the `hz` tone."""
        return sum(1 for at, _, payload in self.rtp.packets(since)
                   if at <= until and tone_ratio(decode_pcmu(payload), hz) > 0.8)

    def assert_played_before(self, since, frame, packets, what):
        """Causality, not a timer: by the time the bot received `frame` (a mark's report), the caller
        had been sent (nearly) all `packets` 20 ms packets of the bot's tone queued before the mark (a
        packet or two may still be in flight on loopback)."""
        played = self.tone_packets(since, frame.at)
        self.assertGreaterEqual(played, packets - 5, f"{what} came back with only {played} of {packets} "
                                                     f"tone packets played to the caller")

    def assert_tone_stopped(self):
        """After a clear: a second of what the caller gets next holds none of the bot's tone."""
        settled = self.rtp.count()
        wait_for(lambda: self.rtp.count() >= settled + 50, 5, "a second of audio after the clear")
        self.assertLess(tone_ratio(self.rtp.audio(settled + 5), BOT_HZ), 0.2, "the bot's tone goes on after clear")

    def wait_bot_tone(self, since):
        wait_tone(self.rtp, BOT_HZ, since=since, what="the bot's tone at the caller")

    def assert_stream_goes_on(self, caller_audio, bot_audio):
        """After a frame warmline refused: the caller's audio keeps coming to the bot (`caller_audio()`:
        the audio frames the bot has had so far) and the bot's next audio (`bot_audio`, frames to send)
        still reaches the caller."""
        n = len(caller_audio())
        wait_for(lambda: len(caller_audio()) > n + 10, 5, "the caller's audio at the bot after the refused frame")
        before = self.rtp.count()
        self.bot.send_many(bot_audio)
        self.wait_bot_tone(before)

    # -- the transfer extension --------------------------------------------------------------------

    def cold_transfer(self):
        """Sends the warmline extension frame for a cold transfer to "Support" and returns the
        transfer frames warmline sent back, the last of which ended it `completed`, once warmline has
        closed the bot's socket (the call goes on without the bot)."""
        self.bot.send({"event": "transfer", "id": "t1", "mode": "cold", "targets": ["Support"]})
        self.bot.wait_frame(lambda f: (f.json or {}).get("event") == "transfer"
                            and f.json.get("transfer", {}).get("state") == "ended", "the transfer to end", 20)
        frames = [f.json for f in self.bot.events(event="transfer")]
        for f in frames:
            self.assertEqual(f["transfer"]["id"], "t1", f)
        states = [f["transfer"]["state"] for f in frames]
        order = ["dialing", "ringing", "answered", "bridged", "ended"]
        self.assertEqual(states, sorted(states, key=order.index), f"transfer states out of order: {states}")
        ended = frames[-1]["transfer"]
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Support"), ended)
        wait_for(lambda: self.bot.closed_at() is not None, 10, "warmline to close the socket after the transfer")
        return frames

    def assert_bridged_to_target_then_hang_up(self):
        """The caller hears its own voice echoed by the target through the bridge; then the caller hangs
        up, and warmline hangs up the target."""
        wait_tone(self.rtp, CALLER_HZ, since=self.rtp.count(), timeout=10,
                  what="the caller's own voice back from the target's RTP echo, through the bridge")
        self.assertEqual(len(self.target.requests("INVITE")), 1, "warmline dials the target once")
        self.sipp.trigger()
        self.sipp.assert_passed()
        self.target.assert_passed()
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
