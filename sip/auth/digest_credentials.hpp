// Building the Authorization / Proxy-Authorization value that answers one digest challenge
// (RFC 7616 §3.4, RFC 3261 §22.2, §22.3), as a pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sip/auth/digest_challenge.hpp"
#include "sip/auth/digest_error.hpp"

namespace warmline::sip::auth {

// What a trunk or a target configures. The password never leaves this process: only hashes of it go
// on the wire.
struct DigestCredentials {
  std::string username;
  std::string password;
};

// The request being authorized.
struct AuthorizationInput {
  std::string_view method;   // the request's method; "ACK"/"CANCEL" are the caller's business (§22.1)
  std::string_view uri;      // the Request-URI exactly as it goes on the wire
  std::string_view body;     // hashed only when the challenge's qop is auth-int
  uint32_t nc = 1;           // nonce count, 1 for the first use of a nonce
  std::string_view cnonce;   // client nonce: random, from the caller (so tests can fix it)
};

struct BuiltAuthorization {
  std::string value;                        // "Digest username=..., ..." when ok()
  DigestError error = DigestError::kNone;   // kInvalidInput or kHashFailed otherwise
  bool ok() const { return error == DigestError::kNone; }
};

// The credentials value, parameters in this order:
//   Digest username="…", realm="…", nonce="…", uri="…", response="…", algorithm=…,
//   cnonce="…", opaque="…", qop=auth, nc=00000001, userhash=true
// cnonce/qop/nc only when the challenge has a qop; opaque only when it had one; userhash=true (and
// username = H(username ":" realm)) only when the challenge asked for it. Quoted values are escaped
// (`"` and `\`). kInvalidInput when a value cannot be sent at all: CR or LF in the username, realm,
// nonce, opaque or URI; a method that is not a token; an empty URI; a cnonce that is empty or not
// visible ASCII without '"' and '\'.
BuiltAuthorization build_authorization(const DigestChallenge& challenge, const DigestCredentials& credentials,
                                       const AuthorizationInput& input);

}  // namespace warmline::sip::auth
