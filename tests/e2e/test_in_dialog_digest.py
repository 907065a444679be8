"""Digest challenges to the requests warmline sends inside a dialog (RFC 3261 §22.2; DESIGN.md "Transfers"),
with SIPp as the challenging carrier:

- the caller's trunk challenges warmline's REFER (401): warmline sends it again with the callers'
  trunk's credentials (SIPp's verifyauth checks them), the carrier accepts the second REFER and
  reports the transfer done in NOTIFYs that name that REFER's CSeq; the agent hears `completed`,
  warmline hangs up the caller;
- a provider that warmline dialled through (a bridged dial) challenges warmline's BYE (407) after
  the caller hung up: warmline sends the BYE again with the provider trunk's credentials (the test
  recomputes the digest), so the provider stops billing the call.
"""
import hashlib
import re
import unittest

from harness import Agent, E2ETestCase, Gateway, provider_trunk, wait_for
from sipp_peer import SippUasScenario, header, sip_messages, start_caller

SCRIPT = """\
on start: tone 440 200
on dtmf 1: transfer cold {target}
on transfer ended !completed: tone 1000 3000
"""
CALLER_TRUNK_USER, CALLER_TRUNK_PASSWORD = "caller-trunk", "trunk-pw"  # uac-refer-challenge-401-then-accept.xml
PROVIDER_USER, PROVIDER_PASSWORD = "warmline-test", "s3cret-pw"  # uas-provider-challenge-bye.xml
PROVIDER_CALLER_ID = "+27110000001"


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def digest_fields(value):
    """The parameters of a `Digest k="v", k=v, ...` header value."""
    return {k.lower(): quoted if quoted else bare
            for k, quoted, bare in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', value)}


def cseq(message):
    return int(header(message, "CSeq").split()[0])


class InDialogDigest(E2ETestCase):
    def transfer(self, rtp):
        rtp.send_dtmf("1")
        self.agent.wait_event(type="dtmf", digit="1")

    def test_a_challenged_refer_is_sent_again_with_the_callers_trunk_credentials_and_completes(self):
        self.agent = Agent(self, SCRIPT.format(target="Support"))
        self.gateway = Gateway(self, self.agent.url, accepts_refer=True, agent_options={"refer_fallback": "agent"},
                               caller_trunk_options={"username": CALLER_TRUNK_USER,
                                                     "password": CALLER_TRUNK_PASSWORD},
                               targets=[{"name": "Support", "uri": "sip:support@127.0.0.1:5999"}])
        caller, rtp = start_caller(self, self.gateway, "uac-refer-challenge-401-then-accept.xml")
        self.agent.wait_event(type="start")
        self.transfer(rtp)
        # The scenario challenges the first REFER, verifies the second's digest, answers 202 and NOTIFYs
        # with the second's CSeq as Event id (a 481 to them fails it), then needs the gateway's BYE.
        caller.assert_passed()
        ended = self.agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Support"), ended)
        self.agent.wait_event(type="stop", reason="transferred")
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

        refers = [m for m in sip_messages(caller.messages()) if m.startswith("REFER ")]
        self.assertEqual(len(refers), 2, "one REFER, one answer to its challenge")
        first, retry = refers
        self.assertIsNone(header(first, "Authorization"), first)
        self.assertEqual(cseq(retry), cseq(first) + 1)
        self.assertEqual(header(retry, "Call-ID", "i"), header(first, "Call-ID", "i"))
        self.assertNotEqual(header(retry, "Via", "v"), header(first, "Via", "v"), "a new transaction")
        self.assertEqual(header(retry, "Refer-To", "r"), header(first, "Refer-To", "r"))
        byes = [m for m in sip_messages(caller.messages()) if m.startswith("BYE ")]
        self.assertEqual(len(byes), 1, byes)
        self.assertEqual(cseq(byes[0]), cseq(retry) + 1, "the dialog's CSeq counts the answered REFER")

    def test_a_providers_challenge_to_our_bye_is_answered_with_the_trunk_credentials(self):
        provider = SippUasScenario(self, "uas-provider-challenge-bye.xml", name="provider")
        self.agent = Agent(self, SCRIPT.format(target="Sales"))
        trunk = provider_trunk(provider.address, username=PROVIDER_USER, password=PROVIDER_PASSWORD,
                               caller_ids=[PROVIDER_CALLER_ID])
        self.gateway = Gateway(self, self.agent.url, accepts_refer=False, trunks=[trunk],
                               agent_options={"trunk": "provider", "caller_id": PROVIDER_CALLER_ID},
                               targets=[{"name": "Sales", "uri": "tel:+27115550100"}])
        caller, rtp = start_caller(self, self.gateway, "uac-call-until-trigger.xml")
        self.agent.wait_event(type="start")
        self.transfer(rtp)
        ended = self.agent.wait_event(20, type="transfer", state="ended")
        self.assertEqual((ended.get("result"), ended.get("target")), ("completed", "Sales"), ended)
        self.agent.wait_event(type="stop", reason="transferred")

        caller.trigger()  # the caller hangs up; warmline BYEs the provider, which challenges it
        caller.assert_passed()
        provider.assert_passed()
        wait_for(lambda: self.gateway.calls() == [], 10, "the call to leave /v1/calls")

        byes = [m for m in sip_messages(provider.messages()) if m.startswith("BYE ")]
        self.assertEqual(len(byes), 2, "one BYE, one answer to its challenge")
        first, retry = byes
        self.assertIsNone(header(first, "Proxy-Authorization"), first)
        self.assertEqual(cseq(retry), cseq(first) + 1)
        self.assertEqual(header(retry, "Call-ID", "i"), header(first, "Call-ID", "i"))
        value = header(retry, "Proxy-Authorization")
        self.assertIsNotNone(value, retry)
        f = digest_fields(value)
        uri = retry.split(" ")[1]
        self.assertEqual((f.get("username"), f.get("realm"), f.get("nonce"), f.get("uri"), f.get("qop")),
                         (PROVIDER_USER, "provider.test", "0b1e2c3d4f5a69788796a5b4c3d2e1f0", uri, "auth"), value)
        ha1 = md5(f"{PROVIDER_USER}:provider.test:{PROVIDER_PASSWORD}")
        ha2 = md5(f"BYE:{uri}")
        expected = md5(f"{ha1}:{f['nonce']}:{f.get('nc')}:{f.get('cnonce')}:auth:{ha2}")
        self.assertEqual(f.get("response"), expected, f"wrong digest response in {value}")


if __name__ == "__main__":
    unittest.main()
