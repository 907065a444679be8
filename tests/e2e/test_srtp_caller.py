"""SRTP on the caller's leg (issue 11; SDES, RFC 4568; docs/configuration.md trunk `srtp`).

- baresip calls over UDP with `mediaenc=srtp-mand` (RTP/SAVP with a=crypto only) into a trunk with
  srtp = "required": the call connects with an RTP/SAVP answer; the agent's 1 kHz tone is heard by
  baresip (its recording of what it decoded) and baresip's 440 Hz sine reaches the agent (its
  recording of the caller's audio). A packet capture on the loopback interface (AF_PACKET, so the
  test needs CAP_NET_RAW) takes every UDP datagram to or from the gateway's RTP ports: each carries an
  SRTP authentication tag after its 160-byte PCMU payload, and those payloads read as PCMU hold
  neither tone — the audio on the wire is not plain RTP.
- The same SRTP caller bridged by a cold transfer (the trunk takes no REFER) to a plain-RTP baresip:
  each hears the other's tone, so the bridge decrypts on one leg and sends plain on the other.
- SIPp offering plain RTP/AVP to the same trunk gets 488 and no call starts.
"""
import socket
import struct
import threading
import time
import unittest
from array import array

from baresip_peer import Baresip
from harness import Agent, E2ETestCase, Gateway, wait_for
from rtp_peer import decode_pcmu, tone_ratio
from sipp_peer import Sipp

AGENT_HZ = 1000
CALLER_HZ = 440  # baresip's sine
SCRIPT = f"on start: tone {AGENT_HZ} 30000\n"
ETH_P_ALL = 0x0003
SRTP_TAGS = (4, 10, 16)  # HMAC-SHA1-32, HMAC-SHA1-80, AES-GCM


class LoopbackCapture:
    """UDP datagrams on `lo` with a port in [first, last] on either end, as (src_port, dst_port,
    payload); each datagram is seen once (outgoing copies are skipped)."""

    def __init__(self, case, first, last):
        self.first, self.last = first, last
        try:
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        except PermissionError as e:
            raise AssertionError("the wire check captures on lo and needs CAP_NET_RAW (run as root)") from e
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        self.datagrams = []
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="lo-capture", daemon=True)
        self._thread.start()
        case.addCleanup(self.stop)

    def stop(self):
        self._stop = True
        self._thread.join(timeout=5)
        self.sock.close()

    def _run(self):
        deadline = time.monotonic() + 120  # bounded even if stop() is never called
        while not self._stop and time.monotonic() < deadline:
            try:
                frame, address = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if address[2] == socket.PACKET_OUTGOING or len(frame) < 14 + 20 + 8:
                continue
            ip = frame[14:]
            if ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_UDP:
                continue
            udp = ip[(ip[0] & 0x0F) * 4:]
            src, dst, length = struct.unpack("!HHH", udp[:6])
            if self.first <= src <= self.last or self.first <= dst <= self.last:
                with self._lock:
                    self.datagrams.append((src, dst, bytes(udp[8:length])))

    def rtp(self):
        """The captured datagrams that look like RTP (version 2, not RTCP)."""
        with self._lock:
            return [d for d in self.datagrams if len(d[2]) >= 12 and d[2][0] >> 6 == 2 and not 192 <= d[2][1] <= 223]


def assert_srtp_on_wire(case, capture, gateway, peer_hz, gateway_hz, peer_ports=None):
    """The RTP between the gateway and a peer (`peer_ports`: its RTP port range, else any) is SRTP both
    ways: each packet has an SRTP tag after its 160-byte PCMU payload, and the payloads read as PCMU
    hold neither the peer's tone (`peer_hz`) nor the one the gateway sends it (`gateway_hz`)."""
    first, last = gateway.config["rtp_first"], gateway.config["rtp_last"]
    lo, hi = peer_ports or (0, 65535)

    def leg(packets):
        return [(s, d, p) for s, d, p in packets if (first <= s <= last and lo <= d <= hi) or
                (first <= d <= last and lo <= s <= hi)]
    packets = wait_for(lambda: (lambda p: p if len(p) >= 100 else None)(leg(capture.rtp())), 10,
                       "RTP datagrams both ways in the capture")
    to_gateway = [p for s, d, p in packets if first <= d <= last]
    from_gateway = [p for s, d, p in packets if first <= s <= last]
    case.assertGreater(len(to_gateway), 20, "the peer's packets to the gateway")
    case.assertGreater(len(from_gateway), 20, "the gateway's packets to the peer")
    for direction, payloads, hz in (("to the gateway", to_gateway, peer_hz),
                                    ("from the gateway", from_gateway, gateway_hz)):
        # 12-byte header (no CSRC, no extension) + 160 bytes of PCMU + an SRTP tag.
        trailers = {len(p) - 12 - 160 for p in payloads}
        case.assertTrue(trailers <= set(SRTP_TAGS), f"packets {direction}: trailers {trailers}")
        as_pcmu = []
        for p in payloads[-50:]:
            as_pcmu.extend(decode_pcmu(p[12:172]))
        case.assertLess(tone_ratio(as_pcmu, hz), 0.1, f"plain {hz} Hz PCMU on the wire {direction}")


