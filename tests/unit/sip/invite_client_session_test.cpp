// The outbound INVITE session, up to the answer: the INVITE on the wire, provisional responses and
// early dialogs, the ACK for a 2xx and its retransmissions, failures, CANCEL and its races, forks,
// timeouts and destruction in every state (RFC 3261 §13.2, §9.1, §12.1.2, §17.1.1; RFC 6026 §8.4).
#include "invite_client_fixture.hpp"

#include <gmock/gmock.h>

namespace warmline::sip {
namespace {

using ::testing::ElementsAre;
using State = InviteClientSession::State;

struct InviteClientSessionTest : InviteClientFixture {};

// ---------------------------------------------------------------------------------------------------
// The INVITE

TEST_F(InviteClientSessionTest, InviteCarriesTheOfferAndEveryHeaderOnTheWire) {
  start();
  ASSERT_EQ(transport.sent().size(), 1u);
  EXPECT_EQ(transport.last().to, trunk);
  // What the peer parses, not just what we built.
  ParseResult wire = parse_message(serialize(transport.last().message));
  ASSERT_TRUE(wire.ok()) << wire.reason;
  const Message& m = *wire.message;
  EXPECT_EQ(m.method, "INVITE");
  EXPECT_EQ(m.request_uri.to_string(), "sip:+27115550100@trunk.example");
  EXPECT_EQ(m.call_id, "uac-1@192.0.2.10");
  EXPECT_EQ(m.cseq.number, 1u);
  EXPECT_EQ(m.cseq.method, "INVITE");
  EXPECT_EQ(m.max_forwards, 70u);
  EXPECT_EQ(m.from.display, "Warmline");
  EXPECT_EQ(m.from.uri.user, "+27115550999");
  EXPECT_EQ(m.from.tag(), "our-tag");
  EXPECT_EQ(m.to.uri.user, "+27115550100");
  EXPECT_EQ(m.to.tag(), "");
  ASSERT_EQ(m.contacts.size(), 1u);
  EXPECT_EQ(m.contacts[0].uri.to_string(), "sip:wl@192.0.2.10:5060");
  ASSERT_EQ(m.vias.size(), 1u);
  EXPECT_TRUE(m.vias[0].branch().starts_with("z9hG4bK"));
  EXPECT_EQ(m.header("Allow"), "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, REFER, NOTIFY");
  EXPECT_EQ(m.header("Supported"), "norefersub");
  EXPECT_EQ(m.header("P-Asserted-Identity"), "<sip:+27215550123@carrier.example>");
  EXPECT_EQ(m.header("Privacy"), "id");
  EXPECT_EQ(m.header("X-Case"), "42");
  EXPECT_EQ(m.content_type, "application/sdp");
  EXPECT_EQ(m.body, kOffer);
  EXPECT_TRUE(m.routes.empty());
  EXPECT_EQ(session->state(), State::kCalling);
  EXPECT_FALSE(session->start());  // once
}

TEST_F(InviteClientSessionTest, FromWithoutTagGetsOneAndNoNextHopMeansTheRequestUri) {
  InviteClientOptions o = options();
  o.from.params.clear();
  o.next_hop.reset();
  o.request_uri.host = "203.0.113.9";
  o.request_uri.port = 5080;
  start(o);
  EXPECT_EQ(transport.last().to, (Endpoint{"203.0.113.9", 5080}));
  EXPECT_EQ(sent_invite().from.tag().size(), 12u);
}

TEST_F(InviteClientSessionTest, AHostNameWithoutNextHopFailsLocallyWith503) {
  InviteClientOptions o = options();
  o.next_hop.reset();  // trunk.example is not resolved here
  start(o);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, 503);
  EXPECT_TRUE(failed[0].local);
  EXPECT_FALSE(failed[0].responded);
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kNotAnswered));
  EXPECT_EQ(session->state(), State::kTerminated);
}

