#include "ai_bridge/playout_buffer.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace warmline::ai {
namespace {

std::vector<int16_t> ramp(int16_t first, std::size_t n) {
  std::vector<int16_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

class PlayoutBufferTest : public ::testing::Test {
 protected:
  PlayoutBuffer make(std::size_t capacity, std::size_t max_marks = 8) {
    return PlayoutBuffer({.capacity_samples = capacity, .max_pending_marks = max_marks,
                          .on_mark = [this](std::string_view name, MarkEvent e) {
                            events_.emplace_back(std::string(name), e);
                          }});
  }
  std::vector<std::pair<std::string, MarkEvent>> events_;
};

TEST_F(PlayoutBufferTest, PacesAudioOutOneFrameAtATime) {
  auto buf = make(1000);
  const auto audio = ramp(1, 50);  // 2.5 frames of 20 samples, pushed at once (faster than real time)
  EXPECT_EQ(buf.push(audio).accepted, 50u);
  EXPECT_EQ(buf.queued_samples(), 50u);
  std::array<int16_t, 20> frame{};
  ASSERT_TRUE(buf.pull(frame));
  EXPECT_EQ(frame.front(), 1);
  EXPECT_EQ(frame.back(), 20);
  ASSERT_TRUE(buf.pull(frame));
  EXPECT_EQ(frame.front(), 21);
  ASSERT_TRUE(buf.pull(frame));  // 10 samples of audio then silence
  EXPECT_EQ(frame[9], 50);
  EXPECT_EQ(frame[10], 0);
  EXPECT_EQ(frame[19], 0);
  EXPECT_TRUE(buf.empty());
  frame.fill(7);
  EXPECT_FALSE(buf.pull(frame));  // underrun: all silence
  EXPECT_EQ(std::count(frame.begin(), frame.end(), 0), 20);
  EXPECT_EQ(buf.played_samples(), 50u);
}

TEST_F(PlayoutBufferTest, WrapsAroundTheRingKeepingOrder) {
  auto buf = make(32);
  std::array<int16_t, 20> frame{};
  int16_t next_in = 0;
  int16_t next_out = 0;
  for (int round = 0; round < 10; ++round) {  // 200 samples through a 32-sample ring
    const auto chunk = ramp(next_in, 20);
    ASSERT_EQ(buf.push(chunk).dropped, 0u);
    next_in = static_cast<int16_t>(next_in + 20);
    ASSERT_TRUE(buf.pull(frame));
    for (int16_t s : frame) ASSERT_EQ(s, next_out++);
  }
}

TEST_F(PlayoutBufferTest, MarksArePlayedInOrderWhenTheirAudioHasLeft) {
  auto buf = make(1000);
  buf.push(ramp(0, 30));
  ASSERT_TRUE(buf.mark("a"));
  buf.push(ramp(0, 10));
  ASSERT_TRUE(buf.mark("b"));
  ASSERT_TRUE(buf.mark("c"));  // same position as b
  std::array<int16_t, 20> frame{};
  buf.pull(frame);  // 20 of 30 before "a"
  EXPECT_TRUE(events_.empty());
  buf.pull(frame);  // 40: past "a" (30) and "b"/"c" (40)
  ASSERT_EQ(events_.size(), 3u);
  EXPECT_EQ(events_[0], std::make_pair(std::string("a"), MarkEvent::kPlayed));
  EXPECT_EQ(events_[1], std::make_pair(std::string("b"), MarkEvent::kPlayed));
  EXPECT_EQ(events_[2], std::make_pair(std::string("c"), MarkEvent::kPlayed));
  EXPECT_EQ(buf.pending_marks(), 0u);
}

TEST_F(PlayoutBufferTest, MarkOnEmptyQueueIsPlayedOnNextPull) {
  auto buf = make(100);
  ASSERT_TRUE(buf.mark("now"));
  EXPECT_TRUE(events_.empty());
  std::array<int16_t, 20> frame{};
  EXPECT_FALSE(buf.pull(frame));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].first, "now");
}

