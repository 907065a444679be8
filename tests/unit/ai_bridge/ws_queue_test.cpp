#include "ai_bridge/ws_queue.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace warmline::ai {
namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// One frame as an agent (a WebSocket server) reads it: RFC 6455 §5.2, unmasked.
struct Frame {
  bool fin = false;
  int opcode = 0;
  std::string payload;
  std::size_t header = 0;  // header bytes, mask key included
};

// Parses the frames in `wire`; fails the test on anything a server would refuse from a client
// (unmasked frames, non-minimal lengths, a truncated frame).
std::vector<Frame> parse(std::span<const std::uint8_t> wire) {
  std::vector<Frame> out;
  std::size_t at = 0;
  while (at < wire.size() && out.size() < 10000) {
    EXPECT_GE(wire.size() - at, 2u);
    if (wire.size() - at < 2) break;
    Frame f;
    f.fin = wire[at] & 0x80;
    f.opcode = wire[at] & 0x0f;
    EXPECT_TRUE(wire[at + 1] & 0x80) << "a client must mask every frame";
    std::uint64_t len = wire[at + 1] & 0x7f;
    std::size_t p = at + 2;
    if (len == 126) {
      len = std::uint64_t{wire[p]} << 8 | wire[p + 1];
      EXPECT_GE(len, 126u) << "length not in its shortest form";
      p += 2;
    } else if (len == 127) {
      len = 0;
      for (int i = 0; i < 8; ++i) len = len << 8 | wire[p + i];
      EXPECT_GT(len, 0xffffu) << "length not in its shortest form";
      p += 8;
    }
    const std::uint8_t* key = &wire[p];
    p += 4;
    EXPECT_LE(p + len, wire.size()) << "truncated frame";
    if (p + len > wire.size()) break;
    f.header = p - at;
    f.payload.resize(len);
    for (std::size_t i = 0; i < len; ++i) f.payload[i] = static_cast<char>(wire[p + i] ^ key[i & 3]);
    out.push_back(f);
    at = p + len;
  }
  return out;
}

std::vector<Frame> write_all(WriteQueue& q) {
  const auto wire = q.begin_write();
  auto frames = parse(wire);
  q.end_write();
  return frames;
}

TEST(WriteQueue, FramesEveryMessageInPlaceMaskedAndInOrder) {
  WriteQueue q;
  ASSERT_TRUE(q.push_text("start"));
  ASSERT_TRUE(q.push_binary(bytes("ab")));
  ASSERT_TRUE(q.push_text(""));
  EXPECT_EQ(q.size(), 3u);
  const auto frames = write_all(q);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_TRUE(frames[0].fin);
  EXPECT_EQ(frames[0].opcode, 1);
  EXPECT_EQ(frames[0].payload, "start");
  EXPECT_EQ(frames[1].opcode, 2);
  EXPECT_EQ(frames[1].payload, "ab");
  EXPECT_EQ(frames[2].payload, "");
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(WriteQueue, LengthFieldsTakeTheirShortestForm) {
  WriteQueue q({.max_messages = 8, .max_bytes = 1 << 20, .max_coalesced_bytes = 1 << 20});
  for (std::size_t n : {125u, 126u, 65535u, 65536u}) ASSERT_TRUE(q.push_text(std::string(n, 0x5a)));
  const auto frames = write_all(q);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].header, 2u + 4u);
  EXPECT_EQ(frames[1].header, 4u + 4u);
  EXPECT_EQ(frames[2].header, 4u + 4u);
  EXPECT_EQ(frames[3].header, 10u + 4u);
  EXPECT_EQ(frames[3].payload, std::string(65536, '\x5a'));
}

TEST(WriteQueue, MaskingAnyLengthAtAnyPhaseRoundTrips) {
  for (std::size_t n = 0; n < 40; ++n) {
    for (std::size_t phase = 0; phase < 4; ++phase) {
      std::vector<std::uint8_t> data(n);
      for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 1);
      const std::uint32_t key = 0xa1b2c3d4;
      auto masked = data;
      ws_frame::mask(masked.data(), n, key, phase);
      std::uint8_t k[4];
      std::memcpy(k, &key, 4);
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_EQ(masked[i], data[i] ^ k[(phase + i) & 3]) << "n " << n << " phase " << phase << " byte " << i;
    }
  }
}

TEST(WriteQueue, FramesQueuedDuringAWriteGatherForTheNext) {
  WriteQueue q;
  ASSERT_TRUE(q.push_text("one"));
  const auto first = q.begin_write();
  const std::vector<std::uint8_t> in_flight(first.begin(), first.end());
  ASSERT_TRUE(q.push_text("two"));
  ASSERT_TRUE(q.push_text("three"));
  EXPECT_TRUE(std::equal(first.begin(), first.end(), in_flight.begin())) << "the bytes in flight never change";
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.end_write().frames, 1u);
  const auto next = write_all(q);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].payload, "two");
  EXPECT_EQ(next[1].payload, "three");
}

