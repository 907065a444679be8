"""Bridged dial to a SIP URI found through DNS (DESIGN.md "Transfers", cold without REFER; "Reaching a
target", RFC 3263): the caller's trunk does not take REFER, so the agent's cold transfer to
`sip:bob@target.test` makes the gateway call the target itself. dnsmasq serves the target's SRV
record, which alone says where baresip (the target, auto-answering) listens; once it answers, the
caller (SIPp + the test's RtpPeer) and baresip are bridged.

- Both ways of audio after the bridge: the caller sends a 1 kHz tone, baresip its 440 Hz sine; each
  tone must be found at the other side (Goertzel over the caller's received RTP, and over baresip's
  recording of what it received). The caller's RFC 4733 digit reaches baresip as a DTMF event.
- The agent's part is over: its transfer ends `completed` and its stream stops as `transferred`.
- Either side's hang-up ends the other: baresip's BYE reaches the caller (first test), the caller's
  BYE reaches baresip (second test); no call is left in GET /v1/calls; the call records are written.
- RFC 3263 §4.3 failover: the SRV record with the better priority names a server that answers 503
  (SIPp), or one that never answers (Timer B); the gateway moves to the next record, baresip, and the
  call is bridged through it.
- A target that only speaks PCMA is bridged to the PCMU caller by transcoding, not relaying.

Call records: this build writes the `calls` row, the caller's `legs` row and the `transfers` row
(strategy `dial`); the target's leg `b` has no `legs` row yet (docs/cdr.md), so nothing is asserted
about one.
"""
import socket
import unittest

from baresip_peer import Baresip
from dns_peer import DnsServer
from harness import SCENARIOS, Agent, E2ETestCase, Gateway, cdr_query, free_port, free_port_range, wait_for, wait_tone
from rtp_peer import RtpPeer, tone_ratio
from sipp_peer import Sipp

TARGET_URI = "sip:bob@target.test"
CALLER_HZ = 1000  # what the caller says
TARGET_HZ = 440   # baresip's `ausine` source (tests/e2e/peers/baresip/config)

# The agent hands the caller over when the caller presses 1 (so the test first sees the call with the
# agent), and says nothing: any tone found after the bridge came from the caller or the target.
SCRIPT = """\
on dtmf 1: transfer cold Bob
"""


query = cdr_query


class SippServer:
    """A SIPp UAS running one call of a scenario from scenarios/ on its own port: exit 0 means that
    call went exactly as the scenario says."""

    def __init__(self, case, scenario, name):
        self.port = free_port(kinds=(socket.SOCK_DGRAM,))
        media_first, _ = free_port_range(4)
        self.messages_path = case.workdir / f"{name}.messages.log"
        self.proc = case.start(name, [
            "sipp", "-sf", SCENARIOS / scenario, "-m", "1", "-nostdin", "-i", "127.0.0.1", "-bind_local",
            "-p", self.port, "-cp", free_port(kinds=(socket.SOCK_DGRAM,)), "-mp", media_first,
            "-timeout", "60s", "-timeout_error", "-trace_msg", "-message_file", self.messages_path])

    def messages(self):
        return self.messages_path.read_text(errors="replace") if self.messages_path.exists() else ""


