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

// Phase spread: participants fill the least-loaded slot in turn, so they spread evenly over the period.
TEST(MediaClockSlots, ParticipantsSpreadEvenlyOverTheSlots) {
  MediaClock clock(kStart, 20ms, 20);
  EXPECT_EQ(clock.slots(), 20U);
  std::vector<Counter> calls(45);
  for (auto& c : calls) clock.add(&c);
  std::vector<int> per_slot(20);
  for (auto& c : calls) ++per_slot[clock.slot_of(&c)];
  for (int n : per_slot) EXPECT_TRUE(n == 2 || n == 3) << n;
  // A slot emptied by calls that ended is the next one filled.
  const unsigned freed = clock.slot_of(&calls[7]);
  for (auto& c : calls)
    if (clock.slot_of(&c) == freed) clock.remove(&c);
  Counter late;
  clock.add(&late);
  EXPECT_EQ(clock.slot_of(&late), freed);
  Counter stranger;
  EXPECT_EQ(clock.slot_of(&stranger), 20U) << "not a participant";
}

TEST(MediaClockSlots, SlotCountIsClampedToWholeMilliseconds) {
  EXPECT_EQ(MediaClock(kStart, 20ms, 0).slots(), 1U);
  EXPECT_EQ(MediaClock(kStart, 20ms, 50).slots(), 20U);
}

// Each slot runs at its own deadline, which is its pass deadline; empty slots are not woken for.
TEST(MediaClockSlots, EachSlotRunsAtItsOwnOffset) {
  MediaClock clock(kStart, 20ms, 4);  // 5 ms slots
  Counter a, b, c;
  std::vector<TP> seen;
  for (Counter* p : {&a, &b, &c}) {
    clock.add(p);
    p->on_tick = [&] { seen.push_back(clock.pass_deadline()); };
  }
  // Slots 1, 2, 3 hold a, b, c (slot 0 is empty: the first add looks from slot 1).
  EXPECT_EQ(clock.next_deadline(), kStart + 5ms);
  EXPECT_EQ(clock.tick(kStart + 4ms), kStart + 5ms);  // early: nothing
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(clock.tick(kStart + 5ms), kStart + 10ms);
  EXPECT_EQ(clock.tick(kStart + 10ms), kStart + 15ms);
  EXPECT_EQ(clock.tick(kStart + 15ms), kStart + 25ms) << "slot 0 is empty: next is slot 1 of the next period";
  EXPECT_EQ(seen, (std::vector<TP>{kStart + 5ms, kStart + 10ms, kStart + 15ms}));
  EXPECT_EQ(a.ticks, std::vector<uint64_t>{0});
  EXPECT_EQ(clock.tick(kStart + 25ms), kStart + 30ms);
  EXPECT_EQ(a.ticks, (std::vector<uint64_t>{0, 1})) << "the tick number counts periods";
  EXPECT_EQ(clock.stats().ticks, 1U);
  EXPECT_EQ(clock.stats().worst_lag, 0ms);
}

// A wake-up that comes late runs every slot that is due, each once, in order.
TEST(MediaClockSlots, ALateWakeUpRunsEveryDueSlotOnce) {
  MediaClock clock(kStart, 20ms, 4);
  Counter a, b, c, d;
  std::vector<char> order;
  a.on_tick = [&] { order.push_back('a'); };
  b.on_tick = [&] { order.push_back('b'); };
  c.on_tick = [&] { order.push_back('c'); };
  d.on_tick = [&] { order.push_back('d'); };
  for (Counter* p : {&a, &b, &c, &d}) clock.add(p);  // slots 1, 2, 3, 0
  EXPECT_EQ(clock.next_deadline(), kStart);
  EXPECT_EQ(clock.tick(kStart + 12ms), kStart + 15ms);
  EXPECT_EQ(order, (std::vector<char>{'d', 'a', 'b'}));
  EXPECT_EQ(clock.stats().worst_lag, 12ms) << "slot 0, the first one due";
  EXPECT_EQ(clock.stats().last_lag, 2ms) << "slot 2, the latest one due: the clock has caught up";
  EXPECT_EQ(clock.stats().overruns, 0U);
  // 45 ms late for slot 3 (at 15 ms): one whole period is dropped for all; then slot 3 (at 35 ms) and
  // slot 0 (at 40 ms) are a period late again and drop their pass, while slots 1, 2, 3 and 0 of the
  // next period (45-60 ms) run once each; slot 1 (at 65 ms) is next.
  order.clear();
  EXPECT_EQ(clock.tick(kStart + 60ms), kStart + 65ms);
  EXPECT_EQ(clock.stats().overruns, 1U);
  EXPECT_EQ(clock.stats().skipped_ticks, 2U);
  EXPECT_EQ(order, (std::vector<char>{'a', 'b', 'c', 'd'}));
  EXPECT_EQ(clock.stats().last_lag, 20ms) << "two periods or more late: the whole period dropped counts";
  EXPECT_EQ(c.ticks.size(), 1U);
}

