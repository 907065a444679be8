// Reading digest challenges (RFC 7616 §3.3, RFC 3261 §22.1, §25.1 `challenge`) from 401/407
// responses, and the shared auth-header grammar that also reads our own Authorization values back.
//
// Thread: pure functions, no state. Input is untrusted network text: every failure is an error value,
// nothing here throws or asserts on input.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/auth/digest_error.hpp"
#include "sip/auth/digest_hash.hpp"
#include "sip/message.hpp"

namespace warmline::sip::auth {

// `name=value`; a quoted value is stored unquoted and unescaped (`"a\"b"` -> a"b).
struct AuthParam {
  std::string name;
  std::string value;
  bool quoted = false;
};

// One challenge (or one credentials value): `scheme` and its parameters, or, for schemes such as
// Negotiate, a token68 blob instead of parameters.
struct AuthElement {
  std::string scheme;
  std::vector<AuthParam> params;
  std::string token68;

  const AuthParam* param(std::string_view name) const;  // case-insensitive; nullptr when absent
};

// Parses a WWW-Authenticate, Proxy-Authenticate, Authorization or Proxy-Authorization value, which
// may hold several comma-separated challenges (RFC 7235 §4.1). Parameters may come in any order,
// names are case-insensitive, commas inside quoted strings are data, empty list elements are
// skipped. nullopt when malformed: unbalanced quotes, a parameter before any scheme, a name given
// twice in one element, a value with junk after it, a token68 followed by parameters.
std::optional<std::vector<AuthElement>> parse_auth_elements(std::string_view value);

// One Digest challenge, interpreted and checked to be answerable.
struct DigestChallenge {
  std::string realm;                  // may be empty ("" is a realm too)
  std::string nonce;                  // never empty
  std::optional<std::string> opaque;  // echoed unchanged when present
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;  // MD5 when the challenge names none
  // What we answer with: "auth" when offered, else "auth-int" (then the request body is hashed),
  // kNone when the challenge has no qop (RFC 2069 form).
  Qop qop = Qop::kNone;
  bool stale = false;                 // stale=true: the nonce expired, the credentials were right
  bool userhash = false;              // RFC 7616 §3.4.4: send H(username:realm) as the username
  std::vector<std::string> domain;    // the URIs of `domain`, as given; informational
  bool proxy = false;                 // from Proxy-Authenticate (a 407)
};

struct ChallengeParse {
  std::optional<DigestChallenge> challenge;  // set when usable
  DigestError error = DigestError::kNone;    // why not, otherwise
};

// Interprets one parsed element: kNotDigest for another scheme, kMissingRealm / kMissingNonce,
// kUnsupportedAlgorithm (an unknown name, or a -sess algorithm without qop, which has no cnonce to
// hash), kUnsupportedQop (a qop list with neither auth nor auth-int), kMalformed (a token68 form).
ChallengeParse interpret_digest_challenge(const AuthElement& element);

// The challenge to answer in a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) response: over
// every header line of that name and every challenge in each, the usable Digest challenge with the
// strongest algorithm (RFC 7616 §3.7), the first listed on a tie. RFC 8760 §2.4 would take the topmost
// supported one "unless a local policy dictates otherwise"; strongest-first is that local policy,
// because challenges are not integrity-protected and whoever can reorder them on the path could
// otherwise make us answer with MD5 (the downgrade of RFC 8760 §3). `realm` non-empty keeps only that
// realm's challenges (kRealmMismatch when the others were usable). A header line that does not parse
// is skipped if another line has a usable challenge. When none is usable, the error says why, most
// specific first: kRealmMismatch, then the first per-challenge error (kUnsupportedAlgorithm, ...),
// kMalformed, kNotDigest, kNoChallenge (no such header, or a status other than 401/407).
ChallengeParse select_challenge(const Message& response, std::string_view realm = {});

// The header that carries a challenge / the answer, for a response status (401 or 407).
std::string_view challenge_header_name(int status);      // "WWW-Authenticate" / "Proxy-Authenticate"
std::string_view credentials_header_name(bool proxy);    // "Authorization" / "Proxy-Authorization"

}  // namespace warmline::sip::auth
