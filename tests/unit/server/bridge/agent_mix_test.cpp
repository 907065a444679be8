// AgentMix: what an agent hears of two parties at once — frames of 20 ms at its rate, summed (mono)
// or side by side (stereo), a silent side never holding the other back for more than
// kMaxLeadFrames, and bounded buffers.
#include "server/bridge/agent_mix.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace warmline::server {
namespace {

using Side = AgentMix::Side;

struct AgentMixTest : ::testing::Test {
  static constexpr uint32_t kRate = 8000;
  static constexpr size_t kFrame = kRate / 50;
  std::vector<std::vector<int16_t>> out;
  AgentMix make(AgentMix::Layout layout) {
    return AgentMix(kRate, layout, [this](std::span<const int16_t> pcm) { out.emplace_back(pcm.begin(), pcm.end()); });
  }
  static std::vector<int16_t> of(size_t n, int16_t v) { return std::vector<int16_t>(n, v); }
};

TEST_F(AgentMixTest, MonoSumsOneFrameOfEachSideAndSaturates) {
  auto mix = make(AgentMix::Layout::kMono);
  mix.push(Side::kCaller, of(kFrame, 30000));
  EXPECT_TRUE(out.empty()) << "waits for the other side";
  mix.push(Side::kTarget, of(kFrame, 10000));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], of(kFrame, 32767)) << "saturated, not wrapped";
  mix.push(Side::kCaller, of(kFrame, -100));
  mix.push(Side::kTarget, of(kFrame, 40));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1], of(kFrame, -60));
}

TEST_F(AgentMixTest, StereoInterleavesCallerLeftAndTargetRight) {
  auto mix = make(AgentMix::Layout::kStereo);
  std::vector<int16_t> caller(kFrame), target(kFrame);
  for (size_t i = 0; i < kFrame; ++i) {
    caller[i] = static_cast<int16_t>(i);
    target[i] = static_cast<int16_t>(-static_cast<int>(i));
  }
  mix.push(Side::kTarget, target);
  mix.push(Side::kCaller, caller);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].size(), 2 * kFrame);
  for (size_t i = 0; i < kFrame; ++i) {
    ASSERT_EQ(out[0][2 * i], caller[i]) << i;
    ASSERT_EQ(out[0][2 * i + 1], target[i]) << i;
  }
}

TEST_F(AgentMixTest, PacketsOfOtherSizesAreJoinedIntoWholeFrames) {
  auto mix = make(AgentMix::Layout::kMono);
  mix.push(Side::kCaller, of(kFrame / 2, 1));  // 10 ms packets
  mix.push(Side::kTarget, of(kFrame * 3 / 2, 2));  // a 30 ms one
  EXPECT_TRUE(out.empty());
  mix.push(Side::kCaller, of(kFrame / 2, 1));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], of(kFrame, 3));
}

TEST_F(AgentMixTest, ASilentSideDoesNotHoldTheOtherBackBeyondTheLead) {
  auto mix = make(AgentMix::Layout::kStereo);
  for (size_t i = 0; i + 1 < AgentMix::kMaxLeadFrames; ++i) mix.push(Side::kCaller, of(kFrame, 9));
  EXPECT_TRUE(out.empty()) << "a short lead waits for the target's packets";
  mix.push(Side::kCaller, of(kFrame, 9));
  ASSERT_FALSE(out.empty()) << "the caller goes on alone";
  EXPECT_EQ(out[0][0], 9);
  EXPECT_EQ(out[0][1], 0) << "silence in the target's place";
  const size_t before = out.size();
  mix.push(Side::kTarget, of(kFrame, 4));  // the target is back: frames are joined again
  ASSERT_EQ(out.size(), before + 1);
  EXPECT_EQ(out.back()[0], 9);
  EXPECT_EQ(out.back()[1], 4);
}

TEST_F(AgentMixTest, ABurstBeyondTheCapacityKeepsTheNewestAudio) {
  auto mix = make(AgentMix::Layout::kMono);
  std::vector<int16_t> burst;
  for (size_t f = 0; f < AgentMix::kCapacityFrames + 4; ++f) burst.insert(burst.end(), kFrame, static_cast<int16_t>(f));
  mix.push(Side::kTarget, burst);
  // Of the newest kCapacityFrames, those beyond the lead leave alone; the rest wait for the caller.
  ASSERT_EQ(out.size(), AgentMix::kCapacityFrames - (AgentMix::kMaxLeadFrames - 1));
  EXPECT_EQ(out.front()[0], 4) << "the oldest frames went";
  mix.push(Side::kCaller, of(2 * kFrame, 100));
  ASSERT_EQ(out.size(), AgentMix::kCapacityFrames);
  EXPECT_EQ(out.back()[0], static_cast<int16_t>(100 + AgentMix::kCapacityFrames + 3)) << "nothing newer was lost";
}

}  // namespace
}  // namespace warmline::server
