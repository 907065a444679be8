// The cost of one 20 ms frame through the agent socket's audio paths, per provider dialect and beside the
// native protocol (issue 10), without syscalls or WebSocket framing (ws_write_bench has those):
//
//   BM_CallerToAgent/<path>: the caller's RTP payload (PCMU, 160 bytes) to the bytes queued on the
//     WebSocket (ai::WriteQueue, as AgentConnection queues them):
//       native<rate>  PCMU decode (media::Decoder, with its PLC history) + resample 8 kHz -> the agent's
//                     rate + the samples as one binary frame (server/leg/leg_media.cpp on_rtp, then
//                     NativeAgentChannel::send_audio);
//       twilio, telnyx, plivo  PCMU passed through: the codec's media() text frame of the payload as it is
//                     (LegMedia's on_caller_payload, DialectAgentChannel::send_payload);
//       exotel, vonage  decode + resample to the dialect's rate (8 / 16 kHz) + L16 little-endian + the
//                     codec's media() frame (text base64 / binary) (DialectAgentChannel::send_audio).
//   BM_AgentToCaller/<path>/<ms>: the agent's audio frame as received (binary L16 for native and Vonage,
//     the dialect's JSON text otherwise; <ms> of audio in it) to PCM samples at the leg's 8 kHz, ready for
//     the playout buffer's push (which is left out: the same for every path): the codec's decode, G.711
//     decode for the µ-law dialects (DialectAgentChannel::on_frame), L16 bytes to samples
//     (LegMedia::push_agent_audio), resample the agent's rate -> 8 kHz (LegMedia::push_agent_samples).
//
// The conversions of server/agent/dialect_agent_channel.cpp and server/leg/leg_media.cpp are private to
// those classes (they need a shard and a socket), so the steps below are the same library calls in the
// same order (ai_bridge codecs, media::Decoder / g711, media::Resampler, ai::WriteQueue), not the
// classes themselves. Items are 20 ms frames.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ai_bridge/dialect.hpp"
#include "ai_bridge/ws_queue.hpp"
#include "bench/agent_frames.hpp"
#include "media/codec.hpp"
#include "media/g711.hpp"
#include "media/resampler.hpp"

namespace warmline {
namespace {

using ai::Dialect;
using ai::WireEncoding;

constexpr std::size_t kMaxPcm = 48000 * 60 / 1000;  // as server/leg MediaScratch: 60 ms at 48 kHz
constexpr std::uint32_t kLegRate = 8000;             // a PCMU leg

// A path: the native protocol at `agent_rate`, or a dialect (its rate is its codec's).
struct Path {
  std::optional<Dialect> dialect;
  std::uint32_t agent_rate = 8000;
};

std::vector<std::uint8_t> pcmu_payload() {
  std::vector<std::uint8_t> p(160);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 37);
  return p;
}

// Samples to little-endian bytes, as DialectAgentChannel::send_audio writes L16.
std::size_t to_le16(std::span<const std::int16_t> pcm, std::span<std::uint8_t> out) {
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    const auto v = static_cast<std::uint16_t>(pcm[i]);
    out[2 * i] = static_cast<std::uint8_t>(v & 0xff);
    out[2 * i + 1] = static_cast<std::uint8_t>(v >> 8);
  }
  return pcm.size() * 2;
}

// Little-endian bytes to samples, as LegMedia::push_agent_audio reads them (whole samples here).
std::size_t from_le16(std::span<const std::uint8_t> bytes, std::span<std::int16_t> out) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < bytes.size() && n < out.size(); i += 2) {
    out[n++] = static_cast<std::int16_t>(bytes[i] | (bytes[i + 1] << 8));
  }
  return n;
}

// The path's codec (opened: its opening frames written) and wire audio; no codec for native, whose wire
// is binary L16 at the agent's rate.
std::pair<std::unique_ptr<ai::DialectCodec>, ai::WireAudio> open_path(const Path& path) {
  if (!path.dialect) return {nullptr, ai::WireAudio{WireEncoding::kL16, path.agent_rate, true}};
  auto codec = bench::make_bench_codec(*path.dialect);
  codec->opening();
  const ai::WireAudio wire = codec->audio();
  return {std::move(codec), wire};
}

