// INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1) and the UAS core's 2xx retransmission
// (§13.3.1.4), on a fake clock.
#include "sip/transaction/invite_server.hpp"

#include "transaction_fixture.hpp"

namespace warmline::sip {
namespace {

class InviteServerTest : public TransactionFixture {
 protected:
  Message invite = peer_request("INVITE", "z9hG4bKinv1");
  void receive_invite() { layer.receive(Message(invite), peer); }
  // The ACK a UAC sends for a non-2xx final: same branch as the INVITE (§17.1.1.3).
  Message non_2xx_ack() {
    Message ack = peer_request("ACK", "z9hG4bKinv1");
    ack.to.set_tag("our-tag");
    return ack;
  }
  // The ACK for a 2xx: a new transaction, new branch (§13.2.2.4).
  Message ack_2xx() {
    Message ack = peer_request("ACK", "z9hG4bKack2xx");
    ack.to.set_tag("our-tag");
    return ack;
  }
};

TEST_F(InviteServerTest, SendsTryingAfter200msWhenTheTuIsSilent) {
  receive_invite();
  ASSERT_EQ(requests.size(), 1u);
  timers.advance(199ms);
  EXPECT_TRUE(transport.sent().empty());
  timers.advance(1ms);
  ASSERT_EQ(transport.sent().size(), 1u);
  EXPECT_EQ(transport.last().message.status_code, 100);
  EXPECT_TRUE(transport.last().message.to.tag().empty());
  EXPECT_EQ(transport.last().to, peer);
}

TEST_F(InviteServerTest, NoTryingWhenTheTuAnswersFirst) {
  receive_invite();
  timers.advance(100ms);
  ASSERT_TRUE(server_txs[0].respond(180, {}, "our-tag"));
  timers.advance(1'000ms);
  EXPECT_EQ(transport.count_responses(100), 0);
  EXPECT_EQ(transport.count_responses(180), 1);
}

TEST_F(InviteServerTest, RetransmittedInviteRepeatsTheLastProvisionalAndIsNotANewRequest) {
  receive_invite();
  server_txs[0].respond(180, {}, "our-tag");
  receive_invite();
  EXPECT_EQ(requests.size(), 1u);
  EXPECT_EQ(transport.count_responses(180), 2);
}

TEST_F(InviteServerTest, FailureIsRetransmittedByTimerGUntilTimerH) {
  receive_invite();
  server_txs[0].respond(486, {}, "our-tag");
  timers.advance(31'999ms);
  // §17.2.1: G = T1, doubling up to T2.
  EXPECT_EQ(send_times, (std::vector<long>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  EXPECT_EQ(layer.server_transactions(), 1u);
  timers.advance(1ms);  // timer H
  EXPECT_EQ(layer.server_transactions(), 0u);
  timers.advance(10'000ms);
  EXPECT_EQ(transport.sent().size(), 11u);
}

TEST_F(InviteServerTest, AckForFailureStopsRetransmissionAndIsAbsorbedUntilTimerI) {
  receive_invite();
  server_txs[0].respond(486, {}, "our-tag");
  timers.advance(600ms);
  receive_invite();  // Completed: the 486 again
  EXPECT_EQ(transport.count_responses(486), 3);
  layer.receive(non_2xx_ack(), peer);
  layer.receive(non_2xx_ack(), peer);  // Confirmed absorbs ACK retransmissions
  EXPECT_TRUE(acks.empty());
  timers.advance(4'999ms);
  EXPECT_EQ(transport.count_responses(486), 3);
  EXPECT_EQ(layer.server_transactions(), 1u);
  timers.advance(1ms);  // timer I = T4
  EXPECT_EQ(layer.server_transactions(), 0u);
  EXPECT_FALSE(server_txs[0].valid());
  EXPECT_FALSE(server_txs[0].respond(500));  // the handle outlives the transaction safely
  EXPECT_EQ(server_txs[0].request(), nullptr);
}

TEST_F(InviteServerTest, OkIsRetransmittedUntilTheAckArrives) {
  receive_invite();
  server_txs[0].respond(200, {}, "our-tag");
  timers.advance(8'000ms);
  // §13.3.1.4: T1, doubling to T2.
  EXPECT_EQ(send_times, (std::vector<long>{0, 500, 1500, 3500, 7500}));
  receive_invite();  // RFC 6026 Accepted: absorbed, not a new call, not answered
  EXPECT_EQ(requests.size(), 1u);
  EXPECT_EQ(transport.sent().size(), 5u);
  layer.receive(ack_2xx(), peer);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(layer.pending_2xx(), 0u);
  timers.advance(60'000ms);
  EXPECT_EQ(transport.count_responses(200), 5);
  EXPECT_TRUE(ack_timeouts.empty());
  EXPECT_EQ(layer.server_transactions(), 0u);  // timer L
}

// A TU that refuses an ACK (a forged one, from outside the dialog's trunk) must not lose the real
// peer's ACK: the 2xx keeps going until an ACK the TU takes, or the timeout.
TEST_F(InviteServerTest, AnAckTheTuRefusesDoesNotStopTheOkRetransmission) {
  receive_invite();
  server_txs[0].respond(200, {}, "our-tag");
  take_acks = false;
  layer.receive(ack_2xx(), Endpoint{"198.51.100.66", 5060});
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(layer.pending_2xx(), 1u);
  timers.advance(1'500ms);
  EXPECT_EQ(transport.count_responses(200), 3);  // 0, 0.5, 1.5 s
  take_acks = true;
  layer.receive(ack_2xx(), peer);
  EXPECT_EQ(layer.pending_2xx(), 0u);
  timers.advance(60'000ms);
  EXPECT_EQ(transport.count_responses(200), 3);
  EXPECT_TRUE(ack_timeouts.empty());
}

TEST_F(InviteServerTest, OkWithoutAckIsReportedAfter64T1) {
  receive_invite();
  server_txs[0].respond(200, {}, "our-tag");
  timers.advance(31'999ms);
  EXPECT_TRUE(ack_timeouts.empty());
  int sent_before = transport.count_responses(200);
  EXPECT_EQ(sent_before, 11);  // 0, 0.5, 1.5, 3.5, 7.5, then every 4 s up to 31.5 s
  timers.advance(1ms);
  ASSERT_EQ(ack_timeouts.size(), 1u);
  EXPECT_EQ(ack_timeouts[0].call_id, invite.call_id);
  timers.advance(30'000ms);
  EXPECT_EQ(transport.count_responses(200), sent_before);
}

TEST_F(InviteServerTest, ResponsesFollowReceivedAndRport) {
  Message behind_nat = invite;
  behind_nat.vias[0].host = "10.0.0.5";
  behind_nat.vias[0].port = 5060;
  set_param(behind_nat.vias[0].params, "received", "203.0.113.9");
  set_param(behind_nat.vias[0].params, "rport", "40000");
  layer.receive(std::move(behind_nat), Endpoint{"203.0.113.9", 40000});
  server_txs[0].respond(180, {}, "our-tag");
  EXPECT_EQ(transport.last().to, (Endpoint{"203.0.113.9", 40000}));
}

TEST_F(InviteServerTest, TuCannotSendTwoFinals) {
  receive_invite();
  EXPECT_TRUE(server_txs[0].respond(486, {}, "our-tag"));
  EXPECT_FALSE(server_txs[0].respond(200, {}, "our-tag"));
  EXPECT_EQ(transport.count_responses(200), 0);
}

TEST_F(InviteServerTest, TransitionTableFollowsFigure7) {
  using namespace transaction::invite_server;
  EXPECT_TRUE(transition(State::kProceeding, Event::kTimerTrying).actions & kSend100);
  EXPECT_EQ(transition(State::kProceeding, Event::kTu2xx).next, State::kAccepted);
  EXPECT_EQ(transition(State::kProceeding, Event::kTuFailure).next, State::kCompleted);
  EXPECT_EQ(transition(State::kCompleted, Event::kAck).next, State::kConfirmed);
  EXPECT_EQ(transition(State::kCompleted, Event::kTimerH).next, State::kTerminated);
  EXPECT_EQ(transition(State::kConfirmed, Event::kTimerI).next, State::kTerminated);
  EXPECT_EQ(transition(State::kAccepted, Event::kRequest).actions, kNone);
}

}  // namespace
}  // namespace warmline::sip
