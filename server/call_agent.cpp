// The agent side of a call: its WebSocket, the commands it sends, and what happens when it is lost.
#include <spdlog/spdlog.h>

#include <type_traits>

#include "server/call.hpp"

namespace warmline::server {

void Call::connect_agent() {
  auto self = weak();
  ai::AgentCallbacks cb{
      .on_open = [self] { if (auto c = self.lock()) c->on_agent_open(); },
      .on_text = [self](std::string_view t) { if (auto c = self.lock()) c->on_agent_text(t); },
      .on_binary = [self](std::span<const uint8_t> d) {
        // Audio is taken until the REFER goes out (it may be the "transferring you now" itself);
        // during ringback it would only be dropped later.
        auto c = self.lock();
        if (!c || c->state_ == CallState::kEnded) return;
        if (c->transfer_ && !c->transfer_->progress.done() && !c->transfer_->waiting_playout) return;
        c->media_->push_agent_audio(d);
      },
      .on_close = [self](const ai::CloseReason& r) { if (auto c = self.lock()) c->on_agent_closed(r); },
  };
  agent_conn_ = std::make_unique<ai::AgentConnection>(ctx_.shard.io(), std::move(cb));
  ai::ConnectOptions opts;
  opts.bearer_token = agent_.token;
  agent_conn_->connect(agent_.url, opts);
  // Queued now, flushed on open: "start" precedes any audio.
  ai::CallInfo info{.id = id_, .from = from_, .to = to_, .headers = x_headers_};
  agent_conn_->send_text(ai::encode_start(info, static_cast<int>(
      agent_.protocol == AgentProtocol::twilio ? 8000u : agent_.sample_rate)));
}

void Call::on_agent_open() {
  agent_open_ = true;
  spdlog::debug("call {}: agent {} connected", id_, agent_.name);
  answer();
}

void Call::send_to_agent(std::string text) {
  if (agent_conn_ && !agent_gone_) agent_conn_->send_text(std::move(text));
}

void Call::on_agent_closed(const ai::CloseReason& reason) {
  const bool was_open = agent_open_;
  agent_open_ = false;
  agent_gone_ = true;
  if (state_ == CallState::kEnded) {
    ctx_.on_call_released(*this);
    return;
  }
  ctx_.metrics.agent_failures.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("call {}: agent {} {}: {} {}", id_, agent_.name, was_open ? "dropped" : "unreachable",
               ai::to_string(reason.kind), reason.message);
  agent_lost(was_open ? "agent dropped" : "agent unreachable");
}

// DESIGN.md: the caller is never left in silence. The agent's default_forward is dialled by REFER
// when configured; otherwise (or when that fails) the fallback message plays and the call ends.
void Call::agent_lost(std::string_view why) {
  answer();  // a caller still ringing is answered so that they hear something
  if (transfer_ && !transfer_->progress.done()) return;  // a transfer in flight finishes on its own
  if (!agent_.default_forward.empty()) {
    ai::TransferRequest req;
    req.id = "default_forward";
    req.targets = {agent_.default_forward};
    auto started = request_transfer(std::move(req));
    if (started.ok) {
      transfer_->reports_to_agent = false;
      spdlog::info("call {}: {}; forwarding to {}", id_, why, agent_.default_forward);
      return;
    }
    spdlog::warn("call {}: default_forward {} refused: {}", id_, agent_.default_forward, started.message);
  }
  play_fallback_and_hang_up();
}

void Call::play_fallback_and_hang_up() {
  media_->clear();
  hang_up_when_drained_ = true;
  if (!ctx_.speech || agent_.fallback_message.empty()) {
    hangup("agent_unreachable");
    return;
  }
  say(agent_.fallback_message);
}

void Call::on_caller_dtmf(char digit, uint32_t duration_ms) {
  send_to_agent(ai::encode_dtmf(digit, static_cast<int>(duration_ms)));
}

void Call::on_agent_text(std::string_view text) {
  if (state_ == CallState::kEnded) return;
  auto command = decoder_.decode(text);
  std::visit(
      [this](auto&& cmd) {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, ai::Clear>) {
          media_->clear();
        } else if constexpr (std::is_same_v<T, ai::Mark>) {
          if (!media_->mark(cmd.name)) send_to_agent(ai::encode_error("too_many_marks", "mark limit reached"));
        } else if constexpr (std::is_same_v<T, ai::Say>) {
          say(cmd.text);
        } else if constexpr (std::is_same_v<T, ai::SendDtmf>) {
          if (!media_->send_dtmf(cmd.digits))
            send_to_agent(ai::encode_error("dtmf_unavailable", "the caller did not negotiate telephone-event "
                                                               "(RFC 4733), or too many digits are queued"));
        } else if constexpr (std::is_same_v<T, ai::TransferRequest>) {
          handle(std::move(cmd));
        } else if constexpr (std::is_same_v<T, ai::TransferAccept> || std::is_same_v<T, ai::TransferCancel>) {
          send_to_agent(ai::encode_error("not_supported", "screening applies to warm transfers, not available yet"));
        } else if constexpr (std::is_same_v<T, ai::Hangup>) {
          hang_up_when_drained_ = true;  // let "goodbye" finish playing first
          after_agent_audio();
        } else if constexpr (std::is_same_v<T, ai::Unknown>) {
          spdlog::debug("call {}: ignoring agent message of unknown type '{}'", id_, cmd.type);
        } else if constexpr (std::is_same_v<T, ai::ProtocolError>) {
          spdlog::info("call {}: malformed agent frame: {}", id_, cmd.message);
          send_to_agent(ai::encode_error(cmd.code, cmd.message));
        }
      },
      std::move(command));
}

void Call::say(const std::string& text) {
  if (!ctx_.speech) {
    send_to_agent(ai::encode_error("tts_unavailable", "text-to-speech is not available on this gateway"));
    return;
  }
  auto self = weak();
  Shard& shard = ctx_.shard;
  ++pending_speech_;
  ctx_.speech->say(
      text, agent_.protocol == AgentProtocol::twilio ? 8000u : agent_.sample_rate,
      [&shard](std::function<void()> fn) { shard.post(std::move(fn)); },
      [self](std::shared_ptr<const media::AudioClip> clip) {
        auto c = self.lock();
        if (!c || c->state_ == CallState::kEnded) return;
        --c->pending_speech_;
        if (clip && !clip->samples.empty()) {
          c->media_->push_agent_samples(clip->samples);
        } else {
          c->send_to_agent(ai::encode_error("tts_failed", "speech synthesis failed"));
          c->after_agent_audio();
        }
      });
}

void Call::handle(ai::TransferRequest&& request) {
  std::string id = request.id;
  std::string first = request.targets.empty() ? std::string() : request.targets.front();
  auto started = request_transfer(std::move(request));
  if (started.ok) return;
  // Refused before anything was dialled (unknown target, mode not available, one already running).
  const std::string reason = started.code + ": " + started.message;
  ai::TransferEvent ev{.id = id, .state = ai::TransferState::kEnded, .target = first,
                       .result = TransferResult::kFailed, .sip_status = 0, .reason = reason};
  send_to_agent(ai::encode_transfer_event(ev));
}

}  // namespace warmline::server
