// Event packages and their bodies as far as a REFER's implicit subscription needs them (RFC 3515,
// RFC 6665): the `Event: refer;id=<CSeq>` header that ties a NOTIFY to its REFER, and the status line
// of a message/sipfrag body (RFC 3420).
//
// Pure functions over untrusted text; they never throw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warmline::sip {

// `refer;id=12` -> 12; `refer` (no id: the first REFER of the dialog, RFC 3515 §2.4.6) -> 0; any other
// package, or an id that is not a number that fits in 32 bits -> nullopt.
std::optional<uint32_t> refer_event_id(std::string_view event_header);

// "SIP/2.0 486 Busy Here\r\n..." -> "Busy Here"; "" when the status line has no reason phrase.
std::string sipfrag_reason(std::string_view body);

}  // namespace warmline::sip
