// RFC 3263 §4.1 NAPTR selection and RFC 2782 SRV ordering, with fixed inputs and a scripted random
// source, so every choice the resolver makes is checked without DNS.
#include "sip/resolve/records.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace warmline::sip {
namespace {

constexpr TargetTransport kUdpOnly[] = {TargetTransport::kUdp};
constexpr TargetTransport kAll[] = {TargetTransport::kUdp, TargetTransport::kTcp, TargetTransport::kTls};

NaptrRecord naptr(uint16_t order, uint16_t pref, std::string service, std::string replacement,
                  std::string flags = "S", std::string regexp = "") {
  return NaptrRecord{order, pref, std::move(flags), std::move(service), std::move(regexp), std::move(replacement)};
}

std::vector<std::string> names(const std::vector<SrvQuery>& queries) {
  std::vector<std::string> out;
  for (const SrvQuery& q : queries) out.push_back(q.name);
  return out;
}

std::vector<std::string> targets(const std::vector<SrvRecord>& records) {
  std::vector<std::string> out;
  for (const SrvRecord& r : records) out.push_back(r.target);
  return out;
}

// Returns the scripted values in turn and records every bound it was asked for.
struct ScriptedRandom {
  explicit ScriptedRandom(std::initializer_list<uint32_t> v) : values(v) {}
  std::deque<uint32_t> values;
  std::vector<uint32_t> bounds;
  SrvDraw source() {
    return [this](uint32_t max) {
      bounds.push_back(max);
      uint32_t v = values.front();
      values.pop_front();
      return v;
    };
  }
};

TEST(NaptrSelectTest, SortsByOrderThenPreference) {
  auto out = select_naptr({naptr(10, 30, "SIP+D2U", "_sip._udp.c.test"), naptr(10, 10, "SIP+D2U", "_sip._udp.a.test"),
                           naptr(10, 20, "SIP+D2U", "_sip._udp.b.test")},
                          false, kUdpOnly);
  EXPECT_EQ(names(out), (std::vector<std::string>{"_sip._udp.a.test", "_sip._udp.b.test", "_sip._udp.c.test"}));
}

TEST(NaptrSelectTest, MapsServicesToTransportsWhenAllAreSupported) {
  auto out = select_naptr({naptr(10, 30, "SIPS+D2T", "_sips._tcp.x.test"), naptr(10, 10, "SIP+D2U", "_sip._udp.x.test"),
                           naptr(10, 20, "sip+d2t", "_sip._tcp.x.test")},
                          false, kAll);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], (SrvQuery{"_sip._udp.x.test", TargetTransport::kUdp}));
  EXPECT_EQ(out[1], (SrvQuery{"_sip._tcp.x.test", TargetTransport::kTcp}));
  EXPECT_EQ(out[2], (SrvQuery{"_sips._tcp.x.test", TargetTransport::kTls}));
}

// We support UDP only: TCP and TLS records are understood and skipped, and the lowest Order that
// still has a usable record is the one followed (RFC 3403 §4.1).
TEST(NaptrSelectTest, SkipsUnsupportedTransportsAndUsesTheLowestUsableOrder) {
  auto out = select_naptr({naptr(10, 10, "SIP+D2T", "_sip._tcp.x.test"), naptr(10, 20, "SIPS+D2T", "_sips._tcp.x.test"),
                           naptr(20, 10, "SIP+D2U", "_sip._udp.x.test"), naptr(30, 10, "SIP+D2U", "_sip._udp.y.test")},
                          false, kUdpOnly);
  EXPECT_EQ(names(out), (std::vector<std::string>{"_sip._udp.x.test"}));
}

TEST(NaptrSelectTest, HigherOrderIsNotFollowedOnceAnOrderMatched) {
  auto out = select_naptr({naptr(20, 10, "SIP+D2U", "_sip._udp.late.test"), naptr(10, 50, "SIP+D2U", "_sip._udp.early.test")},
                          false, kUdpOnly);
  EXPECT_EQ(names(out), (std::vector<std::string>{"_sip._udp.early.test"}));
}

