// a=crypto (RFC 4568) parse/write against tests/data/srtp/sdes-crypto-vectors.txt, and SDES selection.
#include "sip/sdp_crypto.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace warmline::sip {
namespace {

// The "a=crypto:" values of the vectors file, in file order (the part before " ||| ").
std::vector<std::string> vector_values() {
  std::ifstream in(std::string(WARMLINE_TEST_DATA) + "/srtp/sdes-crypto-vectors.txt");
  EXPECT_TRUE(in.good());
  std::vector<std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t sep = line.find(" ||| ");
    EXPECT_NE(sep, std::string::npos) << line;
    EXPECT_TRUE(line.starts_with("a=crypto:")) << line;
    values.push_back(line.substr(9, sep - 9));
  }
  return values;
}

struct Expected {
  uint32_t tag;
  SrtpSuite suite;
  std::optional<uint64_t> lifetime;
  std::optional<SdesMki> mki;
  std::vector<std::string> params;
  bool usable;  // by unusable_reason
};

constexpr uint64_t k2to20 = 1u << 20;
const std::vector<Expected> kExpected = {
    {1, SrtpSuite::kAesCm128HmacSha1_80, k2to20, SdesMki{1, 4}, {"FEC_ORDER=FEC_SRTP"}, true},
    {1, SrtpSuite::kAesCm128HmacSha1_80, k2to20, SdesMki{1, 32}, {}, true},
    {2, SrtpSuite::kAesCm128HmacSha1_32, k2to20, SdesMki{1, 32}, {}, true},
    {1, SrtpSuite::kAesCm128HmacSha1_80, k2to20, SdesMki{1, 32}, {}, true},
    {1, SrtpSuite::kAesCm128HmacSha1_80, std::nullopt, std::nullopt, {}, true},
    {3, SrtpSuite::kAesCm128HmacSha1_80, std::nullopt, std::nullopt, {"UNENCRYPTED_SRTCP"}, false},
    {1, SrtpSuite::kAesCm128HmacSha1_80, std::nullopt, std::nullopt, {}, true},
};

TEST(SdesCrypto, EveryVectorParsesAsDocumentedAndWritesBackByteExact) {
  auto values = vector_values();
  ASSERT_EQ(values.size(), kExpected.size());
  for (size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE(values[i]);
    SdesParseResult r = parse_crypto(values[i]);
    ASSERT_TRUE(r.crypto) << r.error;
    const Expected& e = kExpected[i];
    EXPECT_EQ(r.crypto->tag, e.tag);
    EXPECT_EQ(r.crypto->suite, e.suite);
    EXPECT_EQ(r.crypto->key_salt.size(), 30u);
    EXPECT_EQ(r.crypto->lifetime, e.lifetime);
    EXPECT_EQ(r.crypto->mki, e.mki);
    EXPECT_EQ(r.crypto->session_params, e.params);
    EXPECT_EQ(!unusable_reason(*r.crypto).has_value(), e.usable);
    EXPECT_EQ(format_crypto(*r.crypto), values[i]);
  }
}

TEST(SdesCrypto, KeyBytesDecodeExactly) {
  // "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR" is base64 of the ASCII "=-n@%^x!Bjufr9)?,#5h\`=&]{qiPQ".
  auto r = parse_crypto("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
  ASSERT_TRUE(r.crypto);
  std::string expected = "=-n@%^x!Bjufr9)?,#5h\\`=&]{qiPQ";
  auto bytes = r.crypto->key_salt.bytes();
  ASSERT_EQ(bytes.size(), expected.size());
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), expected.begin(),
                         [](uint8_t b, char c) { return b == static_cast<uint8_t>(c); }));
}