class BridgedDialDns(E2ETestCase):
    def set_up_call(self, srv_records, scenario, ring_timeout_s=20, sipp_timeout_s=60):
        """DNS with `srv_records` (besides bob's address), the agent, the gateway (callers' trunk without
        REFER) and a caller on `scenario` sending a 1 kHz tone; the caller presses 1 and the agent
        transfers to TARGET_URI."""
        self.dns = DnsServer(self, [
            "--naptr-record=target.test,10,10,S,SIP+D2U,,_sip._udp.target.test",
            *srv_records,
            "--host-record=bob.target.test,127.0.0.1",
            "--host-record=down.target.test,127.0.0.1",
        ])
        self.agent = Agent(self, SCRIPT)
        self.gateway = Gateway(self, self.agent.url, accepts_refer=False, dns_servers=[self.dns.address],
                               targets=[{"name": "Bob", "uri": TARGET_URI, "ring_timeout_s": ring_timeout_s}])
        self.rtp = RtpPeer(tone_hz=CALLER_HZ)
        self.addCleanup(self.rtp.stop)
        self.sipp = Sipp(self, scenario, self.gateway.sip_port, name="caller", rtp_port=self.rtp.port,
                         timeout_s=sipp_timeout_s)
        ip, port, te_pt = self.sipp.gateway_media()
        self.assertIsNotNone(te_pt, "the gateway's SDP answer drops telephone-event (RFC 4733)")
        self.rtp.start_sending(ip, port, te_pt)
        self.agent.wait_event(type="start")
        wait_for(self.agent.caller_audio_frames, 10, "the caller's audio at the agent before the transfer")
        self.rtp.send_dtmf("1")
        self.agent.wait_event(type="dtmf", digit="1")

    def assert_bridged(self):
        """The agent's transfer completed and its stream stopped; the call is listed as bridged."""
        ended = self.agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        self.agent.wait_event(type="stop", reason="transferred")
        wait_for(lambda: [e for e in self.agent.log_lines() if e.get("kind") == "disconnect"], 10,
                 "the gateway to close the agent's WebSocket")
        calls = self.gateway.calls()
        self.assertEqual(len(calls), 1, calls)
        self.assertEqual(calls[0]["state"], "bridged", calls[0])
        return calls[0]["id"]

    def assert_audio_both_ways(self, bob):
        """The caller hears baresip's 440 Hz; baresip hears the caller's 1 kHz (its recording of what
        it decoded); the caller's digit reaches baresip as RFC 4733."""
        since = self.rtp.count()
        wait_tone(self.rtp, TARGET_HZ, since=since, timeout=10, what="baresip's 440 Hz tone at the caller")
        self.assertLess(tone_ratio(self.rtp.audio(since)[-1600:], CALLER_HZ), 0.1,
                        "the caller hears its own tone back")

        wait_for(lambda: bob.hears_tone(CALLER_HZ), 10,
                 "the caller's 1 kHz tone in baresip's recording of what it received")

        self.rtp.send_dtmf("5")
        bob.wait_event(type="CALL_DTMF_START", param="5")

    def assert_records(self, call_id, end_reason):
        db = self.gateway.cdr_path
        rows = wait_for(lambda: query(db, "SELECT answered_at, ended_at, end_reason FROM calls WHERE id = ?",
                                      (call_id,)), 15, "the call's record")
        answered_at, ended_at, reason = rows[0]
        self.assertIsNotNone(answered_at)
        self.assertIsNotNone(ended_at)
        self.assertEqual(reason, end_reason)
        legs = query(db, "SELECT role, direction, sip_call_id, final_status FROM legs WHERE call_id = ? AND role = 'a'",
                     (call_id,))
        self.assertEqual([(r[0], r[1], r[2], r[3]) for r in legs], [("a", "in", self.sipp.call_id, 200)])
        transfers = query(db, "SELECT mode, strategy, targets_tried, attempts, result, answered_at, bridged_at, "
                              "ended_at FROM transfers WHERE call_id = ?", (call_id,))
        self.assertEqual(len(transfers), 1, transfers)
        mode, strategy, tried, attempts, result, answered, bridged, ended = transfers[0]
        self.assertEqual((mode, strategy, result), ("cold", "dial", "completed"))
        self.assertEqual(tried, '["Bob"]')
        self.assertIn('"target":"sip:bob@target.test"', attempts.replace(" ", ""))
        self.assertIn('"sip_status":200', attempts.replace(" ", ""))
        self.assertIsNotNone(answered)
        self.assertIsNotNone(bridged)
        self.assertIsNotNone(ended)

    def hang_up_caller(self, bob, call_id):
        """The caller's BYE ends the target's leg too, and the call with its records."""
        self.sipp.trigger()  # uac-call-until-trigger.xml sends its BYE
        self.sipp.assert_passed(30)
        bob.wait_event(type="CALL_CLOSED")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        self.assert_records(call_id, "caller_hangup")

    def test_target_found_by_srv_is_bridged_and_its_bye_ends_the_caller(self):
        bob = Baresip(self, user="bob")
        # Only DNS knows baresip's port: the INVITE can only reach it through the SRV record.
        self.set_up_call([f"--srv-host=_sip._udp.target.test,bob.target.test,{bob.sip_port},10,0"],
                         "uac-call-expect-bye.xml")
        call_id = self.assert_bridged()
        bob.wait_event(type="CALL_ESTABLISHED")
        self.assertIn(f"INVITE {TARGET_URI} SIP/2.0", bob.proc.output(), "baresip's INVITE must be for the URI")
        self.assert_audio_both_ways(bob)

        bob.hangup()
        self.sipp.assert_passed(30)  # the scenario ends on the gateway's BYE
        bob.wait_event(type="CALL_CLOSED")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        self.assert_records(call_id, "target_hangup")

    def test_503_from_the_first_srv_server_moves_to_the_next(self):
        down = SippServer(self, "uas-reject-503.xml", "down")
        bob = Baresip(self, user="bob")
        self.set_up_call([f"--srv-host=_sip._udp.target.test,down.target.test,{down.port},10,0",
                          f"--srv-host=_sip._udp.target.test,bob.target.test,{bob.sip_port},20,0"],
                         "uac-call-until-trigger.xml")
        call_id = self.assert_bridged()
        self.assertEqual(down.proc.wait(20), 0, "the first server must get the INVITE and the ACK of its 503")
        self.assertIn(f"INVITE {TARGET_URI} SIP/2.0", down.messages())
        bob.wait_event(type="CALL_ESTABLISHED")
        self.assert_audio_both_ways(bob)

        self.hang_up_caller(bob, call_id)

    def test_silent_first_srv_server_times_out_and_the_next_answers(self):
        # A socket that takes the INVITE and never answers: no ICMP either, so only Timer B (64*T1 =
        # 32 s, RFC 3261 §17.1.1.2) tells the gateway that this server is gone. The transfer's one ring
        # timer covers every server it tries, so it must outlast Timer B for the next server to get a
        # turn: with the default 30 s the transfer ends `no_answer` at Timer B without trying it.
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        self.addCleanup(silent.close)
        bob = Baresip(self, user="bob")
        self.set_up_call([f"--srv-host=_sip._udp.target.test,down.target.test,{silent.getsockname()[1]},10,0",
                          f"--srv-host=_sip._udp.target.test,bob.target.test,{bob.sip_port},20,0"],
                         "uac-call-until-trigger.xml", ring_timeout_s=45, sipp_timeout_s=120)
        bob.wait_event(45, type="CALL_ESTABLISHED")
        call_id = self.assert_bridged()
        self.assert_audio_both_ways(bob)
        silent.settimeout(0)
        self.assertTrue(silent.recv(65535).startswith(f"INVITE {TARGET_URI} SIP/2.0".encode()),
                        "the first SRV server must have had the INVITE first")
        self.hang_up_caller(bob, call_id)

    def test_target_answering_another_codec_is_transcoded(self):
        # The caller speaks PCMU; baresip only PCMA: the bridge decodes and encodes each way.
        bob = Baresip(self, user="bob", audio_codecs="PCMA")
        self.set_up_call([f"--srv-host=_sip._udp.target.test,bob.target.test,{bob.sip_port},10,0"],
                         "uac-call-until-trigger.xml")
        call_id = self.assert_bridged()
        bob.wait_event(type="CALL_ESTABLISHED")
        self.assertIn("Set audio decoder: PCMA", bob.proc.output())
        self.assertIn("(PCMU <-> PCMA, transcoded)", self.gateway.proc.output())
        self.assert_audio_both_ways(bob)
        self.hang_up_caller(bob, call_id)


if __name__ == "__main__":
    unittest.main()
