// The native protocol (protocol = "warmline", docs/agent-protocol.md) over the WebSocket client.
// Thread: the call's shard.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>

#include "server/agent/agent_channel.hpp"
#include "server/config.hpp"
#include "server/shard.hpp"

namespace warmline::server {

class NativeAgentChannel final : public AgentChannel {
 public:
  NativeAgentChannel(Shard& shard, const AgentConfig& agent, AgentEvents events);
  ~NativeAgentChannel() override;

  void connect(const ai::CallInfo& call) override;
  State state() const override { return state_; }
  void send_audio(std::span<const int16_t> pcm) override;
  void send_dtmf(char digit, uint32_t duration_ms) override;
  void send_mark(std::string_view name, ai::MarkEvent event) override;
  void send_transfer(const ai::TransferEvent& event) override;
  void send_error(std::string_view code, std::string_view message) override;
  void send_stop(std::string_view reason) override;
  void close() override;

 private:
  void send_text(std::string text);
  void assert_on_shard() const;

  Shard& shard_;
  const AgentConfig& agent_;
  AgentEvents events_;
  std::unique_ptr<ai::AgentConnection> conn_;
  ai::CommandDecoder decoder_;
  State state_ = State::kConnecting;
  // The connection calls back into this object; a flag it shares tells it when we are gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The rate the agent's audio runs at: its configured sample_rate (the native protocol negotiates it).
unsigned agent_sample_rate(const AgentConfig& agent);

}  // namespace warmline::server
