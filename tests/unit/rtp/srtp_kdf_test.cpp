// rtp/srtp_kdf: RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation), read from
// tests/data/srtp/rfc3711-appendix-b.txt, and the IV layouts of RFC 3711 §4.1.1 and RFC 7714 §8.1.
#include "rtp/srtp_kdf.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/unit/rtp/srtp_test_hex.hpp"

namespace warmline::rtp {
namespace {

using test::hex;

std::map<std::string, std::vector<uint8_t>> vectors() {
  std::map<std::string, std::vector<uint8_t>> v;
  std::ifstream in(WARMLINE_TEST_DATA "/srtp/rfc3711-appendix-b.txt");
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    v[line.substr(0, eq)] = hex(line.substr(eq + 1));
  }
  return v;
}

TEST(SrtpKdf, AesCmKeystreamOfAppendixB2) {
  auto v = vectors();
  ASSERT_EQ(v.size(), 13u);
  std::array<uint8_t, 14> salt{};
  ASSERT_EQ(v["b2.session_salt"].size(), salt.size());
  std::copy(v["b2.session_salt"].begin(), v["b2.session_salt"].end(), salt.begin());
  const auto iv = srtp_aes_cm_iv(salt, 0, 0);  // SSRC 0, ROC 0, SEQ 0: the salt * 2^16
  std::vector<uint8_t> stream(0xff02 * 16);
  ASSERT_TRUE(srtp_aes_cm_keystream(v["b2.session_key"], iv, stream));
  for (const char* block : {"0000", "0001", "0002", "FEFF", "FF00", "FF01"}) {
    SCOPED_TRACE(block);
    const auto& want = v[std::string("b2.block.") + block];
    ASSERT_EQ(want.size(), 16u);
    const size_t at = std::stoul(block, nullptr, 16) * 16;
    EXPECT_TRUE(std::equal(want.begin(), want.end(), stream.begin() + static_cast<ptrdiff_t>(at)));
  }
}

TEST(SrtpKdf, SessionKeysOfAppendixB3) {
  auto v = vectors();
  const auto& key = v["b3.master_key"];
  const auto& salt = v["b3.master_salt"];
  std::array<uint8_t, 16> cipher{};
  std::array<uint8_t, 14> cipher_salt{};
  std::array<uint8_t, 20> auth{};
  ASSERT_TRUE(srtp_derive_key(key, salt, kSrtpLabelCipherKey, cipher));
  ASSERT_TRUE(srtp_derive_key(key, salt, kSrtpLabelSalt, cipher_salt));
  ASSERT_TRUE(srtp_derive_key(key, salt, kSrtpLabelAuthKey, auth));
  EXPECT_EQ(std::vector<uint8_t>(cipher.begin(), cipher.end()), v["b3.cipher_key"]);
  EXPECT_EQ(std::vector<uint8_t>(cipher_salt.begin(), cipher_salt.end()), v["b3.cipher_salt"]);
  EXPECT_EQ(std::vector<uint8_t>(auth.begin(), auth.end()),
            std::vector<uint8_t>(v["b3.auth_key"].begin(), v["b3.auth_key"].begin() + 20));
  // The longest the KDF gives (64 bytes) is still the RFC's auth keystream.
  std::array<uint8_t, 64> long_auth{};
  ASSERT_TRUE(srtp_derive_key(key, salt, kSrtpLabelAuthKey, long_auth));
  EXPECT_TRUE(std::equal(long_auth.begin(), long_auth.end(), v["b3.auth_key"].begin()));
}

TEST(SrtpKdf, BadLengthsAreRefusedAndZeroed) {
  const std::vector<uint8_t> key(16, 1), salt(14, 2);
  std::array<uint8_t, 16> out{};
  out.fill(0xee);
  EXPECT_FALSE(srtp_derive_key(std::span(key).first(15), salt, 0, out));
  EXPECT_EQ(out, (std::array<uint8_t, 16>{}));
  EXPECT_FALSE(srtp_derive_key(key, std::span(salt).first(13), 0, out));
  std::array<uint8_t, 65> too_long{};
  EXPECT_FALSE(srtp_derive_key(key, salt, 0, too_long));
  EXPECT_TRUE(srtp_derive_key(key, std::span(salt).first(12), 0, out));  // GCM's 96-bit salt
}

// GCM's salt is zero-padded to the PRF's 112 bits: the same keys as a 14-byte salt ending in 00 00.
TEST(SrtpKdf, GcmSaltIsPaddedWithZeros) {
  const std::vector<uint8_t> key(16, 7);
  std::vector<uint8_t> salt(14, 9);
  salt[12] = salt[13] = 0;
  std::array<uint8_t, 16> a{}, b{};
  ASSERT_TRUE(srtp_derive_key(key, std::span(salt).first(12), kSrtpLabelCipherKey, a));
  ASSERT_TRUE(srtp_derive_key(key, salt, kSrtpLabelCipherKey, b));
  EXPECT_EQ(a, b);
}

TEST(SrtpKdf, IvLayouts) {
  std::array<uint8_t, 14> salt{};
  const uint32_t ssrc = 0x11223344;
  const uint64_t index = 0xaabbccddeeffULL;  // ROC 0xaabbccdd, SEQ 0xeeff
  // RFC 3711 §4.1.1 with a zero salt: SSRC in bytes 4-7, the index in bytes 8-13, two zero bytes.
  EXPECT_EQ(srtp_aes_cm_iv(salt, ssrc, index),
            (std::array<uint8_t, 16>{0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0}));
  // RFC 7714 §8.1: 00 00 || SSRC || ROC || SEQ, 12 bytes.
  EXPECT_EQ(srtp_gcm_iv(salt, ssrc, index),
            (std::array<uint8_t, 16>{0, 0, 0x11, 0x22, 0x33, 0x44, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0, 0, 0}));
  // The salt is XORed in: all ones flips every byte it covers.
  salt.fill(0xff);
  const auto cm = srtp_aes_cm_iv(salt, 0, 0);
  EXPECT_EQ(cm[13], 0xff);
  EXPECT_EQ(cm[14], 0);
  const auto gcm = srtp_gcm_iv(salt, ssrc, 0);
  EXPECT_EQ(gcm[2], 0xff ^ 0x11);
  EXPECT_EQ(gcm[11], 0xff);
  EXPECT_EQ(gcm[12], 0);
}

}  // namespace
}  // namespace warmline::rtp
