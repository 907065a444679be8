#pragma once
// JSON string escaping for the frames warmline writes to agents (RFC 8259 §7).
//
// Strings come from untrusted places (SIP headers, display names, agent ids), so the writer must
// produce valid JSON for any byte sequence: quotes, backslashes and control characters are escaped,
// and invalid UTF-8 is replaced with U+FFFD rather than copied (a JSON text must be UTF-8, and an agent
// whose parser rejects the frame would lose the whole event).

#include <string>
#include <string_view>

namespace warmline::ai {

// Appends `s` to `out` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

}  // namespace warmline::ai
