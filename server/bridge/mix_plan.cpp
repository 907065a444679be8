#include "server/bridge/mix_plan.hpp"

#include "server/leg/leg_media.hpp"

namespace warmline::server {

std::string_view to_string(MixPlan::CallerHears what) {
  switch (what) {
    case MixPlan::CallerHears::kAgent: return "agent";
    case MixPlan::CallerHears::kRingback: return "ringback";
    case MixPlan::CallerHears::kTarget: return "target";
    case MixPlan::CallerHears::kNothing: return "nothing";
    case MixPlan::CallerHears::kHold: return "hold";
  }
  return "nothing";
}

void Bridge::set(const MixPlan& plan) {
  // Leaving the agent for ringback drops what the agent had queued: it was meant for before the
  // transfer, and after a failed one the caller must not hear stale audio.
  const bool stop_agent = plan_.caller_hears == MixPlan::CallerHears::kAgent &&
                          plan.caller_hears != MixPlan::CallerHears::kAgent && !plan.takes_agent_audio;
  plan_ = plan;
  if (stop_agent && caller_) caller_->clear();
  apply();
}

void Bridge::attach_target(MediaSession* target) {
  if (target != target_ && bridged_ && caller_) {  // never leave the caller joined to a leg that goes
    caller_->bridge_to(nullptr);
    bridged_ = false;
  }
  target_ = target;
  apply();
}

void Bridge::apply() {
  if (!caller_) return;
  // Hold audio is mixed on the caller's leg itself (its media tick), never sent to the agent.
  caller_->set_ringback(plan_.caller_hears == MixPlan::CallerHears::kRingback);
  caller_->set_hold(plan_.caller_hears == MixPlan::CallerHears::kHold ? std::optional<HoldAudio>(plan_.hold)
                                                                      : std::nullopt);
  caller_->set_tap(plan_.agent_hears_caller());
  const bool join = plan_.caller_hears == MixPlan::CallerHears::kTarget && target_ != nullptr;
  // Both legs of a three-way mix the agent in; set before they are joined so that the bridge
  // decodes (a relay would pass the other leg's packets on untouched).
  const bool three_way = join && plan_.agent_to_target && plan_.takes_agent_audio;
  caller_->set_mix_agent(three_way);
  if (target_) {
    target_->set_tap(plan_.agent_hears_target());
    target_->set_mix_agent(three_way);
  }
  if (join != bridged_) {
    caller_->bridge_to(join ? target_ : nullptr);
    bridged_ = join;
  }
}

}  // namespace warmline::server