TEST(SdesCrypto, MkiBytesAreBigEndianOfTheGivenLength) {
  EXPECT_EQ((SdesMki{1, 4}.bytes()), (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ((SdesMki{0x0102, 2}.bytes()), (std::vector<uint8_t>{1, 2}));
  EXPECT_EQ((SdesMki{1, 32}.bytes().size()), 32u);
  EXPECT_EQ((SdesMki{1, 32}.bytes().back()), 1);
}

TEST(SdesCrypto, GcmKeyIs28BytesPaddedOrNot) {
  std::vector<uint8_t> raw(28);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i * 7 + 3);
  SdesCrypto c;
  c.suite = SrtpSuite::kAeadAes128Gcm;
  c.key_salt = SdesKey(raw);
  std::string written = format_crypto(c);
  EXPECT_TRUE(written.ends_with("==")) << written;
  auto padded = parse_crypto(written);
  ASSERT_TRUE(padded.crypto) << padded.error;
  EXPECT_EQ(padded.crypto->key_salt, c.key_salt);
  auto unpadded = parse_crypto(written.substr(0, written.size() - 2));
  ASSERT_TRUE(unpadded.crypto) << unpadded.error;
  EXPECT_EQ(unpadded.crypto->key_salt, c.key_salt);
}

TEST(SdesCrypto, MalformedLinesAreRefusedWithAReasonThatHidesTheKey) {
  const std::string key = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1 AES_CM_128_HMAC_SHA1_80", "needs a tag"},
      {"x AES_CM_128_HMAC_SHA1_80 inline:" + key, "tag"},
      {"1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key, "tag"},
      {"1 F8_128_HMAC_SHA1_80 inline:" + key, "unsupported crypto-suite"},
      {"1 aes_cm_128_hmac_sha1_80 inline:" + key, "unsupported crypto-suite"},
      {"1 AES_CM_128_HMAC_SHA1_80 uri:" + key, "inline"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4;inline:" + key + "|2^20|2:4", "more than one"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 36), "has 27 bytes"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "AAAA", "has 33 bytes"},
      {"1 AEAD_AES_128_GCM inline:" + key, "needs 28"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 39) + "!", "base64"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 20) + "=" + key.substr(21), "base64"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^x", "lifetime"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|0", "lifetime"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:0", "MKI"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:129", "MKI"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|256:1", "MKI"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:4|2^20", "lifetime must come once and before"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|2^20", "lifetime must come once"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4|x", "too many"},
  };
  for (const auto& [value, reason] : cases) {
    SCOPED_TRACE(value);
    SdesParseResult r = parse_crypto(value);
    EXPECT_FALSE(r.crypto);
    EXPECT_NE(r.error.find(reason), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find(key.substr(0, 12)), std::string::npos) << "key material in: " << r.error;
  }
}

TEST(SdesCrypto, NonCanonicalTrailingBitsAreRefused) {
  // 28 bytes = 38 characters + "==": the 38th character carries 4 unused bits, which must be zero.
  SdesCrypto c;
  c.suite = SrtpSuite::kAeadAes128Gcm;
  c.key_salt = SdesKey(std::vector<uint8_t>(28, 0));
  std::string good = format_crypto(c);  // ...AAAA== ; "B" instead of the last "A" sets an unused bit
  ASSERT_TRUE(parse_crypto(good).crypto);
  std::string bad = good;
  bad[bad.size() - 3] = 'B';
  SdesParseResult r = parse_crypto(bad);
  EXPECT_FALSE(r.crypto);
  EXPECT_NE(r.error.find("base64"), std::string::npos) << r.error;
}

