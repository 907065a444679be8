// A cold transfer on a call from a trunk that accepts REFER, when the REFER does not do it (DESIGN.md
// "Transfers", refer_fallback): refused or never finished, the agent's refer_fallback = "dial" has
// warmline dial the same target itself (a bridged dial); "agent" leaves the caller with the agent. A
// REFER that reached the target and got its answer (busy, ...) is that answer, not a reason to dial.
#include "bridged_dial_fixture.hpp"

namespace warmline::server {
namespace {

// Calls from `carrier` (kTrunkPeer), which accepts REFER, to agent `dialer` (refer_fallback = "dial").
struct ReferFallbackTest : BridgedDialTest {};

TEST_F(ReferFallbackTest, AReferRefusedWith603FallsBackToDiallingTheSameTarget) {
  Caller c = dialer_call(kTrunkPeer);
  agent_transfers(c, {"Craig"});
  auto refers = requests(c, "REFER");
  ASSERT_EQ(refers.size(), 1u);
  EXPECT_EQ(refers[0]->header("Refer-To"), "<tel:+27115550142>");
  EXPECT_TRUE(invites_to(kProvider).empty()) << "REFER first";
  reply(c, *refers[0], 603);

  auto t = dialled(kProvider);
  ASSERT_TRUE(t) << "refer_fallback = dial: the target is dialled";
  EXPECT_EQ(t->invite.request_uri.user, "101027115550142");
  EXPECT_TRUE(c.agent->ended_transfers().empty()) << "the refused REFER is not the transfer's outcome";
  EXPECT_TRUE(c.media->ringback);
  ring(*t);
  pick_up(*t);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.media->bridged_to, t->media->session);
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the caller stays on our dialog, bridged";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCompleted);
  EXPECT_EQ(c.agent->frames.back(), "stop transferred");

  target_bye(*t);
  caller_answers_bye(c);
  expect_nothing_left();
  ASSERT_EQ(record_sink.records.size(), 1u);
  ASSERT_EQ(record_sink.records[0].transfers.size(), 1u);
  const TransferRecord& tr = record_sink.records[0].transfers[0];
  EXPECT_EQ(tr.strategy, TransferStrategy::kDial) << "the strategy that was used in the end";
  ASSERT_EQ(tr.attempts.size(), 2u);
  EXPECT_EQ(tr.attempts[0].sip_status, 603);
  EXPECT_EQ(tr.attempts[0].result, TransferResult::kRejected);
  EXPECT_EQ(tr.attempts[1].sip_status, 200);
  EXPECT_EQ(tr.attempts[1].result, TransferResult::kCompleted);
  EXPECT_EQ(tr.attempts[0].strategy, TransferStrategy::kRefer);
  EXPECT_EQ(tr.attempts[1].strategy, TransferStrategy::kDial);
  EXPECT_EQ(tr.targets_tried.size(), 1u) << "one target, tried two ways";
}

TEST_F(ReferFallbackTest, AReferRefusedWithFallbackAgentIsRejectedAndNothingIsDialled) {
  dialer().refer_fallback = ReferFallback::agent;
  Caller c = dialer_call(kTrunkPeer);
  agent_transfers(c, {"Craig"});
  auto refer = last_request(c, "REFER");
  ASSERT_TRUE(refer);
  reply(c, *refer, 603);
  size_t invites = 0;
  for (const auto& s : transport.sent()) invites += s.message.is_request && s.message.method == "INVITE";
  EXPECT_EQ(invites, 0u) << "an INVITE went out with refer_fallback = agent";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kRejected);
  EXPECT_EQ(ended[0].sip_status, 603);
  expect_back_with_agent(c);
  send(c, "BYE");
  expect_nothing_left();
}

TEST_F(ReferFallbackTest, AReferWithoutAnyAnswerTimesOutIntoADial) {
  Caller c = dialer_call(kTrunkPeer);
  agent_transfers(c, {"Craig"});
  ASSERT_EQ(requests(c, "REFER").size(), 1u);
  advance(29s);
  EXPECT_TRUE(invites_to(kProvider).empty());
  advance(2s);  // refer_timeout_s = 30
  auto t = dialled(kProvider);
  ASSERT_TRUE(t) << "no fallback dial after the REFER timed out";
  EXPECT_TRUE(c.agent->ended_transfers().empty());
  ring(*t);
  advance(3s);  // the REFER's own transaction gives up (408) at 32 s: the dial goes on
  EXPECT_TRUE(c.agent->ended_transfers().empty()) << "the REFER's late 408 ended the dial";
  EXPECT_TRUE(requests(*t, "CANCEL").empty());
  pick_up(*t);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  send(c, "BYE");
  reply(*t, *requests(*t, "BYE").at(0), 200);
  expect_nothing_left();
}

TEST_F(ReferFallbackTest, AnAcceptedReferWithoutAFinalNotifyFallsBackAndALateNotifyChangesNothing) {
  Caller c = dialer_call(kTrunkPeer);
  agent_transfers(c, {"Craig"});
  auto refers = requests(c, "REFER");
  ASSERT_EQ(refers.size(), 1u);
  const sip::Message refer = *refers[0];
  reply(c, refer, 202, "Accepted");
  notify(c, refer.cseq.number, 180, "Ringing", false);
  advance(31s);
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  notify(c, refer.cseq.number, 486, "Busy Here", true);  // too late: the dial runs
  EXPECT_TRUE(c.agent->ended_transfers().empty());
  EXPECT_TRUE(requests(*t, "CANCEL").empty());
  respond(*t, 486);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kBusy);
  expect_back_with_agent(c);
}

TEST_F(ReferFallbackTest, AReferThatReachesABusyTargetIsNotDialledAgain) {
  Caller c = dialer_call(kTrunkPeer);
  agent_transfers(c, {"Craig"});
  auto refer = last_request(c, "REFER");
  ASSERT_TRUE(refer);
  const sip::Message r = *refer;
  reply(c, r, 202, "Accepted");
  notify(c, r.cseq.number, 486, "Busy Here", true);
  EXPECT_TRUE(invites_to(kProvider).empty()) << "only a refused or unanswered REFER falls back";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kBusy);
}

TEST_F(ReferFallbackTest, TheCallersByeDuringTheFallbackDialCancelsIt) {
  Caller c = dialer_call(kTrunkPeer);
  agent_transfers(c, {"Craig"});
  reply(c, *last_request(c, "REFER"), 403);
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ring(*t);
  send(c, "BYE");
  EXPECT_EQ(requests(*t, "CANCEL").size(), 1u);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCallerHungUp);
  answer_cancel(*t);
  expect_nothing_left();
}

}  // namespace
}  // namespace warmline::server