TEST_F(InviteClientSessionTest, TheHookSeesTheInviteBeforeItIsSent) {
  InviteClientOptions o = options();
  o.prepare_request = [](Message& m) { m.add_header("Proxy-Authorization", "Digest username=\"wl\""); };
  start(o);
  EXPECT_EQ(sent_invite().header("Proxy-Authorization"), "Digest username=\"wl\"");
  deliver(response(200, "fork-a", kAnswer));
  // §22.1: the ACK carries the INVITE's credentials.
  EXPECT_EQ(last_sent("ACK")->header("Proxy-Authorization"), "Digest username=\"wl\"");
}

// ---------------------------------------------------------------------------------------------------
// Provisional responses, the answer and its ACK

TEST_F(InviteClientSessionTest, RingingThenOkIsAckedAlongTheReversedRecordRoute) {
  start();
  deliver(response(100));
  EXPECT_TRUE(progress.empty());  // hop-by-hop only
  EXPECT_EQ(session->state(), State::kProceeding);
  deliver(response(180));
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].status, 180);
  EXPECT_EQ(progress[0].remote_tag, "fork-a");
  EXPECT_FALSE(progress[0].early_sdp);
  EXPECT_NE(registry.find({"uac-1@192.0.2.10", "our-tag", "fork-a"}), nullptr);  // the early dialog

  deliver(response(200, "fork-a", kAnswer));
  ASSERT_THAT(answered, ElementsAre(std::string(kAnswer)));
  EXPECT_EQ(answered_status, 200);
  EXPECT_EQ(session->state(), State::kConfirmed);
  EXPECT_EQ(registry.find({"uac-1@192.0.2.10", "our-tag", "fork-a"}), session.get());

  ASSERT_EQ(transport.count_requests("ACK"), 1);
  const auto* sent = last_sent_entry("ACK");
  const Message& ack = sent->message;
  // §13.2.2.4 / §12.2.1.1: Request-URI = the remote target (Contact), Route = Record-Route reversed,
  // sent to the first route; the INVITE's CSeq number; a branch of its own.
  EXPECT_EQ(ack.request_uri.to_string(), "sip:bob@203.0.113.5:5070");
  ASSERT_EQ(ack.routes.size(), 2u);
  EXPECT_EQ(ack.routes[0].uri.host, "198.51.100.7");
  EXPECT_EQ(ack.routes[1].uri.host, "203.0.113.20");
  EXPECT_EQ(sent->to, (Endpoint{"198.51.100.7", 5060}));
  EXPECT_EQ(ack.cseq.number, 1u);
  EXPECT_EQ(ack.cseq.method, "ACK");
  EXPECT_EQ(ack.from.tag(), "our-tag");
  EXPECT_EQ(ack.to.tag(), "fork-a");
  EXPECT_EQ(ack.call_id, "uac-1@192.0.2.10");
  ASSERT_EQ(ack.vias.size(), 1u);
  EXPECT_NE(ack.vias[0].branch(), sent_invite().vias[0].branch());
  EXPECT_TRUE(ack.body.empty());
  ASSERT_NE(session->dialog(), nullptr);
  EXPECT_EQ(session->dialog()->route_set.size(), 2u);
  EXPECT_EQ(session->dialog()->local_cseq, 1u);
}

