// `warmline parse-sip FILE` (DESIGN.md "Command line"): parses one SIP message from a file of raw bytes.
#pragma once

#include <iosfwd>
#include <string>

namespace warmline::sip {

// Valid: prints one summary line to `out` and returns 0, e.g.
//   request INVITE sip:bob@example.com call-id=abc cseq=9 INVITE vias=2 body=150
//   response 200 OK call-id=abc cseq=9 INVITE vias=1 body=0
// with " uas=<status> <reason>" appended when a UAS with the default UasCapabilities would still refuse
// the request (501, 405, 416, 420, 415, 406).
// Invalid: prints "<status> <reason>" (e.g. "400 Bad Request - Malformed CSeq", "505 Version Not
// Supported"), or "drop: <why>" for a response that must be discarded, to `out`; returns 1.
// Unreadable file: a message on `err`, returns 2.
int parse_sip_command(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace warmline::sip
