// Why a digest challenge could not be answered (RFC 7616, RFC 3261 §22), as a std::error_code.
//
// Every value other than kNone means "do not retry the request": a caller maps them all to the
// transfer result `rejected` ("401/407 that our credentials cannot satisfy", DESIGN.md). The
// distinction is for logs and metrics.
#pragma once

#include <string_view>
#include <system_error>

namespace warmline::sip::auth {

enum class DigestError {
  kNone = 0,
  kNoChallenge,            // not a 401/407, or no WWW-Authenticate / Proxy-Authenticate in it
  kMalformed,              // a challenge header that does not follow the grammar
  kNotDigest,              // only other schemes (Basic, Bearer, ...)
  kMissingRealm,           // a Digest challenge without realm
  kMissingNonce,           // a Digest challenge without nonce
  kUnsupportedAlgorithm,   // an algorithm we do not implement (or -sess without qop)
  kUnsupportedQop,         // a qop list with neither "auth" nor "auth-int"
  kRealmMismatch,          // the challenges are for another realm than these credentials
  kCredentialsRejected,    // challenged again, not stale, after we answered: wrong username/password
  kStaleRepeated,          // stale=true again right after the one stale retry: the server loops
  kInvalidInput,           // a username, password, URI or method that cannot go into the header
  kHashFailed,             // libcrypto refused the hash (e.g. MD5 in a FIPS-only build)
};

std::string_view to_string(DigestError error);

const std::error_category& digest_category();
std::error_code make_error_code(DigestError error);

}  // namespace warmline::sip::auth

template <>
struct std::is_error_code_enum<warmline::sip::auth::DigestError> : std::true_type {};
