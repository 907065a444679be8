// Transaction matching keys: RFC 3261 §17.1.3 (responses to client transactions) and §17.2.3
// (requests to server transactions). Keys are strings so the layer can index transactions in an
// unordered_map; an empty key means "cannot be matched" (no Via) and the message is dropped.
#pragma once

#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace warmline::sip::transaction {

// §17.1.3: the top Via branch, plus the CSeq method (a CANCEL shares its INVITE's branch).
std::string client_key(const Message& message);

// §17.2.3: branch + sent-by + method, where an ACK matches its INVITE. Without the z9hG4bK cookie
// (RFC 2543 peers) the key falls back to Call-ID, From tag, CSeq number, sent-by and branch, which
// still lets the ACK for a non-2xx response find its INVITE (its To tag differs, so To is left out).
std::string server_key(const Message& request);
// The same key, computed as if the request had method `method` (a CANCEL looking for its INVITE, §9.2).
std::string server_key_as(const Message& request, std::string_view method);

}  // namespace warmline::sip::transaction
