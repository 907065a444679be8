"""The Vonage Voice API WebSocket on the agent socket (protocol = "vonage"): an NCCO `connect` to a
`websocket` endpoint with content-type audio/l16;rate=16000, checked against what Vonage documents,
with a bot written in this test from that page:
  https://developer.vonage.com/en/voice/voice-api/concepts/websockets (the first text message
    websocket:connected with content-type and the endpoint's headers at its top level; audio as binary
    messages of raw 16-bit PCM, 20 ms each, 640 bytes at 16 kHz; websocket:dtmf; the bot's text
    commands {"action":"notify","payload":...} answered by websocket:notify once the audio before it
    has played, and {"action":"clear"} answered by websocket:cleared; no stop message: the socket closes)
SIPp is the caller with the test's RtpPeer as its media (dialect_checks.DialectCase).

- websocket:connected first: content-type, the call's uuid and the configured headers at the top level;
- the caller's voice arrives as 640-byte binary frames of 16 kHz L16 (decoded: the caller's tone);
- the bot's binary L16 reaches the caller; its notify comes back, payload and all, once the audio before
  it has been played;
- clear during playout stops the audio and gets websocket:cleared; the notify behind the discarded
  audio never comes (that audio was never played);
- the caller's DTMF arrives as websocket:dtmf (digit, duration in ms as a number); a malformed text
  frame leaves the stream going (Vonage documents no error message); the caller's hang-up closes the
  socket;
- the warmline extension {"event":"transfer",...} runs a cold transfer and reports it back.
"""
import time
import unittest

from dialect_audio import L16, decode, tone_chunks
from dialect_checks import BOT_HZ, CALLER_HZ, DialectCase
from harness import wait_for
from rtp_peer import tone_ratio

# What Vonage documents it sends to a bot as text; warmline adds its extension frames ("transfer",
# and "error" for a frame it refused: Vonage has none).
VONAGE_EVENTS = {"websocket:connected", "websocket:dtmf", "websocket:notify", "websocket:cleared"}


def pcm(seconds):
    """The bot's tone as Vonage takes it: binary messages of 20 ms of 16 kHz L16 (640 bytes)."""
    return tone_chunks(BOT_HZ, seconds, L16, rate=16000)


class VonageDialect(DialectCase):
    PROTOCOL = "vonage"
    PATH = "/vonage"
    SAMPLE_RATE = 16000
    AGENT_OPTIONS = {"parameters": {"lang": "en-GB"}}

    def opening(self):
        connected = self.bot.wait_event("websocket:connected").json
        self.assertEqual(self.bot.frames()[0].json, connected, "websocket:connected is the first message")
        self.assertEqual(connected["content-type"], "audio/l16;rate=16000")
        self.assertEqual(connected["lang"], "en-GB", "the endpoint's headers sit at the top level")
        return connected

    def audio_frames(self):
        return [f for f in self.bot.frames() if f.data is not None]

    def assert_events(self):
        events = {f.json.get("event") for f in self.bot.frames() if f.json is not None}
        self.assertLessEqual(events, VONAGE_EVENTS | {"transfer", "error"}, events)

    def test_connected_audio_notify_clear_dtmf_and_hangup(self):
        self.start_call()
        connected = self.opening()
        self.assertEqual(connected["uuid"], self.gateway.only_call())

        # The caller's voice: binary 16 kHz L16, 640 bytes (20 ms) a message.
        audio = wait_for(lambda: (a := self.audio_frames()) and len(a) >= 50 and a, 10, "50 audio messages")
        self.assertEqual({len(f.data) for f in audio}, {640})
        heard = [x for f in audio[-25:] for x in decode(f.data, L16)]
        self.assertGreater(tone_ratio(heard, CALLER_HZ, 16000), 0.8, "the caller's voice in the L16")

        # The bot speaks 2 s, then a notify: it comes back once the caller has had the audio before it.
        before = self.rtp.count()
        self.bot.send_many(pcm(2.0) + [{"action": "notify", "payload": {"name": "greeting", "turn": 1}}])
        self.wait_bot_tone(before)
        notify = self.bot.wait_event("websocket:notify", timeout=10)
        self.assertEqual(notify.json, {"event": "websocket:notify", "payload": {"name": "greeting", "turn": 1}})
        self.assert_played_before(before, notify, 100, "websocket:notify")

        # clear during playout: 10 s queued (500 messages, within Vonage's 3072) and a notify behind it.
        before = self.rtp.count()
        self.bot.send_many(pcm(10.0) + [{"action": "notify", "payload": {"name": "long"}}])
        self.wait_bot_tone(before)
        self.bot.send({"action": "clear"})
        clear_sent = time.monotonic()
        cleared = self.bot.wait_event("websocket:cleared", timeout=3)
        self.assertEqual(cleared.json, {"event": "websocket:cleared"})
        self.assertLess(cleared.at - clear_sent, 3)
        self.assert_tone_stopped()

        # DTMF from the caller (RtpPeer holds a key for 160 ms).
        self.rtp.send_dtmf("7")
        dtmf = self.bot.wait_event("websocket:dtmf").json
        self.assertEqual(set(dtmf), {"event", "digit", "duration"})
        self.assertEqual(dtmf["digit"], "7")
        self.assertIsInstance(dtmf["duration"], int)
        self.assertGreater(dtmf["duration"], 0)

        # A malformed text message: the stream goes on, and the bot's next audio still plays.
        self.bot.send('{"action":')
        self.assert_stream_goes_on(self.audio_frames, pcm(1.0))

        # The notify behind the cleared audio was never played, so it never comes back.
        notified = [f.json["payload"] for f in self.bot.events(event="websocket:notify")]
        self.assertNotIn({"name": "long"}, notified)

        # The caller hangs up: the socket closes (Vonage sends no stop message).
        self.sipp.trigger()
        self.sipp.assert_passed()
        wait_for(lambda: self.bot.closed_at() is not None, 10, "warmline to close the socket")
        self.assert_events()

    def test_cold_transfer_by_the_extension_frame(self):
        self.start_transfer_call()
        self.opening()
        self.cold_transfer()
        self.assert_events()
        self.assert_bridged_to_target_then_hang_up()


if __name__ == "__main__":
    unittest.main()
