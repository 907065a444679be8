// A provider dialect on the agent socket (protocol = "twilio" | "telnyx" | "plivo" | "exotel" |
// "vonage"; docs/agent-protocols.md): the WebSocket client carrying one ai::DialectCodec's frames.
// The codec knows the wire format; this channel converts audio between the dialect's encoding (µ-law,
// A-law or L16) and the call's PCM, numbers the media timestamps, and turns the agent's frames into
// the native commands the call understands. When the caller's codec is the dialect's own (PCMU to
// Twilio), the call hands RTP payloads to send_payload() and nothing is decoded or encoded.
// Thread: the call's shard.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ai_bridge/dialect.hpp"
#include "server/agent/agent_channel.hpp"
#include "server/config.hpp"
#include "server/shard.hpp"

namespace warmline::server {

class DialectAgentChannel final : public AgentChannel {
 public:
  DialectAgentChannel(Shard& shard, const AgentConfig& agent, AgentEvents events);
  ~DialectAgentChannel() override;

  void connect(const ai::CallInfo& call) override;
  State state() const override { return state_; }
  void send_audio(std::span<const int16_t> pcm) override;
  bool takes_payload(std::string_view codec) const override;
  void send_payload(std::span<const uint8_t> payload) override;
  void send_dtmf(char digit, uint32_t duration_ms) override;
  void send_mark(std::string_view name, ai::MarkEvent event) override;
  void send_transfer(const ai::TransferEvent& event) override;
  void send_error(std::string_view code, std::string_view message) override;
  void send_stop(std::string_view reason) override;
  void close() override;

 private:
  void send(ai::WireFrame frame, bool audio = false);  // audio: a media frame (timed for the metric)
  void on_frame(ai::DialectCommand&& command);
  void send_wire_audio(std::span<const uint8_t> audio);
  void assert_on_shard() const;

  Shard& shard_;
  const AgentConfig& agent_;
  AgentEvents events_;
  std::unique_ptr<ai::AgentConnection> conn_;
  std::unique_ptr<ai::DialectCodec> codec_;
  ai::WireAudio wire_{};
  State state_ = State::kConnecting;
  uint64_t samples_sent_ = 0;       // at the wire rate: the media timestamps
  std::vector<uint8_t> encoded_;    // PCM -> wire encoding (sized on first use, reused)
  std::vector<int16_t> decoded_;    // wire encoding -> PCM (grows to the largest frame, reused)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The dialect of a provider protocol; nullopt for the native one.
std::optional<ai::Dialect> dialect_of(AgentProtocol protocol);

// Codecs whose RTP payload this agent's dialect carries as it is (Twilio, Plivo: PCMU; Telnyx: PCMU,
// PCMA); empty for the others and the native protocol.
std::vector<std::string> agent_payload_codecs(const AgentConfig& agent);

// The agent channel for `agent`'s protocol: native or a dialect.
std::unique_ptr<AgentChannel> open_agent_channel(Shard& shard, const AgentConfig& agent, AgentEvents events);

}  // namespace warmline::server
