"""Telnyx media streaming on the agent socket (protocol = "telnyx"), bidirectional RTP mode, checked
against what Telnyx documents, with a bot written in this test from those pages:
  https://developers.telnyx.com/docs/voice/programmable-voice/media-streaming (the frames, the error
    codes 100002 unknown_error / 100003 malformed_frame / 100004 / 100005)
  https://developers.telnyx.com/api-reference/websockets/stream-call-media-over-websocket (AsyncAPI:
    connected, start with custom_parameters and media_format, media, dtmf, mark callbacks, error, stop;
    client media/mark/clear; "a clear frame also returns queued marks")
SIPp is the caller with the test's RtpPeer as its media (dialect_checks.DialectCase).

- `connected` then `start`, field by field: stream_id at the top level, start.call_control_id = the
  call's id, user_id = the configured account, custom_parameters as configured, media_format
  {"encoding":"PCMU","sample_rate":8000,"channels":1} (numbers), every counter a string;
- the caller's audio arrives as `media` whose payload is the caller's RTP payload itself (PCMU passed
  through); with a PCMA caller media_format says PCMA and audio goes both ways in A-law;
- the bot's audio reaches the caller; its `mark` comes back once the audio before it has been played;
- `clear` during playout stops the audio and returns the queued mark;
- the caller's DTMF arrives as `dtmf` (with occurred_at); a malformed frame gets Telnyx's `error`
  frame (payload.code 100003, malformed_frame) and the stream goes on; the caller's hang-up ends the
  stream with `stop` and the socket closes;
- the warmline extension {"event":"transfer",...} runs a cold transfer and reports it back.
"""
import base64
import re
import time
import unittest
from datetime import datetime, timedelta, timezone

from dialect_audio import ALAW, MULAW, decode, tone_chunks
from dialect_checks import BOT_HZ, CALLER_HZ, CALLER_NUMBER, DialectCase
from harness import wait_for
from rtp_peer import PCMA, RtpPeer, alaw_encode, tone_ratio

USER_ID = "3e6f995f-85f7-4705-9741-53b116d28237"
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# What Telnyx documents it sends to a bot (the warmline extension adds "transfer").
TELNYX_EVENTS = {"connected", "start", "media", "dtmf", "mark", "error", "stop"}
START_FIELDS = {"user_id", "call_control_id", "call_session_id", "from", "to", "tags", "client_state",
                "custom_parameters", "media_format"}


def media_frames(chunks):
    """Client media frames as the AsyncAPI shows them: {"event":"media","media":{"payload":...}}."""
    return [{"event": "media", "media": {"payload": base64.b64encode(c).decode()}} for c in chunks]


