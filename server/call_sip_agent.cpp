// A SIP agent (docs/sip.md "SIP agents"): an AI platform reached over SIP instead of a WebSocket.
// warmline does what a PBX does for an extension:
//
//   caller's INVITE -> 180 to the caller -> INVITE to the agent through its trunk (BridgedDial: From the
//   agent's caller_id or "warmline", P-Asserted-Identity the caller, their Privacy and X- headers;
//   TLS, SRTP and codecs as the trunk says)
//   -> the agent answers: 200 to the caller, caller and agent bridged (relayed packet for packet when
//      the codecs agree, transcoded when not), state kBridged
//   -> the agent fails (busy, no answer, unreachable, refused): as a WebSocket agent that cannot be
//      reached (agent_lost): the caller is answered and goes to default_forward, or hears the fallback
//      message; never dropped in silence.
//
// From then on the agent's leg is the call's leg b (target_): its BYE ends the call, the caller's BYE
// ends it, and its REFER is the transferee case of call_refer.cpp (the trunk's accepts_refer_from_peer,
// Refer-To resolved against the agent's targets, NOTIFY progress, the agent's leg released on success
// and kept bridged on failure). Early media from the agent is not passed on: the caller hears ringing
// from their own side until the agent answers.
#include <spdlog/spdlog.h>

#include <map>

#include "server/agent/native_agent_channel.hpp"
#include "server/call.hpp"

namespace warmline::server {

void Call::dial_sip_agent() {
  std::map<std::string, std::string> headers(x_headers_.begin(), x_headers_.end());
  DialRequest request{.target = ResolvedTarget{.name = agent_config_.name,
                                               .uri = agent_config_.url,
                                               .via_trunk = agent_config_.trunk,
                                               .caller_id = agent_config_.caller_id,
                                               .kind = TargetKind::named,
                                               .ring_timeout_s = agent_config_.ring_timeout_s},
                      .ring_timeout = std::chrono::seconds(agent_config_.ring_timeout_s),
                      .caller_user = caller_identity(*caller_),
                      .privacy = caller_->history().privacy,
                      .first_codec = caller_->codec_name(),
                      .headers = std::move(headers),
                      .leg_records = &leg_b_records_,
                      .ladder = ladder_,
                      .agent_rate = agent_sample_rate(agent_config_),
                      .trace_correlation = caller_->dialog().call_id};
  spdlog::info("call {}: dialling SIP agent {} ({}) through trunk {}", id_, agent_config_.name, agent_config_.url,
               agent_config_.trunk);
  agent_dial_ = std::make_unique<BridgedDial>(ctx_, static_cast<DialListener&>(*this), std::move(request));
  agent_dial_->start();
}

// A call with a SIP agent has agent_dial_; any other dial reporting here is a caller's REFER's.
void Call::on_dial_progress(const TransferUpdate& update) {
  if (!agent_dial_) return caller_refer_progress(update);
  spdlog::debug("call {}: SIP agent {} {} ({})", id_, agent_config_.name, update.state, update.sip_status);
}

void Call::on_dial_early_media(OutboundLeg&) {}

void Call::on_dial_ended(const TransferUpdate& update) {
  assert_on_shard();
  if (!agent_dial_) return caller_refer_ended(update);
  if (state_ == CallState::kEnded) return;  // finish() stopped the dial: the caller has gone
  if (update.result != TransferResult::kCompleted) {
    ctx_.metrics.agent_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("call {}: SIP agent {} did not take the call: {} ({} {})", id_, agent_config_.name,
                 to_string(update.result), update.sip_status, update.reason);
    return agent_lost("agent unreachable");
  }
  std::unique_ptr<OutboundLeg> leg = agent_dial_->take_leg();
  answer();
  target_ = std::move(leg);  // from here on finish() hangs it up with the call
  if (state_ != CallState::kAnswered || !target_) return hangup("caller_cancelled");  // the INVITE went away
  target_->set_observer(*this);
  bridge_.attach_target(&target_->media());
  bridge_.set(MixPlan::target());
  state_ = CallState::kBridged;
  spdlog::info("call {}: bridged to SIP agent {} ({} <-> {}, {})", id_, agent_config_.name, caller_->codec_name(),
               target_->codec_name(), caller_->codec_name() == target_->codec_name() ? "relayed" : "transcoded");
}

}  // namespace warmline::server
