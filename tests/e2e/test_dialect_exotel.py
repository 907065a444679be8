"""Exotel AgentStream on the agent socket (protocol = "exotel"), the bidirectional (Voicebot applet)
stream, checked against what Exotel documents, with a bot written in this test from those pages:
  https://developer.exotel.com/docs/agentstream/websocket-protocol (connected, start, media, dtmf, mark,
    stop from Exotel; media, mark, clear to Exotel; snake_case ids, every number a string)
  https://developer.exotel.com/docs/agentstream/stream-voicebot-applet (audio: raw/slin, 16-bit
    little-endian PCM, 8 kHz, mono, base64; chunks sent to Exotel in multiples of 320 bytes, at least
    100 ms)
SIPp is the caller with the test's RtpPeer as its media (dialect_checks.DialectCase).

- `connected` then `start`, field by field: stream_sid, start.call_sid = the call's id, account_sid =
  the configured account, from/to, custom_parameters as configured, media_format
  {"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"} (strings), every counter a string;
- the caller's voice arrives as base64 PCM16 `media` (decoded: the caller's tone);
- the bot's PCM reaches the caller in 100 ms chunks; a `mark` comes back once the audio before it has
  been played;
- `clear` during playout stops the audio (the queued mark comes back with it: warmline reports cleared
  marks, Exotel's pages say nothing of them);
- the caller's DTMF arrives as `dtmf` (digit, duration); a malformed frame leaves the stream going
  (Exotel documents no error frame); the caller's hang-up ends the stream with `stop` (reason
  "callended") and the socket closes;
- the warmline extension {"event":"transfer",...} runs a cold transfer; the stream then stops with
  reason "stopped".
"""
import base64
import time
import unittest

from dialect_audio import L16, decode, tone_chunks
from dialect_checks import BOT_HZ, CALLER_HZ, CALLER_NUMBER, DialectCase
from harness import wait_for
from rtp_peer import tone_ratio

ACCOUNT_SID = "exotel-account-1"
# What Exotel documents it sends to a bot; warmline adds its extension frames ("transfer", and "error"
# for a frame it refused: Exotel has none).
EXOTEL_EVENTS = {"connected", "start", "media", "dtmf", "mark", "stop"}


def media_frames(chunks, sid):
    return [{"event": "media", "stream_sid": sid, "media": {"payload": base64.b64encode(c).decode()}}
            for c in chunks]


def pcm(seconds):
    """The bot's tone as Exotel takes it: 100 ms chunks of 8 kHz PCM16 (1600 bytes, 5 x 320)."""
    return tone_chunks(BOT_HZ, seconds, L16, rate=8000, chunk_ms=100)


