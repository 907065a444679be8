// Non-INVITE client transaction (RFC 3261 §17.1.2) on a fake clock.
#include "sip/transaction/non_invite_client.hpp"

#include "transaction_fixture.hpp"

namespace warmline::sip {
namespace {

class NonInviteClientTest : public TransactionFixture {
 protected:
  void send(std::string method = "OPTIONS") {
    layer.send_request(our_request(method), peer, [this](const Message& r) { responses.push_back(r); });
  }
  const Message& sent() const { return transport.sent().front().message; }
  std::vector<Message> responses;
};

TEST_F(NonInviteClientTest, TimerECapsAtT2AndTimerFReports408) {
  send();
  timers.advance(31'999ms);
  // §17.1.2.2: T1, then doubling, capped at T2 = 4 s.
  EXPECT_EQ(send_times, (std::vector<long>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  EXPECT_TRUE(responses.empty());
  timers.advance(1ms);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 408);
  EXPECT_EQ(layer.client_transactions(), 0u);
}

TEST_F(NonInviteClientTest, ProceedingRetransmitsEveryT2) {
  send("BYE");
  timers.advance(600ms);  // one retransmission at 500 ms
  layer.receive(reply(sent(), 100), peer);
  ASSERT_EQ(responses.size(), 1u);
  send_times.clear();
  timers.advance(10'000ms);
  // The pending timer E (at 1.5 s) fires, then the next ones come every T2.
  EXPECT_EQ(send_times, (std::vector<long>{1500, 5500, 9500}));
}

TEST_F(NonInviteClientTest, FinalResponseIsPassedUpOnceAndTimerKEndsTheTransaction) {
  send();
  Message ok = reply(sent(), 200);
  layer.receive(Message(ok), peer);
  layer.receive(Message(ok), peer);  // retransmission absorbed in Completed
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 200);
  timers.advance(4'999ms);
  EXPECT_EQ(layer.client_transactions(), 1u);
  timers.advance(1ms);  // timer K = T4
  EXPECT_EQ(layer.client_transactions(), 0u);
  EXPECT_EQ(transport.sent().size(), 1u);  // no retransmission after the final
  EXPECT_TRUE(strays.empty());
}

TEST_F(NonInviteClientTest, ResponsesMatchByBranchAndMethod) {
  send();
  Message other = reply(sent(), 200);
  set_param(other.vias[0].params, "branch", "z9hG4bKsomeoneelse");
  layer.receive(Message(other), peer);
  Message wrong_method = reply(sent(), 200);
  wrong_method.cseq.method = "INFO";
  layer.receive(Message(wrong_method), peer);
  EXPECT_TRUE(responses.empty());
  EXPECT_EQ(strays.size(), 2u);
}

TEST_F(NonInviteClientTest, TransportErrorOnRetransmissionIsReportedAs503) {
  send();
  transport.fail_next(1);
  timers.advance(500ms);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 503);
  timers.advance(64'000ms);
  EXPECT_EQ(responses.size(), 1u);
}

TEST_F(NonInviteClientTest, TransitionTableFollowsFigure6) {
  using namespace transaction::non_invite_client;
  EXPECT_TRUE(transition(State::kTrying, Event::kTimerE).actions & kRetransmitDoubling);
  EXPECT_TRUE(transition(State::kProceeding, Event::kTimerE).actions & kRetransmitAtT2);
  EXPECT_EQ(transition(State::kProceeding, Event::kTimerF).next, State::kTerminated);
  EXPECT_EQ(transition(State::kTrying, Event::kFinal).next, State::kCompleted);
  EXPECT_EQ(transition(State::kCompleted, Event::kFinal).actions, kNone);
  EXPECT_EQ(transition(State::kCompleted, Event::kTimerK).next, State::kTerminated);
}

}  // namespace
}  // namespace warmline::sip
