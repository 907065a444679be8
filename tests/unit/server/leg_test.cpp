// The caller's leg inside its dialog: re-INVITE and UPDATE (hold, resume, a media move, an offer of
// ours), INFO DTMF, CSeq order, the methods it refuses, an early BYE, and the late offer (INVITE without
// SDP: our offer in the 200, the answer in the ACK).
#include "call_fixture.hpp"
#include "sip/sdp.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

struct LegTest : CallFixture {
  static uint64_t version_of(const sip::Message& m) {
    auto parsed = sip::parse_sdp(m.body);
    return parsed.sdp ? parsed.sdp->origin.session_version : 0;
  }

  void info(Caller& c, std::string content_type, std::string body) {
    send(c, "INFO", InDialog().with_body(std::move(content_type), std::move(body)));
  }
};

TEST_F(LegTest, ReInviteHoldAndResumeAreAnsweredInTheMirroredDirection) {
  Caller c = active_call();
  const sip::Message* hold = reinvite(c, sdp("203.0.113.5", 40000, "sendonly"));
  ASSERT_TRUE(hold);
  EXPECT_EQ(hold->status_code, 200);
  EXPECT_THAT(hold->body, HasSubstr("a=recvonly"));
  EXPECT_EQ(hold->header("Allow"), allow_header_value());
  const uint64_t held_version = version_of(*hold);

  const sip::Message* resume = reinvite(c, sdp("203.0.113.5", 40000, "sendrecv"));
  ASSERT_TRUE(resume);
  EXPECT_EQ(resume->status_code, 200);
  EXPECT_THAT(resume->body, HasSubstr("a=sendrecv"));
  EXPECT_EQ(version_of(*resume), held_version + 1) << "every new answer of ours is a new version";
  EXPECT_TRUE(c.media->remotes.empty()) << "the same address: RTP is not re-targeted";
  EXPECT_TRUE(c.media->codec_switches.empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(LegTest, ReInviteThatMovesTheMediaIsFollowed) {
  Caller c = active_call();
  const sip::Message* r = reinvite(c, sdp("203.0.113.77", 41000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 200);
  ASSERT_EQ(c.media->remotes.size(), 1u);
  EXPECT_EQ(c.media->remotes[0].address().to_string(), "203.0.113.77");
  EXPECT_EQ(c.media->remotes[0].port(), 41000);
}

TEST_F(LegTest, ReInviteWithoutAUsableCodecIs488AndChangesNothing) {
  Caller c = active_call();
  const sip::Message* r = reinvite(c, sdp("203.0.113.77", 41000, "sendrecv", "9"));  // G722 only
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 488);
  EXPECT_TRUE(c.media->remotes.empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

// RFC 3261 §14.2 + RFC 6337 §5.3: an offerless re-INVITE gets our current media as an offer, sendrecv
// whatever the direction was, so a caller who held the call can resume.
TEST_F(LegTest, OfferlessReInviteGetsOurCurrentMediaAsASendrecvOffer) {
  Caller c = active_call();
  const sip::Message* hold = reinvite(c, sdp("203.0.113.5", 40000, "sendonly"));
  ASSERT_TRUE(hold);
  const uint64_t held_version = version_of(*hold);

  send(c, "INVITE");
  const sip::Message* offer = last_response(c, "INVITE");
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->status_code, 200);
  auto parsed = sip::parse_sdp(offer->body);
  ASSERT_TRUE(parsed.sdp) << offer->body;
  ASSERT_EQ(parsed.sdp->media.size(), 1u);
  const auto& m = parsed.sdp->media[0];
  EXPECT_EQ(m.port, c.media->port) << "the same RTP port";
  ASSERT_TRUE(m.find_rtpmap(0)) << offer->body;
  EXPECT_EQ(m.find_rtpmap(0)->encoding, "PCMU") << "the codec the call runs";
  ASSERT_TRUE(m.find_rtpmap(101)) << "telephone-event, as negotiated";
  EXPECT_EQ(parsed.sdp->effective_direction(m), sip::MediaDirection::kSendRecv);
  EXPECT_EQ(parsed.sdp->origin.session_version, held_version + 1);

  ack(c, sdp("203.0.113.5", 40000, "sendrecv"), std::nullopt, c.cseq);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_TRUE(requests(c, "BYE").empty()) << "a good answer in the ACK keeps the call";
}

// A re-INVITE before the ACK of our 200 (the caller's ACK is late or lost) waits: 500 + Retry-After.
// Taken, an offerless one would leave our offer open, and the ACK of the 200 (no body) would then end
// the call as a missing answer.
TEST_F(LegTest, AReInviteBeforeTheAckOfOur200Is500WithRetryAfter) {
  Caller c = make_caller();
  invite(c);
  c.agent->open();
  settle();
  ASSERT_EQ(last_response(c, "INVITE")->status_code, 200);
  send(c, "INVITE");
  const sip::Message* r = last_response(c, "INVITE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 500);
  EXPECT_EQ(r->header("Retry-After"), "1");
  ack(c);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the ACK confirmed the call";
  EXPECT_FALSE(c.agent->stop_reason());
}

TEST_F(LegTest, UpdateWithSdpIsAnsweredAndWithoutIsASessionRefresh) {
  Caller c = active_call();
  send(c, "UPDATE", InDialog().with_sdp(sdp("203.0.113.5", 40000, "sendonly")));
  const sip::Message* r = last_response(c, "UPDATE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 200);
  EXPECT_THAT(r->body, HasSubstr("a=recvonly"));

  send(c, "UPDATE");
  r = last_response(c, "UPDATE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 200);
  EXPECT_TRUE(r->body.empty()) << "RFC 3311: no offer, no answer";
  EXPECT_EQ(r->header("Allow"), allow_header_value());
}

// INFO DTMF reaches the agent exactly like an RFC 4733 event from the RTP stream.
TEST_F(LegTest, InfoDtmfRelayReachesTheAgentLikeRfc4733) {
  Caller c = active_call();
  info(c, "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n");
  EXPECT_THAT(statuses(c, "INFO"), ElementsAre(200));
  ASSERT_FALSE(c.agent->frames.empty());
  const std::string by_info = c.agent->frames.back();
  c.media->caller_dtmf('5', 160);
  EXPECT_EQ(c.agent->frames.back(), by_info);
  EXPECT_EQ(by_info, "dtmf 5 160");

  info(c, "application/dtmf-relay", "Signal=11\r\nDuration=200\r\n");
  EXPECT_EQ(c.agent->frames.back(), "dtmf # 200") << "signal 11 is #";
}

TEST_F(LegTest, InfoApplicationDtmfReachesTheAgentWithTheDefaultDuration) {
  Caller c = active_call();
  info(c, "application/dtmf", "9");
  EXPECT_THAT(statuses(c, "INFO"), ElementsAre(200));
  EXPECT_EQ(c.agent->frames.back(), "dtmf 9 100");
}

TEST_F(LegTest, InfoOfAnotherTypeIs415WithAccept) {
  Caller c = active_call();
  const size_t frames = c.agent->frames.size();
  info(c, "application/x-something", "Signal=5");
  const sip::Message* r = last_response(c, "INFO");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 415);
  EXPECT_THAT(std::string(r->header("Accept")), HasSubstr("application/dtmf-relay"));
  EXPECT_EQ(c.agent->frames.size(), frames) << "no DTMF for the agent";
}

TEST_F(LegTest, InfoWithoutAValidSignalIs400AndWithoutBodyIs200) {
  Caller c = active_call();
  const size_t frames = c.agent->frames.size();
  info(c, "application/dtmf-relay", "Duration=160\r\n");
  send(c, "INFO");
  EXPECT_THAT(statuses(c, "INFO"), ElementsAre(400, 200));
  EXPECT_EQ(c.agent->frames.size(), frames);
}

TEST_F(LegTest, LowerCSeqIs500AndDoesNotMoveTheCounter) {
  Caller c = active_call();
  send(c, "INFO", InDialog().seq(10));
  send(c, "INFO", InDialog().seq(7));
  send(c, "INFO", InDialog().seq(11));
  EXPECT_THAT(statuses(c, "INFO"), ElementsAre(200, 500, 200));
}

TEST_F(LegTest, ReferFromTheCallerIsForbidden) {
  Caller c = active_call();
  send(c, "REFER", InDialog().header("Refer-To: <sip:+27115550999@attacker.example>"));
  EXPECT_THAT(statuses(c, "REFER"), ElementsAre(403));
  EXPECT_TRUE(requests(c, "INVITE").empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(LegTest, AMethodSipKnowsButWeDoNotHandleIs405WithAllow) {
  Caller c = active_call();
  send(c, "MESSAGE");
  const sip::Message* r = last_response(c, "MESSAGE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 405);
  EXPECT_EQ(r->header("Allow"), allow_header_value());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(LegTest, AnUnknownMethodIs501) {  // docs/sip.md: 405 is for methods SIP defines
  Caller c = active_call();
  send(c, "FROBNICATE");
  EXPECT_THAT(statuses(c, "FROBNICATE"), ElementsAre(501));
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(LegTest, OptionsInTheDialogIs200WithAllow) {
  Caller c = active_call();
  send(c, "OPTIONS");
  const sip::Message* r = last_response(c, "OPTIONS");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 200);
  EXPECT_EQ(r->header("Allow"), allow_header_value());
}

// §15: a BYE in the early dialog ends it; the INVITE still gets its final answer.
TEST_F(LegTest, EarlyByeIsAnswered200AndTheInvite487) {
  Caller c = make_caller();
  invite(c);
  ASSERT_FALSE(c.to_tag.empty());
  send(c, "BYE");
  EXPECT_THAT(statuses(c, "BYE"), ElementsAre(200));
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180, 487));
  EXPECT_EQ(router->active_calls(), 0u);
  EXPECT_TRUE(c.media->closed);
  EXPECT_TRUE(requests(c, "BYE").empty());
}

// RFC 3261 §13.3.1 / RFC 3264: an INVITE without SDP gets our offer in the 200, the answer in the ACK.
TEST_F(LegTest, LateOfferOffersInThe200AndTakesTheAnswerFromTheAck) {
  Caller c = make_caller();
  invite(c, InviteOptions().no_sdp());
  ASSERT_TRUE(c.media);
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180)) << "no offer in an unreliable 18x";
  c.agent->open();
  const sip::Message* ok = last_response(c, "INVITE");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status_code, 200);
  auto offer = sip::parse_sdp(ok->body);
  ASSERT_TRUE(offer.sdp) << ok->body;
  ASSERT_EQ(offer.sdp->media.size(), 1u);
  EXPECT_TRUE(offer.sdp->media[0].find_rtpmap(0));
  EXPECT_TRUE(offer.sdp->media[0].find_rtpmap(8));
  EXPECT_TRUE(offer.sdp->media[0].find_rtpmap(101));
  EXPECT_EQ(offer.sdp->effective_direction(offer.sdp->media[0]), sip::MediaDirection::kSendRecv);
  EXPECT_FALSE(c.media->started) << "where to send RTP comes with the ACK";

  ack(c, sdp("203.0.113.5", 40002, "sendrecv", "8 101"));  // the caller picked PCMA
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_TRUE(c.media->started);
  ASSERT_FALSE(c.media->remotes.empty());
  EXPECT_EQ(c.media->remotes.back().port(), 40002);
  EXPECT_THAT(c.media->codec_switches, ElementsAre("PCMA/8000 pt 8"));
  EXPECT_TRUE(requests(c, "BYE").empty());
}

TEST_F(LegTest, LateOfferWithoutAnAnswerInTheAckEndsWithBye) {
  Caller c = make_caller();
  invite(c, InviteOptions().no_sdp());
  c.agent->open();
  ack(c);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_THAT(c.agent->stop_reason(), Optional(std::string("sdp_failed")));
}

TEST_F(LegTest, LateOfferWithAnUnusableAnswerEndsWithBye) {
  Caller c = make_caller();
  invite(c, InviteOptions().no_sdp());
  c.agent->open();
  ack(c, sdp("203.0.113.5", 40002, "sendrecv", "9"));  // G722: not in our offer
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_THAT(c.agent->stop_reason(), Optional(std::string("sdp_failed")));
  EXPECT_FALSE(c.media->started);
}

TEST_F(LegTest, AnInviteWithMalformedSdpIs400AndNoCall) {
  Caller c = make_caller();
  invite(c, InviteOptions().offer("this is not sdp\r\n"));
  const sip::Message* r = last_response(c, "INVITE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 400);
  EXPECT_FALSE(c.agent);
  EXPECT_EQ(router->active_calls(), 0u);
}

TEST_F(LegTest, AnInviteWithoutAUsableCodecIs488AndNoCall) {
  Caller c = make_caller();
  invite(c, InviteOptions().offer(sdp("203.0.113.5", 40000, "sendrecv", "9")));
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(488));
  EXPECT_FALSE(c.agent);
  EXPECT_EQ(router->active_calls(), 0u);
}

}  // namespace
}  // namespace warmline::server
