"""The attack battery's cases as data (tests/e2e/test_attack_battery.py runs them, in this order,
against one gateway whose every configured peer port is watched). Each case: a name, the surface it
attacks, what it sends, and the exact answer expected. The runner records what it got and how many
datagrams reached each peer; only the digest cases (which dial the challenging trunk on purpose) and
the positive controls may reach a peer.

Kinds:
- `raw`: one hand-written datagram from `source` ("trunk": 127.0.0.1, inside the callers' trunk;
  "outside": 127.0.0.2, in no trunk) to the gateway's UDP port; `text(ctx)` builds it; `expected`:
  (status, reason) of the response, or None: no answer at all (a request without a Via, From,
  Call-ID or CSeq cannot be answered — the response would have nothing to be matched by — so it is
  dropped: sip/parse_check.hpp build_stateless_response);
- `tcp`: the same over a TCP connection;
- `dialog`: a request inside the caller's live dialog (leg a): `method`, `ids` "real" (the dialog's
  Call-ID and tags) or "forged" (made-up tags), `source`;
- `refer`: a REFER inside the dialog of the bridged AI platform (leg b, trunk with
  accepts_refer_from_peer = true): `refer_to` (a list: that many Refer-To headers), `ids`, `source`;
- `agent`: a frame the agent sends (`frame(ctx)`), and the frame it must get back: `expected` is
  ("error", code) or ("transfer ended", result, reason prefix);
- `digest`: an agent transfer to a target behind a trunk that challenges with the wrong realm or
  rejects the credentials: ("transfer ended", result, sip_status) and `invites`: how many INVITEs the
  challenger may get (the first, and one answer to its challenge: never a third).
"""
import json
from dataclasses import dataclass, field
from typing import Callable, Optional

CALLER_ID = "+27115550100"  # the agent's caller ID on the carrier trunk (allowed by allow_patterns)
NOT_ALLOWED = "+27119990000"  # outside the agent's allow_patterns


@dataclass
class Case:
    name: str
    kind: str
    expected: tuple
    source: str = "trunk"
    text: Optional[Callable] = None
    frame: Optional[Callable] = None
    method: str = ""
    ids: str = "real"
    refer_to: list = field(default_factory=list)
    target: str = ""
    invites: int = 0

    def expected_text(self):
        if self.kind in ("raw", "tcp", "dialog", "refer"):
            return "no answer (dropped)" if self.expected is None else f"{self.expected[0]} {self.expected[1]}"
        if self.expected[0] == "error":
            return f"error {self.expected[1]}"
        return "transfer ended " + " ".join(str(x) for x in self.expected[1:])


def request(ctx, method="INVITE", uri=None, via=True, drop=(), replace=None, more=(), body="", length=None):
    """A request from ctx["me"] (host:port) to the gateway: the usual headers, less those named in
    `drop`, with `replace` {name: line} swapped in and `more` lines added; Content-Length `length`
    (text) or the body's real length."""
    uri = uri or f"sip:demo@{ctx['gw']}"
    lines = {
        "Via": f"Via: SIP/2.0/UDP {ctx['me']};branch={ctx['branch']};rport",
        "Max-Forwards": "Max-Forwards: 70",
        "From": f"From: <sip:+15550001111@{ctx['me']}>;tag={ctx['tag']}",
        "To": f"To: <{uri}>",
        "Call-ID": f"Call-ID: {ctx['cid']}",
        "CSeq": f"CSeq: 1 {method}",
        "Contact": f"Contact: <sip:attacker@{ctx['me']}>",
    }
    if not via:
        drop = (*drop, "Via")
    lines.update(replace or {})
    out = [line for name, line in lines.items() if name not in drop]
    out.extend(more)
    if body:
        out.append("Content-Type: application/sdp")
    out.append(f"Content-Length: {length if length is not None else len(body.encode())}")
    return "\r\n".join([f"{method} {uri} SIP/2.0", *out]) + "\r\n\r\n" + body


def offer(ctx):
    ip = ctx["me"].split(":")[0]
    return (f"v=0\r\no=attacker 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")


def transfer(targets, headers=None):
    def build(ctx):
        msg = {"type": "transfer", "mode": "cold", "targets": [t.format(**ctx) for t in targets]}
        if headers is not None:
            msg["headers"] = headers
        return json.dumps(msg)
    return build


