// The agent's own parts of a warm transfer, through the call: the consult (briefing "agent": the
// agent's stream re-pointed to the answered target while the caller holds), the introduce three-way
// (caller, target and agent hear each other until transfer.complete) and after_bridge "listen" (the
// agent keeps both parties as stereo and is not heard). The media sessions are the in-memory ones of
// the call tests: what they log is what the mix plan did to them (tests/unit/server/leg and bridge
// prove what LegMedia and AgentMix then do with the audio).
#include "warm_transfer_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;

struct WarmConsultTest : WarmTransferTest {
  // The dialer agent's 20 ms frame.
  size_t frame() { return agent_sample_rate(dialer()) / 50; }
  std::vector<int16_t> samples(size_t n, int16_t value) { return std::vector<int16_t>(n, value); }
  ai::TransferRequest consult(ai::Screening screening) {
    return warm_request(std::string(ai::kConsultBriefing), screening);
  }
  ai::TransferRequest introduced(ai::AfterBridge after = ai::AfterBridge::kLeave) {
    ai::TransferRequest r = warm_request("", ai::Screening::kNone);
    r.introduce = true;
    r.after_bridge = after;
    return r;
  }
  // The agent's audio goes to the target and not to the held caller.
  void expect_agent_talks_to_target(Caller& c, Target& t) {
    const size_t caller_before = c.media->queued_samples, target_before = t.media->queued_samples;
    c.agent->audio(320);
    EXPECT_EQ(t.media->queued_samples, target_before + 320) << "the agent's audio goes to the target";
    EXPECT_EQ(c.media->queued_samples, caller_before) << "the held caller does not hear the consult";
  }
};

TEST_F(WarmConsultTest, AConsultRePointsTheAgentsStreamToTheTargetWhileTheCallerHolds) {
  Caller c = dialer_call();
  Target t = answered(c, consult(ai::Screening::kAgent));
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 answered",
                                              "transfer t1 consulting"));
  EXPECT_TRUE(speech.requests.empty()) << "nothing is spoken by the gateway in a consult";
  const auto snap = call(c)->snapshot().transfer;  // what GET /v1/calls shows
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->mode, "warm");
  EXPECT_EQ(snap->state, "consulting");
  EXPECT_TRUE(snap->answered_at.has_value());
  EXPECT_FALSE(snap->bridged_at.has_value());
  EXPECT_EQ(c.media->hold, ai::HoldAudio::kMusic) << "the caller stays on hold";
  EXPECT_EQ(c.media->bridged_to, nullptr) << "the caller is not joined to the target";
  EXPECT_FALSE(c.media->tap) << "the caller's audio does not reach the agent during the consult";
  EXPECT_TRUE(t.media->tap) << "the target's audio does";
  expect_agent_talks_to_target(c, t);

  const size_t frames = c.agent->audio_frames;
  t.media->incoming_audio(samples(frame(), 1000));
  EXPECT_EQ(c.agent->audio_frames, frames + 1) << "the agent hears the target";
  c.media->incoming_audio(samples(frame(), 1000));
  EXPECT_EQ(c.agent->audio_frames, frames + 1) << "and not the held caller";

  // The agent's say and clear go to the party it talks to.
  c.agent->command(ai::Say{"Hi Craig, I have Sam for you"});
  settle();
  ASSERT_EQ(speech.requests.size(), 1u);
  speech.finish(0, 800);
  settle();
  EXPECT_EQ(t.media->queued_samples, 320u + 800u);
  EXPECT_EQ(c.media->queued_samples, 0u);
  c.agent->command(ai::Clear{});
  settle();
  EXPECT_EQ(t.media->queued_samples, 0u);

  c.agent->command(ai::TransferAccept{""});  // the consult is over: put the caller through
  settle();
  expect_bridged(c, t);
  EXPECT_FALSE(t.media->tap) << "bridged: the agent has left and hears nobody";
  EXPECT_TRUE(call(c)->snapshot().transfer->bridged_at.has_value());
  EXPECT_EQ(transfer_frames(c).back(), "transfer t1 ended completed 200");
}

TEST_F(WarmConsultTest, AfterAConsultWithDtmfScreeningTheTargetIsAskedAndItsKeyDecides) {
  Caller c = dialer_call();
  Target t = answered(c, consult(ai::Screening::kDtmf));
  c.agent->command(ai::TransferAccept{"t1"});
  settle();
  EXPECT_NE(call(c)->state(), CallState::kBridged) << "the target still has to accept";
  EXPECT_FALSE(t.media->tap) << "the consult is over: the agent no longer hears the target";
  c.agent->audio(160);
  EXPECT_EQ(t.media->queued_samples, 0u) << "nor speaks to it";
  ASSERT_EQ(speech.requests.size(), 1u);
  EXPECT_EQ(speech.requests[0].text, WarmGate::kPrompt);
  speak_and_play(t, 0);
  t.media->caller_dtmf('1', 100);
  settle();
  expect_bridged(c, t);
}

