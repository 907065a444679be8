// Warm transfers through the call (server/transfer/transfer_warm.cpp, warm_gate): the caller on
// hold while the target is dialled, the briefing spoken to the answered target on leg b, the accept
// gate (none, the target's keys, the agent's accept), and every way back to the agent.
#include "warm_transfer_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;

TEST_F(WarmTransferTest, TheCallerHoldsWhileTheTargetRingsAndIsPutThroughOnAnswerWithoutScreening) {
  Caller c = dialer_call(kTrunkPeer);  // a trunk that takes REFER: a warm transfer dials all the same
  agent_warm(c, "", ai::Screening::kNone);
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  EXPECT_TRUE(requests(c, "REFER").empty());
  EXPECT_EQ(c.media->hold, ai::HoldAudio::kMusic) << "held, with music by default";
  EXPECT_EQ(c.media->bridged_to, nullptr);
  ring(*t);
  respond(*t, 183, TargetReply().with_sdp(target_sdp(*t)));
  EXPECT_EQ(c.media->bridged_to, nullptr) << "a warm transfer's caller never hears the target's early media";
  pick_up(*t);
  expect_bridged(c, *t);
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 answered",
                                              "transfer t1 ended completed 200"));
}

TEST_F(WarmTransferTest, TheRequestsHoldAudioIsWhatTheCallerHearsAndTheBridgeEndsIt) {
  Caller c = dialer_call();
  agent_warm(c, "", ai::Screening::kNone, {"Craig"}, ai::HoldAudio::kSilence);
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  EXPECT_EQ(c.media->hold, ai::HoldAudio::kSilence);
  EXPECT_FALSE(c.media->ringback);
  pick_up(*t);
  expect_bridged(c, *t);
  EXPECT_EQ(c.media->hold, std::nullopt) << "put through: no more hold audio";
}

TEST_F(WarmTransferTest, TheBriefingIsSpokenToTheTargetThenItsKeyOneAcceptsTheCall) {
  Caller c = dialer_call();
  Target t = answered(c, "Sam asks about invoice 42", ai::Screening::kDtmf);
  EXPECT_NE(call(c)->state(), CallState::kBridged);
  ASSERT_EQ(speech.requests.size(), 1u);
  EXPECT_EQ(speech.requests[0].text, "Sam asks about invoice 42");
  // Found end to end: leg b's media took the briefing, rendered at the agent's rate, for 8 kHz audio
  // and played it at half speed to a 16 kHz agent's target.
  EXPECT_EQ(t.media->options.agent_rate, speech.requests[0].rate_hz);
  EXPECT_EQ(speech.requests[0].rate_hz, agent_sample_rate(dialer()));
  speak_and_play(t, 0);
  EXPECT_EQ(c.media->queued_samples, 0u) << "the caller never hears the briefing";
  EXPECT_EQ(c.media->hold, ai::HoldAudio::kMusic) << "the caller is still on hold";
  ASSERT_EQ(speech.requests.size(), 2u);
  EXPECT_EQ(speech.requests[1].text, WarmGate::kPrompt);
  speak_and_play(t, 1);
  t.media->caller_dtmf('7', 100);  // not an answer
  settle();
  EXPECT_NE(call(c)->state(), CallState::kBridged);
  t.media->caller_dtmf('1', 100);
  settle();
  expect_bridged(c, t);
  target_bye(t);
  caller_answers_bye(c);
  expect_nothing_left();
  ASSERT_EQ(record_sink.records.size(), 1u);
  ASSERT_EQ(record_sink.records[0].transfers.size(), 1u);
  const TransferRecord& tr = record_sink.records[0].transfers[0];
  EXPECT_EQ(tr.mode, ai::TransferMode::kWarm);
  EXPECT_EQ(tr.strategy, TransferStrategy::kDial);
  ASSERT_TRUE(tr.answered_at && tr.bridged_at);
  EXPECT_LE(*tr.answered_at, *tr.bridged_at);
  EXPECT_EQ(record_sink.records[0].legs.size(), 2u) << "the caller's leg and the target's";
}