TEST_F(PlayoutBufferTest, ClearDropsAudioAndReportsPendingMarksAsCleared) {
  auto buf = make(1000);
  buf.push(ramp(1, 100));
  buf.mark("m1");
  buf.push(ramp(1, 100));
  buf.mark("m2");
  std::array<int16_t, 20> frame{};
  buf.pull(frame);
  EXPECT_EQ(buf.clear(), 180u);
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0], std::make_pair(std::string("m1"), MarkEvent::kCleared));
  EXPECT_EQ(events_[1], std::make_pair(std::string("m2"), MarkEvent::kCleared));
  EXPECT_TRUE(buf.empty());
  EXPECT_FALSE(buf.pull(frame));
  EXPECT_EQ(events_.size(), 2u);  // cleared marks are not reported again
  // New audio after a clear plays from its own start.
  buf.push(ramp(500, 20));
  buf.mark("m3");
  ASSERT_TRUE(buf.pull(frame));
  EXPECT_EQ(frame[0], 500);
  ASSERT_EQ(events_.size(), 3u);
  EXPECT_EQ(events_[2], std::make_pair(std::string("m3"), MarkEvent::kPlayed));
}

TEST_F(PlayoutBufferTest, CapacityRefusesAndCountsTheExcess) {
  auto buf = make(50);
  EXPECT_EQ(buf.push(ramp(0, 40)).dropped, 0u);
  const auto r = buf.push(ramp(100, 30));
  EXPECT_EQ(r.accepted, 10u);
  EXPECT_EQ(r.dropped, 20u);
  EXPECT_EQ(buf.dropped_samples(), 20u);
  EXPECT_EQ(buf.queued_samples(), 50u);
  std::array<int16_t, 50> all{};
  buf.pull(all);
  EXPECT_EQ(all[39], 39);
  EXPECT_EQ(all[40], 100);  // the accepted head of the second push, the rest was refused
  EXPECT_EQ(all[49], 109);
}

TEST_F(PlayoutBufferTest, TooManyPendingMarksAreRefused) {
  auto buf = make(100, 2);
  EXPECT_TRUE(buf.mark("1"));
  EXPECT_TRUE(buf.mark("2"));
  EXPECT_FALSE(buf.mark("3"));
  std::array<int16_t, 20> frame{};
  buf.pull(frame);
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_TRUE(buf.mark("4"));  // slots are freed once reported
}

TEST_F(PlayoutBufferTest, CallbackMaySetTheNextMark) {
  int chained = 0;
  PlayoutBuffer* self = nullptr;
  PlayoutBuffer buf({.capacity_samples = 100, .max_pending_marks = 1,
                     .on_mark = [&](std::string_view name, MarkEvent) {
                       EXPECT_EQ(name, chained == 0 ? "first" : "second");
                       if (chained++ == 0) {
                         EXPECT_TRUE(self->mark("second"));
                       }
                     }});
  self = &buf;
  buf.mark("first");
  std::array<int16_t, 20> frame{};
  buf.pull(frame);
  EXPECT_EQ(chained, 2);  // "second" sat at the same position, so it was played in the same pull
}

// Memory follows the queue: a small ring grows (keeping order across a wrapped ring) up to the limit,
// and only then are pushes refused.
TEST(PlayoutBufferGrowth, GrowsByDoublingUpToTheLimitKeepingOrder) {
  std::vector<std::string> marks;
  PlayoutBuffer buf({.capacity_samples = 100, .initial_samples = 8, .max_pending_marks = 20,
                     .on_mark = [&](std::string_view name, MarkEvent) { marks.emplace_back(name); }});
  EXPECT_EQ(buf.allocated_samples(), 8u);
  // Wrap the small ring first: head in the middle, so growth has to re-lay two pieces in order.
  buf.push(ramp(0, 6));
  std::vector<int16_t> frame(5);
  buf.pull(frame);
  buf.push(ramp(6, 6));  // 7 queued, wrapped
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(buf.mark("m" + std::to_string(i)));  // mark slots grow too
  auto r = buf.push(ramp(12, 40));  // needs 47 > 8: grows to 64
  EXPECT_EQ(r.accepted, 40u);
  EXPECT_EQ(buf.allocated_samples(), 64u);
  std::vector<int16_t> all(47);
  buf.pull(all);
  EXPECT_EQ(all, ramp(5, 47));
  EXPECT_EQ(marks.size(), 10u);
  r = buf.push(ramp(0, 150));  // the limit is 100: 100 accepted (ring at 100, not 128), 50 refused
  EXPECT_EQ(r.accepted, 100u);
  EXPECT_EQ(r.dropped, 50u);
  EXPECT_EQ(buf.allocated_samples(), 100u);
  EXPECT_EQ(buf.capacity_samples(), 100u);
}

TEST(PlayoutBufferSizing, SamplesForMs) {
  EXPECT_EQ(PlayoutBuffer::samples_for_ms(16000, 20), 320u);
  EXPECT_EQ(PlayoutBuffer::samples_for_ms(24000, 60000), 1440000u);
}

}  // namespace
}  // namespace warmline::ai
