// Bridge::set applies a call's mix plan to its legs' media (here the in-memory sessions of the call
// tests): what the caller hears — the agent, ringback, the target, or (warm transfers, issue 9) hold
// audio — and what happens to the agent's queued audio on the way.
#include "server/bridge/mix_plan.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "../call_fakes.hpp"

namespace warmline::server {
namespace {

struct MixPlanTest : ::testing::Test {
  std::shared_ptr<fake::MediaLog> caller_log = std::make_shared<fake::MediaLog>();
  std::shared_ptr<fake::MediaLog> target_log = std::make_shared<fake::MediaLog>();
  fake::FakeMediaSession caller{caller_log, {}};
  fake::FakeMediaSession target{target_log, {}};
  Bridge bridge;
};

TEST_F(MixPlanTest, HoldingPutsTheCallerOnHoldWithTheRequestedAudioAndTalkingTakesItOff) {
  bridge.attach_caller(&caller);
  bridge.set(MixPlan::talking());
  EXPECT_EQ(caller_log->hold, std::nullopt);
  caller_log->queued_samples = 800;  // the agent was talking

  for (HoldAudio audio : {HoldAudio::kMusic, HoldAudio::kRingback, HoldAudio::kSilence}) {
    bridge.set(MixPlan::holding(audio));
    EXPECT_EQ(caller_log->hold, audio) << ai::to_string(audio);
    EXPECT_FALSE(caller_log->ringback) << "hold ringback is the hold's, not the transfer's ringback";
    EXPECT_EQ(caller_log->bridged_to, nullptr);
  }
  EXPECT_EQ(caller_log->queued_samples, 0u) << "the agent's queued audio was left to play after the hold";
  EXPECT_FALSE(bridge.plan().takes_agent_audio);

  bridge.set(MixPlan::talking());  // the transfer failed: back to the agent
  EXPECT_EQ(caller_log->hold, std::nullopt);
  EXPECT_FALSE(caller_log->ringback);
}

TEST_F(MixPlanTest, LeavingTheHoldForRingbackOrTheTargetEndsTheHold) {
  bridge.attach_caller(&caller);
  bridge.attach_target(&target);
  bridge.set(MixPlan::holding(HoldAudio::kMusic));
  bridge.set(MixPlan::transferring());
  EXPECT_EQ(caller_log->hold, std::nullopt);
  EXPECT_TRUE(caller_log->ringback);

  bridge.set(MixPlan::holding(HoldAudio::kSilence));
  EXPECT_EQ(caller_log->hold, HoldAudio::kSilence);
  EXPECT_FALSE(caller_log->ringback);

  bridge.set(MixPlan::target());  // the target accepted: caller and target are joined
  EXPECT_EQ(caller_log->hold, std::nullopt);
  EXPECT_EQ(caller_log->bridged_to, &target);

  bridge.set(MixPlan::ended());
  EXPECT_EQ(caller_log->hold, std::nullopt);
  EXPECT_EQ(caller_log->bridged_to, nullptr);
}

// A caller's media attached while the plan already holds (a leg re-attached mid-transfer) is held too.
TEST_F(MixPlanTest, AMediaAttachedDuringAHoldIsHeld) {
  bridge.set(MixPlan::holding(HoldAudio::kRingback));
  bridge.attach_caller(&caller);
  EXPECT_EQ(caller_log->hold, HoldAudio::kRingback);
  EXPECT_EQ(to_string(bridge.plan().caller_hears), "hold");
}

// Who the agent hears follows the plan: each leg decodes for the agent only while it must.
TEST_F(MixPlanTest, TheAgentHearsTheCallerTheConsultedTargetBothOrNobody) {
  bridge.attach_caller(&caller);
  bridge.attach_target(&target);
  bridge.set(MixPlan::talking());
  EXPECT_TRUE(caller_log->tap);
  EXPECT_FALSE(target_log->tap) << "a target the plan does not send to the agent";

  bridge.set(MixPlan::consulting(HoldAudio::kMusic));
  EXPECT_EQ(caller_log->hold, HoldAudio::kMusic) << "the caller holds during the consult";
  EXPECT_FALSE(caller_log->tap) << "and is not heard by the agent";
  EXPECT_TRUE(target_log->tap);
  EXPECT_EQ(caller_log->bridged_to, nullptr) << "caller and target are not joined";
  EXPECT_TRUE(bridge.plan().agent_to_target);

  bridge.set(MixPlan::three_way());
  EXPECT_EQ(caller_log->bridged_to, &target);
  EXPECT_TRUE(caller_log->tap && target_log->tap);
  EXPECT_TRUE(caller_log->mix_agent && target_log->mix_agent);

  bridge.set(MixPlan::listening());
  EXPECT_EQ(caller_log->bridged_to, &target);
  EXPECT_TRUE(caller_log->tap && target_log->tap);
  EXPECT_FALSE(caller_log->mix_agent || target_log->mix_agent) << "a listener is not heard";
  EXPECT_FALSE(bridge.plan().takes_agent_audio || bridge.plan().agent_to_target);

  bridge.set(MixPlan::target());
  EXPECT_FALSE(caller_log->tap || target_log->tap) << "a plain bridge decodes nothing for the agent";
  EXPECT_EQ(caller_log->bridged_to, &target);
}

}  // namespace
}  // namespace warmline::server
