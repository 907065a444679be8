// One media-clock tick over N active calls on one shard. Each call is the warm-transfer hold case:
// two G.711 legs' worth of work with hold music - the caller's packet is taken from its jitter buffer
// and decoded, the hold music is read from the shared clip, the mixer sends music to the caller and the
// caller to the AI, the caller's output is PCMU-encoded, and the AI's stream is resampled to 16 kHz.
// Goal (issue 3): 1,000 calls under 2 ms of one core per 20 ms tick.
// Reproduce: build-*/bench/media_clock_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <memory>
#include <vector>

#include "media/codec.hpp"
#include "media/media_clock.hpp"
#include "media/mixer.hpp"
#include "media/resampler.hpp"
#include "media/source.hpp"
#include "rtp/jitter_buffer.hpp"

namespace {

using namespace std::chrono_literals;
using warmline::media::MediaClock;

enum Port : size_t { kCaller = 0, kAi = 1, kMusic = 2 };
enum Mode : int64_t { kFull = 0, kNoResample = 1, kEmpty = 2 };

std::shared_ptr<const warmline::media::AudioClip> music_clip() {
  auto clip = std::make_shared<warmline::media::AudioClip>();
  clip->rate_hz = 8000;
  clip->samples.resize(8000 * 16);
  for (size_t i = 0; i < clip->samples.size(); ++i) clip->samples[i] = static_cast<int16_t>((i * 37) % 4000 - 2000);
  return clip;
}

struct HoldCall final : MediaClock::Participant {
  HoldCall(std::shared_ptr<const warmline::media::AudioClip> clip, Mode mode)
      : dec(warmline::media::make_decoder({.name = "PCMU", .clock_rate = 8000})),
        enc(warmline::media::make_encoder({.name = "PCMU", .clock_rate = 8000})), jb({}, *dec),
        music(std::move(clip), true), to_ai(*warmline::media::Resampler::create({.in_rate_hz = 8000, .out_rate_hz = 16000})),
        mode(mode) {
    mixer.connect(kCaller, kMusic);
    mixer.connect(kCaller, kAi);
    mixer.connect(kAi, kCaller);
  }

  void on_media_tick(uint64_t) override {
    if (mode == kEmpty) return;
    jb.get(mixer.input(kCaller));
    mixer.commit(kCaller);
    music.read(mixer.input(kMusic));
    mixer.commit(kMusic);
    mixer.mix();  // the AI is silent while the caller holds: caller hears the music alone (fast path)
    benchmark::DoNotOptimize(enc->encode(mixer.output(kCaller), payload));
    if (mode == kFull) benchmark::DoNotOptimize(to_ai.process(mixer.output(kAi).samples(), ai_pcm));
  }

  std::unique_ptr<warmline::media::Decoder> dec;
  std::unique_ptr<warmline::media::Encoder> enc;
  warmline::rtp::JitterBuffer jb;
  warmline::media::Mixer mixer;
  warmline::media::ClipSource music;
  warmline::media::Resampler to_ai;
  Mode mode;
  std::array<uint8_t, 160> payload{};
  std::array<int16_t, 400> ai_pcm{};
};

// range(0): calls; range(1): Mode.
void BM_MediaClockTick(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto mode = static_cast<Mode>(state.range(1));
  const auto clip = music_clip();
  const auto start = std::chrono::steady_clock::time_point(1000s);
  MediaClock clock(start);
  std::vector<std::unique_ptr<HoldCall>> calls;
  for (size_t c = 0; c < n; ++c) {
    calls.push_back(std::make_unique<HoldCall>(clip, mode));
    clock.add(calls.back().get());
  }
  const std::vector<uint8_t> packet(160, 0x55);
  auto deliver = [&](uint32_t seq) {  // one RTP packet per call, as the sockets would between ticks
    for (auto& call : calls) {
      call->jb.put({.ssrc = 7, .sequence = static_cast<uint16_t>(seq), .timestamp = 160 * seq, .payload = packet,
                    .arrival = start + std::chrono::milliseconds(20 * seq)});
    }
  };
  uint32_t seq = 0;
  for (; seq < 3; ++seq) deliver(seq);
  auto now = start;
  for (auto _ : state) {
    state.PauseTiming();
    deliver(seq++);
    state.ResumeTiming();
    now = clock.tick(now);
  }
  state.counters["per_call_ns"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["concealed"] = static_cast<double>(calls.front()->jb.stats().concealed_frames);
  state.SetLabel(mode == kFull ? "full" : mode == kNoResample ? "no-resample" : "empty");
}
BENCHMARK(BM_MediaClockTick)->ArgsProduct({{1000}, {kFull, kNoResample, kEmpty}})->Unit(benchmark::kMicrosecond);

}  // namespace
