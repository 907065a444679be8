// INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §8.4) on a fake clock.
#include "sip/transaction/invite_client.hpp"

#include "transaction_fixture.hpp"

namespace warmline::sip {
namespace {

class InviteClientTest : public TransactionFixture {
 protected:
  ClientTransactionId send_invite() {
    return layer.send_request(our_request("INVITE"), peer, [this](const Message& r) { responses.push_back(r); });
  }
  const Message& sent_invite() const { return transport.sent().front().message; }
  int finals() const {
    int n = 0;
    for (const auto& r : responses) n += r.status_code >= 200;
    return n;
  }
  std::vector<Message> responses;
};

TEST_F(InviteClientTest, AddsViaWithBranchRportAndMaxForwards) {
  send_invite();
  ASSERT_EQ(transport.sent().size(), 1u);
  const Message& m = sent_invite();
  ASSERT_EQ(m.vias.size(), 1u);
  EXPECT_EQ(m.vias[0].host, "192.0.2.10");
  EXPECT_EQ(m.vias[0].port, 5060);
  EXPECT_TRUE(m.vias[0].branch().starts_with("z9hG4bK"));
  EXPECT_NE(find_param(m.vias[0].params, "rport"), nullptr);
  EXPECT_EQ(m.max_forwards, 70u);
  EXPECT_EQ(transport.last().to, peer);
}

TEST_F(InviteClientTest, TimerADoublesUntilTimerBReports408) {
  send_invite();
  timers.advance(31'999ms);
  // §17.1.1.2: retransmissions at T1, 2*T1, 4*T1, ... after the previous one.
  EXPECT_EQ(send_times, (std::vector<long>{0, 500, 1500, 3500, 7500, 15500, 31500}));
  EXPECT_TRUE(responses.empty());
  timers.advance(1ms);  // timer B = 64*T1
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 408);
  EXPECT_EQ(responses[0].call_id, sent_invite().call_id);
  EXPECT_EQ(layer.client_transactions(), 0u);
  timers.advance(60'000ms);
  EXPECT_EQ(transport.sent().size(), 7u);  // nothing after the timeout
}

// §17.1.1.2: timer A only over an unreliable transport; over TCP the INVITE is sent once, the Via says
// TCP, and timer B still ends the transaction.
TEST_F(InviteClientTest, OverTcpTheInviteIsNotRetransmitted) {
  Endpoint tcp_peer{peer.host, peer.port, Protocol::tcp};
  layer.send_request(our_request("INVITE"), tcp_peer, [this](const Message& r) { responses.push_back(r); });
  timers.advance(31'999ms);
  EXPECT_EQ(send_times, (std::vector<long>{0}));
  EXPECT_EQ(transport.last().to, tcp_peer);
  EXPECT_EQ(sent_invite().vias.at(0).transport, "TCP");
  timers.advance(1ms);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 408);
}

TEST_F(InviteClientTest, LostInvitesAreRetransmittedUntilAProvisionalArrives) {
  transport.drop_next(3);  // the first three copies are lost on the way
  send_invite();
  timers.advance(3'500ms);
  ASSERT_EQ(transport.sent().size(), 1u);  // the fourth copy (at 3.5 s) got through
  EXPECT_EQ(transport.dropped(), 3);
  layer.receive(reply(sent_invite(), 180), peer);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 180);
  timers.advance(60'000ms);  // Proceeding: no retransmission and no timer B
  EXPECT_EQ(transport.sent().size(), 1u);
  EXPECT_EQ(finals(), 0);
  EXPECT_EQ(layer.client_transactions(), 1u);
}

TEST_F(InviteClientTest, NonSuccessFinalIsAckedByTheTransactionAndRetransmissionsAbsorbed) {
  send_invite();
  layer.receive(reply(sent_invite(), 100), peer);
  Message busy = reply(sent_invite(), 486);
  layer.receive(Message(busy), peer);
  ASSERT_EQ(finals(), 1);
  EXPECT_EQ(responses.back().status_code, 486);
  const Message* ack = last_sent_request("ACK");
  ASSERT_NE(ack, nullptr);
  // §17.1.1.3: same branch, Call-ID, From, CSeq number; To from the response.
  EXPECT_EQ(ack->vias[0].branch(), sent_invite().vias[0].branch());
  EXPECT_EQ(ack->cseq.number, sent_invite().cseq.number);
  EXPECT_EQ(ack->cseq.method, "ACK");
  EXPECT_EQ(ack->to.tag(), "peer-tag");
  EXPECT_EQ(ack->request_uri.host, sent_invite().request_uri.host);

  layer.receive(Message(busy), peer);  // retransmitted 486: ACK again, not passed up
  EXPECT_EQ(transport.count_requests("ACK"), 2);
  EXPECT_EQ(finals(), 1);

  timers.advance(31'999ms);
  EXPECT_EQ(layer.client_transactions(), 1u);
  timers.advance(1ms);  // timer D
  EXPECT_EQ(layer.client_transactions(), 0u);
  layer.receive(Message(busy), peer);  // now a stray
  EXPECT_EQ(strays.size(), 1u);
  EXPECT_EQ(finals(), 1);
}

TEST_F(InviteClientTest, SuccessIsPassedUpOnceAndRetransmitted2xxGoToTheCore) {
  send_invite();
  Message ok = reply(sent_invite(), 200);
  layer.receive(Message(ok), peer);
  ASSERT_EQ(finals(), 1);
  EXPECT_EQ(responses.back().status_code, 200);
  EXPECT_EQ(transport.count_requests("ACK"), 0);  // the TU acknowledges a 2xx, not the transaction
  layer.receive(Message(ok), peer);               // RFC 6026 Accepted: to the core, not the handler
  EXPECT_EQ(finals(), 1);
  EXPECT_EQ(strays.size(), 1u);
  timers.advance(32'000ms);  // timer M
  EXPECT_EQ(layer.client_transactions(), 0u);
  timers.advance(10'000ms);
  EXPECT_EQ(transport.count_requests("INVITE"), 1);  // no retransmission once answered
}

TEST_F(InviteClientTest, TransportErrorIsReportedAs503) {
  transport.fail_next(1);
  send_invite();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 503);
  EXPECT_EQ(layer.client_transactions(), 0u);
  timers.advance(64'000ms);
  EXPECT_EQ(responses.size(), 1u);
}

TEST_F(InviteClientTest, TransitionTableFollowsFigure5) {
  using namespace transaction::invite_client;
  EXPECT_EQ(transition(State::kCalling, Event::kTimerA).next, State::kCalling);
  EXPECT_TRUE(transition(State::kCalling, Event::kTimerA).actions & kRetransmit);
  EXPECT_EQ(transition(State::kCalling, Event::kProvisional).next, State::kProceeding);
  EXPECT_EQ(transition(State::kProceeding, Event::kFailure).next, State::kCompleted);
  EXPECT_TRUE(transition(State::kProceeding, Event::kFailure).actions & kSendAck);
  EXPECT_EQ(transition(State::kCalling, Event::kSuccess).next, State::kAccepted);
  EXPECT_EQ(transition(State::kCompleted, Event::kTimerD).next, State::kTerminated);
  EXPECT_EQ(transition(State::kCompleted, Event::kProvisional).actions, kNone);
  EXPECT_EQ(transition(State::kAccepted, Event::kTimerM).next, State::kTerminated);
}

}  // namespace
}  // namespace warmline::sip