TEST_F(InviteClientSessionTest, EveryRetransmittedOkGetsTheSameAckAgain) {
  answered_call();
  Message ok = response(200, "fork-a", kAnswer);
  deliver(ok);  // RFC 6026 Accepted state: to the core, which re-ACKs
  deliver(ok);
  ASSERT_EQ(transport.count_requests("ACK"), 3);
  std::vector<std::string> branches;
  for (const auto& s : transport.sent())
    if (s.message.method == "ACK") branches.emplace_back(s.message.vias[0].branch());
  EXPECT_EQ(branches[0], branches[1]);
  EXPECT_EQ(branches[1], branches[2]);
  timers.advance(32'000ms);  // Timer M: the INVITE transaction is gone; a late copy is a stray
  EXPECT_EQ(layer.client_transactions(), 0u);
  deliver(ok);
  EXPECT_EQ(transport.count_requests("ACK"), 4);
  EXPECT_EQ(answered.size(), 1u);
}

TEST_F(InviteClientSessionTest, EarlyMediaIsReportedOncePerDialog) {
  start();
  deliver(response(183, "fork-a", kAnswer));
  deliver(response(183, "fork-a", kAnswer));  // the same dialog again: progress, no new SDP
  deliver(response(180, "fork-b", kAnswer));  // another fork's early dialog
  ASSERT_EQ(progress.size(), 3u);
  EXPECT_EQ(progress[0].early_sdp, std::string(kAnswer));
  EXPECT_FALSE(progress[1].early_sdp);
  EXPECT_EQ(progress[2].remote_tag, "fork-b");
  EXPECT_EQ(progress[2].early_sdp, std::string(kAnswer));
  EXPECT_NE(registry.find({"uac-1@192.0.2.10", "our-tag", "fork-a"}), nullptr);
  EXPECT_NE(registry.find({"uac-1@192.0.2.10", "our-tag", "fork-b"}), nullptr);

  deliver(response(200, "fork-b", kAnswer));  // fork b answers: fork a's early dialog is dropped
  EXPECT_EQ(registry.find({"uac-1@192.0.2.10", "our-tag", "fork-a"}), nullptr);
  EXPECT_EQ(registry.find({"uac-1@192.0.2.10", "our-tag", "fork-b"}), session.get());
  EXPECT_EQ(registry.size(), 1u);
}

// ---------------------------------------------------------------------------------------------------
// Failures

TEST_F(InviteClientSessionTest, BusyIsReportedAndTheTransactionAcksIt) {
  start();
  deliver(response(180));
  deliver(response(486));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, 486);
  EXPECT_EQ(failed[0].reason, "Busy Here");
  EXPECT_FALSE(failed[0].cancelled);
  EXPECT_FALSE(failed[0].local);
  EXPECT_TRUE(failed[0].responded);
  EXPECT_THAT(events, ElementsAre("progress", "failed", "terminated"));
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kNotAnswered));
  // §17.1.1.3: the layer's ACK, in the INVITE's transaction (same branch).
  ASSERT_EQ(transport.count_requests("ACK"), 1);
  EXPECT_EQ(last_sent("ACK")->vias[0].branch(), sent_invite().vias[0].branch());
  EXPECT_EQ(last_sent("ACK")->to.tag(), "fork-a");
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(session->state(), State::kTerminated);
  EXPECT_FALSE(session->cancel());
}

TEST_F(InviteClientSessionTest, ARedirectReportsItsContactsAndFollowsNone) {
  start();
  Message moved = response(302);
  moved.contacts.resize(2);
  moved.contacts[0].uri.scheme = moved.contacts[1].uri.scheme = "sip";
  moved.contacts[0].uri.user = "101";
  moved.contacts[0].uri.host = "198.51.100.20";
  moved.contacts[1].uri.user = "102";
  moved.contacts[1].uri.host = "198.51.100.21";
  deliver(moved);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, 302);
  ASSERT_EQ(failed[0].contacts.size(), 2u);
  EXPECT_EQ(failed[0].contacts[0].uri.to_string(), "sip:101@198.51.100.20");
  EXPECT_EQ(failed[0].contacts[1].uri.to_string(), "sip:102@198.51.100.21");
  EXPECT_EQ(transport.count_requests("INVITE"), 1);  // nothing followed
  EXPECT_EQ(transport.count_requests("ACK"), 1);
}

TEST_F(InviteClientSessionTest, NoResponseAtAllIs408AfterTimerB) {
  start();
  timers.advance(31'999ms);
  EXPECT_TRUE(failed.empty());
  timers.advance(1ms);  // Timer B = 64*T1
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, 408);
  EXPECT_TRUE(failed[0].local);
  EXPECT_FALSE(failed[0].responded);
  EXPECT_FALSE(failed[0].cancelled);
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kNotAnswered));
}

TEST_F(InviteClientSessionTest, ATransportErrorIs503Local) {
  transport.fail_next(1);
  start();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, 503);
  EXPECT_TRUE(failed[0].local);
}

// ---------------------------------------------------------------------------------------------------
// CANCEL