class TelnyxDialect(DialectCase):
    PROTOCOL = "telnyx"
    PATH = "/telnyx"
    AGENT_OPTIONS = {"account_id": USER_ID, "parameters": {"customer_id": "customer_123"}}

    def opening(self):
        """(connected, start) once both have come, checked against the documented shapes."""
        start = self.bot.wait_event("start").json
        frames = [f.json for f in self.bot.frames()]
        self.assertEqual(frames[0], {"event": "connected", "version": "1.0.0"})
        self.assertEqual(frames[1], start, "start comes right after connected")
        self.assertEqual(set(start), {"event", "sequence_number", "start", "stream_id"})
        self.assertEqual(start["sequence_number"], "1")
        self.assertRegex(start["stream_id"], UUID)
        self.assertLessEqual(set(start["start"]), START_FIELDS)
        return start

    def assert_counters(self):
        """Every frame but `connected` carries a sequence_number string, 1, 2, 3, ... in the order
        sent (an error frame may carry none); every event is one Telnyx documents (or the extension)."""
        frames = [f.json for f in self.bot.frames()]
        numbers = [f["sequence_number"] for f in frames if "sequence_number" in f]
        self.assertEqual(numbers, [str(n) for n in range(1, len(numbers) + 1)])
        self.assertTrue(all(f["event"] in TELNYX_EVENTS | {"transfer"} for f in frames),
                        {f["event"] for f in frames})

    def test_start_media_marks_clear_dtmf_error_and_stop(self):
        self.start_call()
        start = self.opening()
        sid, call_id, s = start["stream_id"], self.gateway.only_call(), start["start"]
        self.assertEqual(s["call_control_id"], call_id)
        self.assertIsInstance(s["call_session_id"], str)
        self.assertTrue(s["call_session_id"])
        self.assertEqual(s["user_id"], USER_ID)
        self.assertEqual(s["from"], CALLER_NUMBER)
        self.assertEqual(s["to"], "demo")
        self.assertEqual(s["custom_parameters"], {"customer_id": "customer_123"})
        self.assertEqual(s["media_format"], {"encoding": "PCMU", "sample_rate": 8000, "channels": 1})

        # The caller's audio: base64 RTP payloads, the caller's own bytes (PCMU in, PCMU out).
        media = wait_for(lambda: (m := self.bot.events(event="media")) and len(m) >= 50 and m, 10,
                         "50 media frames at the bot")
        caller_frames = set(RtpPeer._tone_frames(CALLER_HZ))
        stamps = []
        for i, m in enumerate(media):
            self.assertEqual(set(m.json), {"event", "sequence_number", "media", "stream_id"})
            self.assertEqual(m.json["stream_id"], sid)
            body = m.json["media"]
            self.assertEqual(set(body), {"track", "chunk", "timestamp", "payload"})
            self.assertEqual(body["track"], "inbound")
            self.assertEqual(body["chunk"], str(i + 1))
            self.assertRegex(body["timestamp"], r"^\d+$")
            stamps.append(int(body["timestamp"]))
            self.assertIn(base64.b64decode(body["payload"]), caller_frames,
                          "the PCMU payload is not the caller's own (transcoded?)")
        self.assertEqual(stamps, sorted(set(stamps)), "media timestamps must count up")

        # The bot speaks 2 s, then a mark: it comes back once the caller has had the audio before it.
        before = self.rtp.count()
        self.bot.send_many(media_frames(tone_chunks(BOT_HZ, 2.0, MULAW)) +
                           [{"event": "mark", "mark": {"name": "greeting"}}])
        self.wait_bot_tone(before)
        mark = self.bot.wait_event("mark", timeout=10)
        self.assertEqual(set(mark.json), {"event", "stream_id", "sequence_number", "mark"})
        self.assertEqual((mark.json["stream_id"], mark.json["mark"]), (sid, {"name": "greeting"}))
        self.assert_played_before(before, mark, 100, "the mark")

        # clear during playout: 10 s queued and a mark behind it; the audio stops and the queued mark
        # comes back with the clear, not after the ~9 s still queued.
        before = self.rtp.count()
        self.bot.send_many(media_frames(tone_chunks(BOT_HZ, 10.0, MULAW)) +
                           [{"event": "mark", "mark": {"name": "long"}}])
        self.wait_bot_tone(before)
        self.bot.send({"event": "clear"})
        clear_sent = time.monotonic()
        cleared = self.bot.wait_event("mark", timeout=3, mark={"name": "long"})
        self.assertLess(cleared.at - clear_sent, 3)
        self.assert_tone_stopped()

        # DTMF from the caller.
        self.rtp.send_dtmf("7")
        dtmf = self.bot.wait_event("dtmf").json
        self.assertEqual(set(dtmf), {"event", "stream_id", "occurred_at", "sequence_number", "dtmf"})
        self.assertEqual((dtmf["stream_id"], dtmf["dtmf"]), (sid, {"digit": "7"}))
        occurred = datetime.strptime(dtmf["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        self.assertLess(abs(datetime.now(timezone.utc) - occurred), timedelta(minutes=1), dtmf["occurred_at"])

        # A malformed media frame: Telnyx's error frame, and the stream goes on.
        self.bot.send('{"event":"media","media":{"payload":"not base64!"}}')
        err = self.bot.wait_event("error").json
        self.assertEqual(err["stream_id"], sid)
        self.assertEqual((err["payload"]["code"], err["payload"]["title"]), (100003, "malformed_frame"), err)
        self.assertIsInstance(err["payload"]["detail"], str)
        self.assert_stream_goes_on(lambda: self.bot.events(event="media"),
                                   media_frames(tone_chunks(BOT_HZ, 1.0, MULAW)))

        # The caller hangs up: stop, then the socket closes.
        self.sipp.trigger()
        self.sipp.assert_passed()
        stop = self.bot.wait_event("stop").json
        self.assertEqual(set(stop), {"event", "sequence_number", "stop", "stream_id"})
        self.assertEqual((stop["stream_id"], stop["stop"]), (sid, {"user_id": USER_ID, "call_control_id": call_id}))
        wait_for(lambda: self.bot.closed_at() is not None, 10, "warmline to close the socket")
        self.assert_counters()

    def test_a_pcma_caller_streams_pcma_both_ways(self):
        self.start_call(scenario="uac-call-pcma-first.xml", payload_type=PCMA)
        start = self.opening()
        self.assertEqual(start["start"]["media_format"], {"encoding": "PCMA", "sample_rate": 8000, "channels": 1})
        media = wait_for(lambda: (m := self.bot.events(event="media")) and len(m) >= 25 and m, 10,
                         "25 media frames at the bot")
        caller_frames = set(RtpPeer._tone_frames(CALLER_HZ, alaw_encode))
        for m in media:
            self.assertIn(base64.b64decode(m.json["media"]["payload"]), caller_frames, "PCMA passed through")
        heard = [x for m in media[-25:] for x in decode(base64.b64decode(m.json["media"]["payload"]), ALAW)]
        self.assertGreater(tone_ratio(heard, CALLER_HZ), 0.8, "the caller's voice, decoded as A-law")
        before = self.rtp.count()
        self.bot.send_many(media_frames(tone_chunks(BOT_HZ, 2.0, ALAW)))
        wait_for(lambda: tone_ratio([x for _, pt, p in self.rtp.packets(before) if pt == PCMA
                                     for x in decode(p, ALAW)][-1600:], BOT_HZ) > 0.8, 10,
                 "the bot's A-law tone at the caller as PCMA")
        self.assertEqual({pt for _, pt, _ in self.rtp.packets(before) if pt < 96}, {PCMA})
        self.sipp.trigger()
        self.sipp.assert_passed()

    def test_cold_transfer_by_the_extension_frame(self):
        self.start_transfer_call()
        sid = self.opening()["stream_id"]
        for frame in self.cold_transfer():
            self.assertEqual(frame["stream_id"], sid)
        stop = self.bot.wait_event("stop").json
        self.assertEqual(stop["stop"]["call_control_id"], self.gateway.only_call())
        self.assert_counters()
        self.assert_bridged_to_target_then_hang_up()


if __name__ == "__main__":
    unittest.main()
