#include "media/g711.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

// spandsp's own G.711 (an independent implementation) as a cross-check of the decode tables.
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

namespace warmline::media::g711 {
namespace {

// Values from ITU-T G.711 Table 2a/2b (mu-law) and Table 1a/1b (A-law): the decoder output ("decoder
// output value" column, scaled to 16-bit by x4 for mu-law's 14-bit and x8 for A-law's 13-bit).
TEST(G711, UlawDecodeMatchesItuTable) {
  // code (as transmitted, after inversion of the character bits) -> value
  EXPECT_EQ(ulaw_to_linear(0xFF), 0);        // segment 0, step 0: decision value 0
  EXPECT_EQ(ulaw_to_linear(0x7F), 0);        // negative zero
  EXPECT_EQ(ulaw_to_linear(0xFE), 8);        // 2 x4
  EXPECT_EQ(ulaw_to_linear(0xF0), 120);      // 30 x4, end of segment 0
  EXPECT_EQ(ulaw_to_linear(0xEF), 132);      // 33 x4, first of segment 1
  EXPECT_EQ(ulaw_to_linear(0x80), 32124);    // 8031 x4, largest magnitude
  EXPECT_EQ(ulaw_to_linear(0x00), -32124);
  EXPECT_EQ(ulaw_to_linear(0x8F), 16764);    // 4191 x4, segment 7 first step... decoded midpoint
}

TEST(G711, AlawDecodeMatchesItuTable) {
  EXPECT_EQ(alaw_to_linear(0xD5), 8);        // 1 x8: the smallest positive output
  EXPECT_EQ(alaw_to_linear(0x55), -8);
  EXPECT_EQ(alaw_to_linear(0xAA), 32256);    // 4032 x8
  EXPECT_EQ(alaw_to_linear(0x2A), -32256);
  EXPECT_EQ(alaw_to_linear(0xC5), 264);      // 33 x8, first of segment 2
}

TEST(G711, DecodeTablesAgreeWithSpandsp) {
  for (int c = 0; c < 256; ++c) {
    EXPECT_EQ(ulaw_to_linear(static_cast<uint8_t>(c)), ::ulaw_to_linear(static_cast<uint8_t>(c))) << c;
    EXPECT_EQ(alaw_to_linear(static_cast<uint8_t>(c)), ::alaw_to_linear(static_cast<uint8_t>(c))) << c;
  }
}

TEST(G711, EncodeAgreesWithSpandspForNonNegativeInput) {
  // For negative input the ITU-T G.191 reference uses one's complement and spandsp two's complement,
  // so they differ by one code at some decision boundaries; for x >= 0 they must agree exactly.
  for (int x = 0; x <= 32767; ++x) {
    ASSERT_EQ(linear_to_ulaw(static_cast<int16_t>(x)), ::linear_to_ulaw(x)) << x;
    ASSERT_EQ(linear_to_alaw(static_cast<int16_t>(x)), ::linear_to_alaw(x)) << x;
  }
}

TEST(G711, SilenceCodes) {
  EXPECT_EQ(linear_to_ulaw(0), kUlawSilence);
  EXPECT_EQ(linear_to_alaw(0), kAlawSilence);
}

// Every decoded value re-encodes to the same code (except mu-law's negative zero 0x7F, which decodes to
// 0 like 0xFF): the encoder's decision intervals contain their reconstruction values.
TEST(G711, DecodeThenEncodeIsIdentity) {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<uint8_t>(c);
    if (code != 0x7F) {
      EXPECT_EQ(linear_to_ulaw(ulaw_to_linear(code)), code) << c;
    }
    EXPECT_EQ(linear_to_alaw(alaw_to_linear(code)), code) << c;
  }
}

// The quantisation error never exceeds half a step of the segment the value falls in: G.711 segments
// have steps of 2^(seg+1) x4 (mu-law) and 2^max(seg,1) x16/2 (A-law); the largest step is 1024 (mu) and
// 1024 (A). Also: the code sequence is monotonic in the input.
TEST(G711, EncodeErrorBoundedAndMonotonic) {
  int prev_u = ulaw_to_linear(linear_to_ulaw(-32768));
  int prev_a = alaw_to_linear(linear_to_alaw(-32768));
  for (int x = -32768; x <= 32767; ++x) {
    const int u = ulaw_to_linear(linear_to_ulaw(static_cast<int16_t>(x)));
    const int a = alaw_to_linear(linear_to_alaw(static_cast<int16_t>(x)));
    ASSERT_GE(u, prev_u) << x;
    ASSERT_GE(a, prev_a) << x;
    prev_u = u;
    prev_a = a;
    const int mag = std::abs(x);
    // Relative step of a logarithmic quantiser: 1/16 of the segment top, at least the linear region's.
    const int u_bound = mag < 32124 ? std::max(8, mag / 16 + 8) : 32767 - 32124 + 512;
    const int a_bound = mag < 32256 ? std::max(16, mag / 16 + 16) : 32767 - 32256 + 1024;
    ASSERT_LE(std::abs(u - x), u_bound) << x;
    ASSERT_LE(std::abs(a - x), a_bound) << x;
  }
}

TEST(G711, SpansConvertAllOrNothing) {
  const std::vector<int16_t> pcm{0, 1000, -1000, 32767, -32768};
  std::vector<uint8_t> small(4);
  EXPECT_EQ(encode_ulaw(pcm, small), 0U);
  std::vector<uint8_t> enc(5);
  ASSERT_EQ(encode_alaw(pcm, enc), 5U);
  std::vector<int16_t> dec(5);
  ASSERT_EQ(decode_alaw(enc, dec), 5U);
  for (size_t i = 0; i < pcm.size(); ++i) EXPECT_EQ(dec[i], alaw_to_linear(linear_to_alaw(pcm[i])));
  ASSERT_EQ(encode_ulaw(pcm, enc), 5U);
  ASSERT_EQ(decode_ulaw(enc, dec), 5U);
  for (size_t i = 0; i < pcm.size(); ++i) EXPECT_EQ(dec[i], ulaw_to_linear(linear_to_ulaw(pcm[i])));
}

}  // namespace
}  // namespace warmline::media::g711
