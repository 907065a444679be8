"""Cold transfer with a real phone: baresip calls the gateway, the agent transfers at once to
"Support", a SIPp UAS; baresip follows the gateway's REFER (RFC 3515), calls Support itself and
reports success in its NOTIFYs; the gateway hangs up and the agent's stream stops as transferred.
"""
import unittest

from baresip_peer import Baresip
from harness import Agent, E2ETestCase, Gateway, wait_for
from sipp_peer import SippUas

SCRIPT = """\
on start: transfer cold Support
"""


class BaresipFollowsRefer(E2ETestCase):
    def test_baresip_is_transferred_to_the_target(self):
        target = SippUas(self, name="support")
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url, targets=[
            {"name": "Support", "uri": f"sip:support@127.0.0.1:{target.port}"}])
        phone = Baresip(self)

        phone.dial(gateway.uri)
        phone.wait_event(type="CALL_ESTABLISHED", peeruri=gateway.uri)
        agent.wait_event(type="start")
        transfer = phone.wait_event(type="TRANSFER")
        self.assertIn(f"sip:support@127.0.0.1:{target.port}", transfer.get("param", ""), transfer)

        # baresip's own INVITE reaches Support, which answers.
        support_uri = f"sip:support@127.0.0.1:{target.port}"
        phone.wait_event(type="CALL_ESTABLISHED", peeruri=support_uri)
        self.assertIn("User-Agent: baresip", target.messages())

        ended = agent.wait_event(type="transfer", state="ended")
        self.assertEqual(ended.get("result"), "completed", ended)
        agent.wait_event(type="stop", reason="transferred")
        phone.wait_event(type="CALL_CLOSED", peeruri=gateway.uri)  # the gateway left the call
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls")

        phone.hangup()  # ends the call with Support
        self.assertEqual(target.wait(20), 0, "Support (SIPp -sn uas) did not complete its call")


if __name__ == "__main__":
    unittest.main()
