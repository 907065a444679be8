// The timer services the transactions run on: the fake clock the tests use and the Asio one the
// server uses.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <vector>

#include "sip/testing/fake_timer.hpp"
#include "sip/timer.hpp"

namespace warmline::sip {
namespace {

using namespace std::chrono_literals;

TEST(FakeTimerTest, FiresInDeadlineOrderIncludingTimersScheduledByCallbacks) {
  testing::FakeTimerService timers;
  auto t0 = timers.now();
  std::vector<std::pair<int, long>> fired;
  auto stamp = [&](int n) { fired.emplace_back(n, static_cast<long>((timers.now() - t0) / 1ms)); };
  timers.schedule(300ms, [&] { stamp(3); });
  timers.schedule(100ms, [&] {
    stamp(1);
    timers.schedule(50ms, [&] { stamp(2); });  // due at 150 ms, inside the same advance
  });
  TimerId cancelled = timers.schedule(200ms, [&] { stamp(99); });
  timers.cancel(cancelled);
  timers.cancel(cancelled);  // twice is harmless
  timers.advance(299ms);
  EXPECT_EQ(fired, (std::vector<std::pair<int, long>>{{1, 100}, {2, 150}}));
  timers.advance(1ms);
  EXPECT_EQ(fired.back(), (std::pair<int, long>{3, 300}));
  EXPECT_EQ(timers.pending(), 0u);
  EXPECT_EQ(timers.now() - t0, 300ms);
}

TEST(FakeTimerTest, RunawayRescheduleFailsInsteadOfHanging) {
  testing::FakeTimerService timers;
  std::function<void()> again = [&] { timers.schedule(0ms, again); };
  timers.schedule(0ms, again);
  EXPECT_THROW(timers.advance(1ms), std::logic_error);
}

TEST(TimerConfigTest, Rfc3261Defaults) {
  TimerConfig c;
  EXPECT_EQ(c.t1, 500ms);
  EXPECT_EQ(c.t2, 4s);
  EXPECT_EQ(c.t4, 5s);
  EXPECT_EQ(c.timeout(), 32s);
}

TEST(AsioTimerTest, FiresScheduledAndSkipsCancelled) {
  boost::asio::io_context io;
  AsioTimerService timers(io);
  std::vector<int> fired;
  timers.schedule(1ms, [&] { fired.push_back(1); });
  TimerId cancelled = timers.schedule(1ms, [&] { fired.push_back(2); });
  timers.schedule(2ms, [&] { fired.push_back(3); });
  timers.cancel(cancelled);
  EXPECT_EQ(timers.pending(), 2u);
  io.run_for(5s);  // returns as soon as no work is left: both timers fired
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(AsioTimerTest, DestroyingTheServiceCancelsEverything) {
  boost::asio::io_context io;
  int fired = 0;
  {
    AsioTimerService timers(io);
    timers.schedule(1ms, [&] { ++fired; });
  }
  io.run_for(5s);
  EXPECT_EQ(fired, 0);
}

}  // namespace
}  // namespace warmline::sip
