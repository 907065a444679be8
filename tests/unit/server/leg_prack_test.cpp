// The caller's leg and reliable provisional responses (RFC 3262 §3): a caller whose INVITE lists 100rel
// gets our 183 with SDP reliably (Require: 100rel, RSeq, resent until the PRACK), the 200 waits for
// that PRACK, a PRACK that names nothing is 481, and no PRACK within 64*T1 ends the INVITE with 500.
// With Require: 100rel the 180 is reliable too; without 100rel nothing changes. A late offer's offer
// rides in the reliable 18x and its answer in the PRACK; an offer in the PRACK gets its answer in the
// PRACK's 200 (RFC 3262 §5).
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

// RFC 3262 §5 / RFC 6337 §2.1: a late offer's offer rides in our reliable 183, its answer in the PRACK;
// the early media starts with that answer, and the 200 repeats the same SDP.
TEST_F(LegPrackTest, ALateOfferGetsOurOfferInAReliable183AndAnswersInThePrack) {
  Caller c = make_caller();
  const sip::Message* p = first_response(c, InviteOptions().no_sdp().header("Supported: 100rel"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status_code, 183);
  EXPECT_EQ(p->header("Require"), "100rel");
  const std::string offer = p->body;
  auto parsed = sip::parse_sdp(offer);
  ASSERT_TRUE(parsed.sdp) << offer;
  EXPECT_TRUE(parsed.sdp->media[0].find_rtpmap(0));
  EXPECT_TRUE(parsed.sdp->media[0].find_rtpmap(8));
  ASSERT_TRUE(c.media);
  EXPECT_FALSE(c.media->started) << "where to send comes with the PRACK";
  c.agent->open();
  settle();
  EXPECT_EQ(count(c, 200), 0u) << "§3: no 2xx while the 183 with our offer is unacknowledged";

  send(c, "PRACK", InDialog().header("RAck: " + rack(rseq_of_last(c))).with_sdp(sdp("203.0.113.5", 40002, "sendrecv", "8 101")));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(200));
  EXPECT_TRUE(last_response(c, "PRACK")->body.empty()) << "an answer is not answered";
  EXPECT_TRUE(c.media->started);
  ASSERT_FALSE(c.media->remotes.empty());
  EXPECT_EQ(c.media->remotes.back().port(), 40002);
  EXPECT_THAT(c.media->codec_switches, ElementsAre("PCMA/8000 pt 8")) << "the caller picked PCMA";
  const sip::Message* ok = last_response(c, "INVITE");
  ASSERT_EQ(ok->status_code, 200);
  EXPECT_EQ(ok->body, offer) << "the offer/answer is done: the 200 repeats our SDP unchanged";
  ack(c);  // no SDP: none is due
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_TRUE(requests(c, "BYE").empty());
}

// Require: 100rel makes the 180 reliable, so a late offer's offer rides in it (RFC 3261 §13.2.1: the
// first reliable response carries it); ringing plays no early media, even once the PRACK answers.
TEST_F(LegPrackTest, ALateOfferThatRequiresHundredRelRingsWithItsOfferInAReliable180) {
  config.trunks[0].provisional = Provisional::ringing;
  Caller c = make_caller();
  const sip::Message* p = first_response(c, InviteOptions().no_sdp().header("Require: 100rel"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status_code, 180);
  EXPECT_EQ(p->header("Require"), "100rel");
  EXPECT_THAT(p->body, HasSubstr("m=audio"));
  send(c, "PRACK", InDialog().header("RAck: " + rack(rseq_of_last(c))).with_sdp(sdp("203.0.113.5", 40004)));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(200));
  EXPECT_FALSE(c.media->started) << "a 180 rings: the media waits for the 200";
  c.agent->open();
  settle();
  EXPECT_EQ(last_response(c, "INVITE")->status_code, 200);
  EXPECT_TRUE(c.media->started);
  ASSERT_FALSE(c.media->remotes.empty());
  EXPECT_EQ(c.media->remotes.back().port(), 40004);
  ack(c);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(LegPrackTest, APrackWithoutTheAnswerToOurOfferEndsTheInviteWith488) {
  Caller c = make_caller();
  invite(c, InviteOptions().no_sdp().header("Supported: 100rel"));
  prack(c, rack(rseq_of_last(c)));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(200)) << "it acknowledged the 183";
  EXPECT_EQ(last_response(c, "INVITE")->status_code, 488);
  EXPECT_EQ(c.agent->stop_reason(), "sdp_failed");
  EXPECT_FALSE(c.media->started);
  advance(10s);
  EXPECT_EQ(count(c, 183), 1u);
}

