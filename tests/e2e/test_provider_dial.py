"""Cold transfer by bridged dial through a provider trunk (DESIGN.md "Transfers", "Caller ID",
"Reaching a target"), with SIPp as the caller and SIPp UAS scenarios as the carrier and the targets.

The caller's trunk does not accept REFER, so warmline calls the target itself (leg b) and bridges the
two calls:
- a tel: target through the provider trunk: the carrier challenges with 407 or 401, checks the digest
  answer (SIPp's verifyauth for 401; for 407 the test recomputes it), the Request-URI (tech_prefix + number_format), From (the target's caller ID) and
  P-Asserted-Identity (the caller; their Privacy passed on), and answers; the agent hears `completed` and `stop transferred`;
  the caller's audio comes back to the caller through the carrier's RTP echo (both directions of the
  bridge); then the carrier hangs up (warmline BYEs the caller) or the caller does (warmline BYEs the
  carrier);
- busy (486): the caller stays with the agent;
- a chain whose first target declines (603): final, the second is not tried; with decline_is_final =
  false it is, and answers;
- a chain whose first target rings past its ring_timeout_s: CANCEL, then the second target answers;
  the request's ring_timeout_s wins over the target's and the agent's; the caller hanging up while the
  target rings CANCELs it;
- a trunk address that is a DNS name (dnsmasq: NAPTR, SRV to two servers): 503 from the first server,
  the second answers.
"""
import hashlib
import re
import unittest

from harness import Agent, E2ETestCase, Gateway, assert_back_with_agent, provider_trunk, wait_for, wait_tone
from dns_peer import DnsServer
from sipp_peer import SippUasScenario, header, sip_messages, start_caller

CALLER = "+15550001111"  # the From user of the UAC scenarios
TARGET_CALLER_ID = "+27110000001"  # what the provider scenario expects in From
AGENT_CALLER_ID = "+27110000002"
USERNAME, PASSWORD = "warmline-test", "s3cret-pw"  # what uas-provider-digest-then-answer.xml verifies
ANSWER_HEADER = {407: "Proxy-Authorization", 401: "Authorization"}  # for that scenario's challenge
CALLER_TONE_HZ = 300  # what RtpPeer sends as the caller's voice

