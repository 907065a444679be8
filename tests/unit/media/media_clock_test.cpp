#include "media/media_clock.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace warmline::media {
namespace {

using namespace std::chrono_literals;
using TP = MediaClock::TimePoint;

struct Counter : MediaClock::Participant {
  std::vector<uint64_t> ticks;
  std::function<void()> on_tick;
  void on_media_tick(uint64_t tick) override {
    ticks.push_back(tick);
    if (on_tick) on_tick();
  }
};

const TP kStart = TP(100s);

TEST(MediaClock, OnePassPerDeadlineForEveryParticipant) {
  MediaClock clock(kStart);
  Counter a, b;
  clock.add(&a);
  clock.add(&b);
  EXPECT_EQ(clock.tick(kStart - 1ms), kStart);  // early: nothing
  EXPECT_TRUE(a.ticks.empty());
  EXPECT_EQ(clock.tick(kStart), kStart + 20ms);
  EXPECT_EQ(clock.tick(kStart + 20ms), kStart + 40ms);
  EXPECT_EQ(a.ticks, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(b.ticks, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(clock.stats().participants, 2U);
}

// Deadlines stay on the start + n x 20 ms grid even when each wake-up is late.
TEST(MediaClock, DeadlinesDoNotDrift) {
  MediaClock clock(kStart);
  TP next = kStart;
  for (int i = 0; i < 100; ++i) next = clock.tick(next + 7ms);
  EXPECT_EQ(next, kStart + 100 * 20ms);
  EXPECT_EQ(clock.stats().worst_lag, 7ms);
  EXPECT_EQ(clock.stats().overruns, 0U);
}

TEST(MediaClock, LateTickIsCountedAndMissedTicksSkipped) {
  MediaClock clock(kStart);
  Counter a;
  clock.add(&a);
  clock.tick(kStart);
  // Wake up 65 ms after the 20 ms deadline: three deadlines (20, 40, 60) have passed.
  const TP next = clock.tick(kStart + 85ms);
  EXPECT_EQ(next, kStart + 100ms);
  EXPECT_EQ(a.ticks.size(), 2U);  // one pass, not a burst of catch-up passes
  EXPECT_EQ(clock.stats().overruns, 1U);
  EXPECT_EQ(clock.stats().skipped_ticks, 3U);
  EXPECT_EQ(clock.stats().worst_lag, 65ms);
}

TEST(MediaClock, AnOverrunIsRecentForTheWindowAfterIt) {
  MediaClock clock(kStart);
  clock.tick(kStart);
  EXPECT_FALSE(clock.stats().overran_within(kStart + 1s, 5s)) << "no overrun yet";
  clock.tick(kStart + 85ms);  // late: an overrun at 85 ms
  EXPECT_EQ(clock.stats().last_overrun, kStart + 85ms);
  EXPECT_TRUE(clock.stats().overran_within(kStart + 85ms, 5s));
  EXPECT_TRUE(clock.stats().overran_within(kStart + 5s, 5s));
  EXPECT_FALSE(clock.stats().overran_within(kStart + 85ms + 5s, 5s)) << "the window has passed";
}

TEST(MediaClock, RemovalDuringAPassIsSafe) {
  MediaClock clock(kStart);
  Counter a, b, c;
  a.on_tick = [&] {
    clock.remove(&b);
    clock.add(&c);
  };
  clock.add(&a);
  clock.add(&b);
  clock.tick(kStart);
  EXPECT_TRUE(b.ticks.empty());  // removed before its turn
  EXPECT_TRUE(c.ticks.empty());  // added: starts with the next pass
  a.on_tick = nullptr;
  clock.tick(kStart + 20ms);
  EXPECT_EQ(c.ticks.size(), 1U);
  EXPECT_EQ(clock.stats().participants, 2U);
  clock.remove(&a);
  clock.remove(&c);
  EXPECT_EQ(clock.stats().participants, 0U);
}

}  // namespace
}  // namespace warmline::media
