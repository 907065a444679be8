"""Call recording (docs/recording.md, docs/http-api.md "POST /v1/calls/{id}/recording"): one stereo WAV
per call, the caller left, what the caller heard right, checked by ear (Goertzel) on each channel, with
real peers: a SIPp caller whose RTP is the test's RtpPeer (a 1 kHz tone), the reference agent (its
`tone` action, 1400 Hz) and, for the transfer, baresip as the dialled target (its 700 Hz sine).

- an agent with `record = true`: the file is named in GET /v1/calls/{id} while the call runs and in
  the call's record (calls.recording) after it; it is 16-bit stereo at the caller's rate (8 kHz,
  PCMU); the caller's tone is on the left alone, the agent's on the right alone;
- a bridged dial (the callers' trunk takes no REFER): the same file goes on after the transfer, the
  right channel has the agent's tone and then, later, the target's (relayed packet for packet between
  caller and target: decoded for the recording only); the left keeps the caller alone;
- the API on an agent without `record`: 404 for an unknown call, POST starts (200 + path), a second
  POST is 409, DELETE stops (state `stopped`), a second DELETE is 409; the file has the caller's
  tone, and the record names it.
"""
import unittest
import wave

from baresip_peer import Baresip
from harness import Agent, E2ETestCase, Gateway, cdr_query, wait_for
from rtp_peer import RtpPeer, max_tone_ratio, tone_ratio
from sipp_peer import Sipp

CALLER_HZ = 1000
AGENT_HZ = 1400
TARGET_HZ = 700
RATE = 8000     # PCMU: the caller's codec is the recording's rate
WINDOW = 1600   # 200 ms
PURE = 0.5      # a window that holds this tone alone
ABSENT = 0.01   # a window without this tone (G.711 and resampling noise stays far below)


