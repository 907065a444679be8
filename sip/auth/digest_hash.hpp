// The digest algorithms (RFC 7616 §3.4, RFC 8760 for SIP) and the response computation, as pure
// functions over strings. The hashes come from OpenSSL's EVP interface; nothing here keeps state, so
// any shard may call it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warmline::sip::auth {

enum class DigestAlgorithm {
  kMd5,
  kMd5Sess,
  kSha256,
  kSha256Sess,
  kSha512_256,
  kSha512_256Sess,
};

// The name on the wire: "MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess".
std::string_view algorithm_name(DigestAlgorithm algorithm);
// Case-insensitive; nullopt for an algorithm we do not implement.
std::optional<DigestAlgorithm> algorithm_from_name(std::string_view name);
// Higher is stronger, for RFC 7616 §3.7 (a client uses the strongest challenge it understands):
// SHA-512-256 > SHA-256 > MD5; the -sess variant ranks with its hash.
int algorithm_strength(DigestAlgorithm algorithm);
bool is_session_algorithm(DigestAlgorithm algorithm);

// Lower-case hex of the algorithm's hash of `data` (MD5: 32 digits, the SHA-2 ones: 64); nullopt when
// libcrypto refuses (an MD5 request under a FIPS-only provider).
std::optional<std::string> hash_hex(DigestAlgorithm algorithm, std::string_view data);

enum class Qop {
  kNone,     // no qop in the challenge: the RFC 2069 form that RFC 3261 §22.4 still asks clients to answer
  kAuth,
  kAuthInt,  // integrity of the body too: A2 includes H(entity-body)
};

std::string_view qop_name(Qop qop);  // "" for kNone

// Everything one response value depends on. Views must outlive the call.
struct DigestInput {
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  std::string_view username;  // the real username, also when the header sends H(username:realm)
  std::string_view password;
  std::string_view realm;     // unquoted
  std::string_view nonce;     // unquoted
  std::string_view method;    // "INVITE", "REFER", ...
  std::string_view uri;       // the digest-uri: the Request-URI exactly as sent
  Qop qop = Qop::kAuth;
  uint32_t nc = 1;            // ignored for Qop::kNone
  std::string_view cnonce;    // ignored for Qop::kNone
  std::string_view body;      // Qop::kAuthInt only: the message body
  // Qop::kAuthInt only: H(entity-body) in hex when the caller already has it; empty = hash `body`.
  std::string_view body_hash;
};

// The `response` value (RFC 7616 §3.4.1): H(H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2)), or
// H(H(A1) ":" nonce ":" H(A2)) without qop; A1 with -sess is H(user:realm:password) ":" nonce ":" cnonce.
// nullopt only when the hash is unavailable.
std::optional<std::string> compute_response(const DigestInput& input);

// nc as it goes on the wire: 8 lower-case hex digits ("00000001").
std::string format_nonce_count(uint32_t nc);

}  // namespace warmline::sip::auth
