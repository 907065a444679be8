#include "server/bridge/mix_plan.hpp"

#include "server/leg/leg_media.hpp"

namespace warmline::server {

std::string_view to_string(MixPlan::CallerHears what) {
  switch (what) {
    case MixPlan::CallerHears::kAgent: return "agent";
    case MixPlan::CallerHears::kRingback: return "ringback";
    case MixPlan::CallerHears::kNothing: return "nothing";
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

void Bridge::apply() {
  if (caller_) caller_->set_ringback(plan_.caller_hears == MixPlan::CallerHears::kRingback);
}

}  // namespace warmline::server
