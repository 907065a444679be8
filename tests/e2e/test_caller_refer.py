"""A REFER on the caller's own dialog (issue 11 part 6; docs/sip.md "A REFER on the caller's dialog"):
the caller's side — a SIPp UAC coming in on the trunk "local" — talks to the agent, then REFERs the
call to the configured target "Support", a SIPp UAS whose media is the test's RtpPeer.

- With accepts_refer_from_peer on the caller's trunk: 202, NOTIFYs 100 Trying, 18x, 200 OK in that
  order in the caller's dialog, then warmline's BYE (the caller's scenario checks each, and fails on
  anything else). Support is dialled, and once it answers the agent talks to it: the tone the agent
  plays on its `transfer ended completed` event (id caller-refer-1) reaches Support's RTP, Support's
  voice reaches the agent, Support's key press reaches the agent as a `dtmf` event, and the agent's
  hang-up sends Support BYE. The call record has a transfers row caller-refer-1, mode refer_in,
  strategy dial, result completed, and two legs.
- Without the flag: 403 to the REFER, nothing is dialled (Support's SIP port, a raw listener, receives
  nothing) and the caller still hears the agent.
"""
import json
import unittest

from harness import Agent, E2ETestCase, Gateway, cdr_query, wait_for, wait_tone
from raw_sip import RawSip
from rtp_peer import RtpPeer, tone_ratio
from sipp_peer import SippUasScenario, start_caller

AGENT_HZ = 1000  # what the agent says to the caller
AGENT_TO_SUPPORT_HZ = 800  # what it says once it talks to Support
SUPPORT_HZ = 600  # Support's voice

SCRIPT = f"""\
on start: tone {AGENT_HZ} 20000
on transfer ended completed: clear; tone {AGENT_TO_SUPPORT_HZ} 3000
on dtmf 5: hangup
"""


class CallerRefer(E2ETestCase):
    def test_the_callers_side_refers_the_call_and_the_agent_then_talks_to_the_target(self):
        support_rtp = RtpPeer(tone_hz=SUPPORT_HZ)
        self.addCleanup(support_rtp.stop)
        support = SippUasScenario(self, "uas-answer-with-rtp-peer.xml", name="support", rtp=support_rtp)
        support.wait_listening()
        agent = Agent(self, SCRIPT, record=True)
        gateway = Gateway(self, agent.url, caller_trunk_options={"accepts_refer_from_peer": True},
                          targets=[{"name": "Support", "uri": f"sip:support@{support.address}"}])
        caller, rtp = start_caller(self, gateway, "uac-call-refers-on-trigger.xml",
                                   extra=("-key", "refer_to", f"<sip:support@{support.address}>"))
        agent.wait_event(type="start")
        wait_tone(rtp, AGENT_HZ, what="the agent's tone at the caller before the REFER")

        caller.trigger()  # the caller's side REFERs the call to Support
        agent.wait_event(type="transfer", id="caller-refer-1", state="dialing", target="Support")
        ip, port, te = support.gateway_media()
        support_rtp.start_sending(ip, port, te or 101)
        ended = agent.wait_event(20, type="transfer", id="caller-refer-1", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        wait_tone(support_rtp, AGENT_TO_SUPPORT_HZ, what="the agent's tone at Support")

        # Support's voice now goes to the agent (it is the agent's party).
        offset = agent.audio_offset(type="transfer", id="caller-refer-1", state="ended")
        rate = 16000
        wait_for(lambda: tone_ratio(list(memoryview(agent.received_audio()[offset:][-6400:]).cast("h")),
                                    SUPPORT_HZ, rate) > 0.5 if len(agent.received_audio()) - offset >= 6400 else False,
                 10, "Support's voice at the agent")
        support_rtp.send_dtmf("5")  # the agent's script hangs up on it
        agent.wait_event(type="dtmf", digit="5")
        agent.wait_event(type="stop", reason="agent_hangup")
        caller.assert_passed(timeout=30)  # NOTIFYs in order, then our BYE
        support.assert_passed(timeout=30)  # answered, then our BYE

        rows = wait_for(lambda: cdr_query(gateway.cdr_path, "SELECT transfer_id, mode, strategy, result, targets_tried "
                                          "FROM transfers"), 10, "the call's transfer row")
        self.assertEqual([(i, m, s, r, json.loads(t)) for i, m, s, r, t in rows],
                         [("caller-refer-1", "refer_in", "dial", "completed", ["Support"])])
        self.assertEqual(cdr_query(gateway.cdr_path, "SELECT role FROM legs ORDER BY role"), [("a",), ("b",)])

    def test_without_the_flag_the_refer_gets_403_and_nothing_is_dialled(self):
        support = RawSip(self, name="support")  # receives whatever would be sent to Support
        agent = Agent(self, f"on start: tone {AGENT_HZ} 20000\n")
        gateway = Gateway(self, agent.url,
                          targets=[{"name": "Support", "uri": f"sip:support@127.0.0.1:{support.port}"}])
        caller, rtp = start_caller(self, gateway, "uac-call-refer-refused-on-trigger.xml",
                                   extra=("-key", "refer_to", f"<sip:support@127.0.0.1:{support.port}>"))
        agent.wait_event(type="start")
        caller.trigger()  # REFER: 403 (the scenario fails on anything else), then it waits again
        wait_for(lambda: "SIP/2.0 403 " in caller.messages(), 10, "the 403 to the REFER")
        since = rtp.count()
        wait_tone(rtp, AGENT_HZ, since=since, what="the agent's tone at the caller after the refused REFER")
        self.assertEqual(support.received(), [], "nothing may be dialled")
        self.assertEqual(agent.find(type="transfer"), [])
        caller.trigger()  # the caller hangs up
        caller.assert_passed(timeout=30)
        agent.wait_event(type="stop", reason="caller_hangup")


if __name__ == "__main__":
    unittest.main()
