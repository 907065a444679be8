// RFC 3711 §4.1.1, §4.3.1 and §4.3.3 on OpenSSL's AES-128-CTR; RFC 7714 §8.1 and §11.
#include "rtp/srtp_kdf.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <memory>

namespace warmline::rtp {
namespace {

// XORs `ssrc` into out[at..at+3] and the 48-bit `index` (ROC || SEQ) into out[at+4..at+9].
void xor_ssrc_index(std::array<uint8_t, 16>& out, size_t at, uint32_t ssrc, uint64_t index) {
  for (size_t i = 0; i < 4; ++i) out[at + i] ^= static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  for (size_t i = 0; i < 6; ++i) out[at + 4 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));
}

}  // namespace

bool srtp_aes_cm_keystream(std::span<const uint8_t> key, const std::array<uint8_t, 16>& iv, std::span<uint8_t> out) {
  std::fill(out.begin(), out.end(), 0);
  if (key.size() != 16 || out.size() > INT_MAX) return false;
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int written = 0;
  // The keystream is the encryption of zeros, in place.
  const bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, key.data(), iv.data()) == 1 &&
                  EVP_EncryptUpdate(ctx.get(), out.data(), &written, out.data(), static_cast<int>(out.size())) == 1 &&
                  static_cast<size_t>(written) == out.size();
  if (!ok) OPENSSL_cleanse(out.data(), out.size());
  return ok;
}

bool srtp_derive_key(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt, uint8_t label,
                     std::span<uint8_t> out) {
  if (master_key.size() != 16 || (master_salt.size() != 14 && master_salt.size() != 12) || out.size() > 64) {
    std::fill(out.begin(), out.end(), 0);
    return false;
  }
  // x = key_id XOR master_salt, key_id = label || r (r: 48 bits, 0 at rate 0), so the label lands on the
  // salt's eighth byte; the PRF's counter block is x * 2^16 (§4.3.3). GCM's salt is padded on the right.
  std::array<uint8_t, 16> iv{};
  std::copy(master_salt.begin(), master_salt.end(), iv.begin());
  iv[7] ^= label;
  const bool ok = srtp_aes_cm_keystream(master_key, iv, out);
  OPENSSL_cleanse(iv.data(), iv.size());
  return ok;
}

std::array<uint8_t, 16> srtp_aes_cm_iv(const std::array<uint8_t, 14>& salt, uint32_t ssrc, uint64_t index) {
  std::array<uint8_t, 16> iv{};
  std::copy(salt.begin(), salt.end(), iv.begin());
  xor_ssrc_index(iv, 4, ssrc, index);  // SSRC * 2^64: bytes 4-7; index * 2^16: bytes 8-13
  return iv;
}

std::array<uint8_t, 16> srtp_gcm_iv(const std::array<uint8_t, 14>& salt, uint32_t ssrc, uint64_t index) {
  std::array<uint8_t, 16> iv{};
  std::copy(salt.begin(), salt.begin() + 12, iv.begin());
  xor_ssrc_index(iv, 2, ssrc, index);
  return iv;
}

}  // namespace warmline::rtp
