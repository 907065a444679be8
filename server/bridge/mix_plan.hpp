// Who hears whom in one call (DESIGN.md "bridge/"): the mix plan of the call's current phase, applied
// to its legs' media. A call has the caller's leg, the agent and, during and after a bridged transfer,
// the target's leg; the plan says what the caller hears (the agent's audio, ringback while a transfer
// rings, the target — its early media, then the bridge —, hold audio while a warm transfer runs, or
// nothing) and whether the agent's audio is taken at all. Warm transfers add the three-way moment here.
//
// Thread: the call's shard.
#pragma once

#include <string_view>

#include "ai_bridge/native_protocol.hpp"

namespace warmline::server {

class MediaSession;

// What a held caller hears during a warm transfer (the request's `hold`).
using HoldAudio = ai::HoldAudio;

struct MixPlan {
  enum class CallerHears { kAgent, kRingback, kTarget, kNothing, kHold };
  // Whose audio goes to the agent: the caller; the target (a consult); both, mixed into one channel
  // (an introduce three-way) or side by side in two (listening: caller left, target right); nobody.
  enum class AgentHears { kCaller, kTarget, kBothMixed, kBothStereo, kNothing };
  CallerHears caller_hears = CallerHears::kAgent;
  // Agent audio is queued for the caller. False while a transfer rings: what the agent sends then
  // would only be heard (late) if the transfer failed.
  bool takes_agent_audio = true;
  HoldAudio hold = HoldAudio::kMusic;  // with kHold
  AgentHears agent_hears = AgentHears::kCaller;
  bool agent_to_target = false;  // agent audio is queued for the target (a consult, a three-way)
  bool operator==(const MixPlan&) const = default;

  static MixPlan talking() { return {}; }                                    // caller <-> agent
  static MixPlan ringing() { return {CallerHears::kRingback, true}; }      // 183 early media: agent joins
  static MixPlan transferring() { return {CallerHears::kRingback, false}; }  // a REFER is running
  static MixPlan target() {                                                  // caller <-> target leg
    return {CallerHears::kTarget, false, HoldAudio::kMusic, AgentHears::kNothing};
  }
  static MixPlan ended() { return {CallerHears::kNothing, false, HoldAudio::kMusic, AgentHears::kNothing}; }
  static MixPlan holding(HoldAudio audio) { return {CallerHears::kHold, false, audio}; }  // warm transfer
  // A consult: the caller held, the agent and the target talking.
  static MixPlan consulting(HoldAudio audio) {
    return {CallerHears::kHold, false, audio, AgentHears::kTarget, true};
  }
  // Introduce: caller, target and agent all hear each other.
  static MixPlan three_way() { return {CallerHears::kTarget, true, HoldAudio::kMusic, AgentHears::kBothMixed, true}; }
  // The caller's side REFERred the call elsewhere and the new party answered (the Call's
  // call_caller_refer.cpp): the agent talks to the target's leg alone; the old caller's leg, about to
  // get our BYE, hears nothing.
  static MixPlan referred() { return {CallerHears::kNothing, false, HoldAudio::kMusic, AgentHears::kTarget, true}; }
  // after_bridge "listen": caller <-> target, the agent hears both and says nothing.
  static MixPlan listening() { return {CallerHears::kTarget, false, HoldAudio::kMusic, AgentHears::kBothStereo}; }

  bool agent_hears_caller() const {
    return agent_hears == AgentHears::kCaller || agent_hears == AgentHears::kBothMixed ||
           agent_hears == AgentHears::kBothStereo;
  }
  bool agent_hears_target() const { return agent_hears != AgentHears::kCaller && agent_hears != AgentHears::kNothing; }
};

std::string_view to_string(MixPlan::CallerHears what);

// Applies plans to one call's media: the caller's leg and the target's (leg b) when there is one —
// the bridged target, or the one a consult talks to. A target's media must be detached
// (attach_target(nullptr)) before it is destroyed. Each leg decodes its incoming audio for the agent
// only while the plan sends it there (MediaSession::set_tap); a three-way mixes the agent's audio into
// both legs' (MediaSession::set_mix_agent).
class Bridge {
 public:
  void attach_caller(MediaSession* caller) { caller_ = caller; apply(); }
  void attach_target(MediaSession* target);
  void set(const MixPlan& plan);
  const MixPlan& plan() const { return plan_; }
  MediaSession* caller() const { return caller_; }
  MediaSession* target() const { return target_; }

 private:
  void apply();
  MediaSession* caller_ = nullptr;
  MediaSession* target_ = nullptr;
  bool bridged_ = false;  // caller_ and target_ are joined (MediaSession::bridge_to)
  MixPlan plan_ = MixPlan::ringing();
};

}  // namespace warmline::server
