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
  CallerHears caller_hears = CallerHears::kAgent;
  // Agent audio is queued for the caller. False while a transfer rings: what the agent sends then
  // would only be heard (late) if the transfer failed.
  bool takes_agent_audio = true;
  HoldAudio hold = HoldAudio::kMusic;  // with kHold
  bool operator==(const MixPlan&) const = default;

  static MixPlan talking() { return {}; }                                    // caller <-> agent
  static MixPlan ringing() { return {CallerHears::kRingback, true}; }      // 183 early media: agent joins
  static MixPlan transferring() { return {CallerHears::kRingback, false}; }  // a REFER is running
  static MixPlan target() { return {CallerHears::kTarget, false}; }          // caller <-> target leg
  static MixPlan ended() { return {CallerHears::kNothing, false}; }
  static MixPlan holding(HoldAudio audio) { return {CallerHears::kHold, false, audio}; }  // warm transfer
};

std::string_view to_string(MixPlan::CallerHears what);

// Applies plans to one call's media: the caller's leg and the target's (leg b) when there is one.
// A target's media must be detached (attach_target(nullptr)) before it is destroyed.
class Bridge {
 public:
  void attach_caller(MediaSession* caller) { caller_ = caller; apply(); }
  void attach_target(MediaSession* target);
  void set(const MixPlan& plan);
  const MixPlan& plan() const { return plan_; }

 private:
  void apply();
  MediaSession* caller_ = nullptr;
  MediaSession* target_ = nullptr;
  bool bridged_ = false;  // caller_ and target_ are joined (MediaSession::bridge_to)
  MixPlan plan_ = MixPlan::ringing();
};

}  // namespace warmline::server
