// What the media path pays for its latency histograms (docs/operations.md "Metrics"): one observation
// per frame sent to the caller (warmline_ai_to_caller_seconds), with the clock read it needs, and the
// summed Prometheus text that GET /metrics renders. No timing assertion anywhere: the figures are in
// bench/README.md.
#include <benchmark/benchmark.h>

#include <chrono>

#include "server/metrics.hpp"

namespace {

using warmline::server::FrameLatencyHistogram;

void BM_FrameHistogramObserve(benchmark::State& state) {
  FrameLatencyHistogram h;
  double v = 0.00005;
  for (auto _ : state) {
    h.observe(v);
    v = v < 0.4 ? v * 1.7 : 0.00005;  // walk every bucket
  }
  benchmark::DoNotOptimize(h.count.load());
}
BENCHMARK(BM_FrameHistogramObserve);

void BM_FrameHistogramObserveWithClockRead(benchmark::State& state) {
  FrameLatencyHistogram h;
  const auto deadline = std::chrono::steady_clock::now();
  for (auto _ : state) h.observe(std::chrono::steady_clock::now() - deadline);
  benchmark::DoNotOptimize(h.count.load());
}
BENCHMARK(BM_FrameHistogramObserveWithClockRead);

}  // namespace
