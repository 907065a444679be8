// rtp/srtp_replay: RFC 3711 Appendix A index estimation, the 128-packet replay window, and the fixed
// table of SSRCs (eviction inbound, refusal outbound).
#include "rtp/srtp_replay.hpp"

#include <gtest/gtest.h>

namespace warmline::rtp {
namespace {

constexpr uint64_t index_of(uint32_t roc, uint16_t seq) { return static_cast<uint64_t>(roc) << 16 | seq; }

TEST(SrtpReplay, EstimateIndexFollowsAppendixA) {
  EXPECT_EQ(srtp_estimate_index(index_of(0, 100), 101), index_of(0, 101));
  EXPECT_EQ(srtp_estimate_index(index_of(0, 100), 50), index_of(0, 50));
  // s_l >= 2^15 and SEQ far below: the sequence number wrapped, ROC + 1.
  EXPECT_EQ(srtp_estimate_index(index_of(0, 65535), 0), index_of(1, 0));
  EXPECT_EQ(srtp_estimate_index(index_of(3, 65000), 10), index_of(4, 10));
  EXPECT_EQ(srtp_estimate_index(index_of(3, 40000), 7232), index_of(3, 7232));  // s_l - 2^15 = 7232: not above
  EXPECT_EQ(srtp_estimate_index(index_of(3, 40000), 7231), index_of(4, 7231));
  // s_l < 2^15 and SEQ far above: a late packet from before the wrap, ROC - 1.
  EXPECT_EQ(srtp_estimate_index(index_of(1, 5), 65530), index_of(0, 65530));
  EXPECT_EQ(srtp_estimate_index(index_of(1, 5), 32773), index_of(1, 32773));  // SEQ - s_l = 2^15: same ROC
  EXPECT_EQ(srtp_estimate_index(index_of(1, 5), 32774), index_of(0, 32774));
  // No ROC below 0 nor above 2^32 - 1.
  EXPECT_FALSE(srtp_estimate_index(index_of(0, 5), 65530));
  EXPECT_FALSE(srtp_estimate_index(index_of(0xffffffff, 65000), 3));
}

TEST(SrtpReplay, WindowRefusesReplaysAndPacketsTooOld) {
  SrtpReplayTable t;
  auto v = t.check(1, 1000);
  ASSERT_EQ(v.check, SrtpReplayTable::Check::kOk);
  EXPECT_EQ(v.slot, -1);
  EXPECT_FALSE(v.full);
  ASSERT_TRUE(t.commit(1, v, true));
  EXPECT_EQ(t.check(1, 1000).check, SrtpReplayTable::Check::kReplayed);
  // Not committed (as when a packet fails authentication): still new.
  EXPECT_EQ(t.check(1, 1001).check, SrtpReplayTable::Check::kOk);
  EXPECT_EQ(t.check(1, 1001).check, SrtpReplayTable::Check::kOk);
  ASSERT_TRUE(t.commit(1, t.check(1, 1200), true));  // highest now 1200
  EXPECT_EQ(t.check(1, 1000).check, SrtpReplayTable::Check::kReplayed);  // 200 behind
  EXPECT_EQ(t.check(1, 1072).check, SrtpReplayTable::Check::kReplayed);  // 128 behind: out of the window
  const auto edge = t.check(1, 1073);                                      // 127 behind: inside
  ASSERT_EQ(edge.check, SrtpReplayTable::Check::kOk);
  ASSERT_TRUE(t.commit(1, edge, true));
  EXPECT_EQ(t.check(1, 1073).check, SrtpReplayTable::Check::kReplayed);
  EXPECT_EQ(t.check(1, 1200).check, SrtpReplayTable::Check::kReplayed);
  EXPECT_EQ(t.check(1, 1199).check, SrtpReplayTable::Check::kOk);
  // A jump of more than the window clears it.
  ASSERT_TRUE(t.commit(1, t.check(1, 2000), true));
  EXPECT_EQ(t.check(1, 1999).check, SrtpReplayTable::Check::kOk);
  EXPECT_EQ(t.check(1, 2000).check, SrtpReplayTable::Check::kReplayed);
}

TEST(SrtpReplay, WindowFollowsTheRocAcrossAWrap) {
  SrtpReplayTable t;
  for (uint32_t s = 65530; s < 65536 + 5; ++s) {
    const auto v = t.check(9, static_cast<uint16_t>(s));
    ASSERT_EQ(v.check, SrtpReplayTable::Check::kOk) << s;
    EXPECT_EQ(v.index, s) << s;  // ROC 1 after the wrap
    ASSERT_TRUE(t.commit(9, v, true));
  }
  EXPECT_EQ(t.check(9, 65533).check, SrtpReplayTable::Check::kReplayed);
  EXPECT_EQ(t.check(9, 65533).index, 65533u);
  EXPECT_EQ(t.check(9, 2).check, SrtpReplayTable::Check::kReplayed);
}

TEST(SrtpReplay, FullTableEvictsTheStreamUsedLongestAgoOrRefuses) {
  SrtpReplayTable t;
  for (uint32_t ssrc = 1; ssrc <= SrtpReplayTable::kStreams; ++ssrc) ASSERT_TRUE(t.commit(ssrc, t.check(ssrc, 10), true));
  ASSERT_TRUE(t.commit(1, t.check(1, 11), true));  // SSRC 2 is now the one used longest ago
  const auto fifth = t.check(5, 10);
  EXPECT_TRUE(fifth.full);
  EXPECT_FALSE(t.commit(5, fifth, false));  // outbound: refused
  EXPECT_EQ(t.check(5, 10).slot, -1);
  ASSERT_TRUE(t.commit(5, fifth, true));  // inbound: SSRC 2 goes
  EXPECT_GE(t.check(5, 11).slot, 0);
  EXPECT_EQ(t.check(2, 10).slot, -1);  // a new stream again
  EXPECT_GE(t.check(1, 12).slot, 0);
  EXPECT_GE(t.check(3, 12).slot, 0);
  EXPECT_GE(t.check(4, 12).slot, 0);
}

}  // namespace
}  // namespace warmline::rtp