TEST_F(InviteClientSessionTest, CancelBeforeAnyProvisionalWaitsForOne) {
  start();
  EXPECT_TRUE(session->cancel());
  EXPECT_TRUE(session->cancel_requested());
  timers.advance(2'000ms);
  EXPECT_EQ(transport.count_requests("CANCEL"), 0);  // §9.1: not before a provisional
  deliver(response(180));
  EXPECT_TRUE(progress.empty());  // nobody wants ringing once they cancelled
  ASSERT_EQ(transport.count_requests("CANCEL"), 1);
  const Message* cancel = last_sent("CANCEL");
  EXPECT_EQ(cancel->vias[0].branch(), sent_invite().vias[0].branch());
  EXPECT_EQ(cancel->cseq.number, 1u);
  EXPECT_EQ(cancel->request_uri.to_string(), sent_invite().request_uri.to_string());
  EXPECT_EQ(last_sent_entry("CANCEL")->to, trunk);
  answer_last("CANCEL", 200);
  deliver(response(487));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, 487);
  EXPECT_TRUE(failed[0].cancelled);
  EXPECT_FALSE(failed[0].answered_after_cancel);
  EXPECT_EQ(transport.count_requests("ACK"), 1);  // the layer's ACK for the 487
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kNotAnswered));
}

TEST_F(InviteClientSessionTest, CancelAfterRingingGoesAtOnce) {
  start();
  deliver(response(180));
  EXPECT_TRUE(session->cancel());
  EXPECT_EQ(transport.count_requests("CANCEL"), 1);
  EXPECT_TRUE(session->cancel());  // idempotent
  EXPECT_EQ(transport.count_requests("CANCEL"), 1);
  deliver(response(487));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_TRUE(failed[0].cancelled);
  EXPECT_EQ(registry.size(), 0u);
}

TEST_F(InviteClientSessionTest, CancelWithNoResponseEverEndsWithTimerBAndNoCancelSent) {
  start();
  session->cancel();
  timers.advance(32'000ms);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, 408);
  EXPECT_TRUE(failed[0].cancelled);
  EXPECT_TRUE(failed[0].local);
  EXPECT_EQ(transport.count_requests("CANCEL"), 0);
}

TEST_F(InviteClientSessionTest, AnOkCrossingTheCancelIsAckedAndEndedWithBye) {
  start();
  deliver(response(180));
  session->cancel();
  deliver(response(200, "fork-a", kAnswer));
  EXPECT_TRUE(answered.empty());
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, 487);
  EXPECT_TRUE(failed[0].cancelled);
  EXPECT_TRUE(failed[0].answered_after_cancel);
  EXPECT_EQ(failed[0].response_status, 200);
  ASSERT_EQ(transport.count_requests("ACK"), 1);
  ASSERT_EQ(transport.count_requests("BYE"), 1);
  const Message* bye = last_sent("BYE");
  EXPECT_EQ(bye->to.tag(), "fork-a");
  EXPECT_EQ(bye->cseq.number, 2u);
  EXPECT_EQ(bye->request_uri.to_string(), "sip:bob@203.0.113.5:5070");
  EXPECT_EQ(bye->routes.size(), 2u);
  EXPECT_EQ(last_sent_entry("BYE")->to, (Endpoint{"198.51.100.7", 5060}));
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kNotAnswered));
}

// ---------------------------------------------------------------------------------------------------
// Forks

TEST_F(InviteClientSessionTest, ASecondForksOkIsAckedAndEndedWithByeAtOnce) {
  start();
  deliver(response(180, "fork-a"));
  deliver(response(200, "fork-a", kAnswer));
  Message other = response(200, "fork-b", kAnswer);
  other.contacts[0].uri.user = "carol";
  deliver(other);  // the INVITE transaction is in Accepted: a stray, found by our From tag
  EXPECT_EQ(answered.size(), 1u);
  EXPECT_EQ(session->state(), State::kConfirmed);
  EXPECT_EQ(session->dialog()->remote_tag, "fork-a");
  ASSERT_EQ(transport.count_requests("ACK"), 2);
  EXPECT_EQ(last_sent("ACK")->to.tag(), "fork-b");
  EXPECT_EQ(last_sent("ACK")->request_uri.user, "carol");
  ASSERT_EQ(transport.count_requests("BYE"), 1);
  EXPECT_EQ(last_sent("BYE")->to.tag(), "fork-b");
  EXPECT_EQ(last_sent("BYE")->request_uri.user, "carol");
  EXPECT_EQ(registry.find({"uac-1@192.0.2.10", "our-tag", "fork-b"}), nullptr);

  deliver(other);  // fork b did not get our ACK yet: the same ACK again, no second BYE
  EXPECT_EQ(transport.count_requests("ACK"), 3);
  EXPECT_EQ(transport.count_requests("BYE"), 1);
}

