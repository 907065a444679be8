// The framing costs of the provider dialects (ai_bridge/dialect.hpp codecs: Twilio, Telnyx, Plivo, and
// Exotel/Vonage where built): base64, one caller packet as the dialect's `media` frame, and one agent
// audio frame decoded (parse + base64, or the binary view). The whole per-frame paths, with G.711,
// resampling and the WebSocket queue, are in dialect_path_bench; syscalls and WebSocket framing in
// ws_write_bench. Benchmarks are named after the dialect (BM_MediaEncode/twilio).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ai_bridge/base64.hpp"
#include "ai_bridge/dialect.hpp"
#include "bench/agent_frames.hpp"

namespace warmline::ai {
namespace {

using bench::agent_audio_frame;
using bench::make_bench_codec;
using bench::wire_pattern;

// Items are 20 ms frames of audio, so items_per_second reads as frames per second at any chunk size.
void set_frames(benchmark::State& state, std::size_t ms) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * ms / 20));
}

// Argument: ms of µ-law (20 = one caller packet; agents send 20 ms to ~1 s per frame).
void BM_Base64Encode(benchmark::State& state) {
  const auto ms = static_cast<std::size_t>(state.range(0));
  const auto audio = wire_pattern({}, ms);
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
  append_base64(encoded, wire_pattern({}, ms));
  std::vector<std::uint8_t> out(base64_decoded_max(encoded.size()));
  for (auto _ : state) benchmark::DoNotOptimize(decode_base64(encoded, out));
  set_frames(state, ms);
}
BENCHMARK(BM_Base64Decode)->ArgsProduct({{20, 100, 1000}});

// warmline -> agent: one caller packet (20 ms in the dialect's wire encoding) as its media frame.
void BM_MediaEncode(benchmark::State& state, Dialect dialect) {
  auto codec = make_bench_codec(dialect);
  codec->opening();
  const auto audio = wire_pattern(codec->audio(), 20);
  std::uint64_t timestamp_ms = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(codec->media(audio, timestamp_ms).bytes.data());
    timestamp_ms += 20;
  }
  state.SetLabel(std::to_string(codec->media(audio, timestamp_ms).bytes.size()) + " B frame");
  set_frames(state, 20);
}

// agent -> warmline: one audio frame as a bot sends it (bench/agent_frames.hpp), parsed and
// base64-decoded (Vonage: the binary frame's view). Argument: ms of audio in the frame.
void BM_MediaDecode(benchmark::State& state, Dialect dialect) {
  const auto ms = static_cast<std::size_t>(state.range(0));
  auto codec = make_bench_codec(dialect);
  const auto audio = wire_pattern(codec->audio(), ms);
  const bench::AgentFrame frame = agent_audio_frame(dialect, audio);
  std::size_t decoded = 0;
  for (auto _ : state) {
    auto command = frame.binary ? codec->decode_binary(frame.as_bytes()) : codec->decode_text(frame.bytes);
    decoded = std::holds_alternative<WireMedia>(command) ? std::get<WireMedia>(command).audio.size() : 0;
    benchmark::DoNotOptimize(decoded);
  }
  if (decoded != audio.size()) state.SkipWithError("the frame did not decode to its audio");
  state.SetLabel(std::to_string(frame.bytes.size()) + " B frame");
  set_frames(state, ms);
}

// One benchmark per dialect this build has a codec for (Exotel and Vonage land separately).
const bool registered = [] {
  for (Dialect d : bench::kAllDialects) {
    if (!make_bench_codec(d)) continue;
    const std::string name(to_string(d));
    benchmark::RegisterBenchmark(("BM_MediaEncode/" + name).c_str(), BM_MediaEncode, d);
    benchmark::RegisterBenchmark(("BM_MediaDecode/" + name).c_str(), BM_MediaDecode, d)
        ->ArgsProduct({{20, 100, 1000}});
  }
  return true;
}();

}  // namespace
}  // namespace warmline::ai
