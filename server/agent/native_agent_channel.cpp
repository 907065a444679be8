#include "server/agent/native_agent_channel.hpp"

#include <cassert>

namespace warmline::server {

unsigned agent_sample_rate(const AgentConfig& agent) {
  return agent.sample_rate;
}

NativeAgentChannel::NativeAgentChannel(Shard& shard, const AgentConfig& agent, AgentEvents events)
    : shard_(shard), agent_(agent), events_(std::move(events)) {
  std::weak_ptr<bool> alive = alive_;
  ai::AgentCallbacks cb{
      .on_open = [this, alive] {
        if (alive.expired()) return;
        state_ = State::kOpen;
        if (events_.on_open) events_.on_open();
      },
      .on_text = [this, alive](std::string_view text) {
        if (alive.expired() || !events_.on_command) return;
        events_.on_command(decoder_.decode(text));
      },
      .on_binary = [this, alive](std::span<const uint8_t> data) {
        if (!alive.expired() && events_.on_audio) events_.on_audio(data);
      },
      .on_close = [this, alive](const ai::CloseReason& reason) {
        if (alive.expired()) return;
        state_ = State::kClosed;
        if (events_.on_closed) events_.on_closed(reason);
      },
  };
  cb.on_audio_written = events_.on_audio_written;
  conn_ = std::make_unique<ai::AgentConnection>(shard_.io(), std::move(cb));
}

void NativeAgentChannel::assert_on_shard() const { assert(shard_.on_shard()); }

NativeAgentChannel::~NativeAgentChannel() {
  alive_.reset();
  if (conn_) conn_->close();
}

void NativeAgentChannel::connect(const ai::CallInfo& call) {
  assert_on_shard();
  ai::ConnectOptions opts;
  opts.bearer_token = agent_.token;
  conn_->connect(agent_.url, opts);
  // Queued now, flushed on open: "start" precedes any audio.
  send_text(ai::encode_start(call, static_cast<int>(agent_sample_rate(agent_))));
}

void NativeAgentChannel::send_text(std::string text) {
  assert_on_shard();
  if (state_ != State::kClosed) conn_->send_text(text);
}

void NativeAgentChannel::send_audio(std::span<const int16_t> pcm) {
  assert_on_shard();
  if (state_ == State::kOpen) conn_->send_audio(pcm);
}

void NativeAgentChannel::send_dtmf(char digit, uint32_t duration_ms) {
  send_text(ai::encode_dtmf(digit, static_cast<int>(duration_ms)));
}

void NativeAgentChannel::send_mark(std::string_view name, ai::MarkEvent event) { send_text(ai::encode_mark(name, event)); }
void NativeAgentChannel::send_transfer(const ai::TransferEvent& event) { send_text(ai::encode_transfer_event(event)); }

void NativeAgentChannel::send_error(std::string_view code, std::string_view message) {
  send_text(ai::encode_error(code, message));
}

void NativeAgentChannel::send_stop(std::string_view reason) {
  assert_on_shard();
  if (state_ == State::kOpen) send_text(ai::encode_stop(reason));
}

void NativeAgentChannel::close() {
  assert_on_shard();
  conn_->close();
}

}  // namespace warmline::server
