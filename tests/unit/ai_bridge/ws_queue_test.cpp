#include "ai_bridge/ws_queue.hpp"

#include <gtest/gtest.h>

#include <set>

#include <string>

namespace warmline::ai {
namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
std::string as_string(const WriteQueue::Message& m) { return {m.bytes.begin(), m.bytes.end()}; }

TEST(WriteQueue, KeepsOrderAndKinds) {
  WriteQueue q;
  ASSERT_TRUE(q.push_text("start", false));
  ASSERT_TRUE(q.push_binary(bytes("ab"), true));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.bytes(), 7u);
  EXPECT_EQ(as_string(q.front()), "start");
  EXPECT_FALSE(q.front().binary);
  q.pop();
  EXPECT_EQ(as_string(q.front()), "ab");
  EXPECT_TRUE(q.front().binary);
  q.pop();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(WriteQueue, AudioMessagesRememberWhenTheirOldestFrameWasQueued) {
  WriteQueue q;
  ASSERT_TRUE(q.push_text("start", false));
  ASSERT_TRUE(q.push_binary(bytes("11"), true));
  const auto between = std::chrono::steady_clock::now();
  ASSERT_TRUE(q.push_binary(bytes("22"), true));  // coalesced: the message keeps the first frame's time
  ASSERT_TRUE(q.push_text("{\"event\":\"media\"}", true, /*audio=*/true));
  EXPECT_FALSE(q.front().audio);  // a control message is not timed
  q.pop();
  EXPECT_TRUE(q.front().audio);
  EXPECT_EQ(as_string(q.front()), "1122");
  EXPECT_LE(q.front().queued_at, between);
  q.pop();
  EXPECT_TRUE(q.front().audio);
  EXPECT_FALSE(q.front().binary);
  EXPECT_GE(q.front().queued_at, between);
}

TEST(WriteQueue, CoalescesBinaryBehindTheWriteInFlight) {
  WriteQueue q;
  ASSERT_TRUE(q.push_binary(bytes("11"), false));
  ASSERT_TRUE(q.push_binary(bytes("22"), true));  // front is being written: must not grow
  ASSERT_TRUE(q.push_binary(bytes("33"), true));  // appended to "22"
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(as_string(q.front()), "11");
  q.pop();
  EXPECT_EQ(as_string(q.front()), "2233");
}

TEST(WriteQueue, NeverMergesTextOrAcrossText) {
  WriteQueue q;
  ASSERT_TRUE(q.push_text("a", false));
  ASSERT_TRUE(q.push_text("b", true));
  ASSERT_TRUE(q.push_binary(bytes("1"), true));
  ASSERT_TRUE(q.push_text("c", true));
  ASSERT_TRUE(q.push_binary(bytes("2"), true));
  EXPECT_EQ(q.size(), 5u);
}

TEST(WriteQueue, CoalescingStopsAtItsLimit) {
  WriteQueue q({.max_messages = 8, .max_bytes = 1000, .max_coalesced_bytes = 4});
  ASSERT_TRUE(q.push_binary(bytes("xx"), false));
  ASSERT_TRUE(q.push_binary(bytes("aa"), true));
  ASSERT_TRUE(q.push_binary(bytes("bb"), true));  // "aabb": 4 bytes
  ASSERT_TRUE(q.push_binary(bytes("cc"), true));  // would be 6: a new message
  EXPECT_EQ(q.size(), 3u);
}

TEST(WriteQueue, RefusesBeyondByteLimit) {
  WriteQueue q({.max_messages = 8, .max_bytes = 5, .max_coalesced_bytes = 100});
  ASSERT_TRUE(q.push_text("abcd", false));
  EXPECT_FALSE(q.push_binary(bytes("xy"), true));
  EXPECT_EQ(q.bytes(), 4u);  // the refused message was not queued
  EXPECT_TRUE(q.push_binary(bytes("z"), true));
}

TEST(WriteQueue, RefusesBeyondMessageLimit) {
  WriteQueue q({.max_messages = 2, .max_bytes = 100, .max_coalesced_bytes = 100});
  ASSERT_TRUE(q.push_text("a", false));
  ASSERT_TRUE(q.push_text("b", true));
  EXPECT_FALSE(q.push_text("c", true));
  q.pop();
  EXPECT_TRUE(q.push_text("c", true));  // the ring slot is reused
  EXPECT_EQ(as_string(q.front()), "b");
}

// Memory per call: the ring cycles through all of its slots, yet the steady state (one frame in
// flight, one queued) must hold a few frame buffers, not one per slot, and must reuse them.
TEST(WriteQueue, SteadyStateHoldsAFewRecycledBuffersNotOnePerSlot) {
  WriteQueue q;
  const std::vector<std::uint8_t> frame(640, 0x11);
  std::set<const std::uint8_t*> buffers;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(q.push_binary(frame, false));
    buffers.insert(q.front().bytes.data());
    q.pop();
  }
  EXPECT_LE(q.retained_capacity(), 4u * 1024u) << "at most the spare pool's buffers are kept";
  EXPECT_LE(buffers.size(), 4u) << "the same buffers are reused, not reallocated";
}

}  // namespace
}  // namespace warmline::ai