TEST_F(LegPrackTest, APrackWhoseAnswerWeCannotUseEndsTheInviteWith488) {
  Caller c = make_caller();
  invite(c, InviteOptions().no_sdp().header("Supported: 100rel"));
  send(c, "PRACK", InDialog().header("RAck: " + rack(rseq_of_last(c))).with_sdp(sdp("203.0.113.5", 40002, "sendrecv", "9")));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(200));
  EXPECT_EQ(last_response(c, "INVITE")->status_code, 488) << "G722 was not in our offer";
  EXPECT_FALSE(c.media->started);
}

// RFC 3262 §5: after our answer rode in the reliable 183, SDP in the PRACK is a new offer; its 200
// carries our answer, and the INVITE's 200 then carries that same answer.
TEST_F(LegPrackTest, AnOfferInThePrackIsAnsweredInItsOk) {
  Caller c = make_caller();
  invite(c, InviteOptions().header("Supported: 100rel"));
  const std::string first = last_response(c, "INVITE")->body;
  send(c, "PRACK", InDialog().header("RAck: " + rack(rseq_of_last(c))).with_sdp(sdp("203.0.113.5", 40010)));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(200));
  const sip::Message prack_ok = *last_response(c, "PRACK");  // a copy: the transport's log grows
  EXPECT_EQ(prack_ok.content_type, "application/sdp");
  auto answer = sip::parse_sdp(prack_ok.body);
  ASSERT_TRUE(answer.sdp) << prack_ok.body;
  auto earlier = sip::parse_sdp(first);
  ASSERT_TRUE(earlier.sdp);
  EXPECT_EQ(answer.sdp->origin.session_version, earlier.sdp->origin.session_version + 1);
  ASSERT_FALSE(c.media->remotes.empty());
  EXPECT_EQ(c.media->remotes.back().port(), 40010) << "the media follows the new offer";
  advance(2s);
  EXPECT_EQ(count(c, 183), 1u) << "acknowledged";
  c.agent->open();
  settle();
  EXPECT_EQ(last_response(c, "INVITE")->status_code, 200);
  EXPECT_EQ(last_response(c, "INVITE")->body, prack_ok.body);
}

// A refused offer in the PRACK still acknowledges the 183 (RFC 3262 §3/§4: the caller never PRACKs it
// again): the retransmissions stop, the session stays as the 183 set it, and the held 200 goes out.
TEST_F(LegPrackTest, AnOfferInThePrackWeCannotTakeIs488ButAcknowledgesThe183) {
  Caller c = make_caller();
  invite(c, InviteOptions().header("Supported: 100rel"));
  const std::string early = last_response(c, "INVITE")->body;
  const uint32_t rseq = rseq_of_last(c);
  c.agent->open();
  settle();
  EXPECT_EQ(count(c, 200), 0u);
  send(c, "PRACK", InDialog().header("RAck: " + rack(rseq)).with_sdp(sdp("203.0.113.5", 40010, "sendrecv", "9")));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(488));
  EXPECT_TRUE(c.media->remotes.empty()) << "nothing moved";
  ASSERT_EQ(last_response(c, "INVITE")->status_code, 200) << "the held 200 goes out";
  EXPECT_EQ(last_response(c, "INVITE")->body, early) << "the session the 183 set";
  advance(2s);
  EXPECT_EQ(count(c, 183), 1u) << "acknowledged: never sent again";
  send(c, "PRACK", InDialog().header("RAck: " + rack(rseq)).with_sdp("not sdp\r\n"));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(488, 481)) << "nothing is unacknowledged now";
}

