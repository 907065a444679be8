// The record each call hands to CallContext::records when it ends (docs/cdr.md): the call row, the
// caller's leg (SIP facts, final status, who hung up) and one row per cold transfer with its attempts.
// The fixture's FakeRecordSink keeps the records; no database here (tests/unit/server/cdr/ has that).
#include "call_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct CallRecordTest : CallFixture {
  // The agent asks for a transfer; the REFER it caused (a copy: the transport's log grows).
  std::optional<sip::Message> agent_transfers(Caller& c, std::vector<std::string> targets, std::string id = "t1") {
    c.agent->command(transfer(std::move(targets), std::move(id)));
    settle();
    const sip::Message* r = last_request(c, "REFER");
    return r ? std::optional<sip::Message>(*r) : std::nullopt;
  }
  // 202 to the REFER, then its final NOTIFY with the target's answer.
  void refer_ends(Caller& c, const sip::Message& refer, int status, std::string_view reason) {
    reply(c, refer, 202, "Accepted");
    notify(c, refer.cseq.number, status, reason, true);
  }
  // The one record written so far (a test fails here when there is not exactly one).
  const CallRecord& only_record() const {
    EXPECT_EQ(record_sink.records.size(), 1u);
    static const CallRecord kNone{};
    return record_sink.records.empty() ? kNone : record_sink.records.front();
  }
  static std::vector<std::string> attempts(const TransferRecord& t) {
    std::vector<std::string> out;
    for (const auto& a : t.attempts)
      out.push_back(a.target + " " + std::to_string(a.sip_status) + " " + std::string(ai::to_string(a.result)));
    return out;
  }
};

TEST_F(CallRecordTest, AnAnsweredCallThatTheCallerEndsIsRecordedOnceWithItsLeg) {
  Caller c = make_caller();
  invite(c, InviteOptions{.extra_headers = {"P-Asserted-Identity: \"Caller\" <sip:+27115550123@carrier.example>"}});
  c.agent->open();
  settle();
  ack(c);
  EXPECT_THAT(record_sink.records, IsEmpty()) << "nothing is written while the call is up";
  send(c, "BYE");
  advance(40s);  // the agent socket closes, the call is released and dropped: no second record

  const CallRecord& r = only_record();
  EXPECT_EQ(r.id, c.id);
  EXPECT_EQ(r.agent, "demo");
  EXPECT_EQ(r.from, "+27115550123");
  EXPECT_EQ(r.to, kDemoNumber);
  ASSERT_TRUE(r.answered_at);
  EXPECT_LE(r.started_at, *r.answered_at);
  EXPECT_LE(*r.answered_at, r.ended_at);
  EXPECT_EQ(r.end_reason, "caller_hangup");
  EXPECT_THAT(r.transfers, IsEmpty());

  ASSERT_EQ(r.legs.size(), 1u);
  const LegRecord& a = r.legs[0];
  EXPECT_EQ(a.role, LegRole::kA);
  EXPECT_EQ(a.direction, LegDirection::kIn);
  EXPECT_EQ(a.trunk, "carrier");
  EXPECT_EQ(a.sip_call_id, c.call_id);
  EXPECT_EQ(a.from_uri, "sip:+27115550123@carrier.example");
  EXPECT_EQ(a.to_uri, "sip:+27115550100@192.0.2.10");
  EXPECT_EQ(a.remote_uri, "sip:+27115550123@203.0.113.5:5060") << "the caller's Contact";
  EXPECT_EQ(a.pai, "\"Caller\" <sip:+27115550123@carrier.example>");
  EXPECT_EQ(a.codec, "PCMU");
  EXPECT_EQ(a.final_status, 200);
  EXPECT_EQ(a.answered_at, r.answered_at);
  ASSERT_TRUE(a.ended_at);
  EXPECT_LE(*a.answered_at, *a.ended_at);
  EXPECT_EQ(a.hangup_side, HangupSide::kRemote);
}

TEST_F(CallRecordTest, ACallCancelledWhileRingingIs487FromTheRemoteSideAndNeverAnswered) {
  Caller c = make_caller();
  invite(c);
  cancel(c);
  const CallRecord& r = only_record();
  EXPECT_EQ(r.end_reason, "caller_cancelled");
  EXPECT_FALSE(r.answered_at);
  ASSERT_EQ(r.legs.size(), 1u);
  EXPECT_EQ(r.legs[0].final_status, 487);
  EXPECT_FALSE(r.legs[0].answered_at);
  EXPECT_TRUE(r.legs[0].ended_at);
  EXPECT_EQ(r.legs[0].hangup_side, HangupSide::kRemote);
  EXPECT_EQ(r.legs[0].pai, "") << "no P-Asserted-Identity in this INVITE";
}

