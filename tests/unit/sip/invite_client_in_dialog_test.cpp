// The outbound INVITE session once answered: the far end's requests inside the dialog (BYE, re-INVITE,
// UPDATE, INFO, OPTIONS, REFER, NOTIFY) with the source check and CSeq rules of the UAS leg, and the
// requests we send in it (hang_up's BYE, send_request) along the route set (RFC 3261 §12.2, §14, §15;
// RFC 3311).
#include "invite_client_fixture.hpp"

#include <gmock/gmock.h>

namespace warmline::sip {
namespace {

using ::testing::ElementsAre;
using State = InviteClientSession::State;

constexpr std::string_view kHoldOffer =
    "v=0\r\no=- 7 8 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
    "m=audio 50000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\n";

struct InviteClientInDialogTest : InviteClientFixture {};

// ---------------------------------------------------------------------------------------------------
// Requests from the far end

TEST_F(InviteClientInDialogTest, FarEndByeIsAnswered200AndReported) {
  answered_call();
  deliver(far_request("BYE", 1));
  EXPECT_THAT(statuses("BYE"), ElementsAre(200));
  EXPECT_EQ(last_response("BYE")->to.tag(), "our-tag");
  EXPECT_EQ(byes, 1);
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kRemoteHangUp));
  EXPECT_EQ(session->state(), State::kTerminated);
  EXPECT_EQ(registry.size(), 0u);
  deliver(far_request("INFO", 2));  // the dialog is gone: the TU answers 481
  EXPECT_THAT(statuses("INFO"), ElementsAre(481));
  session->hang_up();  // nothing left to end
  EXPECT_EQ(transport.count_requests("BYE"), 0);
}

TEST_F(InviteClientInDialogTest, ReInviteWithHoldIsAnsweredWithTheObserversAnswer) {
  answered_call();
  offer_reply = "v=0\r\nanswer recvonly\r\n";
  Message reinvite = far_request("INVITE", 5);
  with_sdp(reinvite, kHoldOffer);
  reinvite.contacts[0].uri.host = "203.0.113.6";  // a target refresh
  deliver(reinvite);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].body, kHoldOffer);
  const Message* ok = last_response("INVITE");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->status_code, 200);
  EXPECT_EQ(ok->body, "v=0\r\nanswer recvonly\r\n");
  EXPECT_EQ(ok->content_type, "application/sdp");
  EXPECT_EQ(ok->to.tag(), "our-tag");
  ASSERT_EQ(ok->contacts.size(), 1u);
  EXPECT_EQ(ok->contacts[0].uri.user, "wl");
  EXPECT_FALSE(ok->header("Allow").empty());
  EXPECT_EQ(session->dialog()->remote_target.host, "203.0.113.6");

  // Their ACK stops our 200's retransmissions; without it they would go on (§13.3.1.4).
  Message ack = far_request("ACK", 5);
  deliver(ack);
  timers.advance(10'000ms);
  EXPECT_EQ(transport.count_responses(200), 1);
  EXPECT_TRUE(offer_answers.empty());  // their offer, our answer: nothing comes in this ACK
  EXPECT_EQ(session->state(), State::kConfirmed);
}

TEST_F(InviteClientInDialogTest, ARefusedOfferIs488AndChangesNothing) {
  answered_call();
  offer_reply.reset();
  Message update = far_request("UPDATE", 2);
  with_sdp(update, kHoldOffer);
  update.contacts[0].uri.host = "203.0.113.6";
  deliver(update);
  EXPECT_THAT(statuses("UPDATE"), ElementsAre(488));
  EXPECT_EQ(offers.size(), 1u);
  EXPECT_EQ(session->dialog()->remote_target.host, "203.0.113.5");  // RFC 6141: no refresh on failure
  EXPECT_EQ(session->state(), State::kConfirmed);
}

TEST_F(InviteClientInDialogTest, AnOfferlessReInviteGetsOurOfferAndItsAnswerComesInTheAck) {
  answered_call();
  offer_reply = std::string(kOffer);
  deliver(far_request("INVITE", 3));
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_TRUE(offers[0].body.empty());
  EXPECT_EQ(last_response("INVITE")->body, kOffer);
  Message second = far_request("INVITE", 4);  // §14.2: our offer still waits for its answer
  with_sdp(second, kHoldOffer);
  deliver(second);
  EXPECT_EQ(last_response("INVITE")->status_code, 500);
  EXPECT_EQ(last_response("INVITE")->header("Retry-After"), "1");
  Message ack = far_request("ACK", 3);
  with_sdp(ack, kAnswer);
  deliver(ack);
  EXPECT_THAT(offer_answers, ElementsAre(std::string(kAnswer)));
}

