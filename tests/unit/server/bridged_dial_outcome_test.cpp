// Bridged dials that do not end bridged (DESIGN.md "Transfers", result mapping): each answer the target
// can give, the ring timeout, chains, early media that ends without an answer, and the caller, the API
// or the agent ending the call while the target rings. The caller is never left in silence, and
// nothing stays half-open: every scenario ends with no call and no dialog registered.
#include "bridged_dial_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;

// ---------------------------------------------------------------------------------------------------
// The target's final answer

struct TargetAnswer {
  int status;
  TransferResult result;
};

void PrintTo(const TargetAnswer& p, std::ostream* os) { *os << p.status; }

struct TargetRefuses : BridgedDialTest, ::testing::WithParamInterface<TargetAnswer> {};

TEST_P(TargetRefuses, EndsTheTransferWithTheMappedResultAndTheCallerStaysWithTheAgent) {
  const TargetAnswer& p = GetParam();
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ring(*t);
  respond(*t, p.status);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, p.result);
  EXPECT_EQ(ended[0].sip_status, p.status);
  EXPECT_EQ(ended[0].target, "Craig");
  EXPECT_EQ(invites_to(kProvider).size(), 1u);
  EXPECT_EQ(requests(*t, "ACK").size(), 1u) << "the final response is ACKed (§17.1.1.3)";
  EXPECT_TRUE(requests(*t, "BYE").empty());
  expect_back_with_agent(c);
  EXPECT_EQ(metrics.transfers_by_result[static_cast<size_t>(p.result)].load(), 1u);
  send(c, "BYE");
  expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Statuses, TargetRefuses,
                         ::testing::Values(TargetAnswer{486, TransferResult::kBusy},
                                           TargetAnswer{600, TransferResult::kBusy},
                                           TargetAnswer{603, TransferResult::kDeclined},
                                           TargetAnswer{480, TransferResult::kNoAnswer},
                                           TargetAnswer{404, TransferResult::kUnreachable},
                                           TargetAnswer{503, TransferResult::kUnreachable},
                                           TargetAnswer{403, TransferResult::kRejected},
                                           TargetAnswer{488, TransferResult::kRejected},
                                           TargetAnswer{500, TransferResult::kFailed},
                                           // A redirect is not followed (toll fraud: only configured
                                           // targets are dialled): the target is not reachable here.
                                           TargetAnswer{302, TransferResult::kUnreachable}));

TEST_F(BridgedDialTest, A503FromTheOnlyServerIsUnreachable) {
  Caller c = dialer_call();
  agent_transfers(c, {"Desk"});
  auto t = dialled(kDeskServer);
  ASSERT_TRUE(t);
  respond(*t, 503);
  EXPECT_EQ(invites_to(kDeskServer).size(), 1u) << "there is no other server to try";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kUnreachable);
  EXPECT_EQ(ended[0].sip_status, 503);
  expect_back_with_agent(c);
}

TEST_F(BridgedDialTest, ATransportErrorIsUnreachable) {
  Caller c = dialer_call();
  transport.fail_next(1);  // the INVITE cannot be sent
  agent_transfers(c, {"Craig"});
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kUnreachable);
  EXPECT_EQ(ended[0].sip_status, 503);
  expect_back_with_agent(c);
  advance(60s);  // no ring timer was left behind
  EXPECT_EQ(c.agent->ended_transfers().size(), 1u);
  agent_transfers(c, {"Craig"}, "t2");  // and the next try goes out
  EXPECT_TRUE(dialled(kProvider));
  send(c, "BYE");
  expect_nothing_left();
}

// RFC 3263 §4.3: a server that sends nothing at all (not even 100 Trying) is taken as down after
// BridgedDial::kSilentServer instead of Timer B's 32 s; with no other server the attempt is unreachable.
TEST_F(BridgedDialTest, AServerThatSendsNothingIsUnreachableAfterTheSilenceTimeout) {
  dialer().ring_timeout_s = 60;
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  ASSERT_TRUE(dialled(kProvider));
  advance(BridgedDial::kSilentServer - 1s);
  EXPECT_TRUE(c.agent->ended_transfers().empty());
  advance(2s);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kUnreachable);
  EXPECT_EQ(ended[0].sip_status, 408);
  auto t = dialled(kProvider);
  EXPECT_TRUE(requests(*t, "CANCEL").empty()) << "a CANCEL before any provisional (§9.1)";
  expect_back_with_agent(c);
  advance(60s);  // the ring timer was cancelled with the attempt; Timer B ends the abandoned INVITE
  EXPECT_EQ(c.agent->ended_transfers().size(), 1u);
  send(c, "BYE");
  expect_nothing_left();
}