TEST_F(WarmTransferTest, KeyTwoDeclinesTheTargetIsReleasedAndTheCallerIsBackWithTheAgent) {
  Caller c = dialer_call();
  Target t = answered(c, "", ai::Screening::kDtmf);
  ASSERT_EQ(speech.requests.size(), 1u) << "the prompt";
  const size_t before = sent_count();
  t.media->caller_dtmf('2', 100);  // while the prompt is still being rendered
  settle();
  EXPECT_THAT(sent_since(t, before), ElementsAre("BYE")) << "the target is released";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kDeclined);
  expect_back_with_agent(c);
}

TEST_F(WarmTransferTest, NoKeyWithinTenSecondsOfThePromptDeclines) {
  Caller c = dialer_call();
  Target t = answered(c, "", ai::Screening::kDtmf);
  speak_and_play(t, 0);
  advance(std::chrono::milliseconds(9900));
  EXPECT_TRUE(c.agent->ended_transfers().empty());
  advance(std::chrono::milliseconds(200));
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kDeclined);
  EXPECT_EQ(requests(t, "BYE").size(), 1u);
  expect_back_with_agent(c);
}

TEST_F(WarmTransferTest, AgentScreeningWaitsForTransferAcceptAfterTheAnsweredEvent) {
  Caller c = dialer_call();
  Target t = answered(c, "", ai::Screening::kAgent);
  EXPECT_EQ(transfer_frames(c).back(), "transfer t1 answered");
  EXPECT_NE(call(c)->state(), CallState::kBridged);
  c.agent->command(ai::TransferAccept{"other"});
  settle();
  EXPECT_EQ(c.agent->frames.back(), "error no_transfer") << "another id";
  c.agent->command(ai::TransferAccept{"t1"});
  settle();
  expect_bridged(c, t);
}

TEST_F(WarmTransferTest, TheAgentsCancelReleasesTheAnsweredTarget) {
  Caller c = dialer_call();
  Target t = answered(c, "", ai::Screening::kAgent);
  c.agent->command(ai::TransferCancel{""});
  settle();
  EXPECT_EQ(requests(t, "BYE").size(), 1u);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCancelled);
  expect_back_with_agent(c);
}

TEST_F(WarmTransferTest, TheAgentsCancelWhileTheTargetRingsCancelsIt) {
  Caller c = dialer_call();
  agent_warm(c, "", ai::Screening::kAgent);
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ring(*t);
  c.agent->command(ai::TransferCancel{"t1"});
  settle();
  EXPECT_EQ(requests(*t, "CANCEL").size(), 1u);
}

TEST_F(WarmTransferTest, AcceptWithoutAnAgentGateIsAnError) {
  Caller c = dialer_call();
  agent_warm(c, "Briefing", ai::Screening::kDtmf);
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  c.agent->command(ai::TransferAccept{"t1"});
  settle();
  EXPECT_EQ(c.agent->frames.back(), "error not_now");
  c.agent->command(ai::TransferAccept{""});
  settle();
  EXPECT_EQ(c.agent->frames.back(), "error not_now");
}

TEST_F(WarmTransferTest, TheTargetHangingUpDuringTheBriefingReturnsTheCaller) {
  Caller c = dialer_call();
  Target t = answered(c, "Long briefing", ai::Screening::kNone);
  target_bye(t);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kFailed);
  EXPECT_NE(ended[0].reason.find("hung up"), std::string::npos);
  expect_back_with_agent(c);
  speech.finish(0, 1600);  // the briefing arrives after all: played to nobody
  settle();
  EXPECT_EQ(c.media->queued_samples, 0u);
}

TEST_F(WarmTransferTest, TheCallerHangingUpWhileHeldReleasesTheAnsweredTarget) {
  Caller c = dialer_call();
  Target t = answered(c, "Briefing", ai::Screening::kDtmf);
  send(c, "BYE");
  EXPECT_EQ(requests(t, "BYE").size(), 1u);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCallerHungUp);
  auto byes = requests(t, "BYE");
  ASSERT_EQ(byes.size(), 1u);
  reply(t, *byes[0], 200);
  caller_answers_bye(c);
  expect_nothing_left();
}