TEST_F(LegPrackTest, AMalformedOfferInThePrackIs400) {
  Caller c = make_caller();
  invite(c, InviteOptions().header("Supported: 100rel"));
  send(c, "PRACK", InDialog().header("RAck: " + rack(rseq_of_last(c))).with_sdp("not sdp\r\n"));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(400));
  advance(2s);
  EXPECT_EQ(count(c, 183), 1u);
}

// The INVITE's offer is still unanswered (our reliable 180 carries no SDP): the PRACK may not offer
// (RFC 3311 §5.2's rule for UPDATE): 500. It acknowledges the 180 all the same.
TEST_F(LegPrackTest, AnOfferInThePrackOfABodyless180Is500) {
  config.trunks[0].provisional = Provisional::ringing;
  Caller c = make_caller();
  invite(c, InviteOptions().header("Require: 100rel"));
  const uint32_t rseq = rseq_of_last(c);
  send(c, "PRACK", InDialog().header("RAck: " + rack(rseq)).with_sdp(sdp("203.0.113.5", 40010)));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(500));
  EXPECT_TRUE(c.media->remotes.empty());
  advance(2s);
  EXPECT_EQ(count(c, 180), 1u);
  c.agent->open();
  settle();
  EXPECT_EQ(last_response(c, "INVITE")->status_code, 200);
}

// After the 200 has answered the INVITE's offer, the bodyless 180 can still be PRACKed (§3: the UAS
// stays ready for PRACKs of it); an offer in that PRACK is then an ordinary new offer.
TEST_F(LegPrackTest, AfterThe200AnOfferInThePrackOfTheBodyless180IsAnswered) {
  config.trunks[0].provisional = Provisional::ringing;
  Caller c = make_caller();
  invite(c, InviteOptions().header("Require: 100rel"));
  const uint32_t rseq = rseq_of_last(c);
  c.agent->open();
  settle();
  ASSERT_EQ(last_response(c, "INVITE")->status_code, 200);
  send(c, "PRACK", InDialog().header("RAck: " + rack(rseq)).with_sdp(sdp("203.0.113.5", 40012)));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(200));
  EXPECT_EQ(last_response(c, "PRACK")->content_type, "application/sdp");
  ASSERT_FALSE(c.media->remotes.empty());
  EXPECT_EQ(c.media->remotes.back().port(), 40012);
}

// The agent connected while the 183 with our offer awaited its PRACK: an unusable answer in it ends
// the INVITE with 488, and the held 200 never escapes.
TEST_F(LegPrackTest, AnUnusableAnswerInThePrackWhileThe200IsHeldSendsOnly488) {
  Caller c = make_caller();
  invite(c, InviteOptions().no_sdp().header("Supported: 100rel"));
  c.agent->open();
  settle();
  EXPECT_EQ(count(c, 200), 0u);
  send(c, "PRACK", InDialog().header("RAck: " + rack(rseq_of_last(c))).with_sdp(sdp("203.0.113.5", 40002, "sendrecv", "9")));
  EXPECT_THAT(statuses(c, "PRACK"), ElementsAre(200));
  EXPECT_EQ(last_response(c, "INVITE")->status_code, 488);
  EXPECT_EQ(count(c, 200), 0u);
  EXPECT_EQ(c.agent->stop_reason(), "sdp_failed");
}

// Supported (not required) 100rel with a ringing trunk: the 180 stays unreliable, so it carries no
// offer; the offer rides in the 200 and the answer in the ACK, as without 100rel.
TEST_F(LegPrackTest, ALateOfferWhoseTrunkRingsWith180OffersInThe200) {
  config.trunks[0].provisional = Provisional::ringing;
  Caller c = make_caller();
  const sip::Message* p = first_response(c, InviteOptions().no_sdp().header("Supported: 100rel"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status_code, 180);
  EXPECT_EQ(p->header("RSeq"), "");
  EXPECT_TRUE(p->body.empty());
  c.agent->open();
  settle();
  EXPECT_THAT(last_response(c, "INVITE")->body, HasSubstr("m=audio")) << "our offer, in the 200";
  EXPECT_FALSE(c.media->started);
  ack(c, sdp("203.0.113.5", 40006));
  EXPECT_TRUE(c.media->started);
  ASSERT_FALSE(c.media->remotes.empty());
  EXPECT_EQ(c.media->remotes.back().port(), 40006);
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
