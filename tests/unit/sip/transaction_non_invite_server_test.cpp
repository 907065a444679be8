// Non-INVITE server transaction (RFC 3261 §17.2.2) on a fake clock.
#include "sip/transaction/non_invite_server.hpp"

#include "transaction_fixture.hpp"

namespace warmline::sip {
namespace {

class NonInviteServerTest : public TransactionFixture {
 protected:
  Message bye = peer_request("BYE", "z9hG4bKbye1", 2);
  void receive_bye() { layer.receive(Message(bye), peer); }
};

TEST_F(NonInviteServerTest, TryingAbsorbsRetransmissionsSilently) {
  receive_bye();
  receive_bye();
  receive_bye();
  EXPECT_EQ(requests.size(), 1u);
  EXPECT_TRUE(transport.sent().empty());
  timers.advance(10'000ms);
  EXPECT_TRUE(transport.sent().empty());  // no automatic 100 for non-INVITE
}

TEST_F(NonInviteServerTest, ProceedingRepeatsTheProvisional) {
  receive_bye();
  server_txs[0].respond(100);
  receive_bye();
  EXPECT_EQ(transport.count_responses(100), 2);
}

TEST_F(NonInviteServerTest, CompletedRepeatsTheFinalUntilTimerJ) {
  receive_bye();
  ASSERT_TRUE(server_txs[0].respond(200, {}, "our-tag"));
  receive_bye();
  receive_bye();
  EXPECT_EQ(transport.count_responses(200), 3);
  EXPECT_EQ(requests.size(), 1u);
  EXPECT_FALSE(server_txs[0].respond(500));  // further finals are discarded
  EXPECT_EQ(transport.count_responses(500), 0);
  timers.advance(31'999ms);
  EXPECT_EQ(transport.count_responses(200), 3);  // no retransmission on its own (unlike INVITE)
  EXPECT_EQ(layer.server_transactions(), 1u);
  timers.advance(1ms);  // timer J = 64*T1
  EXPECT_EQ(layer.server_transactions(), 0u);
  receive_bye();  // after J the same request is new again
  EXPECT_EQ(requests.size(), 2u);
}

TEST_F(NonInviteServerTest, DifferentSentByIsADifferentTransaction) {
  receive_bye();
  Message other = bye;
  other.vias[0].port = 5099;
  layer.receive(std::move(other), peer);
  EXPECT_EQ(requests.size(), 2u);
}

TEST_F(NonInviteServerTest, Rfc2543RequestsWithoutCookieStillMatchRetransmissions) {
  Message old = peer_request("OPTIONS", "", 7);
  old.vias[0].params.clear();
  layer.receive(Message(old), peer);
  server_txs[0].respond(200, {}, "our-tag");
  layer.receive(Message(old), peer);
  EXPECT_EQ(requests.size(), 1u);
  EXPECT_EQ(transport.count_responses(200), 2);
}

TEST_F(NonInviteServerTest, TransitionTableFollowsFigure8) {
  using namespace transaction::non_invite_server;
  EXPECT_EQ(transition(State::kTrying, Event::kRequest).actions, kNone);
  EXPECT_EQ(transition(State::kTrying, Event::kTu1xx).next, State::kProceeding);
  EXPECT_EQ(transition(State::kProceeding, Event::kTuFinal).next, State::kCompleted);
  EXPECT_TRUE(transition(State::kCompleted, Event::kRequest).actions & kResendLast);
  EXPECT_TRUE(transition(State::kCompleted, Event::kTuFinal).actions & kReject);
  EXPECT_EQ(transition(State::kCompleted, Event::kTimerJ).next, State::kTerminated);
}

}  // namespace
}  // namespace warmline::sip