struct Hooks : MediaClock::PassHooks {
  const MediaClock* clock = nullptr;
  std::vector<TP> begun, ended;
  void pass_begin() override { begun.push_back(clock->pass_deadline()); }
  void pass_end() override { ended.push_back(clock->pass_deadline()); }
};

// A stall shorter than two periods drops the pass of the slots it made a whole period late, runs the
// others once, late, and the clock's lateness is that of the latest slot run.
TEST(MediaClockSlots, AShortStallDropsOnlyTheSlotsAPeriodLate) {
  MediaClock clock(kStart, 20ms, 20);
  std::vector<Counter> calls(20);
  for (auto& c : calls) clock.add(&c);  // one per slot
  clock.tick(kStart);                   // slot 0
  // A 24 ms stall from 0 ms: slots 1-4 (deadlines 1-4 ms) are 20 ms late or more and drop period 0's
  // pass; slots 5-19 run late, slots 0-4 of period 1 (20-24 ms) run.
  clock.tick(kStart + 24ms);
  for (auto& c : calls) {
    const unsigned slot = clock.slot_of(&c);
    EXPECT_EQ(c.ticks.size(), slot == 0 ? 2U : 1U) << "slot " << slot;
  }
  EXPECT_EQ(clock.stats().overruns, 1U);
  EXPECT_EQ(clock.stats().last_lag, 0ms) << "slot 4 of period 1 (24 ms) ran on time";
  EXPECT_EQ(clock.stats().worst_lag, 23ms);
}

TEST(MediaClockSlots, HooksBracketEachPassThatHasParticipants) {
  MediaClock clock(kStart, 20ms, 20);
  Hooks hooks;
  hooks.clock = &clock;
  clock.set_hooks(&hooks);
  Counter a, b;
  clock.add(&a);  // slot 1
  clock.add(&b);  // slot 2
  bool inside = false;
  a.on_tick = [&] { inside = hooks.begun.size() == hooks.ended.size() + 1; };
  TP next = clock.next_deadline();
  for (int i = 0; i < 4; ++i) next = clock.tick(next);
  EXPECT_TRUE(inside);
  EXPECT_EQ(hooks.begun, (std::vector<TP>{kStart + 1ms, kStart + 2ms, kStart + 21ms, kStart + 22ms}));
  EXPECT_EQ(hooks.ended, hooks.begun);
}

// A participant of another slot removed during a pass (a bridge's other leg) is not run.
TEST(MediaClockSlots, RemovalFromAnotherSlotDuringAPassIsSafe) {
  MediaClock clock(kStart, 20ms, 2);
  Counter a, b;
  clock.add(&a);  // slot 1
  clock.add(&b);  // slot 0
  b.on_tick = [&] { clock.remove(&a); };
  clock.tick(kStart + 15ms);
  EXPECT_EQ(b.ticks.size(), 1U);
  EXPECT_TRUE(a.ticks.empty());
  EXPECT_EQ(clock.stats().participants, 1U);
}

}  // namespace
}  // namespace warmline::media
