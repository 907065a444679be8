// Cost of the packet-loss concealer (media/plc.hpp) per 20 ms frame of voiced audio, at 8 kHz (G.711)
// and 16 kHz (G.722): recording a received frame, the first lost frame (pitch search + synthesis), a
// later lost frame (synthesis + fade), and the first good frame after a loss (recovery cross-fade).
// Reproduce: build-rel/bench/plc_bench --benchmark_min_time=0.5 --benchmark_repetitions=3
//            --benchmark_report_aggregates_only=true
// The loss cases time only the call they name (manual timing; the rest of each loss/recovery cycle
// runs untimed), so they include one steady_clock::now() pair (~20-40 ns) each.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <numbers>
#include <vector>

#include "media/plc.hpp"

namespace {

using warmline::media::PacketLossConcealer;

// One second of voiced-speech-like audio: a 140 Hz fundamental gliding to 180 Hz with two harmonics
// and a little noise, so the pitch search and the repetition do real work.
std::vector<int16_t> voiced(uint32_t rate) {
  std::vector<int16_t> out(rate);
  double phase = 0.0;
  uint32_t lcg = 12345;
  for (size_t i = 0; i < out.size(); ++i) {
    lcg = lcg * 1664525 + 1013904223;
    phase += 2.0 * std::numbers::pi * (140.0 + 40.0 * static_cast<double>(i) / rate) / rate;
    out[i] = static_cast<int16_t>(6000 * std::sin(phase) + 3000 * std::sin(2 * phase + 0.7) +
                                  1500 * std::sin(3 * phase + 1.9) + static_cast<int>(lcg >> 24) - 128);
  }
  return out;
}

// Feeds the source frame by frame, wrapping around; the frames are copies (rx may modify them).
class Feed {
 public:
  explicit Feed(uint32_t rate) : source_(voiced(rate)), frame_(rate / 50), buf_(frame_) {}
  std::span<int16_t> next() {
    if (pos_ + frame_ > source_.size()) pos_ = 0;
    std::copy_n(source_.begin() + static_cast<std::ptrdiff_t>(pos_), frame_, buf_.begin());
    pos_ += frame_;
    return buf_;
  }

 private:
  std::vector<int16_t> source_;
  size_t frame_;
  std::vector<int16_t> buf_;
  size_t pos_ = 0;
};

double seconds_of(auto&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void label(benchmark::State& state, uint32_t rate) { state.SetLabel(std::to_string(rate / 1000) + " kHz, 20 ms"); }

// Every frame received: the cost every G.711/G.722 packet pays for having concealment ready.
void BM_PlcRx(benchmark::State& state) {
  const auto rate = static_cast<uint32_t>(state.range(0));
  PacketLossConcealer plc(rate);
  Feed feed(rate);
  for (auto _ : state) {
    auto frame = feed.next();
    plc.rx(frame);
    benchmark::DoNotOptimize(frame.data());
  }
  label(state, rate);
}

// One loss cycle per iteration: 3 good frames, then `lost` lost frames; `timed` picks the call measured:
// 0 = the first lost frame, 1 = the second lost frame, 2 = the first good frame after the loss.
void loss_cycle(benchmark::State& state, int timed) {
  const auto rate = static_cast<uint32_t>(state.range(0));
  PacketLossConcealer plc(rate);
  Feed feed(rate);
  std::vector<int16_t> lost(rate / 50);
  for (auto _ : state) {
    for (int i = 0; i < 3; ++i) plc.rx(feed.next());
    double t = seconds_of([&] { plc.fillin(lost); });
    if (timed == 0) state.SetIterationTime(t);
    t = seconds_of([&] { plc.fillin(lost); });
    if (timed == 1) state.SetIterationTime(t);
    t = seconds_of([&] { plc.rx(feed.next()); });
    if (timed == 2) state.SetIterationTime(t);
    benchmark::DoNotOptimize(lost.data());
  }
  label(state, rate);
}

void BM_PlcFillinFirst(benchmark::State& state) { loss_cycle(state, 0); }
void BM_PlcFillinSecond(benchmark::State& state) { loss_cycle(state, 1); }
void BM_PlcRxAfterLoss(benchmark::State& state) { loss_cycle(state, 2); }

BENCHMARK(BM_PlcRx)->Arg(8000)->Arg(16000);
BENCHMARK(BM_PlcFillinFirst)->Arg(8000)->Arg(16000)->UseManualTime();
BENCHMARK(BM_PlcFillinSecond)->Arg(8000)->Arg(16000)->UseManualTime();
BENCHMARK(BM_PlcRxAfterLoss)->Arg(8000)->Arg(16000)->UseManualTime();

}  // namespace
