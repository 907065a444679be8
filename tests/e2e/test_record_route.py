"""Record-Route (RFC 3261 §12.1.1, §12.2.1.1; issue 7 problem 2): a caller behind two record-routing
proxies. The proxies are two raw SIP endpoints of the test on 127.0.0.1 (they only need to receive
the gateway's in-dialog request and answer it); SIPp is the caller and puts both into its INVITE's
Record-Route, the nearest to the gateway first.

- the 200 OK to the INVITE carries the same Record-Route entries in the same order;
- the gateway's BYE (POST /v1/calls/{id}/hangup) goes to the first route's address, with Route
  headers = the route set (the Record-Route list in order, UAS side) and the caller's Contact as the
  Request-URI (loose routing, `;lr`); nothing reaches the second proxy or the caller directly.
"""
import unittest

from harness import Agent, E2ETestCase, Gateway, wait_for, wait_tone
from raw_sip import RawSip, header, parse, responses_to, route_entries, sip_messages
from sipp_peer import start_caller

SCRIPT = "on start: tone 440 30000\n"


class RecordRoute(E2ETestCase):
    def test_record_route_is_echoed_and_our_bye_follows_the_route_set(self):
        agent = Agent(self, SCRIPT)
        gateway = Gateway(self, agent.url)
        first, second = RawSip(self, name="proxy1", answer=200), RawSip(self, name="proxy2", answer=200)
        sipp, rtp = start_caller(self, gateway, "uac-call-through-record-route.xml",
                                 extra=("-key", "rr1_port", first.port, "-key", "rr2_port", second.port))
        expected_routes = [f"<sip:127.0.0.1:{first.port};lr>", f"<sip:127.0.0.1:{second.port};lr>"]
        agent.wait_event(type="start")
        wait_tone(rtp, 440)
        call_id = gateway.only_call()

        status, body = gateway.http("POST", f"/v1/calls/{call_id}/hangup")
        self.assertEqual(status, 200, body)
        bye, source = first.wait_request("BYE")
        agent.wait_event(type="stop")
        wait_for(lambda: gateway.calls() == [], 10, "the call to leave /v1/calls once the BYE got 200")
        sipp.trigger()  # the caller's scenario ends; a BYE sent to it directly would have failed it
        sipp.assert_passed()

        # The 200 OK echoed the Record-Route list, in order.
        messages = sip_messages(sipp.messages())
        ok = responses_to(messages, "1 INVITE", "200")
        self.assertEqual(len(ok), 1, messages)
        self.assertEqual([e.replace(" ", "") for e in route_entries(ok[0], "Record-Route")], expected_routes,
                         f"the 200 OK must copy the INVITE's Record-Route headers in order:\n{ok[0]}")

        # The BYE went to the first route with the whole route set, to the caller's Contact.
        start_line = parse(bye)[0]
        self.assertEqual(start_line, f"BYE sip:caller@127.0.0.1:{sipp.port} SIP/2.0", bye)
        self.assertEqual([e.replace(" ", "") for e in route_entries(bye, "Route")], expected_routes, bye)
        self.assertEqual(header(bye, "Call-ID"), sipp.call_id, bye)
        self.assertEqual(source, ("127.0.0.1", gateway.sip_port), "the BYE must come from the gateway's SIP port")
        self.assertEqual(len(first.requests("BYE")), 1, "the BYE was answered 200 once and must not be retransmitted")
        self.assertEqual(second.requests(), [], "a loose router forwards to the FIRST route only")
        self.assertEqual([m for m in messages if m.startswith("BYE ")], [],
                         "the gateway's BYE bypassed the proxies and went straight to the caller")


if __name__ == "__main__":
    unittest.main()
