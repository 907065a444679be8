// The call once a bridged dial has been answered (DESIGN.md "Transfers", cold without REFER): caller
// and target hear each other through the bridge, the agent has left, and either side's BYE ends the
// other. Nothing is left half-open: finish() hangs up whichever leg is still up.
#include <spdlog/spdlog.h>

#include "server/call.hpp"

namespace warmline::server {

void Call::bridge_target(std::unique_ptr<OutboundLeg> leg) {
  assert_on_shard();
  target_ = std::move(leg);
  target_->set_observer(*this);
  bridge_.attach_target(&target_->media());
  bridge_.set(MixPlan::target());
  state_ = CallState::kBridged;
  spdlog::info("call {}: bridged to the transfer target ({} <-> {}, {})", id_, caller_->codec_name(),
               target_->codec_name(), caller_->codec_name() == target_->codec_name() ? "relayed" : "transcoded");
  // The agent's part is over: the call now belongs to the caller and the target.
  if (!agent_left_ && agent_ && agent_->state() != AgentChannel::State::kClosed) {
    agent_->send_stop("transferred");
    agent_->close();
  }
}

void Call::on_target_bye(OutboundLeg&) {
  assert_on_shard();
  if (state_ == CallState::kEnded) return;
  caller_->hang_up();
  finish("target_hangup");
}

// An answered leg reports nothing but its BYE; these belong to the dial that the transfer ran.
void Call::on_target_progress(OutboundLeg&, int, bool) {}
void Call::on_target_answered(OutboundLeg&) {}
void Call::on_target_failed(OutboundLeg&, const OutboundFailure&) {}

}  // namespace warmline::server
