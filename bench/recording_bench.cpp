// What recording adds per recorded call and 20 ms (docs/recording.md), on the call's shard: the
// recorder joins the caller's packet (left) and the frame sent to the caller (right) into one stereo
// frame and hands it to the writer's ring (BM_RecorderFrame). A relayed bridge (the common case after
// a transfer) also decodes the target's PCMU packet for the recording alone (BM_RecorderFrameRelayed).
// The writer thread writes the file meanwhile, as it would (its cost is off the shard, not timed);
// frames it could not take in time are dropped, not waited for, and reported as `dropped`.
#include <benchmark/benchmark.h>

#include <stdlib.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "media/codec.hpp"
#include "server/recording/call_recorder.hpp"

namespace warmline::server {
namespace {

std::string temp_wav() {
  std::string pattern = (std::filesystem::temp_directory_path() / "warmline-rec-bench-XXXXXX").string();
  if (!mkdtemp(pattern.data())) return "/tmp/warmline-rec-bench.wav";
  return pattern + "/call.wav";
}

void run(benchmark::State& state, bool relayed) {
  RecordingMetrics metrics;
  const std::string path = temp_wav();
  {
    RecordingWriter writer(1, metrics);
    CallRecorder recorder(writer, 0, path, 8000);
    auto decoder = media::make_decoder({.name = "PCMU", .clock_rate = 8000});
    std::vector<int16_t> caller(160, 1000), heard(160, -1000), decoded(960);
    std::array<uint8_t, 160> payload{};
    payload.fill(0x55);
    for (auto _ : state) {
      recorder.incoming(caller);
      if (relayed) {
        auto d = decoder->decode(payload, std::span<int16_t>(decoded));
        recorder.outgoing(std::span<const int16_t>(decoded.data(), d.size));
      } else {
        recorder.outgoing(heard);
      }
    }
    state.counters["dropped"] = static_cast<double>(metrics.dropped_frames.load());
  }
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(path).parent_path(), ec);
}

void BM_RecorderFrame(benchmark::State& state) { run(state, false); }
void BM_RecorderFrameRelayed(benchmark::State& state) { run(state, true); }
BENCHMARK(BM_RecorderFrame);
BENCHMARK(BM_RecorderFrameRelayed);

}  // namespace
}  // namespace warmline::server
