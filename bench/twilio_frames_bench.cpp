// The per-packet costs of the Twilio Media Streams protocol (ai_bridge/twilio_frames.hpp): base64,
// building the `media` text frame of one caller packet, decoding the agent's `media` frames, and the
// whole caller -> AI compute path for a Twilio agent (RTP parse, µ-law passed through as base64 JSON,
// WebSocket write queue) — the counterpart of rtp_to_ws_bench's native path. Syscalls and the
// WebSocket framing itself are in ws_write_bench.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "ai_bridge/twilio_frames.hpp"
#include "ai_bridge/ws_queue.hpp"
#include "rtp/packet.hpp"

namespace warmline::ai {
namespace {

constexpr std::size_t kMulawBytesPerMs = 8;  // 8 kHz, one byte per sample

std::vector<std::uint8_t> mulaw_audio(std::size_t ms) {
  std::vector<std::uint8_t> audio(ms * kMulawBytesPerMs);
  for (std::size_t i = 0; i < audio.size(); ++i) audio[i] = static_cast<std::uint8_t>(i * 37);
  return audio;
}

TwilioEncoder make_encoder() {
  return TwilioEncoder({.stream_sid = "MZ18ad3ab5a668481ce02b83e7395059f0", .call_sid = "CA6f51a6a3b1c7e1f9bb39d6a9d7ae8b10",
                        .account_sid = "AC25e16e9a716a4a1786a7c83f58e30482"});
}

// Items are 20 ms frames of audio, so items_per_second reads as frames per second at any chunk size.
void set_frames(benchmark::State& state, std::size_t ms) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * ms / 20));
}

// Argument: ms of µ-law (20 = one caller packet; agents send 20 ms to ~1 s per frame).
void BM_Base64Encode(benchmark::State& state) {
  const auto ms = static_cast<std::size_t>(state.range(0));
  const auto audio = mulaw_audio(ms);
  std::string out;
  out.reserve(base64_encoded_size(audio.size()));
  for (auto _ : state) {
    out.clear();
    append_base64(out, audio);
    benchmark::DoNotOptimize(out.data());
  }
  set_frames(state, ms);
}
BENCHMARK(BM_Base64Encode)->ArgsProduct({{20, 100, 1000}});

void BM_Base64Decode(benchmark::State& state) {
  const auto ms = static_cast<std::size_t>(state.range(0));
  std::string encoded;
  append_base64(encoded, mulaw_audio(ms));
  std::vector<std::uint8_t> out(base64_decoded_max(encoded.size()));
  for (auto _ : state) benchmark::DoNotOptimize(decode_base64(encoded, out));
  set_frames(state, ms);
}
BENCHMARK(BM_Base64Decode)->ArgsProduct({{20, 100, 1000}});

// warmline -> agent: one caller packet (20 ms of µ-law) as a `media` frame, base64 included.
void BM_TwilioMediaEncode(benchmark::State& state) {
  const auto audio = mulaw_audio(20);
  auto encoder = make_encoder();
  std::uint64_t timestamp_ms = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(encoder.media(audio, timestamp_ms).data());
    timestamp_ms += 20;
  }
  state.SetLabel(std::to_string(encoder.media(audio, timestamp_ms).size()) + " B frame");
  set_frames(state, 20);
}
BENCHMARK(BM_TwilioMediaEncode);

// agent -> warmline: one `media` frame as a bot sends it, parsed and base64-decoded. Argument: ms of
// audio in the frame.
void BM_TwilioMediaDecode(benchmark::State& state) {
  const auto ms = static_cast<std::size_t>(state.range(0));
  std::string frame = R"({"event":"media","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","media":{"payload":")";
  append_base64(frame, mulaw_audio(ms));
  frame += "\"}}";
  TwilioDecoder decoder;
  for (auto _ : state) {
    auto command = decoder.decode(frame);
    benchmark::DoNotOptimize(command);
  }
  state.SetLabel(std::to_string(frame.size()) + " B frame");
  set_frames(state, ms);
}
BENCHMARK(BM_TwilioMediaDecode)->ArgsProduct({{20, 100, 1000}});

// Caller -> Twilio agent, per RTP packet, without syscalls or WebSocket framing: parse the RTP header,
// pass the PCMU payload through as a `media` frame (no G.711 decode, no resampling), queue the text
// frame for the WebSocket write.
void BM_TwilioCallerToAi(benchmark::State& state) {
  std::vector<std::uint8_t> packet(12 + 160);
  rtp::RtpHeaderFields h;
  h.ssrc = 0x1234;
  rtp::write_rtp_header(packet, h);
  const auto audio = mulaw_audio(20);
  std::copy(audio.begin(), audio.end(), packet.begin() + 12);
  auto encoder = make_encoder();
  WriteQueue queue;
  const std::uint32_t first_timestamp = h.timestamp;
  for (auto _ : state) {
    rtp::RtpPacketView view;
    rtp::parse_rtp(packet, view);
    const std::uint64_t ms = (view.timestamp - first_timestamp) / kMulawBytesPerMs;
    queue.push_text(encoder.media(view.payload, ms), false);
    queue.pop();
  }
  set_frames(state, 20);
}
BENCHMARK(BM_TwilioCallerToAi);

}  // namespace
}  // namespace warmline::ai
