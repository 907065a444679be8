#include "sip/auth/digest_error.hpp"

#include <string>

namespace warmline::sip::auth {

std::string_view to_string(DigestError error) {
  switch (error) {
    case DigestError::kNone: return "ok";
    case DigestError::kNoChallenge: return "no digest challenge in the response";
    case DigestError::kMalformed: return "malformed challenge";
    case DigestError::kNotDigest: return "no Digest scheme among the challenges";
    case DigestError::kMissingRealm: return "challenge without realm";
    case DigestError::kMissingNonce: return "challenge without nonce";
    case DigestError::kUnsupportedAlgorithm: return "unsupported digest algorithm";
    case DigestError::kUnsupportedQop: return "unsupported qop";
    case DigestError::kRealmMismatch: return "challenge for another realm";
    case DigestError::kCredentialsRejected: return "credentials rejected";
    case DigestError::kStaleRepeated: return "stale nonce again after a stale retry";
    case DigestError::kInvalidInput: return "value cannot be sent in a digest header";
    case DigestError::kHashFailed: return "hash function unavailable";
  }
  return "unknown digest error";
}

namespace {

class DigestCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sip-digest"; }
  std::string message(int value) const override { return std::string(to_string(static_cast<DigestError>(value))); }
};

}  // namespace

const std::error_category& digest_category() {
  static const DigestCategory category;  // stateless and immutable: safe to share between shards
  return category;
}

std::error_code make_error_code(DigestError error) {
  return {static_cast<int>(error), digest_category()};
}

}  // namespace warmline::sip::auth
