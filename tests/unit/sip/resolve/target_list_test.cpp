// RFC 3263 §4.3: on 503, timeout or transport error the caller moves to the next target, skipping
// entries already known to have failed.
#include "sip/resolve/target_list.hpp"

#include <gtest/gtest.h>

namespace warmline::sip {
namespace {

const Target kA{"192.0.2.1", 5060, TargetTransport::kUdp};
const Target kB{"192.0.2.2", 5062, TargetTransport::kUdp};
const Target kC{"2001:db8::3", 5060, TargetTransport::kUdp};

TEST(TargetListTest, WalksInOrderUntilExhausted) {
  TargetList list({kA, kB, kC});
  ASSERT_NE(list.current(), nullptr);
  EXPECT_EQ(*list.current(), kA);
  EXPECT_EQ(list.remaining(), 3u);
  EXPECT_EQ(*list.next(), kB);
  EXPECT_EQ(*list.next(), kC);
  EXPECT_EQ(list.next(), nullptr);
  EXPECT_TRUE(list.exhausted());
  EXPECT_EQ(list.remaining(), 0u);
  EXPECT_EQ(list.next(), nullptr);  // stays exhausted
}

TEST(TargetListTest, AnAddressListedTwiceFailsOnce) {
  // The same server under two SRV names: once it failed, it is not tried again.
  TargetList list({kA, kB, kA, kC});
  EXPECT_EQ(*list.next(), kB);
  EXPECT_EQ(*list.next(), kC);
  EXPECT_TRUE(list.failed(2));
}

TEST(TargetListTest, MarkingALaterTargetSkipsIt) {
  TargetList list({kA, kB, kC});
  list.mark_failed(kB);
  EXPECT_EQ(*list.current(), kA);
  EXPECT_EQ(list.remaining(), 2u);
  EXPECT_EQ(*list.next(), kC);
}

TEST(TargetListTest, MarkingTheCurrentTargetMovesOn) {
  TargetList list({kA, kB});
  list.mark_failed(*list.current());
  EXPECT_EQ(*list.current(), kB);
}

TEST(TargetListTest, EmptyListIsExhausted) {
  TargetList list;
  EXPECT_TRUE(list.exhausted());
  EXPECT_EQ(list.next(), nullptr);
  EXPECT_EQ(list.size(), 0u);
}

TEST(TargetListTest, TargetsPrintWithTransport) {
  EXPECT_EQ(kA.to_string(), "udp:192.0.2.1:5060");
  EXPECT_EQ(kC.to_string(), "udp:[2001:db8::3]:5060");
}

}  // namespace
}  // namespace warmline::sip
