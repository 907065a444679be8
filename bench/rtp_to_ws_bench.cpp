// The two per-packet paths of a call, end to end minus the syscalls (DESIGN.md "the packet paths"),
// built from the same pieces server/leg/leg_media.cpp uses:
//   caller -> AI: parse the RTP header, decode G.711, resample to the agent's rate, write L16
//                 little-endian into the WebSocket write queue (one frame per packet);
//   AI -> caller: the agent's frame is resampled to 8 kHz into the playout buffer on arrival; each
//                 media-clock tick then pulls 20 ms, encodes G.711 and writes the RTP header.
// Arguments: the agent's sample rate.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "ai_bridge/playout_buffer.hpp"
#include "ai_bridge/ws_queue.hpp"
#include "media/codec.hpp"
#include "media/resampler.hpp"
#include "rtp/packet.hpp"

namespace warmline {
namespace {

std::vector<uint8_t> pcmu_packet() {
  std::vector<uint8_t> p(12 + 160);
  rtp::RtpHeaderFields h;
  h.payload_type = 0;
  h.sequence = 1;
  h.timestamp = 160;
  h.ssrc = 0x1234;
  rtp::write_rtp_header(p, h);
  for (size_t i = 12; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 37);
  return p;
}

void BM_RtpToWebSocketFrame(benchmark::State& state) {
  const auto agent_rate = static_cast<uint32_t>(state.range(0));
  const auto packet = pcmu_packet();
  auto decoder = media::make_decoder({.name = "PCMU", .clock_rate = 8000});
  auto up = media::Resampler::create({.in_rate_hz = 8000, .out_rate_hz = agent_rate});
  ai::WriteQueue queue;
  std::array<int16_t, 960> pcm{};
  std::array<int16_t, 960> agent{};
  std::array<uint8_t, 1920> bytes{};
  for (auto _ : state) {
    rtp::RtpPacketView view;
    rtp::parse_rtp(packet, view);
    auto d = decoder->decode(view.payload, pcm);
    size_t n = up->process(std::span<const int16_t>(pcm.data(), d.size), agent);
    for (size_t i = 0; i < n; ++i) {
      bytes[2 * i] = static_cast<uint8_t>(agent[i] & 0xff);
      bytes[2 * i + 1] = static_cast<uint8_t>((agent[i] >> 8) & 0xff);
    }
    queue.push_binary(std::span<const uint8_t>(bytes.data(), 2 * n));  // framed and masked in place
    benchmark::DoNotOptimize(queue.begin_write());
    queue.end_write();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RtpToWebSocketFrame)->Arg(8000)->Arg(16000)->Arg(24000);

// AI -> caller, part 1: one 20 ms frame of the agent's audio arrives and is resampled to 8 kHz into
// the playout buffer (on arrival, not on the tick).
void BM_AgentFrameToPlayout(benchmark::State& state) {
  const auto agent_rate = static_cast<uint32_t>(state.range(0));
  const size_t frame = agent_rate / 50;
  ai::PlayoutBuffer playout({.capacity_samples = 8000, .max_pending_marks = 16, .on_mark = {}});
  auto down = media::Resampler::create({.in_rate_hz = agent_rate, .out_rate_hz = 8000});
  std::vector<int16_t> speech(frame, 1000);
  std::array<int16_t, 960> narrow{};
  std::array<int16_t, 160> sink{};
  for (auto _ : state) {
    size_t n = down->process(speech, narrow);
    playout.push(std::span<const int16_t>(narrow.data(), n));
    if (playout.queued_samples() > 4000) playout.pull(sink);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AgentFrameToPlayout)->Arg(8000)->Arg(16000)->Arg(24000);

// AI -> caller, part 2: one media-clock tick of one call: pull 20 ms at 8 kHz, encode G.711, write
// the RTP header. This is what the shard's tick pays per call.
void BM_PlayoutTickToRtp(benchmark::State& state) {
  ai::PlayoutBuffer playout({.capacity_samples = 16000, .max_pending_marks = 16, .on_mark = {}});
  auto encoder = media::make_encoder({.name = "PCMU", .clock_rate = 8000});
  std::vector<int16_t> speech(8000, 1000);
  std::array<int16_t, 160> pcm{};
  std::array<uint8_t, 1500> packet{};
  rtp::RtpHeaderFields h;
  h.ssrc = 0x1234;
  for (auto _ : state) {
    if (playout.queued_samples() < pcm.size()) playout.push(speech);
    playout.pull(pcm);
    size_t header = rtp::write_rtp_header(packet, h);
    auto e = encoder->encode(pcm, std::span<uint8_t>(packet).subspan(header));
    benchmark::DoNotOptimize(e.size);
    ++h.sequence;
    h.timestamp += 160;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PlayoutTickToRtp);

}  // namespace
}  // namespace warmline
