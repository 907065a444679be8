"""SIP trace to a Homer collector over HEP v3 ([server] hep; docs/operations.md "SIP trace (Homer)").
The test is the collector: a UDP socket on 127.0.0.1 and a small HEP v3 decoder (hep_decoder.py).

A SIPp caller calls the agent, which transfers it cold to a SIPp target; the caller's trunk takes no
REFER, so warmline dials the target itself (leg b) and bridges; the caller then hangs up. Every SIP
message of both legs must reach the collector as one HEP v3 packet:
- the caller's leg: exactly the messages SIPp's own log shows (INVITE ... BYE, 200), byte for byte,
  each with the right source and destination address and port (SIPp's, the gateway's);
- leg b: the target's messages the same way, from the INVITE warmline sent to the 200 for its BYE;
- protocol UDP, protocol type SIP, the configured capture id and password, a time inside the test's
  window, and as correlation id the caller's Call-ID on both legs (how Homer links them);
- a datagram that is not SIP at all, sent to the gateway, is traced as it came (no correlation id);
- warmline_hep_sent_total counts every packet the collector got, warmline_hep_errors_total none.
check-config refuses `hep` over TCP, naming the file, line and key.
"""
import socket
import subprocess
import time
import unittest

from harness import Agent, E2ETestCase, Gateway, gateway_binary, wait_for
from hep_decoder import HepCollector, first_line, sip_call_id
from sipp_peer import SippUasScenario, header, sip_messages, start_caller

SCRIPT = """\
on dtmf 1: transfer cold Support
"""
CAPTURE_ID = 4242
PASSWORD = "homer-secret"


def exchanged(log):
    """The distinct SIP messages of a SIPp log (a retransmission counts once), without the test's own
    trigger INFO, as text with LF line ends."""
    out = []
    for m in sip_messages(log):
        if (header(m, "CSeq") or "").endswith(" INFO") or m in out:
            continue
        out.append(m)
    return out


def as_logged(hep):
    """A traced payload the way sip_messages() shows a message."""
    return hep["payload"].decode(errors="replace").strip().replace("\r\n", "\n")