TEST_F(InviteClientInDialogTest, AnUpdateWithoutBodyIsASessionRefresh) {
  answered_call();
  deliver(far_request("UPDATE", 2));
  EXPECT_THAT(statuses("UPDATE"), ElementsAre(200));
  EXPECT_TRUE(offers.empty());
  EXPECT_TRUE(last_response("UPDATE")->body.empty());
}

TEST_F(InviteClientInDialogTest, ARequestFromAForeignSourceIs403AndTheCallGoesOn) {
  answered_call();
  deliver(far_request("BYE", 10), stranger);
  EXPECT_THAT(statuses("BYE"), ElementsAre(403));
  EXPECT_EQ(byes, 0);
  EXPECT_EQ(session->state(), State::kConfirmed);
  Message reinvite = far_request("INVITE", 11);
  with_sdp(reinvite, kHoldOffer);
  deliver(reinvite, stranger);
  EXPECT_TRUE(offers.empty());
  // Nothing of theirs counted: the real peer's BYE with a lower CSeq is still in order.
  deliver(far_request("BYE", 2));
  EXPECT_THAT(statuses("BYE"), ElementsAre(403, 200));
  EXPECT_EQ(byes, 1);
}

TEST_F(InviteClientInDialogTest, AForeignAckDoesNotStopOur200) {
  answered_call();
  Message reinvite = far_request("INVITE", 2);
  with_sdp(reinvite, kHoldOffer);
  deliver(reinvite);
  deliver(far_request("ACK", 2), stranger);
  timers.advance(600ms);
  EXPECT_EQ(transport.count_responses(200), 2);  // retransmitted at T1 all the same
  deliver(far_request("ACK", 2));
  timers.advance(10'000ms);
  EXPECT_EQ(transport.count_responses(200), 2);
}

TEST_F(InviteClientInDialogTest, ACSeqLowerThanTheLastIs500) {
  answered_call();
  deliver(far_request("OPTIONS", 7));
  deliver(far_request("OPTIONS", 6));
  EXPECT_THAT(statuses("OPTIONS"), ElementsAre(200, 500));
  EXPECT_FALSE(last_response("OPTIONS")->reason.empty());
}

TEST_F(InviteClientInDialogTest, InfoOptionsReferNotifyAndOthersAreAnsweredLikeTheUasLeg) {
  answered_call();
  Message info = far_request("INFO", 2);
  info.content_type = "application/dtmf-relay";
  info.body = "Signal=5\r\nDuration=160\r\n";
  deliver(info);
  EXPECT_THAT(dtmf, ElementsAre(std::pair<char, uint32_t>{'5', 160}));
  Message odd = far_request("INFO", 3);
  odd.content_type = "text/plain";
  odd.body = "hello";
  deliver(odd);
  EXPECT_THAT(statuses("INFO"), ElementsAre(200, 415));

  deliver(far_request("OPTIONS", 4));
  EXPECT_EQ(last_response("OPTIONS")->status_code, 200);
  EXPECT_FALSE(last_response("OPTIONS")->header("Allow").empty());
  deliver(far_request("REFER", 5));
  EXPECT_THAT(statuses("REFER"), ElementsAre(403));
  deliver(far_request("NOTIFY", 6));
  EXPECT_THAT(statuses("NOTIFY"), ElementsAre(481));  // the default observer: no subscription
  deliver(far_request("MESSAGE", 7));
  EXPECT_THAT(statuses("MESSAGE"), ElementsAre(405));
  EXPECT_FALSE(last_response("MESSAGE")->header("Allow").empty());
  EXPECT_EQ(session->state(), State::kConfirmed);
}

// An owner that acts on REFER (server/call_refer.cpp) gets it once the dialog has screened it, and
// answers it in the dialog with answer(); an early dialog's REFER never reaches it.
struct ReferTakingTest : InviteClientFixture {
  void on_refer(InviteClientSession& s, ServerTransaction& tx, const Message& refer) override {
    refers.push_back(refer);
    s.answer(tx, refer, 202, "Accepted", {{"Refer-Sub", "false"}});
  }
  std::vector<Message> refers;
};

TEST_F(ReferTakingTest, AReferInTheConfirmedDialogReachesTheOwnerWhichAnswersIt) {
  start();
  deliver(response(180, "fork-a"));
  deliver(far_request("REFER", 1, "fork-a"));
  EXPECT_THAT(statuses("REFER"), ElementsAre(403)) << "an early dialog has no call to transfer";
  EXPECT_TRUE(refers.empty());
  deliver(response(200, "fork-a", kAnswer));
  Message refer = far_request("REFER", 2, "fork-a");
  refer.add_header("Refer-To", "<sip:desk@192.0.2.77>");
  deliver(refer);
  ASSERT_EQ(refers.size(), 1u);
  EXPECT_EQ(refers[0].header("Refer-To"), "<sip:desk@192.0.2.77>");
  const Message* r = last_response("REFER");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 202);
  EXPECT_EQ(r->header("Refer-Sub"), "false");
  EXPECT_EQ(r->to.tag(), "our-tag");
  EXPECT_FALSE(r->contacts.empty());
}

