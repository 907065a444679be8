// The messages of a registration (RFC 3261 §10.2): the REGISTER a UA sends for one address-of-record,
// and what it reads back from the registrar's answers (the expiry granted, §10.2.4; Min-Expires of a
// 423, §10.3 step 7). Pure functions over values; no I/O. The state machine is register_client.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sip/message.hpp"

namespace warmline::sip {

struct RegisterRequestFields {
  std::string call_id;  // the same for every REGISTER of this binding (§10.2)
  Uri registrar;        // Request-URI: the registrar's domain, no user part (§10.2)
  NameAddr aor;         // To, and From with `from_tag` (a third-party registration is not supported)
  std::string from_tag;
  NameAddr contact;     // our Contact (where requests for the AOR reach us)
  uint32_t cseq = 1;    // one more for each REGISTER with the same Call-ID (§10.2)
  uint32_t expires = 3600;  // Expires header; 0 removes the binding (§10.2.2)
};

// §10.2: Request-URI, To (no tag), From (tag), Call-ID, CSeq REGISTER, Max-Forwards 70, one Contact,
// Expires. The Via is added by the transaction layer.
Message make_register(const RegisterRequestFields& fields);

// The seconds a 2xx to our REGISTER grants `contact` (§10.2.4): the expires parameter of the Contact
// in the 2xx that matches ours (URI comparison, §19.1.4) or, when the 2xx lists a single Contact that
// does not match (a registrar that rewrote ours), that one's; else the 2xx's Expires header. nullopt when
// the 2xx says neither (the caller keeps what it asked for). Values above 2^32-1 read as 2^32-1
// (§20.19).
std::optional<uint32_t> granted_expires(const Message& response, const NameAddr& contact);

// The Min-Expires value of a 423 Interval Too Brief (§20.23), or nullopt when absent or malformed.
std::optional<uint32_t> min_expires(const Message& response);

}  // namespace warmline::sip
