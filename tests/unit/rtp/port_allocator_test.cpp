#include "rtp/port_allocator.hpp"

#include <gtest/gtest.h>

#include <set>

namespace warmline::rtp {
namespace {

TEST(PortAllocator, AllocatesEvenPortsWithRtcpNeighbourUntilExhausted) {
  PortAllocator ports({.min = 10001, .max = 10010});  // RTP 10002..10008 (10010 has no 10011)
  EXPECT_EQ(ports.capacity(), 4u);
  std::set<uint16_t> got;
  for (int i = 0; i < 4; ++i) {
    auto p = ports.allocate();
    ASSERT_TRUE(p);
    EXPECT_EQ(*p % 2, 0);
    EXPECT_GE(*p, 10002);
    EXPECT_LE(*p + 1, 10010);
    got.insert(*p);
  }
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(ports.available(), 0u);
  EXPECT_FALSE(ports.allocate());
  ports.release(10004);
  EXPECT_EQ(ports.allocate(), 10004);
}

TEST(PortAllocator, ReleasedPortsAreReusedLast) {
  PortAllocator ports({.min = 20000, .max = 20005});  // 20000, 20002, 20004
  EXPECT_EQ(ports.allocate(), 20000);
  ports.release(20000);
  EXPECT_EQ(ports.allocate(), 20002);
  EXPECT_EQ(ports.allocate(), 20004);
  EXPECT_EQ(ports.allocate(), 20000);
}

TEST(PortAllocator, IgnoresForeignOddAndDoubleReleases) {
  PortAllocator ports({.min = 30000, .max = 30003});  // 30000, 30002
  auto a = ports.allocate();
  ASSERT_TRUE(a);
  ports.release(*a);
  ports.release(*a);      // double release
  ports.release(30001);   // odd
  ports.release(40000);   // not ours
  ports.release(29998);
  EXPECT_EQ(ports.available(), 2u);
  EXPECT_TRUE(ports.allocate());
  EXPECT_TRUE(ports.allocate());
  EXPECT_FALSE(ports.allocate());
}

TEST(PortAllocator, EmptyAndEdgeRanges) {
  EXPECT_EQ(PortAllocator({.min = 1, .max = 0}).capacity(), 0u);
  EXPECT_FALSE(PortAllocator({.min = 5000, .max = 5000}).allocate());
  EXPECT_EQ(PortAllocator({.min = 5000, .max = 5001}).capacity(), 1u);
  PortAllocator top({.min = 65534, .max = 65535});
  EXPECT_EQ(top.allocate(), 65534);
  EXPECT_EQ(PortAllocator({.min = 65535, .max = 65535}).capacity(), 0u);
}

TEST(SplitRange, DisjointEvenSlicesCoveringTheRange) {
  const PortRange range{.min = 10000, .max = 20000};  // 5000 RTP ports
  auto slices = split_range(range, 3);
  ASSERT_EQ(slices.size(), 3u);
  size_t total = 0;
  std::set<uint16_t> seen;
  for (const auto& s : slices) {
    EXPECT_EQ(s.min % 2, 0);
    EXPECT_GE(s.min, range.min);
    EXPECT_LE(s.max, range.max);
    PortAllocator ports(s);
    total += ports.capacity();
    for (auto p = ports.allocate(); p; p = ports.allocate()) {
      EXPECT_TRUE(seen.insert(*p).second) << *p;  // no port in two slices
      EXPECT_FALSE(seen.contains(*p + 1));
    }
  }
  EXPECT_EQ(total, 5000u);
  EXPECT_EQ(rtp_port_count(slices[0]), 1667u);
  EXPECT_EQ(rtp_port_count(slices[2]), 1666u);
}

TEST(SplitRange, MoreSlicesThanPortsGivesEmptySlices) {
  auto slices = split_range({.min = 4000, .max = 4003}, 4);  // 2 RTP ports
  ASSERT_EQ(slices.size(), 4u);
  EXPECT_EQ(slices[0], (PortRange{4000, 4001}));
  EXPECT_EQ(slices[1], (PortRange{4002, 4003}));
  EXPECT_EQ(rtp_port_count(slices[2]), 0u);
  EXPECT_FALSE(PortAllocator(slices[3]).allocate());
  EXPECT_TRUE(split_range({.min = 4000, .max = 4003}, 0).empty());
}

}  // namespace
}  // namespace warmline::rtp