TEST_F(InviteClientSessionTest, ANewForksOkFromAStrangerChangesNothing) {
  answered_call();
  size_t sent = transport.sent().size();
  deliver(response(200, "fork-x", kAnswer), stranger);
  EXPECT_EQ(transport.sent().size(), sent);
  EXPECT_EQ(session->state(), State::kConfirmed);
}

// ---------------------------------------------------------------------------------------------------
// Destruction and callbacks

TEST_F(InviteClientSessionTest, DestroyedWhileRingingCancelsWithoutCallbacks) {
  start();
  deliver(response(180));
  events.clear();
  session.reset();
  EXPECT_EQ(transport.count_requests("CANCEL"), 1);
  EXPECT_EQ(registry.size(), 0u);
  deliver(response(487));
  EXPECT_TRUE(events.empty());
}

TEST_F(InviteClientSessionTest, DestroyedBeforeAnyResponseThenAnsweredStillAcksAndEnds) {
  start();
  session.reset();
  deliver(response(180));  // the layer's pending CANCEL goes now
  EXPECT_EQ(transport.count_requests("CANCEL"), 1);
  deliver(response(200, "fork-a", kAnswer));  // crossed the CANCEL: nobody owns it any more
  EXPECT_EQ(transport.count_requests("ACK"), 1);
  EXPECT_EQ(transport.count_requests("BYE"), 1);
  EXPECT_EQ(last_sent("BYE")->to.tag(), "fork-a");
  EXPECT_TRUE(events.empty());
}

TEST_F(InviteClientSessionTest, DestroyedMidCallSendsByeAndReportsNothing) {
  answered_call();
  events.clear();
  session.reset();
  ASSERT_EQ(transport.count_requests("BYE"), 1);
  EXPECT_EQ(last_sent("BYE")->request_uri.to_string(), "sip:bob@203.0.113.5:5070");
  EXPECT_EQ(registry.size(), 0u);
  answer_last("BYE", 200);
  deliver(response(200, "fork-a", kAnswer));  // a late retransmission reaches nobody
  timers.advance(64'000ms);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(layer.client_transactions(), 0u);
}

TEST_F(InviteClientSessionTest, TheObserverMayDestroyTheSessionInsideACallback) {
  destroy_on = "answered";
  start();
  deliver(response(200, "fork-a", kAnswer));
  EXPECT_EQ(session, nullptr);
  EXPECT_EQ(transport.count_requests("ACK"), 1);
  EXPECT_EQ(transport.count_requests("BYE"), 1);  // the destructor's
  EXPECT_THAT(events, ElementsAre("answered"));
}

TEST_F(InviteClientSessionTest, TheObserverMayDestroyTheSessionWhenTheFirstSendFails) {
  destroy_on = "failed";
  transport.fail_next(1);
  session = std::make_unique<InviteClientSession>(layer, registry, random, *this, options());
  InviteClientSession* raw = session.get();
  EXPECT_TRUE(raw->start());  // returns into a destroyed object without touching it
  EXPECT_EQ(session, nullptr);
  EXPECT_THAT(events, ElementsAre("failed"));
}

TEST_F(InviteClientSessionTest, TheObserverMayDestroyTheSessionWhenItFails) {
  destroy_on = "failed";
  start();
  deliver(response(603));
  EXPECT_EQ(session, nullptr);
  EXPECT_THAT(events, ElementsAre("failed"));  // no on_terminated after the session is gone
}

}  // namespace
}  // namespace warmline::sip
