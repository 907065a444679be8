// The agent side of a call: its channel's events, the commands it sends, and what happens when it is
// lost.
#include <spdlog/spdlog.h>

#include <type_traits>

#include "server/agent/dialect_agent_channel.hpp"
#include "server/agent/native_agent_channel.hpp"
#include "server/call.hpp"

namespace warmline::server {

void Call::connect_agent() {
  auto self = weak_from_this();
  AgentEvents events{
      .on_open = [self] { if (auto c = self.lock()) c->on_agent_open(); },
      .on_audio = [self](std::span<const uint8_t> pcm) { if (auto c = self.lock()) c->on_agent_audio(pcm); },
      .on_samples = [self](std::span<const int16_t> pcm) { if (auto c = self.lock()) c->on_agent_samples(pcm); },
      .on_command = [self](ai::Command&& cmd) { if (auto c = self.lock()) c->on_agent_command(std::move(cmd)); },
      .on_closed = [self](const ai::CloseReason& r) { if (auto c = self.lock()) c->on_agent_closed(r); },
  };
  agent_ = ctx_.open_agent(agent_config_, std::move(events));
  agent_->connect(ai::CallInfo{.id = id_, .from = from_, .to = to_, .headers = x_headers_,
                               .caller_codec = caller_->codec_name()});
}

void Call::on_agent_open() {
  spdlog::debug("call {}: agent {} connected", id_, agent_config_.name);
  answer();
}

void Call::on_agent_audio(std::span<const uint8_t> pcm) {
  if (state_ == CallState::kEnded) return;
  play_agent(pcm);
}

void Call::on_agent_samples(std::span<const int16_t> pcm) {
  if (state_ == CallState::kEnded) return;
  play_agent(pcm);
}

// The mix plan says where the agent's audio goes: to the caller (unless a transfer rings: until the
// REFER goes out it may be the "transferring you now" itself; during ringback it would only be heard
// late), to the target it consults, or to both in a three-way; while it listens in, nowhere.
template <class Samples>
void Call::play_agent(Samples pcm) {
  const MixPlan& plan = bridge_.plan();
  auto push = [&pcm](MediaSession& media) {
    if constexpr (std::is_same_v<Samples, std::span<const uint8_t>>) media.push_agent_audio(pcm);
    else media.push_agent_samples(pcm);
  };
  if (plan.takes_agent_audio) push(caller_->media());
  if (plan.agent_to_target && bridge_.target()) push(*bridge_.target());
}

MediaSession& Call::agent_party() const {
  const MixPlan& plan = bridge_.plan();
  if (plan.agent_to_target && !plan.takes_agent_audio && bridge_.target()) return *bridge_.target();
  return caller_->media();
}

void Call::on_consult_audio(std::span<const int16_t> pcm) {
  if (agent_) agent_->send_audio(pcm);
}

void Call::on_consult_mark(std::string_view name, ai::MarkEvent event) {
  if (agent_) agent_->send_mark(name, event);
}

void Call::on_agent_closed(const ai::CloseReason& reason) {
  if (reason.kind == ai::CloseReason::Kind::kStuck) ctx_.metrics.agent_stalled.fetch_add(1, std::memory_order_relaxed);
  if (state_ == CallState::kEnded) return maybe_release();
  if (state_ == CallState::kBridged && agent_after_bridge_ != AgentAfterBridge::kGone) {
    // A three-way or a listening agent went away: caller and target simply go on.
    spdlog::info("call {}: agent {} left the bridged call ({} {})", id_, agent_config_.name,
                 ai::to_string(reason.kind), reason.message);
    agent_after_bridge_ = AgentAfterBridge::kGone;
    bridge_.set(MixPlan::target());
    agent_mix_.reset();
    return;
  }
  if (state_ == CallState::kBridged || agent_left_) return;  // it was told to leave (stop "transferred")
  const bool was_open = state_ != CallState::kRinging;  // the call is answered when the agent opens
  ctx_.metrics.agent_failures.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("call {}: agent {} lost: {} {}", id_, agent_config_.name, ai::to_string(reason.kind), reason.message);
  agent_lost(was_open ? "agent dropped" : "agent unreachable");
}

// DESIGN.md: the caller is never left in silence. The agent's default_forward is dialled by REFER
// when configured; otherwise (or when that fails) the fallback message plays and the call ends.
void Call::agent_lost(std::string_view why) {
  answer();  // a caller still ringing is answered so that they hear something
  if (transfer_running()) {  // a transfer in flight finishes on its own (after_failure decides then)
    transfer_->on_agent_lost();  // unless it waited for the agent's accept
    return;
  }
  if (!agent_config_.default_forward.empty()) {
    ai::TransferRequest req;
    req.id = "default_forward";
    req.targets = {agent_config_.default_forward};
    auto started = request_transfer(std::move(req));
    if (started.ok()) {
      spdlog::info("call {}: {}; forwarding to {}", id_, why, agent_config_.default_forward);
      return;
    }
    spdlog::warn("call {}: default_forward {} refused: {}", id_, agent_config_.default_forward,
                 started.refusal->message);
  }
  play_fallback_and_hang_up();
}

void Call::play_fallback_and_hang_up() {
  agent_party().clear();
  // After a REFER of the caller's side the message goes to the party the agent talked to (the plan stays).
  if (!caller_replaced_) bridge_.set(MixPlan::talking());
  after_playout_ = AfterPlayout::kFallbackThenHangUp;
  if (!ctx_.speech || agent_config_.fallback_message.empty()) {
    hangup("agent_unreachable");
    return;
  }
  say(agent_config_.fallback_message);
}

void Call::on_agent_command(ai::Command&& command) {
  if (state_ == CallState::kEnded) return;
  std::visit(
      [this](auto&& cmd) {
        using T = std::decay_t<decltype(cmd)>;
        MediaSession& media = agent_party();
        if constexpr (std::is_same_v<T, ai::Clear>) {
          media.clear();
          if (bridge_.plan().agent_to_target && bridge_.target() && &media != bridge_.target())
            bridge_.target()->clear();  // a three-way: the agent speaks to both
        } else if constexpr (std::is_same_v<T, ai::Mark>) {
          if (!media.mark(cmd.name)) agent_->send_error("too_many_marks", "mark limit reached");
        } else if constexpr (std::is_same_v<T, ai::Say>) {
          say(cmd.text);
        } else if constexpr (std::is_same_v<T, ai::SendDtmf>) {
          if (!media.send_dtmf(cmd.digits))
            agent_->send_error("dtmf_unavailable", "the party did not negotiate telephone-event (RFC 4733), "
                                                   "or too many digits are queued");
        } else if constexpr (std::is_same_v<T, ai::TransferRequest>) {
          handle(std::move(cmd));
        } else if constexpr (std::is_same_v<T, ai::TransferAccept>) {
          transfer_command(cmd.id, TransferControl::kAccept);
        } else if constexpr (std::is_same_v<T, ai::TransferCancel>) {
          transfer_command(cmd.id, TransferControl::kCancel);
        } else if constexpr (std::is_same_v<T, ai::TransferComplete>) {
          transfer_command(cmd.id, TransferControl::kComplete);
        } else if constexpr (std::is_same_v<T, ai::Hangup>) {
          after_playout_ = AfterPlayout::kHangUp;  // let "goodbye" finish playing first
          after_agent_audio();
        } else if constexpr (std::is_same_v<T, ai::Unknown>) {
          spdlog::debug("call {}: ignoring agent message of unknown type '{}'", id_, cmd.type);
        } else if constexpr (std::is_same_v<T, ai::ProtocolError>) {
          spdlog::info("call {}: malformed agent frame: {}", id_, cmd.message);
          agent_->send_error(cmd.code, cmd.message);
        }
      },
      std::move(command));
}

// transfer.accept / .cancel / .complete from the agent: an error frame says why one did not apply.
void Call::transfer_command(const std::string& id, TransferControl what) {
  std::string why;
  switch (control_transfer(id, what, why)) {
    case TransferControlResult::kApplied: return;
    case TransferControlResult::kNoTransfer: return agent_->send_error("no_transfer", why);
    case TransferControlResult::kNotNow: return agent_->send_error("not_now", why);
  }
}

void Call::say(const std::string& text) {
  if (!ctx_.speech) {
    if (agent_) agent_->send_error("tts_unavailable", "text-to-speech is not available on this gateway");
    return;
  }
  auto self = weak_from_this();
  Shard& shard = ctx_.shard;
  ++pending_speech_;
  ctx_.speech->say(
      text, agent_sample_rate(agent_config_), [&shard](std::function<void()> fn) { shard.post(std::move(fn)); },
      [self](std::shared_ptr<const media::AudioClip> clip) {
        auto c = self.lock();
        if (!c || c->state_ == CallState::kEnded) return;
        --c->pending_speech_;
        if (clip && !clip->samples.empty()) {
          c->play_agent(std::span<const int16_t>(clip->samples));
        } else {
          if (c->agent_) c->agent_->send_error("tts_failed", "speech synthesis failed");
          c->after_agent_audio();
        }
      });
}

void Call::handle(ai::TransferRequest&& request) {
  std::string first = request.targets.empty() ? std::string() : request.targets.front();
  auto started = request_transfer(std::move(request));
  if (started.ok()) return;
  // Refused before anything was dialled (unknown target, mode not available, one already running).
  agent_->send_transfer(ai::TransferEvent{.id = started.id, .state = ai::TransferState::kEnded, .target = first,
                                          .result = TransferResult::kFailed, .sip_status = 0,
                                          .reason = started.refusal->reason()});
}

}  // namespace warmline::server
