// Base64 (ai_bridge/base64.hpp): RFC 4648 vectors, round trips at every tail length, and the strictness
// the dialect decoders rely on where OpenSSL's block decoder is lenient.
#include "ai_bridge/base64.hpp"

#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <string>
#include <vector>

namespace warmline::ai {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string base64(std::string_view s) {
  std::string out;
  append_base64(out, bytes_of(s));
  return out;
}

// nullopt when rejected, else the decoded bytes as a string.
std::optional<std::string> unbase64(std::string_view in) {
  std::vector<std::uint8_t> out(base64_decoded_max(in.size()));
  const auto n = decode_base64(in, out);
  if (!n) return std::nullopt;
  return std::string(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(*n));
}

TEST(Base64, Rfc4648TestVectors) {  // RFC 4648 §10
  const std::array<std::pair<std::string_view, std::string_view>, 7> vectors = {{
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}}};
  for (const auto& [raw, encoded] : vectors) {
    EXPECT_EQ(base64(raw), encoded);
    EXPECT_EQ(unbase64(encoded), std::string(raw)) << encoded;
    EXPECT_EQ(base64_encoded_size(raw.size()), encoded.size());
  }
}

TEST(Base64, AppendsAfterExistingText) {
  std::string out = "payload:";
  append_base64(out, bytes_of("foo"));
  EXPECT_EQ(out, "payload:Zm9v");
}

TEST(Base64, RoundTripsEveryByteValueAtEveryTailLength) {
  std::vector<std::uint8_t> all(256 + 2);
  std::iota(all.begin(), all.begin() + 256, 0);
  for (std::size_t len = 254; len <= all.size(); ++len) {
    std::string encoded;
    append_base64(encoded, std::span<const std::uint8_t>(all.data(), len));
    std::vector<std::uint8_t> back(base64_decoded_max(encoded.size()));
    const auto n = decode_base64(encoded, back);
    ASSERT_TRUE(n.has_value());
    back.resize(*n);
    EXPECT_EQ(back, std::vector<std::uint8_t>(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(len)));
  }
}

TEST(Base64, RejectsWhatOpenSslWouldAcceptLoosely) {
  for (std::string_view bad : {"A===", "====", "=AAA", "AA=A", "Zm9vYg==Zm9v", "Zm9vYg=a"}) {
    EXPECT_EQ(unbase64(bad), std::nullopt) << bad;
  }
  // Whitespace at either end, or of a whole group, is trimmed by EVP_DecodeBlock; here it is an error.
  for (std::string_view bad : {"Zm9v    ", "    Zm9v", "    ", "Zm9\n", " Zm9", "Zm9v\r\n\r\n"}) {
    EXPECT_EQ(unbase64(bad), std::nullopt) << bad;
  }
}

TEST(Base64, RejectsBadLengthsAndCharacters) {
  for (std::string_view bad : {"Z", "Zm9", "Zm9vY", "Zm-v", "Zm_v", "Zm9v\x80\x80\x80\x80", "Zm 9", "Zm\"v"}) {
    EXPECT_EQ(unbase64(bad), std::nullopt) << bad;
  }
}

TEST(Base64, RefusesAnOutputBufferTooSmall) {
  std::array<std::uint8_t, 2> out{};
  EXPECT_EQ(decode_base64("Zm8=", out), std::nullopt);  // needs base64_decoded_max(4) = 3
  std::array<std::uint8_t, 3> enough{};
  EXPECT_EQ(decode_base64("Zm8=", enough), 2u);
}

}  // namespace
}  // namespace warmline::ai