CASES = [
    # -- new requests ------------------------------------------------------------------------------
    Case("INVITE from outside every trunk's CIDR", "raw", (403, "Forbidden"), source="outside",
         text=lambda c: request(c, body=offer(c))),
    Case("OPTIONS from outside every trunk's CIDR", "raw", (403, "Forbidden"), source="outside",
         text=lambda c: request(c, "OPTIONS")),
    Case("INVITE for a number no agent has", "raw", (404, "Not Found"),
         text=lambda c: request(c, uri=f"sip:{NOT_ALLOWED}@{c['gw']}", body=offer(c))),
    Case("INVITE with Max-Forwards: 0", "raw", (483, "Too Many Hops"),
         text=lambda c: request(c, replace={"Max-Forwards": "Max-Forwards: 0"}, body=offer(c))),
    Case("REFER outside any dialog", "raw", (403, "Forbidden - REFER not accepted"),
         text=lambda c: request(c, "REFER", more=[f"Refer-To: <sip:{NOT_ALLOWED}@{c['gw']}>"])),
    Case("BYE with a forged Call-ID, no dialog", "raw", (481, "Call/Transaction Does Not Exist"),
         text=lambda c: request(c, "BYE")),
    Case("unknown method", "raw", (501, "Not Implemented"), text=lambda c: request(c, "HACK")),
    Case("Request-URI scheme http:", "raw", (416, "Unsupported URI Scheme"),
         text=lambda c: request(c, "OPTIONS", uri="http://127.0.0.1/")),
    # -- malformed ---------------------------------------------------------------------------------
    Case("Content-Length not a number", "raw", (400, "Bad Request - Malformed Content-Length"),
         text=lambda c: request(c, body=offer(c), length="12abc")),
    Case("Content-Length negative", "raw", (400, "Bad Request - Malformed Content-Length"),
         text=lambda c: request(c, body=offer(c), length="-1")),
    Case("Content-Length past the datagram", "raw", (400, "Bad Request - Content-Length Exceeds Datagram"),
         text=lambda c: request(c, body=offer(c), length="4000")),
    Case("two Content-Length headers", "raw", (400, "Bad Request - Multiple Content-Length"),
         text=lambda c: request(c, "OPTIONS", more=["Content-Length: 5"])),
    Case("missing Call-ID (cannot be answered)", "raw", None,
         text=lambda c: request(c, "OPTIONS", drop=("Call-ID",))),
    Case("missing CSeq (cannot be answered)", "raw", None,
         text=lambda c: request(c, "OPTIONS", drop=("CSeq",))),
    Case("missing From (cannot be answered)", "raw", None,
         text=lambda c: request(c, "OPTIONS", drop=("From",))),
    Case("CSeq method differs from the request's", "raw", (400, "Bad Request - CSeq Method Mismatch"),
         text=lambda c: request(c, "OPTIONS", replace={"CSeq": "CSeq: 1 INVITE"})),
    Case("CSeq number 2^32", "raw", (400, "Bad Request - Malformed CSeq"),
         text=lambda c: request(c, "OPTIONS", replace={"CSeq": "CSeq: 4294967296 OPTIONS"})),
    Case("headers in the Request-URI", "raw", (400, "Bad Request - Headers in Request-URI"),
         text=lambda c: request(c, "OPTIONS", uri=f"sip:demo@{c['gw']}?Route=%3Csip:evil%3E")),
    Case("300 header lines", "raw", (400, "Bad Request - Too Many Headers"),
         text=lambda c: request(c, "OPTIONS", more=[f"X-Flood-{i}: {i}" for i in range(300)])),
    Case("header name that is not a token", "raw", (400, "Bad Request - Malformed Header Name"),
         text=lambda c: request(c, "OPTIONS", more=["X Bad Name: 1"])),
    Case("no Via (cannot be answered)", "raw", None, text=lambda c: request(c, "OPTIONS", via=False)),
    Case("60 KB INVITE over UDP, under the limit, from outside", "raw", (403, "Forbidden"), source="outside",
         text=lambda c: request(c, more=[f"X-Pad-{i}: {'a' * 990}" for i in range(60)], body=offer(c))),
    Case("70 KB message over TCP, past the 64 KiB limit", "tcp", (513, "Message Too Large"),
         text=lambda c: request(c, "OPTIONS", more=[f"X-Pad-{i}: {'a' * 990}" for i in range(70)])),
    # -- the caller's dialog -----------------------------------------------------------------------
    Case("re-INVITE with forged tags", "dialog", (481, "Call/Transaction Does Not Exist"), method="INVITE",
         ids="forged"),
    Case("BYE with forged tags", "dialog", (481, "Call/Transaction Does Not Exist"), method="BYE", ids="forged"),
    Case("REFER with forged tags", "dialog", (481, "Call/Transaction Does Not Exist"), method="REFER",
         ids="forged"),
    Case("BYE with the real tags from another address", "dialog", (403, "Forbidden"), method="BYE",
         source="outside"),
    Case("re-INVITE with the real tags from another address", "dialog", (403, "Forbidden"), method="INVITE",
         source="outside"),
    Case("REFER from the caller's side (real tags)", "dialog", (403, "Forbidden - REFER not accepted"),
         method="REFER"),
    # -- the agent ---------------------------------------------------------------------------------
    Case("transfer header value with CRLF", "agent", ("error", "invalid_field"),
         frame=transfer(["Support"], {"X-Case": "42\r\nVia: SIP/2.0/UDP evil.example"})),
    Case("transfer header Via", "agent", ("error", "invalid_field"),
         frame=transfer(["Support"], {"Via": "SIP/2.0/UDP evil.example"})),
    Case("transfer header Contact", "agent", ("error", "invalid_field"),
         frame=transfer(["Support"], {"Contact": "<sip:evil@127.0.0.2>"})),
    Case("transfer header Route", "agent", ("error", "invalid_field"),
         frame=transfer(["Support"], {"Route": "<sip:127.0.0.2;lr>"})),
    Case("transfer header compact v", "agent", ("error", "invalid_field"),
         frame=transfer(["Support"], {"v": "SIP/2.0/UDP evil.example"})),
    Case("transfer header name with a colon", "agent", ("error", "invalid_field"),
         frame=transfer(["Support"], {"X-A: 1\r\nVia": "x"})),
    Case("17 transfer headers", "agent", ("error", "too_large"),
         frame=transfer(["Support"], {f"X-H{i}": str(i) for i in range(17)})),
    Case("transfer to a number outside allow_patterns", "agent",
         ("transfer ended", "failed", "number_not_allowed"), frame=transfer([NOT_ALLOWED])),
    Case("transfer to tel: outside allow_patterns", "agent",
         ("transfer ended", "failed", "number_not_allowed"), frame=transfer([f"tel:{NOT_ALLOWED}"])),
    Case("transfer to an unconfigured SIP URI at the carrier", "agent",
         ("transfer ended", "failed", "unknown_target"), frame=transfer(["sip:evil@{carrier}"])),
    Case("transfer to an allowed number with CRLF and a header", "agent",
         ("transfer ended", "failed", "unknown_target"),
         frame=transfer([CALLER_ID[:-1] + "1\r\nVia: SIP/2.0/UDP evil.example"])),
    Case("chain: allowed number then an unconfigured URI", "agent",
         ("transfer ended", "failed", "unknown_target"), frame=transfer([CALLER_ID[:-1] + "1", "sip:evil@{pbx}"])),
    # -- outbound digest (warmline never challenges inbound: trunks are trusted by source CIDR) -----
    Case("target trunk challenges again with a foreign realm", "digest", ("transfer ended", "rejected", 401),
         target="BillingRealm", invites=2),
    Case("target trunk rejects the credentials (challenges again)", "digest", ("transfer ended", "rejected", 401),
         target="BillingAgain", invites=2),
    # -- REFER from the bridged AI platform (leg b, accepts_refer_from_peer) ------------------------
    Case("Refer-To an unconfigured number at the carrier", "refer", (403, "Forbidden - Refer-To Not Configured"),
         refer_to=["<sip:{not_allowed}@{carrier}>"]),
    Case("Refer-To an unconfigured user at the PBX", "refer", (403, "Forbidden - Refer-To Not Configured"),
         refer_to=["<sip:evil@{pbx}>"]),
    Case("Refer-To tel: outside allow_patterns", "refer", (403, "Forbidden - Refer-To Not Configured"),
         refer_to=["<tel:{not_allowed}>"]),
    Case("Refer-To http:", "refer", (403, "Forbidden - Refer-To Not Configured"),
         refer_to=["<http://evil.example/>"]),
    Case("Refer-To with ?Replaces", "refer", (501, "Not Implemented - Replaces"),
         refer_to=["<sip:support@{pbx}?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>"]),
    Case("Refer-To with ?Call-Info", "refer", (403, "Forbidden - Refer-To Headers Not Accepted"),
         refer_to=["<sip:support@{pbx}?Call-Info=%3Chttp://evil.example%3E>"]),
    Case("Refer-To with %0D%0A in an embedded header", "refer", (403, "Forbidden - Refer-To Headers Not Accepted"),
         refer_to=["<sip:support@{pbx}?X-A=1%0D%0AVia:%20SIP/2.0/UDP%20evil.example>"]),
    Case("Refer-To with %0D%0A in the user part", "refer", (403, "Forbidden - Refer-To Not Configured"),
         refer_to=["<sip:{allowed}%0D%0AVia:%20evil@{carrier}>"]),
    Case("two Refer-To headers", "refer", (400, "Bad Request - More Than One Refer-To"),
         refer_to=["<sip:support@{pbx}>", "<sip:{not_allowed}@{carrier}>"]),
    Case("no Refer-To", "refer", (400, "Bad Request - Missing Refer-To"), refer_to=[]),
    Case("Refer-To not a URI", "refer", (400, "Bad Request - Malformed Refer-To"), refer_to=["<sip:support@"]),
    Case("REFER with the real ids from another address", "refer", (403, "Forbidden"),
         refer_to=["<sip:support@{pbx}>"], source="outside"),
    Case("REFER with forged tags", "refer", (481, "Call/Transaction Does Not Exist"),
         refer_to=["<sip:support@{pbx}>"], ids="forged"),
]