TEST_F(CallRecordTest, OurHangupWhileRingingIs480FromTheLocalSide) {
  Caller c = make_caller();
  invite(c);
  call(c)->hangup("api_hangup");
  const CallRecord& r = only_record();
  EXPECT_EQ(r.end_reason, "api_hangup");
  ASSERT_EQ(r.legs.size(), 1u);
  EXPECT_EQ(r.legs[0].final_status, 480);
  EXPECT_EQ(r.legs[0].hangup_side, HangupSide::kLocal);
}

TEST_F(CallRecordTest, OurByeOnAnAnsweredCallIsTheLocalSide) {
  Caller c = active_call();
  call(c)->hangup("api_hangup");
  const CallRecord& r = only_record();
  EXPECT_EQ(r.end_reason, "api_hangup");
  ASSERT_EQ(r.legs.size(), 1u);
  EXPECT_EQ(r.legs[0].final_status, 200);
  EXPECT_EQ(r.legs[0].hangup_side, HangupSide::kLocal);
}

TEST_F(CallRecordTest, ARefusedInviteIsNoCallAndHasNoRecord) {
  Caller c = make_caller();
  invite(c, InviteOptions().offer(sdp("203.0.113.5", 40000, "sendrecv", "9")));  // G.722 only: not ours
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(488));
  EXPECT_THAT(record_sink.records, IsEmpty());
}

TEST_F(CallRecordTest, ACallStillUpWhenTheShardStopsIsRecordedAsShutdown) {
  Caller c = active_call();
  router->clear();
  const CallRecord& r = only_record();
  EXPECT_EQ(r.id, c.id);
  EXPECT_EQ(r.end_reason, "shutdown");
  ASSERT_EQ(r.legs.size(), 1u);
  EXPECT_FALSE(r.legs[0].ended_at) << "no BYE was sent: the leg's end is unknown";
  EXPECT_EQ(r.legs[0].hangup_side, HangupSide::kNone);
}

TEST_F(CallRecordTest, WithoutASinkCallsRunAsUsual) {
  ctx.records = nullptr;
  Caller c = active_call();
  send(c, "BYE");
  EXPECT_EQ(router->active_calls(), 0u);
  EXPECT_THAT(record_sink.records, IsEmpty());
}

// ---------------------------------------------------------------------------------------------------
// Cold transfers (strategy refer)

TEST_F(CallRecordTest, ACompletedColdTransferHasItsAttemptAndTimes) {
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  refer_ends(c, *refer, 200, "OK");

  const CallRecord& r = only_record();
  EXPECT_EQ(r.end_reason, "transferred");
  ASSERT_EQ(r.legs.size(), 1u);
  EXPECT_EQ(r.legs[0].hangup_side, HangupSide::kLocal) << "our BYE after the final NOTIFY";
  ASSERT_EQ(r.transfers.size(), 1u);
  const TransferRecord& t = r.transfers[0];
  EXPECT_EQ(t.id, "t1");
  EXPECT_EQ(t.mode, ai::TransferMode::kCold);
  EXPECT_EQ(t.strategy, TransferStrategy::kRefer);
  EXPECT_THAT(t.targets_tried, ElementsAre("Support"));
  EXPECT_THAT(attempts(t), ElementsAre(std::string(kSupportUri) + " 200 completed"));
  EXPECT_EQ(t.result, TransferResult::kCompleted);
  ASSERT_TRUE(t.answered_at);
  EXPECT_EQ(t.bridged_at, t.answered_at) << "the caller's side connects them as the target answers";
  ASSERT_TRUE(t.ended_at);
  EXPECT_LE(r.answered_at, t.requested_at);
  EXPECT_LE(t.requested_at, *t.answered_at);
  EXPECT_LE(*t.ended_at, r.ended_at);
}

