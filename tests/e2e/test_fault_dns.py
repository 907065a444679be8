"""A target or trunk whose name DNS cannot resolve (issue 12 part 7, "a trunk's DNS fails"): the caller's
trunk does not take REFER, so the agent's cold transfer is a bridged dial that must first find the
target's server by RFC 3263. When DNS fails, the transfer ends `unreachable` with a reason that says
it was DNS and which name, within a bound, and the caller is back with the agent (its 1 kHz answer
reaches the caller, its stream goes on); nothing is dialled and the gateway stays up.

- NXDOMAIN: dnsmasq (dns_peer.DnsServer) serves `.test` from its records alone, and has none for
  the target's domain.
- SERVFAIL: fault_peers.DnsStub answers every query with RCODE 2.
- No answer: fault_peers.DnsStub reads every query and never answers; the resolver's own timeouts
  (2 s, then 4 s per query, sip/resolve/resolver.hpp) bound the wait.
- A trunk whose address is a host name that does not resolve: a `tel:` target through that trunk.
"""
import time
import unittest

from dns_peer import DnsServer
from fault_peers import DnsStub
from harness import Agent, E2ETestCase, Gateway, assert_back_with_agent, provider_trunk
from sipp_peer import start_caller

SCRIPT = """\
on dtmf 1: transfer cold {target}
on transfer ended !completed: tone 1000 3000
"""
AGENT_CALLER_ID = "+27110000002"


class FaultDns(E2ETestCase):
    def transfer_fails(self, dns_address, target, targets, trunks=(), agent_options=None, bound_s=5.0):
        """The caller presses 1, the agent transfers to `target`; returns the `ended` event after
        checking it came within `bound_s` of the request, `unreachable`, and the caller is back with
        the agent."""
        self.agent = Agent(self, SCRIPT.format(target=target))
        self.gateway = Gateway(self, self.agent.url, accepts_refer=False, dns_servers=[dns_address],
                               targets=targets, trunks=trunks, agent_options=agent_options, shards=1)
        caller, rtp = start_caller(self, self.gateway, "uac-call-until-trigger.xml")
        self.agent.wait_event(type="start")
        rtp.send_dtmf("1")
        self.agent.wait_event(type="dtmf", digit="1")
        asked = time.monotonic()
        ended = self.agent.wait_event(bound_s + 10, type="transfer", state="ended")
        elapsed = time.monotonic() - asked
        print(f"transfer to {target} ended after {elapsed:.1f} s: {ended}", flush=True)
        self.assertLess(elapsed, bound_s, f"the transfer ended only after {elapsed:.1f} s: {ended}")
        assert_back_with_agent(self, self.agent, self.gateway, caller, rtp, "unreachable", target=target)
        self.assertNotIn("sip_status", ended, "nothing was dialled, so no SIP status")
        self.assertEqual(self.gateway.metric("warmline_legs_active"), 0, "no target leg may be left")
        return ended

    def test_nxdomain_target_is_unreachable_at_once(self):
        dns = DnsServer(self, ["--host-record=other.test,127.0.0.1"], ready_name="other.test", ready_type=1)
        ended = self.transfer_fails(dns.address, "Bob", [{"name": "Bob", "uri": "sip:bob@nowhere.test"}])
        self.assertEqual(ended["reason"], "dns_failed: nowhere.test: no such domain name (NXDOMAIN)", ended)
        self.assertIn("nowhere.test", dns.log(), "the gateway must have asked the test's DNS")

    def test_servfail_target_is_unreachable_at_once(self):
        dns = DnsStub(self, "servfail")
        ended = self.transfer_fails(dns.address, "Bob", [{"name": "Bob", "uri": "sip:bob@broken.test"}])
        self.assertTrue(ended["reason"].startswith("dns_failed: broken.test: "), ended)
        self.assertIn("SERVFAIL", ended["reason"], "the reason must not blame an unreachable server alone")
        self.assertTrue(any(name.endswith("broken.test") for name, _ in dns.queries()), dns.queries())

    def test_silent_dns_target_is_unreachable_within_the_resolver_timeouts(self):
        dns = DnsStub(self, "silent")
        ended = self.transfer_fails(dns.address, "Bob", [{"name": "Bob", "uri": "sip:bob@silent.test"}],
                                    bound_s=30.0)
        self.assertEqual(ended["reason"], "dns_failed: silent.test: DNS timeout", ended)
        self.assertGreaterEqual(len(dns.queries()), 2, "the resolver must have retried before giving up")

    def test_trunk_whose_host_does_not_resolve_is_unreachable(self):
        dns = DnsServer(self, ["--host-record=other.test,127.0.0.1"], ready_name="other.test", ready_type=1)
        trunk = provider_trunk("carrier.nowhere.test", caller_ids=[AGENT_CALLER_ID])
        ended = self.transfer_fails(dns.address, "Sales", [{"name": "Sales", "uri": "tel:+27115550100"}],
                                    trunks=[trunk], agent_options={"trunk": "provider", "caller_id": AGENT_CALLER_ID})
        self.assertEqual(ended["reason"], "dns_failed: carrier.nowhere.test: no such domain name (NXDOMAIN)", ended)


if __name__ == "__main__":
    unittest.main()
