// Who hears whom in one call (DESIGN.md "bridge/"): the mix plan of the call's current phase, applied
// to its legs' media. Today a call has the caller's leg and the agent; the plan says what the caller
// hears (the agent's audio, ringback while a transfer rings, or nothing) and whether the agent's audio
// is taken at all. Warm transfers add hold music, the target leg and the three-way moment here.
//
// Thread: the call's shard.
#pragma once

#include <string_view>

namespace warmline::server {

class MediaSession;

struct MixPlan {
  enum class CallerHears { kAgent, kRingback, kNothing };
  CallerHears caller_hears = CallerHears::kAgent;
  // Agent audio is queued for the caller. False while a transfer rings: what the agent sends then
  // would only be heard (late) if the transfer failed.
  bool takes_agent_audio = true;
  bool operator==(const MixPlan&) const = default;

  static MixPlan talking() { return {}; }                                    // caller <-> agent
  static MixPlan ringing() { return {CallerHears::kRingback, true}; }      // 183 early media: agent joins
  static MixPlan transferring() { return {CallerHears::kRingback, false}; }  // a REFER is running
  static MixPlan ended() { return {CallerHears::kNothing, false}; }
};

std::string_view to_string(MixPlan::CallerHears what);

// Applies plans to one call's media: the caller's leg today.
class Bridge {
 public:
  void attach_caller(MediaSession* caller) { caller_ = caller; apply(); }
  void set(const MixPlan& plan);
  const MixPlan& plan() const { return plan_; }

 private:
  void apply();
  MediaSession* caller_ = nullptr;
  MixPlan plan_ = MixPlan::ringing();
};

}  // namespace warmline::server
