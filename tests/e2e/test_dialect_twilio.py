"""Twilio Media Streams on the agent socket (protocol = "twilio"), checked against what Twilio
documents (https://www.twilio.com/docs/voice/media-streams/websocket-messages) with a bot written in
this test from that page: SIPp as the caller with the test's RtpPeer as its media, warmline, and the
bot (tests/e2e/dialect_bot.py).

- `connected` then `start`, field by field: ids, customParameters (from, to and the configured ones),
  mediaFormat audio/x-mulaw 8000 mono; counters as strings;
- the caller's audio arrives as `media` frames whose payload is the caller's RTP payload itself
  (PCMU passed through: no decode, no encode), chunk and timestamp counting up;
- the bot's µ-law reaches the caller; a `mark` comes back only once the audio before it has been
  played to the caller, never on arrival;
- `clear` during playout: the queued audio stops and the pending mark comes back at once;
- the caller's DTMF arrives as `dtmf`; the caller's hang-up ends the stream with `stop`;
- the warmline extension: a `{"event":"transfer","mode":"cold",...}` frame runs a cold transfer (a
  bridged dial to a SIPp target) and its progress comes back as `{"event":"transfer",...}` frames, then
  `stop`;
- a malformed frame gets an `error` frame and the call goes on.
"""
import base64
import time
import unittest

from dialect_audio import MULAW, tone_chunks
from dialect_checks import BOT_HZ, CALLER_HZ, DialectCase
from harness import wait_for, wait_tone
from rtp_peer import PCMA, RtpPeer, decode_pcma, decode_pcmu, tone_ratio

ACCOUNT = "AC0123456789abcdef0123456789abcdef"


def mulaw_tone(hz, seconds):
    """20 ms chunks of a tone as µ-law bytes (what a Twilio bot sends as media.payload)."""
    return tone_chunks(hz, seconds, MULAW)


def media_frames(chunks, stream_sid):
    return [{"event": "media", "streamSid": stream_sid, "media": {"payload": base64.b64encode(c).decode()}}
            for c in chunks]