TEST_F(InviteClientInDialogTest, EarlyDialogRequestsAreServedAndAByeEndsOnlyThatFork) {
  start();
  deliver(response(180, "fork-a"));
  deliver(response(180, "fork-b"));
  deliver(far_request("OPTIONS", 1, "fork-a"));
  EXPECT_THAT(statuses("OPTIONS"), ElementsAre(200));
  Message update = far_request("UPDATE", 2, "fork-a");
  with_sdp(update, kHoldOffer);
  deliver(update);
  EXPECT_THAT(statuses("UPDATE"), ElementsAre(500));  // no offer/answer in an early dialog here
  deliver(far_request("BYE", 3, "fork-b"));
  EXPECT_THAT(statuses("BYE"), ElementsAre(200));
  EXPECT_EQ(registry.find({"uac-1@192.0.2.10", "our-tag", "fork-b"}), nullptr);
  EXPECT_NE(registry.find({"uac-1@192.0.2.10", "our-tag", "fork-a"}), nullptr);
  EXPECT_EQ(session->state(), State::kProceeding);
  EXPECT_EQ(byes, 0);
  deliver(response(200, "fork-a", kAnswer));
  EXPECT_EQ(answered.size(), 1u);
}

TEST_F(InviteClientInDialogTest, NoAckForOurAnswerToTheirReInviteEndsTheCallWithBye) {
  answered_call();
  Message reinvite = far_request("INVITE", 2);
  with_sdp(reinvite, kHoldOffer);
  deliver(reinvite);
  timers.advance(32'000ms);  // 64*T1 without their ACK (§13.3.1.4)
  ASSERT_EQ(transport.count_requests("BYE"), 1);
  EXPECT_EQ(session->state(), State::kTerminating);
  answer_last("BYE", 200);
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kNoAck));
}

// ---------------------------------------------------------------------------------------------------
// Requests we send

TEST_F(InviteClientInDialogTest, HangUpWhenConfirmedSendsByeAlongTheRouteSet) {
  answered_call();
  session->hang_up();
  session->hang_up();  // idempotent
  ASSERT_EQ(transport.count_requests("BYE"), 1);
  const auto* sent = last_sent_entry("BYE");
  const Message& bye = sent->message;
  EXPECT_EQ(bye.request_uri.to_string(), "sip:bob@203.0.113.5:5070");
  ASSERT_EQ(bye.routes.size(), 2u);
  EXPECT_EQ(bye.routes[0].uri.host, "198.51.100.7");
  EXPECT_EQ(bye.routes[1].uri.host, "203.0.113.20");
  EXPECT_EQ(sent->to, (Endpoint{"198.51.100.7", 5060}));
  EXPECT_EQ(bye.cseq.number, 2u);
  EXPECT_EQ(bye.from.tag(), "our-tag");
  EXPECT_EQ(bye.to.tag(), "fork-a");
  EXPECT_EQ(session->state(), State::kTerminating);
  EXPECT_TRUE(ended.empty());
  deliver(far_request("INFO", 2));  // the dialog is ending
  EXPECT_THAT(statuses("INFO"), ElementsAre(481));
  answer_last("BYE", 481);  // any final ends it
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kLocalHangUp));
  EXPECT_EQ(registry.size(), 0u);
}