void BM_CallerToAgent(benchmark::State& state, Path path) {
  const auto payload = pcmu_payload();
  auto decoder = media::make_decoder({.name = "PCMU", .clock_rate = kLegRate});
  const auto [codec, wire] = open_path(path);
  // The channel takes the payload as it is when the dialect's wire encoding is the leg's codec.
  const bool pass_through = codec && wire.encoding == WireEncoding::kMulaw && wire.sample_rate == kLegRate;
  auto up = media::Resampler::create({.in_rate_hz = kLegRate, .out_rate_hz = wire.sample_rate});
  ai::WriteQueue queue;
  std::array<std::int16_t, kMaxPcm> pcm{};
  std::array<std::int16_t, kMaxPcm> agent{};
  std::array<std::uint8_t, 2 * kMaxPcm> encoded{};
  std::uint64_t samples_sent = 0;
  std::size_t queued = 0;
  bool binary = true;
  for (auto _ : state) {
    std::span<const std::uint8_t> wire_bytes = payload;
    if (!pass_through) {
      const auto d = decoder->decode(payload, pcm);
      const std::size_t n = up->process(std::span<const std::int16_t>(pcm.data(), d.size), agent);
      const std::span<const std::int16_t> samples(agent.data(), n);
      if (!codec) {  // native: AgentConnection::send_audio queues the samples' bytes as they are
        queue.push_binary({reinterpret_cast<const std::uint8_t*>(samples.data()), samples.size_bytes()});
        queued = queue.begin_write().size();
        queue.end_write();
        continue;
      }
      wire_bytes = std::span<const std::uint8_t>(encoded.data(), to_le16(samples, encoded));
    }
    const std::uint64_t timestamp_ms = samples_sent * 1000 / wire.sample_rate;
    samples_sent += wire.encoding == WireEncoding::kL16 ? wire_bytes.size() / 2 : wire_bytes.size();
    const ai::WireFrame frame = codec->media(wire_bytes, timestamp_ms);
    binary = frame.binary;
    if (frame.binary) {
      queue.push_binary({reinterpret_cast<const std::uint8_t*>(frame.bytes.data()), frame.bytes.size()});
    } else {
      queue.push_text(frame.bytes);
    }
    queued = queue.begin_write().size();  // the frame on the wire: header, mask key, masked payload
    queue.end_write();
  }
  state.SetLabel(std::string(pass_through ? "PCMU pass-through, " : "") + std::to_string(queued) + " B " +
                 (binary ? "binary" : "text"));
  state.SetItemsProcessed(state.iterations());
}

void BM_AgentToCaller(benchmark::State& state, Path path) {
  const auto ms = static_cast<std::size_t>(state.range(0));
  const auto [codec, wire] = open_path(path);
  const auto audio = bench::wire_pattern(wire, ms);
  const bench::AgentFrame frame =
      codec ? bench::agent_audio_frame(*path.dialect, audio) : bench::AgentFrame{std::string(audio.begin(), audio.end()), true};
  auto down = media::Resampler::create({.in_rate_hz = wire.sample_rate, .out_rate_hz = kLegRate});
  std::vector<std::int16_t> samples(wire.sample_rate * ms / 1000);  // the channel's decoded_ / the leg's scratch
  std::array<std::int16_t, kMaxPcm> out{};
  std::size_t ready = 0;
  for (auto _ : state) {
    std::span<const std::uint8_t> bytes = frame.as_bytes();
    if (codec) {
      const ai::DialectCommand command = frame.binary ? codec->decode_binary(bytes) : codec->decode_text(frame.bytes);
      const auto* media = std::get_if<ai::WireMedia>(&command);
      if (media == nullptr) {
        state.SkipWithError("the agent's frame did not decode to audio");
        break;
      }
      bytes = media->audio;
    }
    std::size_t n = 0;
    switch (wire.encoding) {
      case WireEncoding::kMulaw: n = media::g711::decode_ulaw(bytes, samples); break;
      case WireEncoding::kAlaw: n = media::g711::decode_alaw(bytes, samples); break;
      case WireEncoding::kL16: n = from_le16(bytes, samples); break;
    }
    // LegMedia::push_agent_samples resamples in chunks of kMaxPcm / 2 input samples.
    ready = 0;
    for (std::size_t i = 0; i < n; i += kMaxPcm / 2) {
      const auto part = std::span<const std::int16_t>(samples).subspan(i, std::min(kMaxPcm / 2, n - i));
      ready += down->process(part, out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  if (ready != kLegRate * ms / 1000 && !state.error_occurred()) state.SkipWithError("wrong number of samples");
  state.SetLabel(std::to_string(frame.bytes.size()) + " B " + (frame.binary ? "binary" : "text"));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * ms / 20));
}

// native8k, native16k, then one per dialect this build has a codec for (Exotel and Vonage land apart).
const bool registered = [] {
  std::vector<std::pair<std::string, Path>> paths = {{"native8k", {std::nullopt, 8000}},
                                                      {"native16k", {std::nullopt, 16000}}};
  for (Dialect d : bench::kAllDialects) {
    if (bench::make_bench_codec(d)) paths.push_back({std::string(ai::to_string(d)), {d, 0}});
  }
  for (const auto& [name, path] : paths) {
    benchmark::RegisterBenchmark(("BM_CallerToAgent/" + name).c_str(), BM_CallerToAgent, path);
    benchmark::RegisterBenchmark(("BM_AgentToCaller/" + name).c_str(), BM_AgentToCaller, path)->Arg(20)->Arg(100);
  }
  return true;
}();

}  // namespace
}  // namespace warmline
