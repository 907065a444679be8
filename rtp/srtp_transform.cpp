// SrtpTransform on libcrypto: AES-128-CTR and AES-128-GCM EVP contexts keyed once, HMAC-SHA1 from two
// SHA-1 states precomputed once. The SHA1_* calls are deprecated in OpenSSL 3.0, but they are the
// allocation-free way there: on 3.0 (bookworm's 3.0.19) copying a keyed EVP_MD_CTX (EVP_MD_CTX_copy_ex,
// which HMAC_Init_ex with the key kept runs too) duplicates the provider's context, two allocator calls
// per copy (tests/alloc/srtp_alloc_test.cpp prints it), and EVP_MAC_CTX_dup allocates a context too.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "rtp/srtp_transform.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <climits>

#include "rtp/srtp_kdf.hpp"
#include "rtp/srtp_replay.hpp"

namespace warmline::rtp {
namespace {

constexpr size_t kRtpHeader = 12;
constexpr size_t kMaxMki = 128;
constexpr size_t kGcmTag = 16;
constexpr size_t kSha1 = 20;
constexpr size_t kSha1Block = 64;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t load32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}

// The length of the RTP header, CSRCs and extension included (RFC 3550 §5.1, §5.3.1); 0 when it does
// not fit in `length`.
size_t header_length(const uint8_t* p, size_t length) {
  if (length < kRtpHeader) return 0;
  size_t n = kRtpHeader + 4 * static_cast<size_t>(p[0] & 0x0f);
  if (p[0] & 0x10) {
    if (n + 4 > length) return 0;
    n += 4 + 4 * (static_cast<size_t>(p[n + 2]) << 8 | p[n + 3]);
  }
  return n <= length ? n : 0;
}

}  // namespace

struct SrtpTransform::State {
  SrtpProfile profile = SrtpProfile::kAesCm128HmacSha1_80;
  Direction direction = Direction::kOutbound;
  bool gcm = false;
  size_t tag = 0;
  size_t mki_length = 0;
  std::array<uint8_t, kMaxMki> mki{};
  std::array<uint8_t, 14> salt{};  // session salt: 14 bytes (AES-CM), the first 12 (GCM)
  CipherCtx cipher{nullptr, EVP_CIPHER_CTX_free};
  SHA_CTX inner{};  // SHA-1 after (auth key XOR ipad), RFC 2104
  SHA_CTX outer{};  // SHA-1 after (auth key XOR opad)
  SrtpReplayTable streams;

  ~State() {
    OPENSSL_cleanse(salt.data(), salt.size());
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
  }

  // RFC 3711 §4.2.1: HMAC-SHA1 over the authenticated portion and the ROC, truncated to `tag` bytes.
  void hmac(const uint8_t* data, size_t length, uint32_t roc, uint8_t* out) const {
    const uint8_t roc_be[4] = {static_cast<uint8_t>(roc >> 24), static_cast<uint8_t>(roc >> 16),
                               static_cast<uint8_t>(roc >> 8), static_cast<uint8_t>(roc)};
    uint8_t md[kSha1];
    SHA_CTX c = inner;
    SHA1_Update(&c, data, length);
    SHA1_Update(&c, roc_be, sizeof roc_be);
    SHA1_Final(md, &c);
    c = outer;
    SHA1_Update(&c, md, sizeof md);
    SHA1_Final(md, &c);
    std::copy(md, md + tag, out);
    OPENSSL_cleanse(&c, sizeof c);
    OPENSSL_cleanse(md, sizeof md);
  }

  std::array<uint8_t, 16> iv(uint32_t ssrc, uint64_t index) const {
    return gcm ? srtp_gcm_iv(salt, ssrc, index) : srtp_aes_cm_iv(salt, ssrc, index);
  }

  // AES-CM (de)encryption of `n` bytes in place: a new counter block on the context keyed once.
  bool aes_cm(const std::array<uint8_t, 16>& counter, uint8_t* data, size_t n) {
    int out = 0;
    return EVP_EncryptInit_ex(cipher.get(), nullptr, nullptr, nullptr, counter.data()) == 1 &&
           EVP_EncryptUpdate(cipher.get(), data, &out, data, static_cast<int>(n)) == 1;
  }

