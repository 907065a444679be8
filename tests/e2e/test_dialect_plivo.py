"""Plivo audio streams on the agent socket (protocol = "plivo"), a bidirectional stream of
audio/x-mulaw at 8000 Hz, checked against what Plivo documents, with a bot written in this test from
those pages:
  https://plivo.com/docs/voice-agents/audio-streaming/concepts/audio-streaming-reference (every frame,
    its JSON schema and types: sequenceNumber and chunk numbers, timestamps strings of Unix ms,
    extra_headers a string)
  https://plivo.com/docs/voice/xml/the-stream-element/checkpoint-event ("playedStream will only be
    emitted if the preceding events were played successfully")
  https://plivo.com/docs/voice/audio-streaming/audio-streaming (the message list: start, media, dtmf,
    playedStream, clearedAudio from Plivo; no stop frame, no error frame)
SIPp is the caller with the test's RtpPeer as its media (dialect_checks.DialectCase).

- `start` first (Plivo sends no `connected`), field by field: start.callId = the call's id, streamId,
  accountId = the configured account, tracks ["inbound"], mediaFormat audio/x-mulaw 8000 (a number),
  extra_headers holding the configured values as "k=v;k=v"; every frame numbered 1, 2, 3, ...;
- the caller's audio arrives as `media` whose payload is the caller's RTP payload itself (PCMU passed
  through), chunk a number counting up, timestamp Unix milliseconds;
- `playAudio` reaches the caller; a `checkpoint` comes back as `playedStream` only once the audio
  before it has been played; `clearAudio` during playout stops the audio and gets `clearedAudio`, and
  the discarded checkpoint never comes back as played;
- the caller's DTMF arrives as `dtmf`; a malformed frame leaves the stream going; the caller's
  hang-up closes the socket (Plivo documents no stop frame);
- the warmline extension {"event":"transfer",...} runs a cold transfer and reports it back.

Plivo documents start.callId as a UUID; warmline's call ids are not UUIDs, so only equality with the
call's id is checked here.
"""
import base64
import re
import time
import unittest

from dialect_audio import MULAW, tone_chunks
from dialect_checks import BOT_HZ, CALLER_HZ, DialectCase
from harness import wait_for
from rtp_peer import RtpPeer

AUTH_ID = "MAXXXXXXXXXXXXXXXXXX"
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# What Plivo documents it sends to a bot; warmline adds its extension frames ("transfer", and "error"
# for a frame it refused: Plivo has none, and bots ignore events they do not know).
PLIVO_EVENTS = {"start", "media", "dtmf", "playedStream", "clearedAudio"}


def play_audio(chunks):
    """playAudio frames as the reference shows them, one 20 ms chunk each."""
    return [{"event": "playAudio", "media": {"contentType": "audio/x-mulaw", "sampleRate": 8000,
                                             "payload": base64.b64encode(c).decode()}} for c in chunks]


def extra_headers(text):
    """extra_headers parsed the way Plivo's guide does it: "k=v;k=v" pairs."""
    return dict(pair.split("=", 1) for pair in text.split(";") if "=" in pair)