class ExotelDialect(DialectCase):
    PROTOCOL = "exotel"
    PATH = "/exotel"
    AGENT_OPTIONS = {"account_id": ACCOUNT_SID, "parameters": {"key1": "value1"}}

    def opening(self):
        start = self.bot.wait_event("start").json
        frames = [f.json for f in self.bot.frames()]
        self.assertEqual(frames[0], {"event": "connected"})
        self.assertEqual(frames[1], start, "start comes right after connected")
        self.assertEqual(set(start), {"event", "sequence_number", "stream_sid", "start"})
        self.assertEqual(start["sequence_number"], "1")
        s = start["start"]
        self.assertEqual(set(s), {"stream_sid", "call_sid", "account_sid", "from", "to", "custom_parameters",
                                  "media_format"})
        self.assertEqual(s["stream_sid"], start["stream_sid"])
        self.assertTrue(start["stream_sid"])
        self.assertEqual(s["account_sid"], ACCOUNT_SID)
        self.assertEqual(s["media_format"], {"encoding": "audio/x-raw", "sample_rate": "8000", "bit_rate": "16"})
        return start

    def assert_counters(self):
        """Every frame but `connected` carries sequence_number as a string: 1, 2, 3, ... in the order
        sent; no event but Exotel's (and warmline's extension frames)."""
        frames = [f.json for f in self.bot.frames()]
        self.assertEqual([f.get("sequence_number") for f in frames[1:]], [str(n) for n in range(1, len(frames))])
        events = {f["event"] for f in frames}
        self.assertLessEqual(events, EXOTEL_EVENTS | {"transfer", "error"}, events)

    def test_start_media_marks_clear_dtmf_and_stop(self):
        self.start_call()
        start = self.opening()
        sid, call_id, s = start["stream_sid"], self.gateway.only_call(), start["start"]
        self.assertEqual(s["call_sid"], call_id)
        self.assertEqual((s["from"], s["to"]), (CALLER_NUMBER, "demo"))
        self.assertEqual(s["custom_parameters"], {"key1": "value1"})

        # The caller's voice: base64 PCM16 8 kHz, chunk and timestamp strings counting up.
        media = wait_for(lambda: (m := self.bot.events(event="media")) and len(m) >= 50 and m, 10,
                         "50 media frames at the bot")
        stamps = []
        for i, m in enumerate(media):
            self.assertEqual(set(m.json), {"event", "sequence_number", "stream_sid", "media"})
            self.assertEqual(m.json["stream_sid"], sid)
            body = m.json["media"]
            self.assertEqual(set(body), {"chunk", "timestamp", "payload"})
            self.assertEqual(body["chunk"], str(i + 1))
            self.assertRegex(body["timestamp"], r"^\d+$")
            stamps.append(int(body["timestamp"]))
            self.assertEqual(len(base64.b64decode(body["payload"])) % 2, 0, "whole 16-bit samples")
        self.assertEqual(stamps, sorted(set(stamps)), "media timestamps must count up")
        heard = [x for m in media[-25:] for x in decode(base64.b64decode(m.json["media"]["payload"]), L16)]
        self.assertGreater(tone_ratio(heard, CALLER_HZ), 0.8, "the caller's voice in the PCM")

        # The bot speaks 2 s, then a mark: it comes back once the caller has had the audio before it.
        before = self.rtp.count()
        self.bot.send_many(media_frames(pcm(2.0), sid) +
                           [{"event": "mark", "stream_sid": sid, "mark": {"name": "greeting"}}])
        self.wait_bot_tone(before)
        mark = self.bot.wait_event("mark", timeout=10)
        self.assertEqual(set(mark.json), {"event", "sequence_number", "stream_sid", "mark"})
        self.assertEqual((mark.json["stream_sid"], mark.json["mark"]), (sid, {"name": "greeting"}))
        self.assert_played_before(before, mark, 100, "the mark")

        # clear during playout: 10 s queued and a mark behind it.
        before = self.rtp.count()
        self.bot.send_many(media_frames(pcm(10.0), sid) +
                           [{"event": "mark", "stream_sid": sid, "mark": {"name": "long"}}])
        self.wait_bot_tone(before)
        self.bot.send({"event": "clear", "stream_sid": sid})
        clear_sent = time.monotonic()
        cleared = self.bot.wait_event("mark", timeout=3, mark={"name": "long"})
        self.assertLess(cleared.at - clear_sent, 3, "the cleared mark waited for the audio to play")
        self.assert_tone_stopped()

        # DTMF from the caller (RtpPeer holds a key for 160 ms).
        self.rtp.send_dtmf("7")
        dtmf = self.bot.wait_event("dtmf").json
        self.assertEqual(set(dtmf), {"event", "sequence_number", "stream_sid", "dtmf"})
        self.assertEqual((dtmf["stream_sid"], dtmf["dtmf"]["digit"]), (sid, "7"))
        self.assertRegex(dtmf["dtmf"]["duration"], r"^\d+$")
        self.assertGreater(int(dtmf["dtmf"]["duration"]), 0)

        # A malformed media frame (an odd number of bytes is no PCM16): the stream goes on.
        odd = base64.b64encode(b"\0" * 321).decode()
        self.bot.send({"event": "media", "stream_sid": sid, "media": {"payload": odd}})
        self.assert_stream_goes_on(lambda: self.bot.events(event="media"), media_frames(pcm(1.0), sid))

        # The caller hangs up: stop (callended), then the socket closes.
        self.sipp.trigger()
        self.sipp.assert_passed()
        stop = self.bot.wait_event("stop").json
        self.assertEqual(set(stop), {"event", "sequence_number", "stream_sid", "stop"})
        self.assertEqual((stop["stream_sid"], stop["stop"]),
                         (sid, {"call_sid": call_id, "account_sid": ACCOUNT_SID, "reason": "callended"}))
        wait_for(lambda: self.bot.closed_at() is not None, 10, "warmline to close the socket")
        self.assert_counters()

    def test_cold_transfer_by_the_extension_frame(self):
        self.start_transfer_call()
        sid = self.opening()["stream_sid"]
        for frame in self.cold_transfer():
            self.assertEqual(frame["stream_sid"], sid)
        stop = self.bot.wait_event("stop").json
        self.assertEqual(stop["stop"]["reason"], "stopped")
        self.assert_counters()
        self.assert_bridged_to_target_then_hang_up()


if __name__ == "__main__":
    unittest.main()