TEST_F(InviteClientInDialogTest, ARouteThatNamesAHostGoesThroughTheNextHop) {
  record_route.resize(1);
  record_route[0].uri.host = "edge.carrier.example";  // we resolve nothing ourselves
  answered_call();
  EXPECT_EQ(last_sent_entry("ACK")->to, trunk);
  session->hang_up();
  const auto* bye = last_sent_entry("BYE");
  EXPECT_EQ(bye->to, trunk);
  ASSERT_EQ(bye->message.routes.size(), 1u);
  EXPECT_EQ(bye->message.routes[0].uri.host, "edge.carrier.example");
  EXPECT_EQ(bye->message.request_uri.host, "203.0.113.5");
}

TEST_F(InviteClientInDialogTest, AByeWithoutAnyResponseEndsAfterTimerF) {
  answered_call();
  session->hang_up();
  timers.advance(32'000ms);
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kLocalHangUp));
}

TEST_F(InviteClientInDialogTest, CrossingByesEndTheSessionOnce) {
  answered_call();
  session->hang_up();
  deliver(far_request("BYE", 2));
  EXPECT_THAT(statuses("BYE"), ElementsAre(200));
  EXPECT_EQ(byes, 0);  // it was our hang-up
  answer_last("BYE", 200);
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kLocalHangUp));
}

TEST_F(InviteClientInDialogTest, HangUpWhileRingingCancelsAndBeforeStartDoesNothing) {
  session = std::make_unique<InviteClientSession>(layer, registry, random, *this, options());
  session->hang_up();
  EXPECT_TRUE(transport.sent().empty());
  EXPECT_FALSE(session->start());

  start();
  deliver(response(180));
  session->hang_up();
  EXPECT_EQ(transport.count_requests("CANCEL"), 1);
  deliver(response(487));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_TRUE(failed[0].cancelled);
}

TEST_F(InviteClientInDialogTest, SendRequestGoesInsideTheDialogAndItsHandlerDiesWithTheSession) {
  answered_call();
  EXPECT_FALSE(session->new_request("ACK"));
  EXPECT_FALSE(session->new_request("CANCEL"));
  EXPECT_FALSE(session->new_request("BYE"));
  std::optional<Message> refer = session->new_request("REFER");
  ASSERT_TRUE(refer);
  refer->add_header("Refer-To", "<sip:101@pbx.example>");
  std::vector<int> got;
  ASSERT_NE(session->send_request(std::move(*refer), [&](const Message& r) { got.push_back(r.status_code); }), 0u);
  const Message* sent = last_sent("REFER");
  EXPECT_EQ(sent->cseq.number, 2u);
  EXPECT_EQ(sent->routes.size(), 2u);
  EXPECT_EQ(sent->request_uri.user, "bob");
  answer_last("REFER", 202);
  EXPECT_THAT(got, ElementsAre(202));

  std::optional<Message> info = session->new_request("INFO");
  EXPECT_EQ(info->cseq.number, 3u);
  session->send_request(std::move(*info), [&](const Message& r) { got.push_back(r.status_code); });
  session.reset();
  answer_last("INFO", 200);
  EXPECT_THAT(got, ElementsAre(202));  // nothing after destruction
}

TEST_F(InviteClientInDialogTest, TheirUpdateWhileOursWithAnOfferIsPendingIsGlare) {
  answered_call();
  std::optional<Message> ours = session->new_request("UPDATE");
  with_sdp(*ours, kOffer);
  session->send_request(std::move(*ours), nullptr);
  Message theirs = far_request("UPDATE", 2);
  with_sdp(theirs, kHoldOffer);
  deliver(theirs);
  EXPECT_THAT(statuses("UPDATE"), ElementsAre(491));
  answer_last("UPDATE", 200);
  Message again = far_request("UPDATE", 3);
  with_sdp(again, kHoldOffer);
  deliver(again);
  EXPECT_THAT(statuses("UPDATE"), ElementsAre(491, 200));
}

TEST_F(InviteClientInDialogTest, TheObserverMayDestroyTheSessionOnBye) {
  answered_call();
  destroy_on = "bye";
  deliver(far_request("BYE", 1));
  EXPECT_EQ(session, nullptr);
  EXPECT_THAT(statuses("BYE"), ElementsAre(200));
  EXPECT_EQ(transport.count_requests("BYE"), 0);  // already terminated: the destructor sends nothing
  EXPECT_EQ(registry.size(), 0u);
}

}  // namespace
}  // namespace warmline::sip
