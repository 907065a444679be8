// The two per-packet paths of a call, end to end minus the syscalls (DESIGN.md "the packet paths"),
// built from the same pieces server/call_media.cpp uses:
//   caller -> AI: parse the RTP header, decode G.711, resample to the agent's rate, write L16
//                 little-endian into the WebSocket write queue (one frame per packet);
//   AI -> caller: one media-clock tick: pull 20 ms from the playout buffer, resample to 8 kHz, encode
//                 G.711, write the RTP header.
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
    queue.push_binary(std::span<const uint8_t>(bytes.data(), 2 * n), false);
    queue.pop();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RtpToWebSocketFrame)->Arg(8000)->Arg(16000)->Arg(24000);

void BM_PlayoutTickToRtp(benchmark::State& state) {
  const auto agent_rate = static_cast<uint32_t>(state.range(0));
  const size_t frame = agent_rate / 50;
  ai::PlayoutBuffer playout({.capacity_samples = agent_rate * 2, .max_pending_marks = 16, .on_mark = {}});
  auto down = media::Resampler::create({.in_rate_hz = agent_rate, .out_rate_hz = 8000});
  auto encoder = media::make_encoder({.name = "PCMU", .clock_rate = 8000});
  std::vector<int16_t> speech(agent_rate, 1000);
  std::array<int16_t, 960> out{};
  std::array<int16_t, 960> narrow{};
  std::array<uint8_t, 1500> packet{};
  rtp::RtpHeaderFields h;
  h.ssrc = 0x1234;
  for (auto _ : state) {
    if (playout.queued_samples() < frame) playout.push(speech);
    playout.pull(std::span<int16_t>(out.data(), frame));
    down->process(std::span<const int16_t>(out.data(), frame), narrow);
    size_t header = rtp::write_rtp_header(packet, h);
    auto e = encoder->encode(std::span<const int16_t>(narrow.data(), 160), std::span<uint8_t>(packet).subspan(header));
    benchmark::DoNotOptimize(e.size);
    ++h.sequence;
    h.timestamp += 160;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PlayoutTickToRtp)->Arg(8000)->Arg(16000)->Arg(24000);

}  // namespace
}  // namespace warmline
