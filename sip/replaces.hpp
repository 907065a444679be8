// The Replaces header (RFC 3891) as warmline uses it: embedded in the Refer-To of an attended
// transfer (RFC 5589 §7), it names the dialog the referred party's INVITE is to take over.
//
// Pure functions; they never throw.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sip/dialog.hpp"
#include "sip/message.hpp"

namespace warmline::sip {

// RFC 3891 §3: `callid;to-tag=...;from-tag=...`. The tags are seen from the UA that holds the dialog
// and receives the INVITE with Replaces: its to-tag is that UA's own (local) tag, its from-tag its peer's.
std::string replaces_value(std::string_view call_id, std::string_view to_tag, std::string_view from_tag);

// RFC 3261 §19.1.1/§25.1: a URI header value (hvalue): unreserved and hnv-unreserved characters as
// they are, every other octet %XX (so ';', '=', '@' and '%' itself are escaped).
std::string escape_header_value(std::string_view value);

// The Refer-To URI that makes the referred party join the far end of `dialog` (one of ours, whose
// far end is reached at `target`, its remote target): `target` without headers of its own, with
// `?Replaces=<our dialog as the far end sees it, escaped>`. The far end's to-tag is our remote tag,
// its from-tag ours.
Uri replaces_target(const Uri& target, const DialogId& dialog);

// A received Replaces header value (RFC 3891 §6.1): the dialog it names as the receiving UA keys its
// own (local tag = to-tag, remote tag = from-tag). nullopt unless it is a Call-ID with exactly one
// non-empty to-tag and from-tag (other parameters, early-only included, are allowed); never throws.
std::optional<DialogId> parse_replaces(std::string_view value);

}  // namespace warmline::sip
