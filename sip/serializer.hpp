// SIP message serializer (RFC 3261 §7).
//
// Order on the wire: start line; typed headers (Via, Max-Forwards, Route, Record-Route, From, To,
// Call-ID, CSeq, Contact, Content-Type); then `headers` in order; then Content-Length, always derived
// from `body`. Each Via, Route, Record-Route and Contact value gets its own header line. Unset typed
// fields (empty From/To URI scheme, empty Call-ID, empty CSeq method, empty Content-Type) are omitted.
#pragma once

#include <string>

#include "sip/message.hpp"

namespace warmline::sip {

std::string serialize(const Message& message);

// Appends to `out` (a buffer the caller reuses, so a warm buffer does not allocate).
void serialize_to(const Message& message, std::string& out);

}  // namespace warmline::sip