  bool key_aes_cm(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt) {
    std::array<uint8_t, 16> key{};
    std::array<uint8_t, kSha1Block> auth{};
    bool ok = srtp_derive_key(master_key, master_salt, kSrtpLabelCipherKey, key) &&
              srtp_derive_key(master_key, master_salt, kSrtpLabelAuthKey, std::span(auth.data(), kSha1)) &&
              srtp_derive_key(master_key, master_salt, kSrtpLabelSalt, salt);
    ok = ok && EVP_EncryptInit_ex(cipher.get(), EVP_aes_128_ctr(), nullptr, key.data(), nullptr) == 1;
    // The 20-byte key is zero-padded to SHA-1's block (RFC 2104 §2), then XORed with ipad and opad.
    std::array<uint8_t, kSha1Block> pad{};
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = auth[i] ^ 0x36;
    ok = ok && SHA1_Init(&inner) == 1 && SHA1_Update(&inner, pad.data(), pad.size()) == 1;
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = auth[i] ^ 0x5c;
    ok = ok && SHA1_Init(&outer) == 1 && SHA1_Update(&outer, pad.data(), pad.size()) == 1;
    OPENSSL_cleanse(key.data(), key.size());
    OPENSSL_cleanse(auth.data(), auth.size());
    OPENSSL_cleanse(pad.data(), pad.size());
    return ok;
  }

  bool key_gcm(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt) {
    std::array<uint8_t, 16> key{};
    bool ok = srtp_derive_key(master_key, master_salt, kSrtpLabelCipherKey, key) &&
              srtp_derive_key(master_key, master_salt, kSrtpLabelSalt, std::span(salt.data(), 12));
    ok = ok && (direction == Direction::kOutbound
                    ? EVP_EncryptInit_ex(cipher.get(), EVP_aes_128_gcm(), nullptr, key.data(), nullptr)
                    : EVP_DecryptInit_ex(cipher.get(), EVP_aes_128_gcm(), nullptr, key.data(), nullptr)) == 1;
    OPENSSL_cleanse(key.data(), key.size());
    return ok;
  }
};

std::unique_ptr<SrtpTransform> SrtpTransform::create(const SrtpKeys& keys, Direction direction, std::string& error) {
  const bool gcm = keys.profile == SrtpProfile::kAeadAes128Gcm;
  if (keys.key_salt.size() != (gcm ? 28u : 30u)) return error = "SRTP key has the wrong length", nullptr;
  if (keys.mki.size() > kMaxMki) return error = "SRTP MKI longer than 128 bytes", nullptr;
  auto s = std::make_unique<State>();
  s->profile = keys.profile;
  s->direction = direction;
  s->gcm = gcm;
  s->tag = gcm ? kGcmTag : keys.profile == SrtpProfile::kAesCm128HmacSha1_32 ? 4 : 10;
  s->mki_length = keys.mki.size();
  std::copy(keys.mki.begin(), keys.mki.end(), s->mki.begin());
  s->cipher.reset(EVP_CIPHER_CTX_new());
  const auto master_key = keys.key_salt.first(16);
  const auto master_salt = keys.key_salt.subspan(16);
  if (!s->cipher || !(gcm ? s->key_gcm(master_key, master_salt) : s->key_aes_cm(master_key, master_salt)))
    return error = "OpenSSL refused the SRTP keys", nullptr;
  return std::unique_ptr<SrtpTransform>(new SrtpTransform(std::move(s)));
}

SrtpTransform::SrtpTransform(std::unique_ptr<State> state) : state_(std::move(state)) {}
SrtpTransform::~SrtpTransform() = default;

size_t SrtpTransform::overhead() const { return state_->tag + state_->mki_length; }