TEST_F(WarmConsultTest, TheAgentsCancelDuringAConsultReleasesTheTargetAndTheCallerIsBackWithTheAgent) {
  Caller c = dialer_call();
  Target t = answered(c, consult(ai::Screening::kAgent));
  c.agent->command(ai::TransferCancel{"t1"});
  settle();
  EXPECT_EQ(requests(t, "BYE").size(), 1u);
  ASSERT_EQ(c.agent->ended_transfers().size(), 1u);
  EXPECT_EQ(c.agent->ended_transfers()[0].result, TransferResult::kCancelled);
  EXPECT_TRUE(c.media->tap) << "the agent hears the caller again";
  expect_back_with_agent(c);
}

TEST_F(WarmConsultTest, TheTargetHangingUpDuringAConsultReturnsTheCaller) {
  Caller c = dialer_call();
  Target t = answered(c, consult(ai::Screening::kAgent));
  target_bye(t);
  ASSERT_EQ(c.agent->ended_transfers().size(), 1u);
  EXPECT_EQ(c.agent->ended_transfers()[0].result, TransferResult::kFailed);
  expect_back_with_agent(c);
}

TEST_F(WarmConsultTest, AnAgentLostMidConsultStillPutsTheCallerThroughWhenNoScreeningIsAsked) {
  Caller c = dialer_call();
  Target t = answered(c, consult(ai::Screening::kNone));
  c.agent->drop();
  settle();
  EXPECT_EQ(call(c)->state(), CallState::kBridged) << "the target answered and needs no accept";
  EXPECT_EQ(c.media->bridged_to, t.media->session);
}

TEST_F(WarmConsultTest, AnAgentLostMidConsultWithAgentScreeningSendsTheCallerToTheDefaultForward) {
  dialer().default_forward = "Desk";
  Caller c = dialer_call();
  Target t = answered(c, consult(ai::Screening::kAgent));
  c.agent->drop();
  settle();
  EXPECT_EQ(requests(t, "BYE").size(), 1u) << "nobody is left to accept";
  EXPECT_TRUE(dialled(kDeskServer)) << "never silence: the default_forward is dialled";
}

TEST_F(WarmConsultTest, IntroduceJoinsAllThreeUntilTransferComplete) {
  Caller c = dialer_call();
  Target t = answered(c, introduced());
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(transfer_frames(c).back(), "transfer t1 bridged 1") << "mono: the agent hears both mixed";
  EXPECT_EQ(c.agent->stop_reason(), std::nullopt) << "the agent stays for the introduction";
  EXPECT_EQ(c.media->bridged_to, t.media->session);
  EXPECT_TRUE(c.media->mix_agent && t.media->mix_agent) << "both legs mix the agent in";
  EXPECT_TRUE(c.media->tap && t.media->tap) << "the agent hears both";

  c.agent->audio(320);
  EXPECT_EQ(c.media->queued_samples, 320u) << "the agent speaks to the caller";
  EXPECT_EQ(t.media->queued_samples, 320u) << "and to the target";

  // One frame from each party: one mixed frame to the agent, their sum.
  const size_t frames = c.agent->audio_frames;
  c.media->incoming_audio(samples(frame(), 1000));
  EXPECT_EQ(c.agent->audio_frames, frames) << "waits for the target's frame";
  t.media->incoming_audio(samples(frame(), 300));
  ASSERT_EQ(c.agent->audio_frames, frames + 1);
  EXPECT_EQ(c.agent->last_audio, samples(frame(), 1300));

  c.agent->command(ai::TransferComplete{"t1"});
  settle();
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 answered",
                                              "transfer t1 bridged 1", "transfer t1 ended completed 200"));
  EXPECT_EQ(c.agent->stop_reason(), "transferred");
  EXPECT_FALSE(c.media->mix_agent || t.media->mix_agent);
  EXPECT_FALSE(c.media->tap || t.media->tap);
  EXPECT_EQ(c.media->bridged_to, t.media->session) << "caller and target go on";
}

TEST_F(WarmConsultTest, AThreeWayThatEndsBeforeTransferCompleteStillReportsTheTransferCompleted) {
  Caller c = dialer_call();
  Target t = answered(c, introduced());
  target_bye(t);
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 answered",
                                              "transfer t1 bridged 1", "transfer t1 ended completed 200"));
  EXPECT_EQ(c.agent->stop_reason(), "target_hangup");
  caller_answers_bye(c);
  expect_nothing_left();
}

TEST_F(WarmConsultTest, TransferCompleteOutsideAThreeWayIsRefused) {
  Caller c = dialer_call();
  c.agent->command(ai::TransferComplete{""});
  settle();
  EXPECT_EQ(c.agent->frames.back(), "error no_transfer");
  Target t = answered(c, warm_request("", ai::Screening::kAgent));
  c.agent->command(ai::TransferComplete{"t1"});
  settle();
  EXPECT_EQ(c.agent->frames.back(), "error not_now") << "accepted is not yet introduced";
  EXPECT_NE(call(c)->state(), CallState::kBridged);
}