class TwilioDialect(DialectCase):
    PROTOCOL = "twilio"
    PATH = "/twilio"
    AGENT_OPTIONS = {"account_id": ACCOUNT, "parameters": {"tenant": "acme"}}

    def start_call(self, scenario="uac-call-until-trigger.xml", **gateway_args):
        super().start_call(scenario, **gateway_args)
        start = self.bot.wait_event("start").json
        return self.bot, self.gateway, self.sipp, self.rtp, start

    def test_start_fields_media_passthrough_marks_clear_dtmf_and_stop(self):
        bot, gateway, sipp, rtp, start = self.start_call()
        frames = [f.json for f in bot.frames()]
        # connected, then start (Twilio's order), nothing before them.
        self.assertEqual(frames[0], {"event": "connected", "protocol": "Call", "version": "1.0.0"})
        self.assertEqual(frames[1]["event"], "start")
        call_id = gateway.only_call()
        sid = start["streamSid"]
        self.assertTrue(sid.startswith("MZ") and len(sid) == 34, sid)
        self.assertEqual(start["sequenceNumber"], "1")
        s = start["start"]
        self.assertEqual(s["accountSid"], ACCOUNT)
        self.assertEqual(s["streamSid"], sid)
        self.assertEqual(s["callSid"], call_id)
        self.assertEqual(s["tracks"], ["inbound"])
        self.assertEqual(s["mediaFormat"], {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1})
        self.assertEqual(s["customParameters"]["tenant"], "acme")
        self.assertIn("+15550001111", s["customParameters"]["from"])
        self.assertIn("demo", s["customParameters"]["to"])

        # The caller's audio: media frames, counters as strings counting up, payload = the RTP payload.
        media = wait_for(lambda: (m := bot.events(event="media")) and len(m) >= 50 and m, 10,
                         "50 media frames at the bot")
        caller_frames = set(RtpPeer._tone_frames(CALLER_HZ))
        seqs = [int(m.json["sequenceNumber"]) for m in media]
        self.assertEqual(seqs, list(range(2, 2 + len(seqs))), "sequenceNumber counts every frame after start")
        for i, m in enumerate(media):
            self.assertEqual(m.json["streamSid"], sid)
            body = m.json["media"]
            self.assertEqual(body["track"], "inbound")
            self.assertEqual(body["chunk"], str(i + 1))
            self.assertIsInstance(body["timestamp"], str)
            payload = base64.b64decode(body["payload"])
            self.assertEqual(len(payload), 160)
            self.assertIn(payload, caller_frames, "the PCMU payload is not the caller's own (transcoded?)")
        stamps = [int(m.json["media"]["timestamp"]) for m in media]
        self.assertEqual(stamps, [20 * i for i in range(len(stamps))])
        heard = [s for m in media[-25:] for s in decode_pcmu(base64.b64decode(m.json["media"]["payload"]))]
        self.assertGreater(tone_ratio(heard, CALLER_HZ), 0.8)

        # The bot speaks: 2 s of its tone, then a mark. The mark comes back once the caller has had it.
        before = rtp.count()
        bot.send_many(media_frames(mulaw_tone(BOT_HZ, 2.0), sid) +
                      [{"event": "mark", "streamSid": sid, "mark": {"name": "greeting"}}])
        sent_at = time.monotonic()
        wait_tone(rtp, BOT_HZ, since=before)
        mark = bot.wait_event("mark", timeout=10)
        self.assertEqual(mark.json["mark"], {"name": "greeting"})
        self.assertEqual(mark.json["streamSid"], sid)
        # Causality, not a timer: by the time the mark arrived the caller had received (nearly) all
        # 2 s of the tone (100 packets).
        self.assert_played_before(before, mark, 100, f"the mark (after {mark.at - sent_at:.2f}s)")

        # clear during playout: 10 s queued, a mark behind it; clear drops the rest and the mark
        # comes back (Twilio reports cleared marks).
        before = rtp.count()
        bot.send_many(media_frames(mulaw_tone(BOT_HZ, 10.0), sid) +
                      [{"event": "mark", "streamSid": sid, "mark": {"name": "long"}}])
        wait_tone(rtp, BOT_HZ, since=before)
        bot.send({"event": "clear", "streamSid": sid})
        clear_sent = time.monotonic()
        cleared = bot.wait_event("mark", timeout=3, mark={"name": "long"})
        settled = rtp.count()
        wait_for(lambda: rtp.count() >= settled + 50, 5, "a second of audio after the clear")
        after = rtp.audio(settled + 5)
        self.assertLess(tone_ratio(after, BOT_HZ), 0.2, "the bot's tone goes on after clear")
        # It came with the clear, not after the ~9 s of audio still queued.
        self.assertLess(cleared.at - clear_sent, 3, "the cleared mark waited for the audio to play")

        # DTMF from the caller.
        rtp.send_dtmf("7")
        dtmf = bot.wait_event("dtmf")
        self.assertEqual(dtmf.json["dtmf"], {"track": "inbound_track", "digit": "7"})
        self.assertEqual(dtmf.json["streamSid"], sid)

        # A malformed frame: an error frame, and the stream goes on.
        bot.send('{"event":"media","media":{"payload":"not base64!"}}')
        err = bot.wait_event("error")
        self.assertEqual(err.json["error"]["code"], "invalid_field")
        n = len(bot.events(event="media"))
        wait_for(lambda: len(bot.events(event="media")) > n + 10, 5, "media after the error")

        # The caller hangs up: stop, then the socket closes.
        sipp.trigger()
        sipp.assert_passed()
        stop = bot.wait_event("stop")
        self.assertEqual(stop.json["stop"], {"accountSid": ACCOUNT, "callSid": call_id})
        self.assertEqual(stop.json["streamSid"], sid)
        wait_for(lambda: bot.closed_at() is not None, 10, "warmline to close the socket")

    def test_a_pcma_caller_hears_the_bots_mulaw_as_pcma(self):
        bot, gateway, sipp, rtp, start = self.start_call(scenario="uac-call-pcma-first.xml")
        sid = start["streamSid"]
        before = rtp.count()
        bot.send_many(media_frames(mulaw_tone(BOT_HZ, 2.0), sid))
        wait_for(lambda: tone_ratio([s for _, pt, p in rtp.packets(before) if pt == PCMA
                                     for s in decode_pcma(p)][-1600:], BOT_HZ) > 0.8, 10,
                 "the bot's tone at the caller as PCMA")
        self.assertEqual({pt for _, pt, _ in rtp.packets(before) if pt < 96}, {PCMA})
        sipp.trigger()
        sipp.assert_passed()

    def test_cold_transfer_by_the_extension_frame(self):
        self.start_transfer_call()
        start = self.bot.wait_event("start").json
        sid = start["streamSid"]
        frames = self.cold_transfer()
        for frame in frames:
            self.assertEqual(frame["streamSid"], sid)
            self.assertIsInstance(frame["sequenceNumber"], str)
        stop = self.bot.wait_event("stop").json
        self.assertEqual(stop["stop"], {"accountSid": ACCOUNT, "callSid": start["start"]["callSid"]})
        numbers = [int(f.json["sequenceNumber"]) for f in self.bot.frames() if "sequenceNumber" in f.json]
        self.assertEqual(numbers, list(range(1, len(numbers) + 1)))
        self.assert_bridged_to_target_then_hang_up()


if __name__ == "__main__":
    unittest.main()
