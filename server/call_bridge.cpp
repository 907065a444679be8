// The call once a bridged dial has been answered (DESIGN.md "Transfers": cold without REFER, warm,
// semi): caller and target hear each other through the bridge and either side's BYE ends the other.
// The agent has left — or, as the transfer asked, is still there for an introduce three-way (until
// its transfer.complete) or listening in (both parties as stereo — mixed to mono for a provider
// dialect — until the call ends). Nothing is
// left half-open: finish() hangs up whichever leg is still up.
#include <spdlog/spdlog.h>

#include "server/agent/native_agent_channel.hpp"
#include "server/call.hpp"

namespace warmline::server {

void Call::bridge_target(std::unique_ptr<OutboundLeg> leg, const TransferUpdate& update) {
  assert_on_shard();
  target_ = std::move(leg);
  target_->set_observer(*this);
  bridge_.attach_target(&target_->media());
  state_ = CallState::kBridged;
  completion_ = update;
  ctx_.metrics.transfer_bridge.observe(std::chrono::system_clock::now() - transfer_->record().requested_at);
  const bool agent_here = !agent_left_ && agent_connected();
  if (agent_here && introduce_) {
    // Introduce: all three hear each other until the agent's transfer.complete, which also brings
    // the transfer's `completed`.
    agent_after_bridge_ = AgentAfterBridge::kThreeWay;
    agent_hears_both(AgentMix::Layout::kMono);
    bridge_.set(MixPlan::three_way());
    spdlog::info("call {}: three-way with the transfer target ({} <-> {})", id_, caller_->codec_name(),
                 target_->codec_name());
    send_bridged(1);
    return;
  }
  bridge_.set(MixPlan::target());
  spdlog::info("call {}: bridged to the transfer target ({} <-> {}, {})", id_, caller_->codec_name(),
               target_->codec_name(), caller_->codec_name() == target_->codec_name() ? "relayed" : "transcoded");
  after_bridge();
}

void Call::complete_introduce() {
  spdlog::info("call {}: the agent completed the three-way", id_);
  after_bridge();
}

// The agent's part is over: the call now belongs to the caller and the target — unless the agent
// listens on (after_bridge "listen"), receiving both as stereo until the call ends.
void Call::after_bridge() {
  const bool listen = after_bridge_ == ai::AfterBridge::kListen && !agent_left_ && agent_connected();
  if (listen) {
    agent_after_bridge_ = AgentAfterBridge::kListening;
    // The native protocol gets stereo (caller left, target right); a provider dialect's stream is
    // mono by definition, so it gets both parties mixed.
    const bool stereo = agent_config_.protocol == AgentProtocol::warmline;
    agent_hears_both(stereo ? AgentMix::Layout::kStereo : AgentMix::Layout::kMono);
    bridge_.set(MixPlan::listening());
    send_bridged(stereo ? 2 : 1);
  } else {
    agent_after_bridge_ = AgentAfterBridge::kGone;
    bridge_.set(MixPlan::target());
    agent_mix_.reset();
  }
  if (completion_) report_transfer(*std::exchange(completion_, std::nullopt));
  if (listen || agent_left_ || !agent_ || agent_->state() == AgentChannel::State::kClosed) return;
  agent_->send_stop("transferred");
  agent_->close();
}

void Call::send_bridged(int channels) {
  if (!agent_connected() || !transfer_) return;
  agent_->send_transfer(ai::TransferEvent{.id = transfer_->id(), .state = ai::TransferState::kBridged,
                                          .target = transfer_->current().name, .result = TransferResult::kCompleted,
                                          .sip_status = 0, .reason = "", .channels = channels});
}

void Call::agent_hears_both(AgentMix::Layout layout) {
  if (agent_mix_ && agent_mix_->layout() == layout) return;
  agent_mix_.emplace(agent_sample_rate(agent_config_), layout, [this](std::span<const int16_t> pcm) {
    if (agent_) agent_->send_audio(pcm);
  });
}

void Call::on_target_audio(OutboundLeg& leg, std::span<const int16_t> pcm) {
  if (agent_mix_) return agent_mix_->push(AgentMix::Side::kTarget, pcm);
  if (caller_replaced_ && &leg == target_.get() && agent_) agent_->send_audio(pcm);  // call_caller_refer.cpp
}

// The party a REFER of the caller's side reached plays what the agent says (MixPlan::referred).
void Call::on_target_mark(OutboundLeg& leg, std::string_view name, ai::MarkEvent event) {
  if (caller_replaced_ && &leg == target_.get() && agent_) agent_->send_mark(name, event);
}

void Call::on_target_audio_played(OutboundLeg& leg) {
  if (caller_replaced_ && &leg == target_.get()) after_agent_audio();
}

void Call::on_target_bye(OutboundLeg& leg) {
  assert_on_shard();
  if (state_ == CallState::kEnded) return;
  if (&leg == referrer_.get()) return referrer_left();  // it REFERred the caller elsewhere (call_refer.cpp)
  caller_->hang_up();
  // The party a REFER of the caller's side reached is the one the agent talks to: to the agent, its
  // hang-up is the caller's.
  finish(caller_replaced_ ? "caller_hangup" : "target_hangup");
}

// An answered leg reports nothing but its BYE; these belong to the dial that the transfer ran.
void Call::on_target_progress(OutboundLeg&, int, bool) {}
void Call::on_target_answered(OutboundLeg&) {}
void Call::on_target_failed(OutboundLeg&, const OutboundFailure&) {}

}  // namespace warmline::server
