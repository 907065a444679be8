// SIP message parser (RFC 3261 §7, §25) over one UDP datagram.
//
// Thread: pure function, no state; called on the shard that received the datagram.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace warmline::sip {

// Explicit input limits: exceeding one is answered (513 / 400), never truncated.
struct ParseLimits {
  size_t max_message_size = 65536;  // bytes of the whole datagram -> 513 Message Too Large
  size_t max_headers = 256;         // header lines after unfolding -> 400 Bad Request - Too Many Headers
};

struct ParseResult {
  std::optional<Message> message;  // set only when the message is well-formed
  int status = 0;                  // on failure: what a UAS answers (400, 505, 513)
  std::string reason;              // on failure: the reason phrase, e.g. "Bad Request - Malformed CSeq"
  bool drop = false;               // on failure: true when nothing may be sent back (a malformed response)

  bool ok() const { return message.has_value(); }
};

// Parses one datagram. Typed fields are validated (From, To, Call-ID, CSeq and at least one Via are
// mandatory; a request's CSeq method must equal its method). Content-Length governs the body: octets
// after it are ignored (RFC 4475 dblreq), a length beyond the datagram is a 400 (clerr), no
// Content-Length means the rest of the datagram. Leading CRLFs (keep-alives) are skipped (§7.5).
ParseResult parse_message(std::string_view datagram, const ParseLimits& limits = {});

// The status code of a message/sipfrag body (RFC 3420), e.g. "SIP/2.0 180 Ringing\r\n...": the
// first line must be a status line; CRLF and headers after it are optional. nullopt otherwise.
std::optional<int> parse_sipfrag_status(std::string_view body);

}  // namespace warmline::sip