TEST_F(WarmConsultTest, AListeningAgentGetsBothPartiesAsStereoAndIsNotHeard) {
  Caller c = dialer_call();
  ai::TransferRequest r = warm_request("", ai::Screening::kNone);
  r.after_bridge = ai::AfterBridge::kListen;
  Target t = answered(c, r);
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 answered",
                                              "transfer t1 bridged 2", "transfer t1 ended completed 200"));
  EXPECT_EQ(c.agent->stop_reason(), std::nullopt) << "the agent listens on";
  EXPECT_FALSE(c.media->mix_agent || t.media->mix_agent);
  EXPECT_TRUE(c.media->tap && t.media->tap);
  c.agent->audio(320);
  EXPECT_EQ(c.media->queued_samples + t.media->queued_samples, 0u) << "a listening agent is not heard";

  const size_t frames = c.agent->audio_frames;
  t.media->incoming_audio(samples(frame(), -7));
  c.media->incoming_audio(samples(frame(), 5));
  ASSERT_EQ(c.agent->audio_frames, frames + 1);
  ASSERT_EQ(c.agent->last_audio.size(), 2 * frame());
  EXPECT_EQ(c.agent->last_audio[0], 5) << "caller left";
  EXPECT_EQ(c.agent->last_audio[1], -7) << "target right";

  send(c, "BYE");
  EXPECT_EQ(c.agent->stop_reason(), "caller_hangup") << "the listener hears how the call ended";
}

TEST_F(WarmConsultTest, AListeningProviderDialectAgentGetsBothPartiesMixedToMono) {
  // A Twilio/Telnyx/... stream is mono: stereo frames would be read as twice as much audio.
  for (AgentConfig& a : config.agents) a.protocol = AgentProtocol::twilio;
  Caller c = dialer_call();
  ai::TransferRequest r = warm_request("", ai::Screening::kNone);
  r.after_bridge = ai::AfterBridge::kListen;
  Target t = answered(c, r);
  EXPECT_EQ(c.agent->frame_index("transfer t1 bridged 1") + 1, c.agent->frame_index("transfer t1 ended"));
  const size_t frames = c.agent->audio_frames;
  t.media->incoming_audio(samples(frame(), -7));
  c.media->incoming_audio(samples(frame(), 5));
  ASSERT_EQ(c.agent->audio_frames, frames + 1);
  ASSERT_EQ(c.agent->last_audio.size(), frame()) << "one mono frame";
  EXPECT_EQ(c.agent->last_audio[0], -2) << "caller and target summed";
}

TEST_F(WarmConsultTest, IntroduceThenListenGoesFromMonoToStereoAtTransferComplete) {
  Caller c = dialer_call();
  Target t = answered(c, introduced(ai::AfterBridge::kListen));
  EXPECT_EQ(transfer_frames(c).back(), "transfer t1 bridged 1");
  c.agent->command(ai::TransferComplete{""});
  settle();
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 answered",
                                              "transfer t1 bridged 1", "transfer t1 bridged 2",
                                              "transfer t1 ended completed 200"));
  EXPECT_EQ(c.agent->stop_reason(), std::nullopt);
  EXPECT_FALSE(c.media->mix_agent);
  EXPECT_TRUE(t.media->tap);
}

TEST_F(WarmConsultTest, AnAgentThatLeavesTheThreeWayLeavesCallerAndTargetTogether) {
  Caller c = dialer_call();
  Target t = answered(c, introduced());
  c.agent->drop();
  settle();
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.media->bridged_to, t.media->session);
  EXPECT_FALSE(c.media->mix_agent || t.media->mix_agent);
  EXPECT_FALSE(c.media->tap || t.media->tap);
}

TEST_F(WarmConsultTest, ACompletedColdDialCanBeListenedTo) {
  Caller c = dialer_call();  // its trunk takes no REFER: the cold transfer dials
  ai::TransferRequest r = transfer({"Craig"});
  r.after_bridge = ai::AfterBridge::kListen;
  Target t = answered(c, r);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(transfer_frames(c).back(), "transfer t1 ended completed 200");
  EXPECT_EQ(c.agent->frame_index("transfer t1 bridged 2") + 1, c.agent->frame_index("transfer t1 ended"));
  EXPECT_EQ(c.agent->stop_reason(), std::nullopt);
}

TEST_F(WarmConsultTest, OptionsThatDoNotGoWithTheModeAreRefusedBeforeAnythingIsDialled) {
  Caller c = dialer_call();
  ai::TransferRequest cold = transfer({"Craig"});
  cold.introduce = true;
  c.agent->command(cold);
  settle();
  ASSERT_EQ(c.agent->ended_transfers().size(), 1u);
  EXPECT_NE(c.agent->ended_transfers()[0].reason.find("invalid_field"), std::string::npos);
  ai::TransferRequest semi = transfer({"Craig"});
  semi.mode = ai::TransferMode::kSemi;
  semi.after_bridge = ai::AfterBridge::kListen;
  c.agent->command(semi);
  settle();
  EXPECT_EQ(c.agent->ended_transfers().size(), 2u);
  EXPECT_FALSE(dialled(kProvider));
}

}  // namespace
}  // namespace warmline::server
