#pragma once
// The agent's audio frame in each provider dialect, as a bot written for that provider sends it (shapes
// from the providers' docs, named in ai_bridge/<dialect>_dialect.cpp), for the dialect benchmarks
// (dialect_frames_bench, dialect_path_bench). Not the codecs' code: a bot's side, written here.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ai_bridge/base64.hpp"
#include "ai_bridge/dialect.hpp"

namespace warmline::bench {

inline constexpr ai::Dialect kAllDialects[] = {ai::Dialect::kTwilio, ai::Dialect::kTelnyx, ai::Dialect::kPlivo,
                                              ai::Dialect::kExotel, ai::Dialect::kVonage};

// A codec with ids shaped like the providers' (their length matters to the frame's size).
inline std::unique_ptr<ai::DialectCodec> make_bench_codec(ai::Dialect dialect) {
  ai::DialectStart start;
  start.call.id = "CA6f51a6a3b1c7e1f9bb39d6a9d7ae8b10";
  start.call.from = "+27115550100";
  start.call.to = "100";
  start.stream_id = "MZ18ad3ab5a668481ce02b83e7395059f0";
  start.account_id = "AC25e16e9a716a4a1786a7c83f58e30482";
  return ai::make_dialect_codec(dialect, std::move(start));
}

struct AgentFrame {
  std::string bytes;
  bool binary = false;
  std::span<const std::uint8_t> as_bytes() const {
    return {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()};
  }
};

// `audio` (in the dialect's wire encoding) as the bot's frame: Twilio/Telnyx/Exotel "media" with a base64
// payload and the stream id the bot echoes, Plivo "playAudio", Vonage the raw bytes in a binary frame.
inline AgentFrame agent_audio_frame(ai::Dialect dialect, std::span<const std::uint8_t> audio) {
  std::string payload;
  ai::append_base64(payload, audio);
  switch (dialect) {
    case ai::Dialect::kTwilio:
      return {R"({"event":"media","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","media":{"payload":")" + payload +
              "\"}}"};
    case ai::Dialect::kTelnyx: return {R"({"event":"media","media":{"payload":")" + payload + "\"}}"};
    case ai::Dialect::kPlivo:
      return {R"({"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":8000,"payload":")" +
              payload + "\"}}"};
    case ai::Dialect::kExotel:
      return {R"({"event":"media","stream_sid":"MZ18ad3ab5a668481ce02b83e7395059f0","media":{"payload":")" + payload +
              "\"}}"};
    case ai::Dialect::kVonage: return {std::string(audio.begin(), audio.end()), true};
  }
  return {};
}

// `ms` of audio in `wire`'s encoding (µ-law bytes or little-endian L16), a fixed pattern.
inline std::vector<std::uint8_t> wire_pattern(const ai::WireAudio& wire, std::size_t ms) {
  std::vector<std::uint8_t> out(wire.bytes_per_20ms() * ms / 20);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(i * 37);
  return out;
}

}  // namespace warmline::bench
