// Jitter buffer cost per 20 ms frame: one put() of a PCMU packet and one get() (including the G.711
// decode and PLC history), in order and with reordering.
// Reproduce: build-*/bench/jitter_buffer_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "media/codec.hpp"
#include "rtp/jitter_buffer.hpp"

namespace {

using namespace std::chrono_literals;

// range(0): 0 = in order, 1 = adjacent pairs swapped.
void BM_JitterPutGet(benchmark::State& state) {
  auto dec = warmline::media::make_decoder({.name = "PCMU", .clock_rate = 8000});
  warmline::rtp::JitterBuffer jb({}, *dec);
  const std::vector<uint8_t> payload(160, 0x55);
  const bool swap = state.range(0) != 0;
  warmline::media::Frame out;
  const auto t0 = std::chrono::steady_clock::time_point(1000s);
  uint32_t i = 0;
  // Prime with two packets so every iteration is steady state.
  for (; i < 2; ++i) jb.put({.ssrc = 1, .sequence = static_cast<uint16_t>(i), .timestamp = 160 * i, .payload = payload, .arrival = t0});
  for (auto _ : state) {
    const uint32_t k = swap ? (i ^ 1U) : i;
    jb.put({.ssrc = 1, .sequence = static_cast<uint16_t>(k), .timestamp = 160 * k, .payload = payload,
            .arrival = t0 + std::chrono::milliseconds(20 * i)});
    benchmark::DoNotOptimize(jb.get(out));
    ++i;
  }
  state.counters["lost"] = static_cast<double>(jb.stats().lost);
}
BENCHMARK(BM_JitterPutGet)->Arg(0)->Arg(1);

}  // namespace
