#include "sip/auth/digest_hash.hpp"

#include <openssl/evp.h>

#include <array>
#include <initializer_list>
#include <utility>

#include "sip/message.hpp"

namespace warmline::sip::auth {

namespace {

constexpr std::array<std::pair<DigestAlgorithm, std::string_view>, 6> kNames{{
    {DigestAlgorithm::kMd5, "MD5"},
    {DigestAlgorithm::kMd5Sess, "MD5-sess"},
    {DigestAlgorithm::kSha256, "SHA-256"},
    {DigestAlgorithm::kSha256Sess, "SHA-256-sess"},
    {DigestAlgorithm::kSha512_256, "SHA-512-256"},
    {DigestAlgorithm::kSha512_256Sess, "SHA-512-256-sess"},
}};

const EVP_MD* evp_for(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kMd5:
    case DigestAlgorithm::kMd5Sess:
      return EVP_md5();
    case DigestAlgorithm::kSha256:
    case DigestAlgorithm::kSha256Sess:
      return EVP_sha256();
    case DigestAlgorithm::kSha512_256:
    case DigestAlgorithm::kSha512_256Sess:
      return EVP_sha512_256();  // SHA-512/256 (FIPS 180-4), not SHA-512 truncated: RFC 7616 §3.2
  }
  return nullptr;
}

std::string to_hex(const unsigned char* data, unsigned int size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0x0f]);
  }
  return out;
}

// Joins the parts with ':' (the separator of every digest hash input).
std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) out.push_back(':');
    out += p;
    first = false;
  }
  return out;
}

}  // namespace

std::string_view algorithm_name(DigestAlgorithm algorithm) {
  for (const auto& [a, name] : kNames)
    if (a == algorithm) return name;
  return "MD5";
}

std::optional<DigestAlgorithm> algorithm_from_name(std::string_view name) {
  for (const auto& [a, n] : kNames)
    if (iequals(n, name)) return a;
  return std::nullopt;
}

int algorithm_strength(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kMd5:
    case DigestAlgorithm::kMd5Sess:
      return 1;
    case DigestAlgorithm::kSha256:
    case DigestAlgorithm::kSha256Sess:
      return 2;
    case DigestAlgorithm::kSha512_256:
    case DigestAlgorithm::kSha512_256Sess:
      return 3;
  }
  return 0;
}

bool is_session_algorithm(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kMd5Sess || algorithm == DigestAlgorithm::kSha256Sess ||
         algorithm == DigestAlgorithm::kSha512_256Sess;
}

std::optional<std::string> hash_hex(DigestAlgorithm algorithm, std::string_view data) {
  const EVP_MD* md = evp_for(algorithm);
  if (md == nullptr) return std::nullopt;
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, md, nullptr) != 1) return std::nullopt;
  return to_hex(out.data(), size);
}

std::string_view qop_name(Qop qop) {
  switch (qop) {
    case Qop::kNone: return "";
    case Qop::kAuth: return "auth";
    case Qop::kAuthInt: return "auth-int";
  }
  return "";
}

std::string format_nonce_count(uint32_t nc) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i, nc >>= 4) out[static_cast<size_t>(i)] = kHex[nc & 0x0f];
  return out;
}

std::optional<std::string> compute_response(const DigestInput& in) {
  const DigestAlgorithm alg = in.algorithm;
  auto ha1 = hash_hex(alg, join({in.username, in.realm, in.password}));
  if (!ha1) return std::nullopt;
  if (is_session_algorithm(alg)) {
    ha1 = hash_hex(alg, join({*ha1, in.nonce, in.cnonce}));
    if (!ha1) return std::nullopt;
  }

  std::optional<std::string> ha2;
  if (in.qop == Qop::kAuthInt) {
    std::optional<std::string> body_hash =
        in.body_hash.empty() ? hash_hex(alg, in.body) : std::optional<std::string>(in.body_hash);
    if (!body_hash) return std::nullopt;
    ha2 = hash_hex(alg, join({in.method, in.uri, *body_hash}));
  } else {
    ha2 = hash_hex(alg, join({in.method, in.uri}));
  }
  if (!ha2) return std::nullopt;

  if (in.qop == Qop::kNone) return hash_hex(alg, join({*ha1, in.nonce, *ha2}));
  const std::string nc = format_nonce_count(in.nc);
  return hash_hex(alg, join({*ha1, in.nonce, nc, in.cnonce, qop_name(in.qop), *ha2}));
}

}  // namespace warmline::sip::auth