TEST(NaptrSelectTest, SipsUriKeepsOnlySipsServices) {
  auto out = select_naptr({naptr(10, 10, "SIP+D2U", "_sip._udp.x.test"), naptr(10, 20, "SIPS+D2T", "_sips._tcp.x.test")},
                          true, kAll);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (SrvQuery{"_sips._tcp.x.test", TargetTransport::kTls}));
  EXPECT_TRUE(select_naptr({naptr(10, 10, "SIPS+D2T", "_sips._tcp.x.test")}, true, kUdpOnly).empty());
}

TEST(NaptrSelectTest, DropsNonTerminalFlagsRegexpsAndForeignServices) {
  auto out = select_naptr({naptr(10, 10, "SIP+D2U", "_sip._udp.a.test", "A"),
                           naptr(10, 10, "SIP+D2U", "", "", "!^.*$!sip:x@y!"),
                           naptr(10, 10, "E2U+sip", "_sip._udp.b.test"), naptr(10, 10, "SIP+D2S", "_sip._sctp.c.test"),
                           naptr(10, 10, "SIP+D2U", ""), naptr(10, 90, "SIP+D2U", "_sip._udp.ok.test", "s")},
                          false, kUdpOnly);
  EXPECT_EQ(names(out), (std::vector<std::string>{"_sip._udp.ok.test"}));
}

TEST(NaptrSelectTest, EqualRecordsKeepAnswerOrderAndDuplicatesGoOnce) {
  auto out = select_naptr({naptr(10, 10, "SIP+D2U", "_sip._udp.first.test"), naptr(10, 10, "SIP+D2U", "_sip._udp.second.test"),
                           naptr(10, 10, "SIP+D2U", "_sip._udp.first.test")},
                          false, kUdpOnly);
  EXPECT_EQ(names(out), (std::vector<std::string>{"_sip._udp.first.test", "_sip._udp.second.test"}));
}

TEST(SrvOrderTest, PriorityAscendingWhateverTheAnswerOrder) {
  ScriptedRandom random{0, 0, 0};
  auto out = order_srv({{30, 0, 5060, "c.test"}, {10, 0, 5060, "a.test"}, {20, 0, 5060, "b.test"}}, random.source());
  EXPECT_EQ(targets(out), (std::vector<std::string>{"a.test", "b.test", "c.test"}));
}

// RFC 2782: zero weights first in the running-sum list; a draw r picks the first record whose running
// sum is >= r; the picked record leaves and the rest go again. With a zero-weight record present the
// draw is in [0, sum] (0 picks it), without one in [1, sum].
TEST(SrvOrderTest, WeightedChoiceFollowsTheRunningSums) {
  ScriptedRandom random{15, 0};
  // Weights 10, 20, 0 -> list [zero(0), ten(10), twenty(30)]; r = 15 -> twenty.
  // Then [zero(0), ten(10)], r = 0 -> zero. ten is last; a lone record needs no draw.
  auto out = order_srv({{1, 10, 5060, "ten.test"}, {1, 20, 5060, "twenty.test"}, {1, 0, 5060, "zero.test"}},
                       random.source());
  EXPECT_EQ(targets(out), (std::vector<std::string>{"twenty.test", "zero.test", "ten.test"}));
  EXPECT_EQ(random.bounds, (std::vector<uint32_t>{30, 10}));
}