TEST_F(CallRecordTest, AFailedChainKeepsEveryAttemptAndTheCallerStaysWithTheAgent) {
  Caller c = active_call();
  auto first = agent_transfers(c, {"Support", "Sales"});
  ASSERT_TRUE(first);
  refer_ends(c, *first, 486, "Busy Here");
  const sip::Message* second = last_request(c, "REFER");
  ASSERT_TRUE(second);
  refer_ends(c, sip::Message(*second), 480, "Temporarily Unavailable");
  EXPECT_THAT(record_sink.records, IsEmpty()) << "the call goes on with the agent";
  send(c, "BYE");

  const CallRecord& r = only_record();
  EXPECT_EQ(r.end_reason, "caller_hangup");
  ASSERT_EQ(r.transfers.size(), 1u);
  const TransferRecord& t = r.transfers[0];
  EXPECT_THAT(t.targets_tried, ElementsAre("Support", "Sales"));
  EXPECT_THAT(attempts(t), ElementsAre(std::string(kSupportUri) + " 486 busy",
                                       std::string(kSalesUri) + " 480 no_answer"));
  EXPECT_EQ(t.result, TransferResult::kNoAnswer);
  EXPECT_FALSE(t.answered_at);
  EXPECT_FALSE(t.bridged_at);
  EXPECT_TRUE(t.ended_at);
}

TEST_F(CallRecordTest, ARefusedReferIsARejectedAttempt) {
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  reply(c, *refer, 603, "Decline");
  send(c, "BYE");
  const CallRecord& r = only_record();
  ASSERT_EQ(r.transfers.size(), 1u);
  EXPECT_THAT(attempts(r.transfers[0]), ElementsAre(std::string(kSupportUri) + " 603 rejected"));
  EXPECT_EQ(r.transfers[0].result, TransferResult::kRejected);
}

TEST_F(CallRecordTest, EveryTransferOfTheCallIsRecordedInOrder) {
  Caller c = active_call(kForwardingNumber);  // on_failure = default_forward
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  refer_ends(c, *refer, 486, "Busy Here");
  const sip::Message* forward = last_request(c, "REFER");
  ASSERT_TRUE(forward);
  ASSERT_NE(forward->cseq.number, refer->cseq.number) << "the default_forward's REFER";
  refer_ends(c, sip::Message(*forward), 200, "OK");

  const CallRecord& r = only_record();
  ASSERT_EQ(r.transfers.size(), 2u);
  EXPECT_EQ(r.transfers[0].id, "t1");
  EXPECT_EQ(r.transfers[0].result, TransferResult::kBusy);
  EXPECT_EQ(r.transfers[1].id, "default_forward");
  EXPECT_THAT(r.transfers[1].targets_tried, ElementsAre("Operator"));
  EXPECT_EQ(r.transfers[1].result, TransferResult::kCompleted);
}

TEST_F(CallRecordTest, TheCallersByeDuringATransferEndsItAsCallerHungUp) {
  Caller c = active_call();
  ASSERT_TRUE(agent_transfers(c, {"Support", "Sales"}));
  send(c, "BYE");
  const CallRecord& r = only_record();
  ASSERT_EQ(r.transfers.size(), 1u);
  EXPECT_THAT(r.transfers[0].targets_tried, ElementsAre("Support")) << "the rest of the chain was not tried";
  EXPECT_THAT(attempts(r.transfers[0]), ElementsAre(std::string(kSupportUri) + " 0 caller_hung_up"));
  EXPECT_EQ(r.transfers[0].result, TransferResult::kCallerHungUp);
  EXPECT_EQ(r.legs.at(0).hangup_side, HangupSide::kRemote);
}

TEST_F(CallRecordTest, OurHangupDuringAnAcceptedTransferCancelsIt) {
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  reply(c, *refer, 202, "Accepted");
  call(c)->hangup("api_hangup");
  const CallRecord& r = only_record();
  EXPECT_EQ(r.end_reason, "api_hangup");
  ASSERT_EQ(r.transfers.size(), 1u);
  EXPECT_EQ(r.transfers[0].result, TransferResult::kCancelled);
  EXPECT_THAT(attempts(r.transfers[0]), ElementsAre(std::string(kSupportUri) + " 0 cancelled"));
}

TEST_F(CallRecordTest, ATransferRefusedBeforeAnythingWasSentHasNoRow) {
  Caller c = active_call();
  EXPECT_FALSE(agent_transfers(c, {"Nobody"}));
  send(c, "BYE");
  EXPECT_THAT(only_record().transfers, IsEmpty());
}

}  // namespace
}  // namespace warmline::server