class SrtpCaller(E2ETestCase):
    def test_baresip_with_mandatory_srtp_is_answered_with_srtp_and_audio_flows_encrypted(self):
        agent = Agent(self, SCRIPT, record=True)
        gateway = Gateway(self, agent.url, caller_trunk_options={"srtp": "required"})
        capture = LoopbackCapture(self, gateway.config["rtp_first"], gateway.config["rtp_last"])
        phone = Baresip(self, name="caller", user="alice", tone_hz=CALLER_HZ, mediaenc="srtp-mand")
        phone.dial(gateway.uri)
        phone.wait_event(type="CALL_ESTABLISHED")
        agent.wait_event(type="start")

        trace = phone.proc.output()
        self.assertIn("RTP/SAVP", trace, "baresip's offer and our answer are RTP/SAVP")
        self.assertIn("a=crypto:", trace)

        wait_for(lambda: phone.hears_tone(AGENT_HZ), 15, "the agent's 1 kHz tone in baresip's recording")

        def agent_hears_caller():
            data = agent.received_audio()
            samples = array("h", data[:len(data) - len(data) % 2])
            return len(samples) >= 3200 and tone_ratio(samples[-3200:], CALLER_HZ, 16000) > 0.5
        wait_for(agent_hears_caller, 15, "baresip's 440 Hz in the audio the agent received")

        assert_srtp_on_wire(self, capture, gateway, CALLER_HZ, AGENT_HZ)

        phone.hangup()
        phone.wait_event(type="CALL_CLOSED")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

    def test_srtp_caller_bridged_to_a_plain_target_hears_it_both_ways(self):
        # The caller's trunk takes no REFER, so the agent's cold transfer makes the gateway dial Bob
        # (plain RTP, no trunk) and bridge: each leg protects with its own keys, or not at all.
        bob = Baresip(self, name="bob", user="bob", tone_hz=AGENT_HZ)
        agent = Agent(self, "on start: transfer cold Bob\n")
        gateway = Gateway(self, agent.url, accepts_refer=False, caller_trunk_options={"srtp": "required"},
                          targets=[{"name": "Bob", "uri": f"sip:bob@127.0.0.1:{bob.sip_port}"}])
        phone = Baresip(self, name="caller", user="alice", tone_hz=CALLER_HZ, mediaenc="srtp-mand")
        phone.dial(gateway.uri)
        phone.wait_event(type="CALL_ESTABLISHED")
        bob.wait_event(type="CALL_ESTABLISHED")
        ended = agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        self.assertIn("RTP/SAVP", phone.proc.output())
        self.assertNotIn("RTP/SAVP", bob.proc.output(), "Bob's leg is plain RTP")
        wait_for(lambda: phone.hears_tone(AGENT_HZ), 15, "Bob's 1 kHz tone at the SRTP caller")
        wait_for(lambda: bob.hears_tone(CALLER_HZ), 15, "the SRTP caller's 440 Hz at Bob")
        phone.hangup()
        bob.wait_event(type="CALL_CLOSED")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

    def test_plain_rtp_offer_to_a_required_trunk_gets_488(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, caller_trunk_options={"srtp": "required"})
        sipp = Sipp(self, "uac-invite-plain-rtp-488.xml", gateway.sip_port)
        sipp.assert_passed()  # 488, then the ACK
        self.assertEqual(gateway.calls(), [])
        self.assertEqual(agent.find(type="start"), [], "a refused offer must not start the agent")


if __name__ == "__main__":
    unittest.main()
