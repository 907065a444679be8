// Per-20 ms-tick cost of the mixer: the single-input fast path, a two-party bridge with hold music
// (caller hears music + AI, AI hears caller), and a three-party conference.
// Reproduce: build-*/bench/media_mixer_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include "media/mixer.hpp"

namespace {

using warmline::media::Mixer;

void fill(Mixer& m, size_t port, int16_t base) {
  auto s = m.input(port).samples();
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<int16_t>(base + static_cast<int>(i % 97) * 50);
}

// range(0): sample rate.
void BM_MixFastPath(benchmark::State& state) {
  Mixer m({static_cast<uint32_t>(state.range(0)), 20});
  m.connect(1, 0);
  fill(m, 0, 100);
  for (auto _ : state) {
    m.commit(0);
    m.mix();
    benchmark::DoNotOptimize(m.output(1)[0]);
  }
}

void BM_MixTwoPartyWithMusic(benchmark::State& state) {
  Mixer m({static_cast<uint32_t>(state.range(0)), 20});
  m.connect(0, 2);  // caller hears music
  m.connect(0, 1);  // ... and the AI
  m.connect(1, 0);  // AI hears the caller only
  m.set_gain(2, 0.5);
  for (size_t p = 0; p < 3; ++p) fill(m, p, static_cast<int16_t>(1000 * p));
  for (auto _ : state) {
    for (size_t p = 0; p < 3; ++p) m.commit(p);
    m.mix();
    benchmark::DoNotOptimize(m.output(0)[0]);
  }
}

void BM_MixThreeParty(benchmark::State& state) {
  Mixer m({static_cast<uint32_t>(state.range(0)), 20});
  for (size_t l = 0; l < 3; ++l) {
    for (size_t s = 0; s < 3; ++s) m.connect(l, s);
  }
  for (size_t p = 0; p < 3; ++p) fill(m, p, static_cast<int16_t>(1000 * p));
  for (auto _ : state) {
    for (size_t p = 0; p < 3; ++p) m.commit(p);
    m.mix();
    benchmark::DoNotOptimize(m.output(2)[0]);
  }
}

BENCHMARK(BM_MixFastPath)->Arg(8000)->Arg(16000)->Arg(48000);
BENCHMARK(BM_MixTwoPartyWithMusic)->Arg(8000)->Arg(16000)->Arg(48000);
BENCHMARK(BM_MixThreeParty)->Arg(8000)->Arg(16000)->Arg(48000);

}  // namespace