// ---------------------------------------------------------------------------------------------------
// Ring timeouts and chains

TEST_F(BridgedDialTest, TheRingTimeoutCancelsAndTheChainMovesOnToTheNextTarget) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig", "Desk"});
  auto craig = dialled(kProvider);
  ASSERT_TRUE(craig);
  ring(*craig);
  advance(19s);  // the agent's ring_timeout_s = 20
  EXPECT_TRUE(requests(*craig, "CANCEL").empty());
  advance(2s);
  auto cancels = requests(*craig, "CANCEL");
  ASSERT_EQ(cancels.size(), 1u) << "no CANCEL after the ring timeout";
  EXPECT_EQ(cancels[0]->vias.front().branch(), craig->invite.vias.front().branch()) << "§9.1: the INVITE's branch";
  EXPECT_EQ(cancels[0]->cseq.number, craig->invite.cseq.number);
  EXPECT_TRUE(invites_to(kDeskServer).empty()) << "the next target waits for the 487";
  answer_cancel(*craig);

  auto desk = dialled(kDeskServer);
  ASSERT_TRUE(desk) << "the chain did not move on after no_answer";
  ring(*desk);
  advance(9s);  // Desk's own ring_timeout_s = 10
  EXPECT_TRUE(requests(*desk, "CANCEL").empty());
  advance(2s);
  ASSERT_EQ(requests(*desk, "CANCEL").size(), 1u);
  answer_cancel(*desk);

  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 dialing",
                                              "transfer t1 ringing", "transfer t1 ended no_answer 487"));
  EXPECT_EQ(c.agent->ended_transfers().at(0).target, "Desk");
  expect_back_with_agent(c);
  send(c, "BYE");
  expect_nothing_left();
}

TEST_F(BridgedDialTest, AnAnswerThatCrossesTheRingTimeoutsCancelIsEndedAndTheChainMovesOn) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig", "Desk"});
  auto craig = dialled(kProvider);
  ASSERT_TRUE(craig);
  ring(*craig);
  advance(21s);
  ASSERT_EQ(requests(*craig, "CANCEL").size(), 1u);
  pick_up(*craig);  // picked up just as our CANCEL left
  EXPECT_EQ(requests(*craig, "ACK").size(), 1u);
  auto byes = requests(*craig, "BYE");
  ASSERT_EQ(byes.size(), 1u) << "the late answer is not ended";
  EXPECT_NE(call(c)->state(), CallState::kBridged);
  reply(*craig, *byes[0], 200);
  auto desk = dialled(kDeskServer);
  ASSERT_TRUE(desk) << "no_answer moves on";
  pick_up(*desk);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.media->bridged_to, desk->media->session);
  send(c, "BYE");
  reply(*desk, *requests(*desk, "BYE").at(0), 200);
  expect_nothing_left();
}

TEST_F(BridgedDialTest, TheRequestsRingTimeComesFirst) {
  Caller c = dialer_call();
  ai::TransferRequest r = transfer({"Desk"});
  r.ring_timeout_s = 4;
  c.agent->command(r);
  settle();
  auto t = dialled(kDeskServer);
  ASSERT_TRUE(t);
  ring(*t);
  advance(3s);
  EXPECT_TRUE(requests(*t, "CANCEL").empty());
  advance(2s);
  EXPECT_EQ(requests(*t, "CANCEL").size(), 1u);
}

// A server that sent 100 Trying but never rings: a 100 is a provisional (§9.1), so the ring timeout
// CANCELs it and its 487 ends the attempt as no_answer; the silence timeout does not apply.
TEST_F(BridgedDialTest, ATargetThatOnlySentTryingIsCancelledAtTheRingTimeout) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  respond(*t, 100);
  advance(19s);
  EXPECT_TRUE(c.agent->ended_transfers().empty()) << "a server that answered 100 was taken as silent";
  EXPECT_TRUE(requests(*t, "CANCEL").empty());
  advance(2s);  // the agent's 20 s ring time
  ASSERT_EQ(requests(*t, "CANCEL").size(), 1u);
  answer_cancel(*t);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kNoAnswer);
  expect_back_with_agent(c);
  send(c, "BYE");
  expect_nothing_left();
}

