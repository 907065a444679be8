// The caller's leg and reliable provisional responses (RFC 3262 §3): a caller whose INVITE lists 100rel
// gets our 183 with SDP reliably (Require: 100rel, RSeq, resent until the PRACK), the 200 waits for
// that PRACK, a PRACK that names nothing is 481, and no PRACK within 64*T1 ends the INVITE with 500.
// With Require: 100rel the 180 is reliable too; without 100rel nothing changes.
#include <algorithm>
#include <charconv>

#include "call_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct LegPrackTest : CallFixture {
  LegPrackTest() { config.trunks[0].provisional = Provisional::session_progress; }  // "carrier": 183

  // The RSeq of the last response to the INVITE (0 when it has none).
  uint32_t rseq_of_last(const Caller& c) const {
    const sip::Message* r = last_response(c, "INVITE");
    if (!r) return 0;
    std::string_view v = r->header("RSeq");
    uint32_t n = 0;
    std::from_chars(v.data(), v.data() + v.size(), n);
    return n;
  }
  void prack(Caller& c, std::string rack) { send(c, "PRACK", InDialog().header("RAck: " + rack)); }
  static std::string rack(uint32_t rseq, uint32_t cseq = 1, std::string_view method = "INVITE") {
    return std::to_string(rseq) + " " + std::to_string(cseq) + " " + std::string(method);
  }
  // A caller's INVITE with `options`; its first response (nullptr: none).
  const sip::Message* first_response(Caller& c, InviteOptions options) {
    invite(c, std::move(options));
    return last_response(c, "INVITE");
  }
  size_t count(const Caller& c, int status) const {
    auto s = statuses(c, "INVITE");
    return static_cast<size_t>(std::count(s.begin(), s.end(), status));
  }
};

TEST_F(LegPrackTest, SupportedCallerGetsAReliable183AndThe200WaitsForItsPrack) {
  Caller c = make_caller();
  const sip::Message* p = first_response(c, InviteOptions().header("Supported: 100rel, timer"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status_code, 183);
  EXPECT_EQ(p->header("Require"), "100rel");
  EXPECT_THAT(std::string(p->header("Supported")), HasSubstr("100rel"));
  const uint32_t rseq = rseq_of_last(c);
  EXPECT_GE(rseq, 1u);
  EXPECT_LE(rseq, 0x7FFFFFFFu) << "§3: the first RSeq is at most 2**31 - 1";
  EXPECT_THAT(p->body, HasSubstr("m=audio"));
  ASSERT_TRUE(c.media);
  EXPECT_TRUE(c.media->started) << "early media starts with the 183";

  // The agent connects: the 200 must wait for the PRACK (§3), and the 183 keeps coming meanwhile.
  c.agent->open();
  settle();
  EXPECT_EQ(count(c, 200), 0u);
  advance(500ms);
  EXPECT_EQ(count(c, 183), 2u) << "resent after T1";
  advance(1000ms);
  EXPECT_EQ(count(c, 183), 3u) << "then after 2*T1";

  prack(c, rack(rseq));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(200));
  EXPECT_EQ(count(c, 200), 1u) << "the held 200 goes out with the PRACK's 200";
  EXPECT_EQ(last_response(c, "INVITE")->status_code, 200);
  EXPECT_EQ(last_response(c, "INVITE")->header("RSeq"), "") << "only provisionals carry RSeq";
  ack(c);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  advance(20s);
  EXPECT_EQ(count(c, 183), 3u) << "no retransmission after the PRACK";
}

TEST_F(LegPrackTest, APrackThatMatchesNothingIs481AndOneWithoutRAckIs400) {
  Caller c = make_caller();
  invite(c, InviteOptions().header("Supported: 100rel"));
  const uint32_t rseq = rseq_of_last(c);
  prack(c, rack(rseq + 1));
  prack(c, rack(rseq, 2));
  prack(c, rack(rseq, 1, "BYE"));
  send(c, "PRACK");
  prack(c, "1 x INVITE");
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(481, 481, 481, 400, 400));
  advance(500ms);
  EXPECT_EQ(count(c, 183), 2u) << "still unacknowledged";
  prack(c, rack(rseq));
  prack(c, rack(rseq));  // a second PRACK for the same response: it is no longer unacknowledged
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(481, 481, 481, 400, 400, 200, 481));
}

