// The agent side of a call: its channel's events, the commands it sends, and what happens when it is
// lost.
#include <spdlog/spdlog.h>

#include <type_traits>

#include "server/agent/native_agent_channel.hpp"
#include "server/call.hpp"

namespace warmline::server {

void Call::connect_agent() {
  auto self = weak_from_this();
  AgentEvents events{
      .on_open = [self] { if (auto c = self.lock()) c->on_agent_open(); },
      .on_audio = [self](std::span<const uint8_t> pcm) { if (auto c = self.lock()) c->on_agent_audio(pcm); },
      .on_command = [self](ai::Command&& cmd) { if (auto c = self.lock()) c->on_agent_command(std::move(cmd)); },
      .on_closed = [self](const ai::CloseReason& r) { if (auto c = self.lock()) c->on_agent_closed(r); },
  };
  agent_ = ctx_.open_agent(agent_config_, std::move(events));
  agent_->connect(ai::CallInfo{.id = id_, .from = from_, .to = to_, .headers = x_headers_});
}

void Call::on_agent_open() {
  spdlog::debug("call {}: agent {} connected", id_, agent_config_.name);
  answer();
}

void Call::on_agent_audio(std::span<const uint8_t> pcm) {
  // The mix plan says whether agent audio is taken: until the REFER goes out it may be the
  // "transferring you now" itself; during ringback it would only be heard late.
  if (state_ == CallState::kEnded || !bridge_.plan().takes_agent_audio) return;
  caller_->media().push_agent_audio(pcm);
}

void Call::on_agent_closed(const ai::CloseReason& reason) {
  if (state_ == CallState::kEnded) return maybe_release();
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
  caller_->media().clear();
  bridge_.set(MixPlan::talking());
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
        MediaSession& media = caller_->media();
        if constexpr (std::is_same_v<T, ai::Clear>) {
          media.clear();
        } else if constexpr (std::is_same_v<T, ai::Mark>) {
          if (!media.mark(cmd.name)) agent_->send_error("too_many_marks", "mark limit reached");
        } else if constexpr (std::is_same_v<T, ai::Say>) {
          say(cmd.text);
        } else if constexpr (std::is_same_v<T, ai::SendDtmf>) {
          if (!media.send_dtmf(cmd.digits))
            agent_->send_error("dtmf_unavailable", "the caller did not negotiate telephone-event (RFC 4733), "
                                                   "or too many digits are queued");
        } else if constexpr (std::is_same_v<T, ai::TransferRequest>) {
          handle(std::move(cmd));
        } else if constexpr (std::is_same_v<T, ai::TransferAccept>) {
          transfer_gate(cmd.id, true);
        } else if constexpr (std::is_same_v<T, ai::TransferCancel>) {
          transfer_gate(cmd.id, false);
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

// transfer.accept / transfer.cancel: for the transfer running now (its id, or none given).
void Call::transfer_gate(const std::string& id, bool accept) {
  const char* what = accept ? "transfer.accept" : "transfer.cancel";
  if (!transfer_running() || (!id.empty() && id != transfer_->id())) {
    agent_->send_error("no_transfer", std::string(what) + ": no transfer " + (id.empty() ? "" : "'" + id + "' ") +
                                          "is running");
    return;
  }
  const bool applied = accept ? transfer_->agent_accept() : transfer_->agent_cancel();
  if (!applied)
    agent_->send_error("not_now", std::string(what) + ": transfer " + transfer_->id() +
                                      (accept ? " is not waiting for your accept (a warm transfer with screening "
                                                "\"agent\" is, from its answered event on)"
                                              : " cannot be cancelled any more (a REFER has gone out)"));
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
          c->caller_->media().push_agent_samples(clip->samples);
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
