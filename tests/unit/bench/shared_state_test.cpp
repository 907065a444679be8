// The send-time rings: a frame finds its own time, and a frame whose slot was reused by a later lap
// (it came back more than kRingFrames frames late) finds nothing rather than the later frame's time.
#include "bench/load/shared_state.hpp"

#include <gtest/gtest.h>

namespace warmline::load {
namespace {

TEST(SendTimeRing, MatchesTheSameFrameOnly) {
  SharedState s(2);
  const int64_t t = s.epoch + 5'000'000;
  EXPECT_EQ(s.sent_at(1, 7), -1);  // never sent
  s.store_sent(1, 7, t);
  EXPECT_EQ(s.sent_at(1, 7), t);
  EXPECT_EQ(s.sent_at(0, 7), -1);  // another call
  s.store_sent(1, 7 + kRingFrames, t + 2'560'000'000);
  EXPECT_EQ(s.sent_at(1, 7), -1);  // the slot now holds the next lap
  EXPECT_EQ(s.sent_at(1, 7 + kRingFrames), t + 2'560'000'000);
  s.store_echoed(0, 0, s.epoch);   // time 0 since the epoch is not "empty"
  EXPECT_EQ(s.echoed_at(0, 0), s.epoch);
}

TEST(SendTimeRing, LapsWrapWithoutFalseMatches) {
  SharedState s(1);
  const uint32_t seq = 0xFFFFFFF0u;  // near the end of the 32-bit frame counter
  s.store_sent(0, seq, s.epoch + 1);
  EXPECT_EQ(s.sent_at(0, seq), s.epoch + 1);
  EXPECT_EQ(s.sent_at(0, seq - kRingFrames), -1);
}

}  // namespace
}  // namespace warmline::load