TEST_F(BridgedDialTest, ACancelledInviteThatNeverGetsItsFinalStillEnds) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ring(*t);
  advance(21s);
  auto cancels = requests(*t, "CANCEL");
  ASSERT_EQ(cancels.size(), 1u);
  reply(*t, *cancels[0], 200);  // and then nothing: no 487
  advance(33s);                 // §9.1: 64*T1 after the CANCEL the INVITE is given up
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kNoAnswer);
  expect_back_with_agent(c);
  send(c, "BYE");
  expect_nothing_left();
}

TEST_F(BridgedDialTest, ADeclineEndsTheChain) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig", "Desk"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  respond(*t, 603);
  EXPECT_TRUE(invites_to(kDeskServer).empty());
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kDeclined);
  EXPECT_EQ(ended[0].target, "Craig");
  expect_back_with_agent(c);
}

TEST_F(BridgedDialTest, ADeclineMovesOnWhenTheAgentSaysItIsNotFinal) {
  dialer().decline_is_final = false;
  Caller c = dialer_call();
  agent_transfers(c, {"Craig", "Desk"});
  auto craig = dialled(kProvider);
  ASSERT_TRUE(craig);
  respond(*craig, 603);
  EXPECT_TRUE(c.agent->ended_transfers().empty());
  auto desk = dialled(kDeskServer);
  ASSERT_TRUE(desk) << "decline_is_final = false: the chain goes on";
  respond(*desk, 486);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kBusy);
  EXPECT_EQ(ended[0].target, "Desk");
}

TEST_F(BridgedDialTest, AfterAFailedDialTheAgentCanTransferAgain) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto craig = dialled(kProvider);
  ASSERT_TRUE(craig);
  early_media(*craig);
  respond(*craig, 486);
  agent_transfers(c, {"Desk"}, "t2");
  auto desk = dialled(kDeskServer);
  ASSERT_TRUE(desk);
  ring(*desk);
  EXPECT_EQ(call(c)->snapshot().transfer->state, "ringing");
  pick_up(*desk);
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 ended busy 486",
                                              "transfer t2 dialing", "transfer t2 ringing",
                                              "transfer t2 ended completed 200"));
  EXPECT_EQ(c.media->bridged_to, desk->media->session);
  target_bye(*desk);
  caller_answers_bye(c);
  expect_nothing_left();
  ASSERT_EQ(record_sink.records.size(), 1u);
  EXPECT_EQ(record_sink.records[0].transfers.size(), 2u);
}

// ---------------------------------------------------------------------------------------------------
// Early media

TEST_F(BridgedDialTest, A183WithSdpLetsTheCallerHearTheTargetUntilTheAttemptFails) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->media);
  const size_t ticking = clock.stats().participants;  // the caller's leg
  early_media(*t);
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing"));
  EXPECT_EQ(c.agent->transfers.back().sip_status, 183);
  EXPECT_EQ(c.media->bridged_to, t->media->session) << "the caller hears the target's early media";
  EXPECT_FALSE(c.media->ringback) << "instead of our ringback";
  EXPECT_TRUE(t->media->started);
  EXPECT_EQ(clock.stats().participants, ticking + 1) << "leg b's media runs on the media clock";
  ASSERT_FALSE(t->media->remotes.empty());
  EXPECT_EQ(t->media->remotes.back().port(), 50000);
  c.agent->audio(160);
  EXPECT_EQ(c.media->queued_samples, 0u) << "the agent is not played over the target";

  respond(*t, 486);
  EXPECT_EQ(c.media->bridged_to, nullptr) << "still joined to a leg that failed";
  EXPECT_EQ(clock.stats().participants, ticking) << "the failed leg's media would go on sending to the target";
  EXPECT_TRUE(t->media->closed) << "the failed leg's socket stays open";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kBusy);
  expect_back_with_agent(c);
  send(c, "BYE");
  expect_nothing_left();
}

TEST_F(BridgedDialTest, EarlyMediaThenAnAnswerStaysBridged) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  early_media(*t);
  pick_up(*t);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.media->bridged_to, t->media->session);
  send(c, "BYE");
  auto byes = requests(*t, "BYE");
  ASSERT_EQ(byes.size(), 1u);
  EXPECT_EQ(c.media->bridged_to, nullptr);
  reply(*t, *byes[0], 200);
  expect_nothing_left();
}