SCRIPT = """\
on start: tone 440 200
on dtmf 1: transfer cold {targets}
on transfer ended !completed: tone 1000 3000
"""


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def digest_fields(value):
    """The parameters of a `Digest k="v", k=v, ...` header value."""
    return {k.lower(): quoted if quoted else bare
            for k, quoted, bare in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', value)}


def carrier_dns(case, domain, ports):
    """dnsmasq (dns_peer.DnsServer) as the carrier's DNS: `domain` has a NAPTR to _sip._udp.`domain`,
    whose SRV records list `ports` on 127.0.0.1 in that priority order (RFC 3263 §4.1, §4.2)."""
    srv = f"_sip._udp.{domain}"
    records = [f"--naptr-record={domain},10,10,S,SIP+D2U,,{srv}"]
    for priority, port in enumerate(ports):
        host = f"server{priority}.{domain}"
        records += [f"--srv-host={srv},{host},{port},{priority},10", f"--host-record={host},127.0.0.1"]
    return DnsServer(case, records, ready_name=srv)


class ProviderDial(E2ETestCase):
    def start_call(self, targets, request_targets, caller_scenario, trunk_options=None, agent_options=None,
                   provider=None, trunk_address=None, server_extra=""):
        """Agent, gateway (callers' trunk without REFER, a provider trunk at `provider`), a SIPp caller,
        answered and talking to the agent. `request_targets`: what the agent's transfer names."""
        self.agent = Agent(self, SCRIPT.format(targets=" ".join(request_targets)))
        trunk = provider_trunk(trunk_address or provider.address,
                               caller_ids=[TARGET_CALLER_ID, AGENT_CALLER_ID], **(trunk_options or {}))
        options = {"trunk": "provider", "caller_id": AGENT_CALLER_ID}
        options.update(agent_options or {})
        self.gateway = Gateway(self, self.agent.url, accepts_refer=False, trunks=[trunk], targets=targets,
                               agent_options=options, server_extra=server_extra)
        self.caller, self.rtp = start_caller(self, self.gateway, caller_scenario)
        self.agent.wait_event(type="start")

    def transfer(self):
        self.rtp.send_dtmf("1")
        self.agent.wait_event(type="dtmf", digit="1")

    def assert_bridged(self, target_name):
        """The transfer completed to `target_name`, the agent left, and the caller hears its own voice
        echoed by the target: caller -> target and target -> caller both flow through the bridge."""
        ended = self.agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", target_name), ended)
        states = [e.get("state") for e in self.agent.find(type="transfer")]
        self.assertEqual(states[0], "dialing", states)
        self.agent.wait_event(type="stop", reason="transferred")
        since = self.rtp.count()
        wait_tone(self.rtp, CALLER_TONE_HZ, since=since, timeout=10,
                  what="the caller's own voice back from the target's RTP echo, through the bridge")
        self.assertEqual(len(self.gateway.calls()), 1, "the bridged call must stay listed")

    def assert_back_with_agent(self, result, sip_status, target):
        """The transfer ended with `result`; the caller goes on with the agent (its 1 kHz answer reaches
        the caller), then hangs up."""
        assert_back_with_agent(self, self.agent, self.gateway, self.caller, self.rtp, result, target=target,
                               sip_status=sip_status)

    # -- a tel: target through the provider trunk, digest and caller ID ----------------------------

    def start_digest_call(self, caller_scenario, challenge):
        provider = SippUasScenario(self, "uas-provider-digest-then-answer.xml", name="provider",
                                   extra=("-key", "challenge", str(challenge)))
        self.start_call(
            targets=[{"name": "Sales", "uri": "tel:+27115550100", "caller_id": TARGET_CALLER_ID}],
            request_targets=["Sales"], caller_scenario=caller_scenario, provider=provider,
            trunk_options={"username": USERNAME, "password": PASSWORD, "number_format": "no_plus",
                           "tech_prefix": "1010#"})
        return provider

    def assert_invites_as_the_carrier_wants(self, provider, challenge, privacy=None):
        invites = provider.requests("INVITE")
        self.assertEqual(len(invites), 2, "one INVITE, one retry with credentials")
        first, retry = invites
        self.assertIsNone(header(first, "Authorization") or header(first, "Proxy-Authorization"), first)
        self.assert_digest(retry, challenge)
        self.assertEqual(header(first, "Call-ID"), header(retry, "Call-ID"), "the retry keeps the Call-ID")
        self.assertEqual(int(header(retry, "CSeq").split()[0]), int(header(first, "CSeq").split()[0]) + 1)
        for invite in invites:
            self.assertTrue(invite.startswith(f"INVITE sip:1010%2327115550100@{provider.address} SIP/2.0"),
                            invite.split("\n")[0])
            self.assertIn(f"<sip:{TARGET_CALLER_ID}@", header(invite, "From", "f"))
            self.assertIn(f"<sip:{CALLER}@", header(invite, "P-Asserted-Identity"))
            self.assertEqual(header(invite, "Privacy"), privacy, "the caller's Privacy is passed on, and only it")

    def assert_digest(self, invite, challenge):
        """RFC 2617 §3.2.2 (qop=auth), computed here: an independent check of the answer, which SIPp
        cannot verify in a Proxy-Authorization header."""
        answer_header = ANSWER_HEADER[challenge]
        value = header(invite, answer_header)
        self.assertIsNotNone(value, f"the retry has no {answer_header}:\n{invite}")
        self.assertTrue(value.startswith("Digest "), value)
        f = digest_fields(value)
        uri = invite.split(" ")[1]
        self.assertEqual((f.get("username"), f.get("realm"), f.get("nonce"), f.get("uri"), f.get("qop")),
                         (USERNAME, "provider.test", "7a3c9e0d1f2b4a5c6d7e8f9012345678", uri, "auth"), value)
        ha1 = md5(f"{USERNAME}:provider.test:{PASSWORD}")
        ha2 = md5(f"INVITE:{uri}")
        expected = md5(f"{ha1}:{f['nonce']}:{f.get('nc')}:{f.get('cnonce')}:auth:{ha2}")
        self.assertEqual(f.get("response"), expected, f"wrong digest response in {value}")

    def test_407_digest_tel_target_via_trunk_then_the_target_hangs_up(self):
        provider = self.start_digest_call("uac-call-expect-bye.xml", challenge=407)
        self.transfer()
        self.assert_bridged("Sales")
        self.assertEqual([m for m in sip_messages(self.caller.messages()) if m.startswith("BYE ")], [],
                         "the caller is still connected")
        provider.trigger()  # the provider hangs up; warmline must hang up the caller
        provider.assert_passed()
        self.caller.assert_passed()
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        self.assert_invites_as_the_carrier_wants(provider, 407)

    def test_401_digest_tel_target_via_trunk_then_the_caller_hangs_up(self):
        # This caller asks for privacy (Privacy: id), which the carrier must get too.
        provider = self.start_digest_call("uac-call-privacy-until-trigger.xml", challenge=401)
        self.transfer()
        self.assert_bridged("Sales")
        self.assertEqual(provider.requests("BYE"), [], "the target is still connected")
        self.caller.trigger()  # the caller hangs up; warmline must hang up the provider
        self.caller.assert_passed()
        provider.assert_passed()
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        self.assert_invites_as_the_carrier_wants(provider, 401, privacy="id")

    # -- the target's answer: busy, declined in a chain, no answer in a chain ----------------------

    def start_plain_call(self, provider_scenario, targets, request_targets, agent_options=None):
        """A provider without a challenge (number_format e164) and a second target, Bob, a SIP URI
        reached directly (RFC 3263 on an IP address); returns (provider, bob)."""
        provider = SippUasScenario(self, provider_scenario, name="provider")
        bob = SippUasScenario(self, "uas-answer.xml", name="bob")
        bob_target = {"name": "Bob", "uri": f"sip:bob@{bob.address}"}
        self.start_call(targets=[*targets, bob_target], request_targets=request_targets,
                        caller_scenario="uac-call-until-trigger.xml", provider=provider,
                        agent_options=agent_options)
        return provider, bob

    def caller_hangs_up_on_the_bridge(self, target):
        self.caller.trigger()
        self.caller.assert_passed()
        target.assert_passed()  # it got warmline's BYE
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

    def test_busy_target_returns_the_caller_to_the_agent(self):
        provider, bob = self.start_plain_call("uas-provider-busy.xml",
                                              [{"name": "Busy", "uri": "tel:+27115550101"}], ["Busy"])
        self.transfer()
        self.assert_back_with_agent("busy", 486, "Busy")
        provider.assert_passed()
        self.assertEqual(bob.requests("INVITE"), [], "Bob was not asked for")

    def test_decline_ends_the_chain(self):
        provider, bob = self.start_plain_call("uas-provider-decline.xml",
                                              [{"name": "Dana", "uri": "tel:+27115550102"}], ["Dana", "Bob"])
        self.transfer()
        self.assert_back_with_agent("declined", 603, "Dana")
        provider.assert_passed()
        self.assertEqual(bob.requests("INVITE"), [], "603 is final: the chain must not go on to Bob")
        self.assertEqual([e.get("target") for e in self.agent.find(type="transfer", state="dialing")], ["Dana"])

    def test_decline_moves_on_when_decline_is_not_final(self):
        provider, bob = self.start_plain_call("uas-provider-decline.xml",
                                              [{"name": "Dana", "uri": "tel:+27115550102"}], ["Dana", "Bob"],
                                              agent_options={"decline_is_final": False})
        self.transfer()
        self.assert_bridged("Bob")
        provider.assert_passed()
        self.assertEqual([e.get("target") for e in self.agent.find(type="transfer", state="dialing")],
                         ["Dana", "Bob"])
        self.caller_hangs_up_on_the_bridge(bob)

    def test_no_answer_within_the_targets_ring_timeout_moves_on_to_the_next_target(self):
        # The target's ring_timeout_s (2 s) wins over the agent's (60 s); the provider scenario needs
        # the CANCEL within 10 s.
        provider, bob = self.start_plain_call(
            "uas-provider-ring-no-answer.xml", [{"name": "Carol", "uri": "tel:+27115550103", "ring_timeout_s": 2}],
            ["Carol", "Bob"], agent_options={"ring_timeout_s": 60})
        self.transfer()
        self.assert_bridged("Bob")
        provider.assert_passed()  # rang, got CANCEL, answered 487, got the ACK
        self.assertEqual(len(provider.requests("CANCEL")), 1)
        transfer_events = [(e.get("state"), e.get("target")) for e in self.agent.find(type="transfer")]
        self.assertIn(("ringing", "Carol"), transfer_events)
        self.assertLess(transfer_events.index(("dialing", "Carol")), transfer_events.index(("dialing", "Bob")))
        self.caller_hangs_up_on_the_bridge(bob)

    def test_no_answer_within_the_requests_ring_timeout_returns_the_caller_to_the_agent(self):
        # The request's ring_timeout_s (2 s) wins over the target's and the agent's (60 s).
        provider, bob = self.start_plain_call(
            "uas-provider-ring-no-answer.xml", [{"name": "Carol", "uri": "tel:+27115550103", "ring_timeout_s": 60}],
            ["Carol", "ring_timeout_s=2"], agent_options={"ring_timeout_s": 60})
        self.transfer()
        self.assert_back_with_agent("no_answer", None, "Carol")
        provider.assert_passed()
        self.assertEqual(bob.requests("INVITE"), [])

    def test_caller_hanging_up_while_the_target_rings_cancels_the_target(self):
        provider, bob = self.start_plain_call(
            "uas-provider-ring-no-answer.xml", [{"name": "Carol", "uri": "tel:+27115550103"}], ["Carol", "Bob"],
            agent_options={"ring_timeout_s": 60})
        self.transfer()
        self.agent.wait_event(15, type="transfer", state="ringing", target="Carol")
        self.caller.trigger()  # the caller hangs up while Carol rings
        self.caller.assert_passed()
        provider.assert_passed()  # CANCEL within 10 s (long before the 60 s ring timeout), 487, ACK
        ended = self.agent.wait_event(type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("caller_hung_up", "Carol"), ended)
        self.agent.wait_event(type="stop", reason="caller_hangup")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")
        self.assertEqual(bob.requests("INVITE"), [], "nothing is dialled for a caller who has left")

    # -- a trunk address with two servers (DNS SRV): 503 from the first, the second answers --------

    def test_503_from_the_first_server_of_the_trunk_moves_on_to_the_next(self):
        first = SippUasScenario(self, "uas-provider-503.xml", name="provider")
        second = SippUasScenario(self, "uas-answer.xml", name="provider2")
        dns = carrier_dns(self, "provider.test", [first.port, second.port])
        self.start_call(targets=[{"name": "Erin", "uri": "tel:+27115550104"}], request_targets=["Erin"],
                        caller_scenario="uac-call-until-trigger.xml", trunk_address="provider.test",
                        server_extra=f'dns_servers = ["{dns.address}"]')
        self.transfer()
        self.assert_bridged("Erin")
        first.assert_passed()  # its INVITE got 503 and the ACK
        invites = second.requests("INVITE")
        self.assertEqual(len(invites), 1)
        self.assertTrue(invites[0].startswith("INVITE sip:+27115550104@provider.test SIP/2.0"), invites[0])
        self.caller_hangs_up_on_the_bridge(second)


if __name__ == "__main__":
    unittest.main()
