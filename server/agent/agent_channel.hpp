// The agent channel: one call's AI socket, whatever the protocol dialect (DESIGN.md "agent/"). The call
// and transfers talk to this interface only; the native protocol is one implementation
// (native_agent_channel), the provider dialects (Twilio, Telnyx, ...) another (dialect_agent_channel), and unit tests of
// calls use an in-memory one.
//
// Thread: the call's shard; every method and every event runs there.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "ai_bridge/native_protocol.hpp"
#include "ai_bridge/ws_client.hpp"

namespace warmline::server {

struct AgentConfig;

// What a channel reports to its call, decoded into the native command set whatever the dialect.
struct AgentEvents {
  std::function<void()> on_open{};
  std::function<void(std::span<const uint8_t> pcm_le16)> on_audio{};  // at the agent's sample rate
  std::function<void(std::span<const int16_t> pcm)> on_samples{};    // the same, already as samples
  std::function<void(ai::Command&& command)> on_command{};
  std::function<void(const ai::CloseReason& reason)> on_closed{};
  // The caller's audio has reached the agent's socket: time since it was queued (a metric). Optional.
  std::function<void(std::chrono::nanoseconds queued_to_written)> on_audio_written{};
};

class AgentChannel {
 public:
  enum class State { kConnecting, kOpen, kClosed };

  virtual ~AgentChannel() = default;
  // Connects and queues the start message: it precedes any audio.
  virtual void connect(const ai::CallInfo& call) = 0;
  virtual State state() const = 0;
  bool open() const { return state() == State::kOpen; }

  virtual void send_audio(std::span<const int16_t> pcm) = 0;
  // Whether the agent takes RTP payloads of `codec` as they are (a dialect whose wire encoding it is:
  // PCMU to Twilio); then the caller's packets go to send_payload() undecoded.
  virtual bool takes_payload(std::string_view /*codec*/) const { return false; }
  virtual void send_payload(std::span<const uint8_t> /*payload*/) {}
  virtual void send_dtmf(char digit, uint32_t duration_ms) = 0;
  virtual void send_mark(std::string_view name, ai::MarkEvent event) = 0;
  virtual void send_transfer(const ai::TransferEvent& event) = 0;
  virtual void send_error(std::string_view code, std::string_view message) = 0;
  virtual void send_stop(std::string_view reason) = 0;
  // After whatever is queued (the stop); on_closed follows.
  virtual void close() = 0;
};

using AgentChannelFactory = std::function<std::unique_ptr<AgentChannel>(const AgentConfig& agent, AgentEvents events)>;

}  // namespace warmline::server