TEST(SdesCrypto, LifetimeAndParametersWeCannotHonourAreUnusable) {
  const std::string key = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
  auto usable = [&](const std::string& tail) {
    auto r = parse_crypto("1 AES_CM_128_HMAC_SHA1_80 inline:" + key + tail);
    EXPECT_TRUE(r.crypto) << r.error;
    return r.crypto && !unusable_reason(*r.crypto);
  };
  EXPECT_TRUE(usable("|2^48"));
  EXPECT_FALSE(usable("|2^49"));
  EXPECT_TRUE(usable("|1048576"));
  EXPECT_TRUE(usable(" WSH=128"));
  EXPECT_FALSE(usable(" WSH=32"));
  EXPECT_FALSE(usable(" KDR=1"));
  EXPECT_FALSE(usable(" UNENCRYPTED_SRTP"));
  EXPECT_FALSE(usable(" UNAUTHENTICATED_SRTP"));
  EXPECT_FALSE(usable(" FEC_KEY=inline:" + key));
  auto fec = parse_crypto("1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " FEC_KEY=inline:" + key);
  ASSERT_TRUE(fec.crypto);
  EXPECT_EQ(unusable_reason(*fec.crypto), "session parameter FEC_KEY is not supported");
  EXPECT_EQ(unusable_reason(*parse_crypto("1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " KDR=1").crypto),
            "session parameter KDR is not supported");
}

const std::vector<SrtpSuite> kAll = {SrtpSuite::kAesCm128HmacSha1_80, SrtpSuite::kAesCm128HmacSha1_32,
                                     SrtpSuite::kAeadAes128Gcm};

TEST(SdesSelection, AnswerTakesTheFirstSupportedLineWithAFreshKey) {
  auto v = vector_values();
  std::vector<std::string> offer = {v[1], v[2]};  // the vectors' offer: tag 1 (_80), tag 2 (_32)
  SdesSelection s = select_crypto(offer, kAll);
  ASSERT_TRUE(s.answer) << s.error;
  EXPECT_EQ(s.offered->tag, 1u);
  EXPECT_EQ(s.answer->tag, 1u);
  EXPECT_EQ(s.answer->suite, SrtpSuite::kAesCm128HmacSha1_80);
  EXPECT_EQ(s.answer->key_salt.size(), 30u);
  EXPECT_FALSE(s.answer->key_salt == s.offered->key_salt);
  EXPECT_FALSE(s.answer->mki);
  EXPECT_FALSE(s.answer->lifetime);
  // The answer parses back to itself, like the vectors' answer line does.
  auto back = parse_crypto(format_crypto(*s.answer));
  ASSERT_TRUE(back.crypto);
  EXPECT_EQ(back.crypto->key_salt, s.answer->key_salt);
  // A second answer gets another key.
  SdesSelection again = select_crypto(offer, kAll);
  ASSERT_TRUE(again.answer);
  EXPECT_FALSE(again.answer->key_salt == s.answer->key_salt);
}

TEST(SdesSelection, SkipsSuitesNotEnabledAndLinesWeCannotUse) {
  auto v = vector_values();
  std::vector<SrtpSuite> only32 = {SrtpSuite::kAesCm128HmacSha1_32};
  SdesSelection s = select_crypto(std::vector<std::string>{v[1], v[2]}, only32);
  ASSERT_TRUE(s.answer) << s.error;
  EXPECT_EQ(s.answer->tag, 2u);
  EXPECT_EQ(s.answer->suite, SrtpSuite::kAesCm128HmacSha1_32);

  s = select_crypto(std::vector<std::string>{"9 AES_CM_128_HMAC_SHA1_80 inline:short", v[5], v[4]}, kAll);
  ASSERT_TRUE(s.answer) << s.error;
  EXPECT_EQ(s.answer->tag, 1u);  // the malformed line and the UNENCRYPTED_SRTCP one are passed over

  s = select_crypto(std::vector<std::string>{v[5]}, kAll);
  EXPECT_FALSE(s.answer);
  EXPECT_NE(s.error.find("UNENCRYPTED_SRTCP"), std::string::npos) << s.error;

  std::vector<std::string> many(50, v[5]);
  s = select_crypto(many, kAll);
  EXPECT_FALSE(s.answer);
  EXPECT_LT(s.error.size(), 300u) << s.error;
  EXPECT_TRUE(s.error.ends_with(" ...")) << s.error;

  s = select_crypto(std::vector<std::string>{}, kAll);
  EXPECT_FALSE(s.answer);
  EXPECT_EQ(s.error, "no a=crypto line");
}

TEST(SdesSelection, OurOfferHasOneFreshLinePerSuite) {
  auto lines = make_crypto_offer(kAll);
  ASSERT_TRUE(lines);
  ASSERT_EQ(lines->size(), 3u);
  for (size_t i = 0; i < lines->size(); ++i) {
    EXPECT_EQ((*lines)[i].tag, i + 1);
    EXPECT_EQ((*lines)[i].suite, kAll[i]);
    EXPECT_EQ((*lines)[i].key_salt.size(), key_salt_length(kAll[i]));
    auto back = parse_crypto(format_crypto((*lines)[i]));
    ASSERT_TRUE(back.crypto) << back.error;
    EXPECT_EQ(back.crypto->key_salt, (*lines)[i].key_salt);
  }
}

}  // namespace
}  // namespace warmline::sip
