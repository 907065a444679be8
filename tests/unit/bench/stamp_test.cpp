// The stamp must survive the gateway's 8 kHz path (mu-law decode, PCM16 to the agent, mu-law encode)
// in both directions, and anything else must not read as a stamp.
#include "bench/load/stamp.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace warmline::load {
namespace {

// What the gateway does to a caller's payload on the way to the agent: decode to little-endian PCM16.
std::vector<uint8_t> to_agent_l16(std::span<const uint8_t> ulaw) {
  std::vector<uint8_t> out;
  for (uint8_t code : ulaw) {
    const auto s = static_cast<uint16_t>(media::g711::ulaw_to_linear(code));
    out.push_back(static_cast<uint8_t>(s & 0xFF));
    out.push_back(static_cast<uint8_t>(s >> 8));
  }
  return out;
}

// And back: the agent's echo, encoded by the gateway for the caller.
std::vector<uint8_t> to_caller_ulaw(std::span<const uint8_t> l16) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < l16.size(); i += 2)
    out.push_back(media::g711::linear_to_ulaw(static_cast<int16_t>(l16[i] | (l16[i + 1] << 8))));
  return out;
}

TEST(Stamp, SurvivesDecodeAndEncodeInBothDirections) {
  const std::array<Stamp, 4> stamps{{{0, 0}, {1999, 123456}, {65535, 0xFFFFFFFF}, {0x7F7F, 0x7F7F7F7F}}};
  for (Stamp s : stamps) {
    std::array<uint8_t, 160> payload{};
    ASSERT_TRUE(write_stamp(payload, s));
    const auto l16 = to_agent_l16(payload);
    auto at_agent = read_stamp_l16(l16);
    ASSERT_TRUE(at_agent.has_value());
    EXPECT_EQ(at_agent->call, s.call);
    EXPECT_EQ(at_agent->seq, s.seq);
    const auto back = to_caller_ulaw(l16);
    auto at_caller = read_stamp(back);
    ASSERT_TRUE(at_caller.has_value());
    EXPECT_EQ(at_caller->call, s.call);
    EXPECT_EQ(at_caller->seq, s.seq);
    EXPECT_EQ(back, std::vector<uint8_t>(payload.begin(), payload.end()));
  }
}

TEST(Stamp, NeverWritesTheCodeThatDecodesLikeSilence) {
  std::array<uint8_t, 160> payload{};
  ASSERT_TRUE(write_stamp(payload, {0xFFFF, 0xFFFFFFFF}));
  for (uint8_t b : payload) EXPECT_NE(b, 0x7F);
}

TEST(Stamp, SilenceAndShortPayloadsAreNotStamps) {
  std::array<uint8_t, 160> silence{};
  silence.fill(media::g711::kUlawSilence);
  EXPECT_FALSE(read_stamp(silence).has_value());
  EXPECT_FALSE(read_stamp_l16(to_agent_l16(silence)).has_value());
  std::array<uint8_t, kStampBytes - 1> small{};
  EXPECT_FALSE(write_stamp(small, {1, 1}));
  std::array<uint8_t, 160> payload{};
  ASSERT_TRUE(write_stamp(payload, {3, 4}));
  EXPECT_FALSE(read_stamp(std::span<const uint8_t>(payload).first(kStampBytes - 1)).has_value());
  payload[5] = 0x30;  // a nibble byte out of range
  EXPECT_FALSE(read_stamp(payload).has_value());
}

}  // namespace
}  // namespace warmline::load