def read_stereo(path):
    """(channels, rate, sample width, left samples, right samples) of a 16-bit WAV."""
    with wave.open(str(path), "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(w.getnframes())
    samples = memoryview(raw).cast("h").tolist() if width == 2 else []
    return channels, rate, width, samples[0::channels], samples[1::channels]


def recorded(path):
    """(left, right) of the recording so far, or ([], []) before its file exists with a frame in it (it
    is created off the shard, a moment after the recording starts). Its header follows each write, so a file still being
    written reads as far as it goes."""
    try:
        _, _, _, left, right = read_stereo(path)
    except (FileNotFoundError, EOFError, wave.Error):  # not there yet, or no frame in it yet
        return [], []
    return left, right


def windows_with(samples, hz, least=PURE):
    """Indexes of the 200 ms windows of `samples` where `hz` holds at least `least` of the energy."""
    return [i for i in range(len(samples) // WINDOW)
            if tone_ratio(samples[i * WINDOW:(i + 1) * WINDOW], hz, RATE) >= least]


class CallRecording(E2ETestCase):
    def start_call(self, script, record, accepts_refer=True, targets=()):
        self.rec_dir = self.workdir / "rec"
        self.agent = Agent(self, script)
        options = {"record": True} if record else {}
        self.gateway = Gateway(self, self.agent.url, agent_options=options, accepts_refer=accepts_refer,
                               targets=targets, server_extra=f'recording_dir = "{self.rec_dir}"\n')
        self.rtp = RtpPeer(tone_hz=CALLER_HZ)
        self.addCleanup(self.rtp.stop)
        self.sipp = Sipp(self, "uac-call-until-trigger.xml", self.gateway.sip_port, name="caller",
                         rtp_port=self.rtp.port, timeout_s=90)
        ip, port, te_pt = self.sipp.gateway_media()
        self.rtp.start_sending(ip, port, te_pt)
        self.agent.wait_event(type="start")
        wait_for(self.agent.caller_audio_frames, 10, "the caller's audio at the agent")
        return self.gateway.only_call()

    def hang_up(self, call_id):
        self.sipp.trigger()
        self.sipp.assert_passed(30)
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        rows = wait_for(lambda: cdr_query(self.gateway.cdr_path, "SELECT recording FROM calls WHERE id = ?", (call_id,)),
                        15, "the call's record")
        return rows[0][0]

    def recording_of(self, call_id):
        status, body = self.gateway.http("GET", f"/v1/calls/{call_id}")
        self.assertEqual(status, 200, body)
        return body["recording"]

    def assert_file(self, path):
        channels, rate, width, left, right = read_stereo(path)
        self.assertEqual((channels, rate, width), (2, RATE, 2), path)
        self.assertEqual(len(left), len(right))
        return left, right

    def test_agent_with_record_writes_caller_left_and_agent_right(self):
        call_id = self.start_call(f"on start: tone {AGENT_HZ} 2000; mark sent\n", record=True)
        path = str(self.rec_dir / f"{call_id}.wav")
        self.assertEqual(self.recording_of(call_id), {"path": path, "state": "recording"})
        self.agent.wait_event(type="mark", name="sent")  # the agent's tone has played to the caller
        wait_for(lambda: self.gateway.metric("warmline_recordings_active") == 1, 5, "one active recording")
        self.assertEqual(self.hang_up(call_id), path, "calls.recording names the file")
        wait_for(lambda: self.gateway.metric("warmline_recordings_active") == 0, 5, "the file closed")

        left, right = self.assert_file(path)
        self.assertGreaterEqual(len(left), 8 * WINDOW, "at least the agent's tone's length of audio")
        self.assertGreater(max_tone_ratio(left, CALLER_HZ, RATE), PURE, "the caller's tone on the left")
        self.assertLess(max_tone_ratio(left, AGENT_HZ, RATE), ABSENT, "the agent's tone leaks to the left")
        self.assertGreaterEqual(len(windows_with(right, AGENT_HZ)), 8, "the agent's 2 s tone on the right")
        self.assertLess(max_tone_ratio(right, CALLER_HZ, RATE), ABSENT, "the caller's tone leaks to the right")
        self.assertEqual(self.gateway.metric("warmline_recording_dropped_frames_total"), 0)

    def test_recording_survives_a_bridged_dial(self):
        bob = Baresip(self, user="bob", tone_hz=TARGET_HZ)
        call_id = self.start_call(f"on start: tone {AGENT_HZ} 1500; mark sent\non mark sent: transfer cold Bob\n",
                                  record=True, accepts_refer=False,
                                  targets=[{"name": "Bob", "uri": bob.uri, "ring_timeout_s": 20}])
        bob.wait_event(30, type="CALL_ESTABLISHED")
        ended = self.agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        wait_for(lambda: bob.hears_tone(CALLER_HZ), 10, "the caller's tone at the target")
        self.assertIn("(PCMU <-> PCMU, relayed)", self.gateway.proc.output())  # decoded for the recording only
        path = str(self.rec_dir / f"{call_id}.wav")
        # The target's tone reaches the file: read it while the call goes on (its header follows each write).
        wait_for(lambda: len(windows_with(recorded(path)[1], TARGET_HZ)) >= 5, 15,
                 "a second of the target's tone on the right while bridged")
        self.assertEqual(self.recording_of(call_id), {"path": path, "state": "recording"})
        self.assertEqual(self.hang_up(call_id), path)

        left, right = self.assert_file(path)
        agent = windows_with(right, AGENT_HZ)
        target = windows_with(right, TARGET_HZ)
        self.assertGreaterEqual(len(agent), 5, "the agent's tone on the right")
        self.assertGreaterEqual(len(target), 5, "the target's tone on the right")
        self.assertLess(max(agent), min(target), "right: the agent first, then the target")
        self.assertLess(max_tone_ratio(right, CALLER_HZ, RATE), ABSENT, "the caller's tone leaks to the right")
        self.assertGreater(max_tone_ratio(left, CALLER_HZ, RATE), PURE, "the caller's tone on the left")
        for hz in (AGENT_HZ, TARGET_HZ):
            self.assertLess(max_tone_ratio(left, hz, RATE), ABSENT, f"{hz} Hz leaks to the left")
        # The caller's tone stays on the left after the bridge: the windows after the target's first.
        self.assertGreater(max_tone_ratio(left[min(target) * WINDOW:], CALLER_HZ, RATE), PURE)

    def test_api_starts_and_stops_a_recording(self):
        call_id = self.start_call(f"on start: tone {AGENT_HZ} 20000\n", record=False)
        self.assertIsNone(self.recording_of(call_id), "an agent without record: no recording")
        status, body = self.gateway.http("POST", "/v1/calls/c0-nosuchcall0/recording")
        self.assertEqual(status, 404, body)
        status, body = self.gateway.http("POST", "/v1/calls/nonsense/recording")
        self.assertEqual(status, 404, body)

        path = str(self.rec_dir / f"{call_id}.wav")
        status, body = self.gateway.http("POST", f"/v1/calls/{call_id}/recording")
        self.assertEqual((status, body), (200, {"id": call_id, "recording": {"path": path, "state": "recording"}}))
        status, body = self.gateway.http("POST", f"/v1/calls/{call_id}/recording")
        self.assertEqual(status, 409, body)
        self.assertEqual(body["error"]["code"], "already_recorded", body)
        wait_for(lambda: len(windows_with(recorded(path)[0], CALLER_HZ)) >= 5, 15,
                 "a second of the caller's tone in the file")
        status, body = self.gateway.http("DELETE", f"/v1/calls/{call_id}/recording")
        self.assertEqual((status, body), (200, {"id": call_id, "recording": {"path": path, "state": "stopped"}}))
        status, body = self.gateway.http("DELETE", f"/v1/calls/{call_id}/recording")
        self.assertEqual(body["error"]["code"], "not_recording", body)
        status, body = self.gateway.http("POST", f"/v1/calls/{call_id}/recording")
        self.assertEqual(body["error"]["code"], "already_recorded", body)
        self.assertEqual(self.hang_up(call_id), path)

        left, right = self.assert_file(path)
        self.assertGreater(max_tone_ratio(left, CALLER_HZ, RATE), PURE)
        self.assertGreater(max_tone_ratio(right, AGENT_HZ, RATE), PURE)
        self.assertLess(max_tone_ratio(left, AGENT_HZ, RATE), ABSENT)


if __name__ == "__main__":
    unittest.main()