class PlivoDialect(DialectCase):
    PROTOCOL = "plivo"
    PATH = "/plivo"
    AGENT_OPTIONS = {"account_id": AUTH_ID, "parameters": {"sessionId": "abc-xyz", "userId": "12345"}}

    def opening(self):
        """The start frame, first of all, checked against the reference's shape."""
        start = self.bot.wait_event("start").json
        self.assertEqual(self.bot.frames()[0].json, start, "start is the first frame")
        self.assertEqual(set(start), {"event", "sequenceNumber", "start", "extra_headers"})
        self.assertEqual(start["sequenceNumber"], 1)
        s = start["start"]
        self.assertEqual(set(s), {"callId", "streamId", "accountId", "tracks", "mediaFormat"})
        self.assertRegex(s["streamId"], UUID)
        self.assertEqual(s["accountId"], AUTH_ID)
        self.assertEqual(s["tracks"], ["inbound"])
        self.assertEqual(s["mediaFormat"], {"encoding": "audio/x-mulaw", "sampleRate": 8000})
        self.assertIsInstance(start["extra_headers"], str)
        headers = extra_headers(start["extra_headers"])
        self.assertEqual((headers.get("userId"), headers.get("sessionId")), ("12345", "abc-xyz"), headers)
        return start

    def assert_counters(self):
        """Every frame carries a sequenceNumber (a number), 1, 2, 3, ... in the order sent; no event
        but Plivo's (and warmline's extension frames)."""
        frames = [f.json for f in self.bot.frames()]
        self.assertEqual([f.get("sequenceNumber") for f in frames], list(range(1, len(frames) + 1)))
        events = {f["event"] for f in frames}
        self.assertLessEqual(events, PLIVO_EVENTS | {"transfer", "error"}, events)

    def assert_unix_ms(self, stamp):
        self.assertRegex(stamp, r"^\d+$")
        self.assertLess(abs(int(stamp) - time.time() * 1000), 60_000, f"{stamp} is not Unix ms of now")

    def test_start_media_checkpoints_clear_dtmf_and_hangup(self):
        self.start_call()
        start = self.opening()
        sid, call_id = start["start"]["streamId"], self.gateway.only_call()
        self.assertEqual(start["start"]["callId"], call_id)

        # The caller's audio: base64 µ-law, the caller's own RTP payloads (PCMU passed through).
        media = wait_for(lambda: (m := self.bot.events(event="media")) and len(m) >= 50 and m, 10,
                         "50 media frames at the bot")
        caller_frames = set(RtpPeer._tone_frames(CALLER_HZ))
        stamps = []
        for i, m in enumerate(media):
            self.assertEqual(set(m.json), {"event", "sequenceNumber", "streamId", "media", "extra_headers"})
            self.assertEqual((m.json["streamId"], m.json["extra_headers"]), (sid, start["extra_headers"]))
            body = m.json["media"]
            self.assertEqual(set(body), {"track", "timestamp", "chunk", "payload"})
            self.assertEqual((body["track"], body["chunk"]), ("inbound", i + 1))
            self.assert_unix_ms(body["timestamp"])
            stamps.append(int(body["timestamp"]))
            self.assertIn(base64.b64decode(body["payload"]), caller_frames,
                          "the µ-law payload is not the caller's own (transcoded?)")
        self.assertEqual(stamps, sorted(stamps), "media timestamps must not go back")
        self.assertGreaterEqual(stamps[-1] - stamps[0], 20 * (len(stamps) - 1) - 20)

        # The bot plays 2 s, then a checkpoint: playedStream once the caller has had the audio.
        before = self.rtp.count()
        self.bot.send_many(play_audio(tone_chunks(BOT_HZ, 2.0, MULAW)) +
                           [{"event": "checkpoint", "streamId": sid, "name": "greeting"}])
        self.wait_bot_tone(before)
        played = self.bot.wait_event("playedStream", timeout=10)
        self.assertEqual(set(played.json), {"event", "sequenceNumber", "streamId", "name"})
        self.assertEqual((played.json["streamId"], played.json["name"]), (sid, "greeting"))
        self.assert_played_before(before, played, 100, "playedStream")

        # clearAudio during playout: 10 s queued and a checkpoint behind it. The audio stops,
        # clearedAudio comes with the clear (not after the ~9 s still queued).
        before = self.rtp.count()
        self.bot.send_many(play_audio(tone_chunks(BOT_HZ, 10.0, MULAW)) +
                           [{"event": "checkpoint", "streamId": sid, "name": "long"}])
        self.wait_bot_tone(before)
        self.bot.send({"event": "clearAudio", "streamId": sid})
        clear_sent = time.monotonic()
        cleared = self.bot.wait_event("clearedAudio", timeout=3)
        self.assertEqual(set(cleared.json), {"event", "sequenceNumber", "streamId"})
        self.assertEqual(cleared.json["streamId"], sid)
        self.assertLess(cleared.at - clear_sent, 3)
        self.assert_tone_stopped()

        # DTMF from the caller.
        self.rtp.send_dtmf("7")
        dtmf = self.bot.wait_event("dtmf").json
        self.assertEqual(set(dtmf), {"event", "sequenceNumber", "streamId", "dtmf", "extra_headers"})
        self.assertEqual(dtmf["streamId"], sid)
        self.assertEqual(set(dtmf["dtmf"]), {"track", "digit", "timestamp"})
        self.assertEqual((dtmf["dtmf"]["track"], dtmf["dtmf"]["digit"]), ("inbound", "7"))
        self.assert_unix_ms(dtmf["dtmf"]["timestamp"])

        # A malformed playAudio: the stream goes on, and the bot's next audio still plays.
        self.bot.send({"event": "playAudio", "media": {"contentType": "audio/x-mulaw", "sampleRate": 8000,
                                                       "payload": "not base64!"}})
        self.assert_stream_goes_on(lambda: self.bot.events(event="media"),
                                   play_audio(tone_chunks(BOT_HZ, 1.0, MULAW)))

        # The checkpoint the clear discarded was never played, so it never comes back.
        self.assertEqual(self.bot.events(event="playedStream", name="long"), [])

        # The caller hangs up: the socket closes; Plivo sends no stop frame.
        self.sipp.trigger()
        self.sipp.assert_passed()
        wait_for(lambda: self.bot.closed_at() is not None, 10, "warmline to close the socket")
        self.assert_counters()

    def test_cold_transfer_by_the_extension_frame(self):
        self.start_transfer_call()
        sid = self.opening()["start"]["streamId"]
        for frame in self.cold_transfer():
            self.assertEqual(frame["streamId"], sid)
        self.assert_counters()
        self.assert_bridged_to_target_then_hang_up()


if __name__ == "__main__":
    unittest.main()