TEST(WriteQueue, CoalescesBinaryNotYetWrittenAcrossALengthFieldChange) {
  WriteQueue q;
  ASSERT_TRUE(q.push_binary(bytes("11")));
  ASSERT_TRUE(q.push_binary(bytes("22")));  // "1122"
  q.begin_write();  // in flight: must not grow
  const std::string a(100, 'a'), b(30, 'b'), c(3, 'c');
  ASSERT_TRUE(q.push_binary(bytes(a)));
  ASSERT_TRUE(q.push_binary(bytes(b)));  // 130 bytes: the 7-bit length becomes a 16-bit one
  ASSERT_TRUE(q.push_binary(bytes(c)));  // continues the mask at an odd phase
  EXPECT_EQ(q.end_write().frames, 1u);
  const auto frames = write_all(q);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, a + b + c);
  EXPECT_EQ(frames[0].header, 8u);
}

TEST(WriteQueue, NeverMergesTextOrAcrossText) {
  WriteQueue q;
  ASSERT_TRUE(q.push_text("a"));
  q.begin_write();
  ASSERT_TRUE(q.push_text("b"));
  ASSERT_TRUE(q.push_binary(bytes("1")));
  ASSERT_TRUE(q.push_text("c"));
  ASSERT_TRUE(q.push_binary(bytes("2")));
  q.push_framed(std::vector<std::uint8_t>{0x8a, 0x80, 0, 0, 0, 0});  // a pong Beast framed
  ASSERT_TRUE(q.push_binary(bytes("3")));
  EXPECT_EQ(q.size(), 7u);
  q.end_write();
  const auto frames = write_all(q);
  ASSERT_EQ(frames.size(), 6u);
  EXPECT_EQ(frames[4].opcode, 0xa);
  EXPECT_EQ(frames[5].payload, "3");
}

TEST(WriteQueue, CoalescingStopsAtItsLimit) {
  WriteQueue q({.max_messages = 8, .max_bytes = 1000, .max_coalesced_bytes = 4});
  ASSERT_TRUE(q.push_text("x"));
  ASSERT_TRUE(q.push_binary(bytes("aa")));
  ASSERT_TRUE(q.push_binary(bytes("bb")));  // "aabb": 4 bytes
  ASSERT_TRUE(q.push_binary(bytes("cc")));  // would be 6: a new message
  EXPECT_EQ(q.size(), 3u);
}

TEST(WriteQueue, AudioBatchesRememberWhenTheirOldestFrameWasQueued) {
  WriteQueue q;
  ASSERT_TRUE(q.push_text("start"));
  EXPECT_FALSE(q.begin_write().empty());
  EXPECT_FALSE(q.end_write().audio) << "a control message is not timed";
  const auto before = WriteQueue::Clock::now();
  ASSERT_TRUE(q.push_binary(bytes("11")));
  const auto between = WriteQueue::Clock::now();
  ASSERT_TRUE(q.push_binary(bytes("22")));  // coalesced: the message keeps the first frame's time
  ASSERT_TRUE(q.push_text("{\"event\":\"media\"}", /*audio=*/true));
  q.begin_write();
  const auto batch = q.end_write();
  EXPECT_TRUE(batch.audio);
  EXPECT_EQ(batch.frames, 2u);
  EXPECT_GE(batch.audio_since, before);
  EXPECT_LE(batch.audio_since, between);
}

TEST(WriteQueue, RefusesBeyondByteLimit) {
  WriteQueue q({.max_messages = 8, .max_bytes = 20, .max_coalesced_bytes = 100});
  ASSERT_TRUE(q.push_text("abcd"));  // 2 + 4 + 4 = 10 bytes on the wire
  EXPECT_FALSE(q.push_binary(bytes("0123456789")));
  EXPECT_EQ(q.bytes(), 10u) << "the refused message was not queued";
  EXPECT_TRUE(q.push_binary(bytes("z")));
}

TEST(WriteQueue, RefusesBeyondMessageLimitCountingTheWriteInFlight) {
  WriteQueue q({.max_messages = 2, .max_bytes = 100, .max_coalesced_bytes = 100});
  ASSERT_TRUE(q.push_text("a"));
  q.begin_write();
  ASSERT_TRUE(q.push_text("b"));
  EXPECT_FALSE(q.push_text("c"));
  q.end_write();
  EXPECT_TRUE(q.push_text("c"));
  const auto frames = write_all(q);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, "b");
}

// Memory per call and no allocation per frame: the steady state (a frame or two per write) runs in the
// same two buffers, and a backlog's big batch is not held afterwards.
TEST(WriteQueue, SteadyStateReusesTwoBuffersAndReleasesABacklog) {
  WriteQueue q;
  const std::vector<std::uint8_t> frame(640, 0x11);
  std::set<const std::uint8_t*> buffers;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(q.push_binary(frame));
    if (i % 3 == 0) {
      ASSERT_TRUE(q.push_text("{\"event\":\"mark\"}"));
    }
    const auto* data = q.begin_write().data();
    if (i >= 10) buffers.insert(data);  // after the buffers grew to the batch size
    q.end_write();
  }
  EXPECT_EQ(buffers.size(), 2u) << "the same two buffers are reused, not reallocated";
  q.begin_write();
  q.end_write();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(q.push_text(std::string(1000, 'x')));  // a backlog
  q.begin_write();
  q.end_write();
  q.push_text("x");
  q.begin_write();
  q.end_write();
  EXPECT_LE(q.retained_capacity(), 32u * 1024u);
}

}  // namespace
}  // namespace warmline::ai