class HepTrace(E2ETestCase):
    def setUp(self):
        self.t0 = time.time()
        self.collector = HepCollector(self)
        self.target = SippUasScenario(self, "uas-answer.xml", name="support")
        self.agent = Agent(self, SCRIPT)
        self.gateway = Gateway(self, self.agent.url, accepts_refer=False,
                               server_extra=(f'hep = "{self.collector.address}"\nhep_id = {CAPTURE_ID}\n'
                                             f'hep_password = "{PASSWORD}"\n'),
                               targets=[{"name": "Support", "uri": f"sip:support@{self.target.address}"}])
        self.gw = ("127.0.0.1", self.gateway.sip_port)

    def packets_of(self, call_id):
        return [p for p in self.collector.packets() if sip_call_id(p) == call_id]

    def assert_leg(self, packets, sipp_log, peer, correlation, what):
        """The leg's packets are exactly SIPp's messages, each with its direction's addresses."""
        want = exchanged(sipp_log)
        traced = []
        for p in packets:
            text = as_logged(p)
            if text not in traced:
                traced.append(text)
            from_peer = (p["src_ip"], p["src_port"]) == peer
            ends = ((p["src_ip"], p["src_port"]), (p["dst_ip"], p["dst_port"]))
            self.assertEqual(ends, (peer, self.gw) if from_peer else (self.gw, peer), f"{what}: {first_line(p)}")
            self.assertIn(text, want, f"{what}: traced but not in SIPp's log: {first_line(p)}")
            self.assertEqual(p.get("correlation_id"), correlation, f"{what}: {first_line(p)}")
        self.assertEqual(sorted(traced), sorted(want), f"{what}: SIPp's messages and the trace differ")
        return [m.split("\n", 1)[0] for m in traced]

    def assert_common(self, packets, t1):
        for p in packets:
            self.assertEqual(p["ip_family"], 2)
            self.assertEqual(p["ip_protocol"], 17)
            self.assertEqual(p["proto_type"], 1)
            self.assertEqual(p["capture_id"], CAPTURE_ID)
            self.assertEqual(p["auth_key"], PASSWORD)
            at = p["seconds"] + p["microseconds"] / 1e6
            self.assertLessEqual(p["microseconds"], 999999)
            self.assertTrue(self.t0 <= at <= t1, f"time {at} outside [{self.t0}, {t1}]: {first_line(p)}")

    def test_a_transferred_call_is_traced_on_both_legs(self):
        self.target.wait_listening()
        caller, rtp = start_caller(self, self.gateway, "uac-call-until-trigger.xml", name="caller")
        self.agent.wait_event(type="start")
        rtp.send_dtmf("1")
        ended = self.agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        caller.trigger()  # the caller hangs up; warmline hangs up the target
        caller.assert_passed()
        self.target.assert_passed()
        leg_b = self.target.call_path.read_text().strip()

        def leg_b_done():
            return any(first_line(p).startswith("SIP/2.0 200") and b"BYE" in p["payload"].split(b"CSeq:", 1)[-1][:20]
                       for p in self.packets_of(leg_b))
        wait_for(leg_b_done, 10, "the target's 200 for warmline's BYE at the collector")
        wait_for(lambda: any(first_line(p).startswith("SIP/2.0 200") and p["dst_port"] == caller.port
                             and b"BYE" in p["payload"] for p in self.packets_of(caller.call_id)),
                 10, "warmline's 200 for the caller's BYE at the collector")

        # A datagram that is not SIP: traced as it came, before any parsing.
        junk = b"\x00\x01 not SIP at all\r\n\r\n"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.sendto(junk, self.gw)
            junk_from = s.getsockname()
            junk_packet = wait_for(lambda: next((p for p in self.collector.packets() if p["payload"] == junk), None),
                                   10, "the junk datagram at the collector")
        t1 = time.time()
        self.assertEqual(((junk_packet["src_ip"], junk_packet["src_port"]), (junk_packet["dst_ip"], junk_packet["dst_port"])),
                         (junk_from, self.gw))
        self.assertNotIn("correlation_id", junk_packet)

        caller_lines = self.assert_leg(self.packets_of(caller.call_id), caller.messages(), ("127.0.0.1", caller.port),
                                       caller.call_id, "caller's leg")
        for start in ("INVITE ", "SIP/2.0 200", "ACK ", "BYE "):
            self.assertTrue(any(line.startswith(start) for line in caller_lines), f"{start!r} in {caller_lines}")
        b_lines = self.assert_leg(self.packets_of(leg_b), self.target.messages(), ("127.0.0.1", self.target.port),
                                  caller.call_id, "leg b")
        for start in ("INVITE sip:support@", "SIP/2.0 180", "SIP/2.0 200", "ACK ", "BYE "):
            self.assertTrue(any(line.startswith(start) for line in b_lines), f"{start!r} in {b_lines}")

        everything = self.collector.packets()
        self.assert_common(everything, t1)
        # Messages of no call (the harness's OPTIONS) carry their own Call-ID.
        options = [p for p in everything if first_line(p).startswith("OPTIONS ")]
        self.assertTrue(options)
        for p in options:
            self.assertEqual(p["correlation_id"], sip_call_id(p))
        wait_for(lambda: self.gateway.metric("warmline_hep_sent_total") == self.collector.count(), 10,
                 "warmline_hep_sent_total to count every packet the collector got")
        self.assertEqual(self.gateway.metric("warmline_hep_errors_total"), 0)

    def test_check_config_refuses_hep_over_tcp(self):
        text = self.gateway.config_path.read_text()
        lines = text.splitlines()
        index = next(i for i, line in enumerate(lines) if line.startswith("hep = "))
        lines[index] = 'hep = "tcp:127.0.0.1:9060"'
        path = self.workdir / "tcp.toml"
        path.write_text("\n".join(lines) + "\n")
        out = subprocess.run([str(gateway_binary()), "check-config", str(path)], capture_output=True, text=True,
                             timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(f"{path}:{index + 1}: server.hep: 'tcp:127.0.0.1:9060': HEP over tcp is not supported",
                      out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