TEST_F(BridgedDialTest, EarlyMediaOfTheFirstTargetIsNotHeardWhileTheNextRings) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig", "Desk"});
  auto craig = dialled(kProvider);
  ASSERT_TRUE(craig);
  early_media(*craig);
  respond(*craig, 486);
  auto desk = dialled(kDeskServer);
  ASSERT_TRUE(desk);
  EXPECT_EQ(c.media->bridged_to, nullptr);
  EXPECT_TRUE(c.media->ringback) << "ringback while the next target is dialled";
  ring(*desk);
  EXPECT_EQ(c.media->bridged_to, nullptr);
  pick_up(*desk);
  EXPECT_EQ(c.media->bridged_to, desk->media->session);
}

// ---------------------------------------------------------------------------------------------------
// The call ends while the target rings

TEST_F(BridgedDialTest, TheCallersByeWhileTheTargetRingsCancelsItWithoutAnyForward) {
  dialer().on_failure = OnFailure::default_forward;
  dialer().default_forward = "Desk";
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  early_media(*t);
  const size_t before = sent_count();
  send(c, "BYE");
  EXPECT_THAT(sent_since(c, before), ElementsAre("200 BYE"));
  EXPECT_THAT(sent_since(*t, before), ElementsAre("CANCEL"));
  EXPECT_EQ(c.media->bridged_to, nullptr);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCallerHungUp);
  EXPECT_EQ(c.agent->frames.back(), "stop caller_hangup");
  answer_cancel(*t);
  EXPECT_TRUE(invites_to(kDeskServer).empty()) << "a default_forward for a caller who is gone";
  EXPECT_EQ(c.agent->ended_transfers().size(), 1u);
  expect_nothing_left();
}

TEST_F(BridgedDialTest, TheCallersByeBeforeAnyProvisionalCancelsOnceTheTargetResponds) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  send(c, "BYE");
  EXPECT_TRUE(requests(*t, "CANCEL").empty()) << "§9.1: no CANCEL before a provisional";
  EXPECT_EQ(c.agent->ended_transfers().at(0).result, TransferResult::kCallerHungUp);
  ring(*t);
  EXPECT_EQ(requests(*t, "CANCEL").size(), 1u) << "the held-back CANCEL goes out with the first provisional";
  answer_cancel(*t);
  expect_nothing_left();
}

TEST_F(BridgedDialTest, ATargetsAnswerThatCrossesTheCancelIsAckedAndHungUp) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ring(*t);
  send(c, "BYE");
  ASSERT_EQ(requests(*t, "CANCEL").size(), 1u);
  pick_up(*t);  // the target picked up before our CANCEL reached it
  EXPECT_EQ(requests(*t, "ACK").size(), 1u);
  auto byes = requests(*t, "BYE");
  ASSERT_EQ(byes.size(), 1u) << "the target would be left talking to nobody";
  reply(*t, *byes[0], 200);
  EXPECT_EQ(c.agent->ended_transfers().size(), 1u);
  expect_nothing_left();
}

TEST_F(BridgedDialTest, AnApiHangupDuringTheDialCancelsTheTarget) {
  dialer().on_failure = OnFailure::default_forward;
  dialer().default_forward = "Desk";
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ring(*t);
  const size_t before = sent_count();
  call(c)->hangup("api_hangup");
  EXPECT_THAT(sent_since(c, before), ElementsAre("BYE"));
  EXPECT_THAT(sent_since(*t, before), ElementsAre("CANCEL"));
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCancelled);
  EXPECT_EQ(c.agent->frames.back(), "stop api_hangup");
  answer_cancel(*t);
  caller_answers_bye(c);
  EXPECT_TRUE(invites_to(kDeskServer).empty()) << "no default_forward after our own hang-up";
  EXPECT_EQ(c.agent->ended_transfers().size(), 1u);
  ASSERT_EQ(record_sink.records.size(), 1u);
  ASSERT_EQ(record_sink.records[0].transfers.size(), 1u);
  EXPECT_EQ(record_sink.records[0].transfers[0].result, TransferResult::kCancelled);
  expect_nothing_left();
}

TEST_F(BridgedDialTest, AnApiHangupWhileBridgedEndsBothLegs) {
  Caller c = dialer_call();
  Target t = bridged(c);
  const size_t before = sent_count();
  call(c)->hangup("api_hangup");
  EXPECT_THAT(sent_since(c, before), ElementsAre("BYE"));
  EXPECT_THAT(sent_since(t, before), ElementsAre("BYE"));
  caller_answers_bye(c);
  reply(t, *requests(t, "BYE").at(0), 200);
  expect_nothing_left();
}

}  // namespace
}  // namespace warmline::server