TEST(SrvOrderTest, WithoutZeroWeightsTheDrawStartsAtOne) {
  // [a(5), b(10)]: the source gives [0, 9], the draw is 1 + that.
  ScriptedRandom low{0};
  EXPECT_EQ(targets(order_srv({{1, 5, 5060, "a.test"}, {1, 5, 5060, "b.test"}}, low.source())),
            (std::vector<std::string>{"a.test", "b.test"}));
  EXPECT_EQ(low.bounds, (std::vector<uint32_t>{9}));
  ScriptedRandom high{9};
  EXPECT_EQ(targets(order_srv({{1, 5, 5060, "a.test"}, {1, 5, 5060, "b.test"}}, high.source())),
            (std::vector<std::string>{"b.test", "a.test"}));
  // r = 5 is exactly a.test's running sum: "greater than or equal" still picks a.test; 6 picks b.
  ScriptedRandom edge{4};
  EXPECT_EQ(targets(order_srv({{1, 5, 5060, "a.test"}, {1, 5, 5060, "b.test"}}, edge.source())),
            (std::vector<std::string>{"a.test", "b.test"}));
  ScriptedRandom past{5};
  EXPECT_EQ(targets(order_srv({{1, 5, 5060, "a.test"}, {1, 5, 5060, "b.test"}}, past.source())),
            (std::vector<std::string>{"b.test", "a.test"}));
}

TEST(SrvOrderTest, WeightsApplyInsideEachPriorityOnly) {
  ScriptedRandom random{99, 0};
  auto out = order_srv({{2, 100, 5060, "backup-heavy.test"}, {1, 1, 5060, "main-a.test"}, {1, 99, 5060, "main-b.test"},
                        {2, 0, 5060, "backup-zero.test"}},
                       random.source());
  // Priority 1: r = 1 + 99 = 100 -> main-b, then main-a. Priority 2: [zero(0), heavy(100)], r = 0 -> zero.
  EXPECT_EQ(targets(out), (std::vector<std::string>{"main-b.test", "main-a.test", "backup-zero.test", "backup-heavy.test"}));
  EXPECT_EQ(random.bounds, (std::vector<uint32_t>{99, 100}));
}

TEST(SrvOrderTest, AllZeroWeightsArePickedUniformly) {
  ScriptedRandom random{2, 0};
  auto out = order_srv({{1, 0, 5060, "a.test"}, {1, 0, 5060, "b.test"}, {1, 0, 5060, "c.test"}}, random.source());
  EXPECT_EQ(targets(out), (std::vector<std::string>{"c.test", "a.test", "b.test"}));
  EXPECT_EQ(random.bounds, (std::vector<uint32_t>{2, 1}));
}

TEST(SrvOrderTest, ASourceThatOverreachesIsClamped) {
  ScriptedRandom random{1000};
  EXPECT_EQ(targets(order_srv({{1, 1, 5060, "a.test"}, {1, 1, 5060, "b.test"}}, random.source())),
            (std::vector<std::string>{"b.test", "a.test"}));
}

// Over many draws from a fixed-seed generator, a weight-3 record comes first three times as often as
// a weight-1 record (deterministic: the seed is fixed; the bounds leave room for any seed).
TEST(SrvOrderTest, WeightsShareTheFirstPlaceProportionally) {
  std::mt19937 rng(12345);
  SrvDraw source = [&](uint32_t max) { return std::uniform_int_distribution<uint32_t>(0, max)(rng); };
  int heavy_first = 0;
  for (int i = 0; i < 4000; ++i) {
    auto out = order_srv({{1, 1, 5060, "light.test"}, {1, 3, 5060, "heavy.test"}}, source);
    if (out.front().target == "heavy.test") ++heavy_first;
  }
  EXPECT_GT(heavy_first, 2850);  // 75 % of 4000 = 3000; the RFC's literal [0, sum] draw gives 60 %
  EXPECT_LT(heavy_first, 3150);
}

TEST(SrvOrderTest, DotTargetMeansNotAvailable) {
  ScriptedRandom random{0, 0};
  EXPECT_TRUE(order_srv({{0, 0, 0, "."}}, random.source()).empty());
  EXPECT_EQ(targets(order_srv({{0, 0, 0, "."}, {1, 0, 5060, "a.test"}}, random.source())),
            (std::vector<std::string>{"a.test"}));
}

}  // namespace
}  // namespace warmline::sip
