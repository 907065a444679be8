// The per-frame costs that live in ai_bridge: caller audio into the WebSocket write queue (one 20 ms
// L16 frame per RTP packet), agent commands out of the JSON decoder, and agent audio through the
// playout buffer on the media clock.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "ai_bridge/native_protocol.hpp"
#include "ai_bridge/playout_buffer.hpp"
#include "ai_bridge/ws_queue.hpp"

namespace warmline::ai {
namespace {

std::vector<std::uint8_t> frame_bytes(std::int64_t sample_rate) {
  return std::vector<std::uint8_t>(static_cast<std::size_t>(sample_rate / 50 * 2), 0x5a);
}

// Steady state: the socket keeps up, so each frame is queued into a free slot and written out.
void BM_QueueL16Frame(benchmark::State& state) {
  const auto frame = frame_bytes(state.range(0));
  WriteQueue queue;
  for (auto _ : state) {
    benchmark::DoNotOptimize(queue.push_binary(frame));
    benchmark::DoNotOptimize(queue.begin_write());
    queue.end_write();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_QueueL16Frame)->ArgsProduct({{8000, 16000, 24000}});

// Backlog: a write is in flight, so frames coalesce behind it until the coalescing limit.
void BM_QueueL16FrameCoalesced(benchmark::State& state) {
  const auto frame = frame_bytes(state.range(0));
  WriteQueue queue;
  queue.push_text("in flight");
  queue.begin_write();
  for (auto _ : state) {
    if (!queue.push_binary(frame)) {
      state.PauseTiming();
      queue.end_write();  // the backlog becomes the write in flight; a new one gathers
      queue.begin_write();
      queue.end_write();
      queue.push_text("in flight");
      queue.begin_write();
      state.ResumeTiming();
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_QueueL16FrameCoalesced)->ArgsProduct({{8000, 16000, 24000}});

void BM_DecodeCommand(benchmark::State& state) {
  static const std::vector<std::string> kFrames = {
      R"({"type":"mark","name":"utterance-17"})",
      R"({"type":"say","text":"Thanks for calling. Let me check that order for you, it will take a moment."})",
      R"({"type":"transfer","id":"t1","mode":"warm","targets":["Craig","101","tel:+27115550100"],)"
      R"("briefing":"Caller wants a refund for order 42","screening":"dtmf","hold":"music",)"
      R"("ring_timeout_s":20,"headers":{"X-Case":"42"}})",
  };
  const std::string& frame = kFrames[static_cast<std::size_t>(state.range(0))];
  CommandDecoder decoder;
  for (auto _ : state) {
    Command c = decoder.decode(frame);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
  state.SetLabel(frame.substr(9, frame.find('"', 9) - 9));
}
BENCHMARK(BM_DecodeCommand)->DenseRange(0, 2);

// Agent audio arrives in large chunks and leaves one 20 ms frame per media-clock tick.
void BM_PlayoutPushPull(benchmark::State& state) {
  const auto rate = static_cast<int>(state.range(0));
  const std::size_t frame_samples = PlayoutBuffer::samples_for_ms(rate, 20);
  PlayoutBuffer buffer({.capacity_samples = PlayoutBuffer::samples_for_ms(rate, 60000), .max_pending_marks = 16,
                        .on_mark = {}});
  const std::vector<std::int16_t> chunk(frame_samples * 10, 7);
  std::vector<std::int16_t> frame(frame_samples);
  for (auto _ : state) {
    if (buffer.queued_samples() < frame_samples) buffer.push(chunk);
    benchmark::DoNotOptimize(buffer.pull(frame));
  }
}
BENCHMARK(BM_PlayoutPushPull)->ArgsProduct({{8000, 16000, 24000}});

}  // namespace
}  // namespace warmline::ai