SrtpResult SrtpTransform::protect(std::span<uint8_t> buffer, size_t& length) {
  State& s = *state_;
  if (s.direction != Direction::kOutbound) return SrtpResult::kError;
  if (length > buffer.size() || length > INT_MAX - overhead()) return SrtpResult::kMalformed;
  uint8_t* p = buffer.data();
  const size_t header = header_length(p, length);
  if (header == 0) return SrtpResult::kMalformed;
  if (buffer.size() - length < overhead()) return SrtpResult::kBufferTooSmall;
  const uint32_t ssrc = load32(p + 8);
  const auto verdict = s.streams.check(ssrc, load16(p + 2));
  if (verdict.check != SrtpReplayTable::Check::kOk) return SrtpResult::kReplayed;  // never reuse an index
  if (verdict.full) return SrtpResult::kError;
  const auto iv = s.iv(ssrc, verdict.index);
  if (s.gcm) {
    EVP_CIPHER_CTX* c = s.cipher.get();
    int out = 0;
    int final_out = 0;
    if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, iv.data()) != 1 ||
        EVP_EncryptUpdate(c, nullptr, &out, p, static_cast<int>(header)) != 1 ||
        EVP_EncryptUpdate(c, p + header, &out, p + header, static_cast<int>(length - header)) != 1 ||
        EVP_EncryptFinal_ex(c, p + header + out, &final_out) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTag), p + length) != 1)
      return SrtpResult::kError;
    std::copy(s.mki.begin(), s.mki.begin() + s.mki_length, p + length + kGcmTag);
  } else {
    if (!s.aes_cm(iv, p + header, length - header)) return SrtpResult::kError;
    std::copy(s.mki.begin(), s.mki.begin() + s.mki_length, p + length);
    s.hmac(p, length, static_cast<uint32_t>(verdict.index >> 16), p + length + s.mki_length);
  }
  s.streams.commit(ssrc, verdict, false);
  length += overhead();
  return SrtpResult::kOk;
}

SrtpResult SrtpTransform::unprotect(std::span<uint8_t> buffer, size_t& length) {
  State& s = *state_;
  if (s.direction != Direction::kInbound) return SrtpResult::kError;
  if (length > buffer.size() || length > INT_MAX || length < kRtpHeader + overhead()) return SrtpResult::kMalformed;
  uint8_t* p = buffer.data();
  const size_t body = length - overhead();  // header || encrypted payload
  const size_t header = header_length(p, body);
  if (header == 0) return SrtpResult::kMalformed;
  const uint8_t* mki = p + (s.gcm ? body + kGcmTag : body);
  const uint8_t* tag = p + (s.gcm ? body : body + s.mki_length);
  if (s.mki_length != 0 && CRYPTO_memcmp(mki, s.mki.data(), s.mki_length) != 0) return SrtpResult::kBadMki;
  const uint32_t ssrc = load32(p + 8);
  const auto verdict = s.streams.check(ssrc, load16(p + 2));
  if (verdict.check != SrtpReplayTable::Check::kOk) return SrtpResult::kReplayed;
  const auto iv = s.iv(ssrc, verdict.index);
  if (s.gcm) {
    // The tag is given before Final, which checks it; the bytes decrypted before are unspecified on failure.
    EVP_CIPHER_CTX* c = s.cipher.get();
    int out = 0;
    int final_out = 0;
    if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, iv.data()) != 1 ||
        EVP_DecryptUpdate(c, nullptr, &out, p, static_cast<int>(header)) != 1 ||
        EVP_DecryptUpdate(c, p + header, &out, p + header, static_cast<int>(body - header)) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTag), const_cast<uint8_t*>(tag)) != 1)
      return SrtpResult::kError;
    if (EVP_DecryptFinal_ex(c, p + header + out, &final_out) != 1) return SrtpResult::kAuthFailed;
  } else {
    uint8_t expected[kSha1];
    s.hmac(p, body, static_cast<uint32_t>(verdict.index >> 16), expected);
    if (CRYPTO_memcmp(expected, tag, s.tag) != 0) return SrtpResult::kAuthFailed;
    if (!s.aes_cm(iv, p + header, body - header)) return SrtpResult::kError;
  }
  s.streams.commit(ssrc, verdict, true);
  length = body;
  return SrtpResult::kOk;
}

}  // namespace warmline::rtp