TEST_F(WarmTransferTest, ABusyTargetStopsTheHoldAndTheChainMovesOn) {
  Caller c = dialer_call();
  agent_warm(c, "", ai::Screening::kNone, {"Desk", "Craig"});
  auto desk = dialled(kDeskServer);
  ASSERT_TRUE(desk);
  respond(*desk, 486);
  auto craig = dialled(kProvider);
  ASSERT_TRUE(craig) << "busy moves on";
  EXPECT_EQ(c.media->hold, ai::HoldAudio::kMusic) << "still holding";
  respond(*craig, 486);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kBusy);
  expect_back_with_agent(c);
}

TEST_F(WarmTransferTest, TheAgentLostWhileItsGateWaitsDeclinesAndTheCallerIsNotLeftInSilence) {
  dialer().default_forward = "Desk";
  Caller c = dialer_call();
  Target t = answered(c, "", ai::Screening::kAgent);
  c.agent->drop();
  settle();
  EXPECT_EQ(requests(t, "BYE").size(), 1u) << "nobody can accept any more";
  EXPECT_NE(call(c)->state(), CallState::kBridged);
  EXPECT_TRUE(dialled(kDeskServer)) << "the caller goes to the agent's default_forward, never to silence";
}

TEST_F(WarmTransferTest, TheAgentLostAfterAScreeningFreeAnswerStillGetsTheCallerBridged) {
  Caller c = dialer_call();
  agent_warm(c, "", ai::Screening::kNone);
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  c.agent->drop();
  settle();
  pick_up(*t);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.media->bridged_to, t->media->session);
}

// ---------------------------------------------------------------------------------------------------
// semi: the agent leaves as the target rings

struct SemiTransferTest : WarmTransferTest {
  std::optional<Target> semi_ringing(Caller& c, std::vector<std::string> targets = {"Craig"}) {
    ai::TransferRequest r = transfer(std::move(targets));
    r.mode = ai::TransferMode::kSemi;
    c.agent->command(r);
    settle();
    auto t = dialled(kProvider);
    if (!t) return std::nullopt;
    ring(*t);
    return t;
  }
};

TEST_F(SemiTransferTest, TheAgentLeavesWhenTheTargetRingsAndTheCallerIsPutThroughOnAnswer) {
  Caller c = dialer_call(kTrunkPeer);  // dialled even where REFER would be taken
  auto t = semi_ringing(c);
  ASSERT_TRUE(t);
  EXPECT_TRUE(requests(c, "REFER").empty());
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing",
                                              "transfer t1 ended completed 180"));
  EXPECT_EQ(c.agent->stop_reason(), "transferred");
  EXPECT_TRUE(c.media->ringback) << "the caller hears the target ring";
  respond(*t, 183, TargetReply().with_sdp(target_sdp(*t)));
  EXPECT_EQ(c.media->bridged_to, t->media->session) << "and its early media";
  const size_t frames = c.agent->frames.size();
  pick_up(*t);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.agent->frames.size(), frames) << "nothing more goes to the agent that left";
  target_bye(*t);
  caller_answers_bye(c);
  expect_nothing_left();
  ASSERT_EQ(record_sink.records.size(), 1u);
  ASSERT_EQ(record_sink.records[0].transfers.size(), 1u);
  EXPECT_EQ(record_sink.records[0].transfers[0].mode, ai::TransferMode::kSemi);
  EXPECT_EQ(record_sink.records[0].transfers[0].result, TransferResult::kCompleted);
}

TEST_F(SemiTransferTest, ATargetThatFailsAfterTheAgentLeftGoesToTheDefaultForward) {
  dialer().default_forward = "Desk";
  Caller c = dialer_call();
  auto t = semi_ringing(c);
  ASSERT_TRUE(t);
  ASSERT_EQ(c.agent->stop_reason(), "transferred");
  respond(*t, 486);
  EXPECT_TRUE(dialled(kDeskServer)) << "the caller is never left alone: the default_forward is dialled";
}

TEST_F(SemiTransferTest, ATargetThatFailsBeforeRingingLeavesTheCallerWithTheAgent) {
  Caller c = dialer_call();
  ai::TransferRequest r = transfer({"Craig"});
  r.mode = ai::TransferMode::kSemi;
  c.agent->command(r);
  settle();
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  respond(*t, 486);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kBusy);
  expect_back_with_agent(c);
}

}  // namespace
}  // namespace warmline::server
