// Per-20 ms-frame cost of each codec (encode, decode, PLC) and of resampling between the engine rates.
// Reproduce: build-*/bench/media_codec_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "media/codec.hpp"
#include "media/resampler.hpp"

namespace {

using warmline::media::CodecParams;

// Speech-like test signal: two tones plus a little deterministic noise, so codecs do real work.
std::vector<int16_t> signal(uint32_t rate, size_t n) {
  std::vector<int16_t> s(n);
  uint32_t lcg = 12345;
  for (size_t i = 0; i < n; ++i) {
    lcg = lcg * 1664525 + 1013904223;
    const double t = static_cast<double>(i) / rate;
    s[i] = static_cast<int16_t>(5000 * std::sin(2 * M_PI * 220 * t) + 2500 * std::sin(2 * M_PI * 1300 * t) +
                                static_cast<int>(lcg >> 24) - 128);
  }
  return s;
}

struct Case {
  const char* name;
  uint32_t clock;
  uint32_t pcm_rate;
};
const Case kCases[] = {{"PCMU", 8000, 8000}, {"PCMA", 8000, 8000}, {"G722", 8000, 16000},
                       {"opus", 48000, 16000}, {"opus", 48000, 48000}};

void BM_Encode(benchmark::State& state) {
  const Case c = kCases[state.range(0)];
  auto enc = warmline::media::make_encoder(CodecParams{.name = c.name, .clock_rate = c.clock, .pcm_rate_hz = c.pcm_rate});
  const size_t frame = c.pcm_rate / 50;
  const auto pcm = signal(c.pcm_rate, frame * 50);
  std::vector<uint8_t> out(1500);
  size_t i = 0;
  for (auto _ : state) {
    auto r = enc->encode(std::span(pcm).subspan((i++ % 50) * frame, frame), out);
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(std::string(c.name) + "@" + std::to_string(c.pcm_rate));
}

// Encodes 1 s first, then decodes the packets round-robin.
void BM_Decode(benchmark::State& state) {
  const Case c = kCases[state.range(0)];
  const CodecParams params{.name = c.name, .clock_rate = c.clock, .pcm_rate_hz = c.pcm_rate};
  auto enc = warmline::media::make_encoder(params);
  auto dec = warmline::media::make_decoder(params);
  const size_t frame = c.pcm_rate / 50;
  const auto pcm = signal(c.pcm_rate, frame * 50);
  std::vector<std::vector<uint8_t>> packets;
  std::vector<uint8_t> out(1500);
  for (size_t k = 0; k < 50; ++k) {
    const auto r = enc->encode(std::span(pcm).subspan(k * frame, frame), out);
    packets.emplace_back(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.size));
  }
  std::vector<int16_t> dst(frame);
  size_t i = 0;
  for (auto _ : state) {
    auto r = dec->decode(packets[i++ % 50], dst);
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(std::string(c.name) + "@" + std::to_string(c.pcm_rate));
}

void BM_Conceal(benchmark::State& state) {
  const Case c = kCases[state.range(0)];
  auto dec = warmline::media::make_decoder(CodecParams{.name = c.name, .clock_rate = c.clock, .pcm_rate_hz = c.pcm_rate});
  std::vector<int16_t> dst(c.pcm_rate / 50);
  for (auto _ : state) {
    auto r = dec->conceal(dst);
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(std::string(c.name) + "@" + std::to_string(c.pcm_rate));
}

BENCHMARK(BM_Encode)->DenseRange(0, 4);
BENCHMARK(BM_Decode)->DenseRange(0, 4);
BENCHMARK(BM_Conceal)->DenseRange(0, 4);

// One 20 ms frame through a stateful SpeexDSP resampler at the VoIP quality (3).
void BM_Resample(benchmark::State& state) {
  const auto in_rate = static_cast<uint32_t>(state.range(0));
  const auto out_rate = static_cast<uint32_t>(state.range(1));
  auto r = warmline::media::Resampler::create({.in_rate_hz = in_rate, .out_rate_hz = out_rate});
  const auto pcm = signal(in_rate, in_rate / 50);
  std::vector<int16_t> out(r->output_size(pcm.size()));
  for (auto _ : state) {
    benchmark::DoNotOptimize(r->process(pcm, out));
  }
  state.SetLabel(std::to_string(in_rate / 1000) + "k->" + std::to_string(out_rate / 1000) + "k");
}
BENCHMARK(BM_Resample)->ArgsProduct({{8000, 16000, 48000}, {8000, 16000, 48000}});

}  // namespace
