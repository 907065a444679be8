"""Trunk registration (issue 8 item 4; DESIGN.md "Reaching a target"; docs: configuration `register`,
http-api `GET /v1/trunks`, operations `warmline_trunk_registered`).

SIPp plays a registrar with digest (scenarios/uas-registrar-digest.xml): it challenges the first
REGISTER, checks the answer with verifyauth against the account's password, grants 2 s so that the
gateway refreshes within about a second, checks the refresh's credentials (sent at once), grants
3600 s, and at the end checks the gateway's de-REGISTER on SIGTERM. The test then reads what SIPp
received: one Call-ID and From tag for all, CSeq one higher each time, Expires 3600 then 0.
"""
import signal
import socket
import unittest

from harness import SCENARIOS, E2ETestCase, Gateway, free_port, unreachable_agent_url, wait_for

USER = "acct-42"
PASSWORD = "e2e-s3cret"


class Registrar:
    """SIPp running the registrar scenario for one binding (`-m 1`): exit 0 = every REGISTER it
    expected came, each with valid credentials."""

    def __init__(self, case, name="registrar"):
        self.port = free_port(kinds=(socket.SOCK_DGRAM,))
        self.messages_path = case.workdir / f"{name}.messages.log"
        self.proc = case.start(name, [
            "sipp", "-sf", SCENARIOS / "uas-registrar-digest.xml", "-m", "1", "-nostdin", "-i", "127.0.0.1",
            "-bind_local", "-p", self.port, "-cp", free_port(kinds=(socket.SOCK_DGRAM,)), "-timeout", "60s",
            "-timeout_error", "-trace_msg", "-message_file", self.messages_path,
            "-trace_err", "-error_file", case.workdir / f"{name}.errors.log",
            "-key", "reg_user", USER, "-key", "reg_password", PASSWORD])

    def registers(self):
        """The REGISTERs SIPp received, in order, one per CSeq (retransmissions left out): each a dict
        of the request line ("line") and the headers, names lower-cased."""
        text = self.messages_path.read_text(errors="replace") if self.messages_path.exists() else ""
        out = []
        for block in text.split("\n----"):
            if "message received" not in block:
                continue
            lines = [line.rstrip("\r") for line in block.splitlines()]
            start = next((i for i, line in enumerate(lines) if line.startswith("REGISTER ")), None)
            if start is None:
                continue
            request = {"line": lines[start]}
            for line in lines[start + 1:]:
                if not line.strip():
                    break
                name, _, value = line.partition(":")
                request[name.strip().lower()] = value.strip()
            if not out or out[-1].get("cseq") != request.get("cseq"):
                out.append(request)
        return out


class TrunkRegister(E2ETestCase):
    def test_registers_with_digest_refreshes_and_unregisters_at_shutdown(self):
        registrar = Registrar(self)
        trunk = (f'\n[[trunk]]\nname = "carrier"\naddress = "127.0.0.1:{registrar.port}"\n'
                 f'username = "{USER}"\npassword = "{PASSWORD}"\nregister = true\n')
        gateway = Gateway(self, unreachable_agent_url(), extra_trunks=trunk)

        # Registered after the refresh: the 3600 s of the second 200 (the first granted 2 s).
        def refreshed():
            reg = gateway.trunk("carrier")["register"]
            return reg if reg["state"] == "registered" and (reg["expires_in_s"] or 0) > 100 else None
        reg = wait_for(refreshed, 20, "the registration and its refresh to be accepted")
        self.assertEqual(reg["status"], 200, reg)
        self.assertEqual(reg["reason"], "OK", reg)
        self.assertEqual(reg["failures"], 0, reg)
        self.assertGreater(reg["expires_in_s"], 3500, reg)
        self.assertTrue(1700 <= reg["next_attempt_in_s"] <= 1800, reg)  # the next refresh at half of 3600
        local = gateway.trunk("local")
        self.assertIsNone(local["register"], local)
        self.assertIsNone(local["address"], local)
        self.assertEqual(gateway.trunk("carrier")["address"], f"127.0.0.1:{registrar.port}")
        self.assertEqual(gateway.metric('warmline_trunk_registered{trunk="carrier"}'), 1)

        # Shutdown removes the binding: SIPp's last step is the de-REGISTER, checked like the others.
        gateway.proc.signal(signal.SIGTERM)
        self.assertEqual(gateway.proc.wait(20), 0)
        rc = registrar.proc.wait(20)
        self.assertEqual(rc, 0, f"the registrar scenario failed (exit {rc}); see {registrar.messages_path.name}")

        sent = registrar.registers()
        self.assertEqual([r["cseq"] for r in sent], ["1 REGISTER", "2 REGISTER", "3 REGISTER", "4 REGISTER"], sent)
        self.assertEqual({r["call-id"] for r in sent}, {sent[0]["call-id"]}, "one Call-ID for the binding")
        self.assertEqual(len({r["from"] for r in sent}), 1, "one From (and tag) for the binding")
        for r in sent:
            self.assertEqual(r["line"], f"REGISTER sip:127.0.0.1:{registrar.port} SIP/2.0")
            self.assertEqual(r["to"], f"<sip:{USER}@127.0.0.1>")
            self.assertIn(f"sip:{USER}@127.0.0.1:{gateway.sip_port}", r["contact"])
        self.assertEqual([r["expires"] for r in sent], ["3600", "3600", "3600", "0"])
        self.assertNotIn("authorization", sent[0])
        for r in sent[1:]:
            self.assertIn(f'username="{USER}"', r["authorization"])
        # The refresh and the de-REGISTER answer the same challenge again, with the next nonce count.
        self.assertIn("nc=00000002", sent[2]["authorization"])
        self.assertIn("nc=00000003", sent[3]["authorization"])


if __name__ == "__main__":
    unittest.main()