TEST_F(LegPrackTest, NoPrackWithin64T1EndsTheInviteWith500) {
  Caller c = make_caller();
  invite(c, InviteOptions().header("Supported: 100rel"));
  c.agent->open();
  settle();
  advance(31s);
  // Sent at 0, then T1 doubling: 0.5, 1.5, 3.5, 7.5, 15.5 s (31.5 s is still ahead).
  EXPECT_EQ(count(c, 183), 6u);
  EXPECT_EQ(count(c, 500), 0u);
  advance(1s);
  EXPECT_EQ(count(c, 183), 7u);
  EXPECT_EQ(count(c, 500), 1u) << "§3: 64*T1 without PRACK: a 5xx";
  EXPECT_EQ(count(c, 200), 0u);
  EXPECT_EQ(c.agent->stop_reason(), "no_prack");
  advance(40s);
  EXPECT_EQ(count(c, 183), 7u) << "the retransmissions end with the 500";
}

TEST_F(LegPrackTest, RequireMakesThe180ReliableWithoutHoldingThe200) {
  config.trunks[0].provisional = Provisional::ringing;
  Caller c = make_caller();
  const sip::Message* p = first_response(c, InviteOptions().header("Require: 100rel"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status_code, 180) << "Require: 100rel is supported: no 420";
  EXPECT_EQ(p->header("Require"), "100rel");
  EXPECT_GE(rseq_of_last(c), 1u);
  EXPECT_TRUE(p->body.empty());
  // A 180 without SDP does not hold the 200 (§3); the 200 ends its retransmissions.
  c.agent->open();
  settle();
  EXPECT_EQ(last_response(c, "INVITE")->status_code, 200);
  ack(c);
  advance(10s);
  EXPECT_EQ(count(c, 180), 1u);
}

TEST_F(LegPrackTest, SupportedOnlyLeavesThe180Unreliable) {
  config.trunks[0].provisional = Provisional::ringing;
  Caller c = make_caller();
  const sip::Message* p = first_response(c, InviteOptions().header("Supported: 100rel"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status_code, 180);
  EXPECT_EQ(p->header("Require"), "");
  EXPECT_EQ(p->header("RSeq"), "");
}

TEST_F(LegPrackTest, WithoutHundredRelThe183StaysUnreliable) {
  Caller c = make_caller();
  const sip::Message* p = first_response(c, {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status_code, 183);
  EXPECT_EQ(p->header("Require"), "");
  EXPECT_EQ(p->header("RSeq"), "");
  c.agent->open();
  settle();
  EXPECT_EQ(last_response(c, "INVITE")->status_code, 200) << "nothing to wait for";
  prack(c, rack(1));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(481));
}

TEST_F(LegPrackTest, ALateOfferThatRequiresHundredRelHearsOnly100Trying) {
  Caller c = make_caller();
  invite(c, InviteOptions().no_sdp().header("Require: 100rel"));
  advance(300ms);
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(100)) << "its offer would have to ride in a reliable 18x";
  c.agent->open();
  settle();
  EXPECT_EQ(last_response(c, "INVITE")->status_code, 200);
  EXPECT_THAT(last_response(c, "INVITE")->body, HasSubstr("m=audio")) << "our offer, in the 200";
}

TEST_F(LegPrackTest, ACancelStopsTheRetransmissions) {
  Caller c = make_caller();
  invite(c, InviteOptions().header("Supported: 100rel"));
  cancel(c);
  EXPECT_EQ(count(c, 487), 1u);
  advance(10s);
  EXPECT_EQ(count(c, 183), 1u);
}

}  // namespace
}  // namespace warmline::server
