// RTP header parse and build per packet (rtp/packet.hpp): the cost every received and sent audio
// packet pays. Arguments: payload bytes (160 = 20 ms G.711, 320 = 20 ms L16/G.722-wide) and CSRC count.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "rtp/packet.hpp"

namespace {

using warmline::rtp::RtpHeaderFields;
using warmline::rtp::RtpPacketView;

std::vector<uint8_t> make_packet(size_t payload, size_t csrc_count) {
  std::array<uint32_t, warmline::rtp::kMaxCsrcs> csrcs{};
  std::vector<uint8_t> packet(warmline::rtp::kRtpHeaderSize + csrc_count * 4 + payload, 0xff);
  const RtpHeaderFields fields{.payload_type = 0, .sequence = 1, .timestamp = 160, .ssrc = 0x12345678,
                               .csrcs = std::span(csrcs).first(csrc_count)};
  warmline::rtp::write_rtp_header(packet, fields);
  return packet;
}

void BM_ParseRtp(benchmark::State& state) {
  const auto packet = make_packet(static_cast<size_t>(state.range(0)), static_cast<size_t>(state.range(1)));
  RtpPacketView view;
  for (auto _ : state) {
    auto status = warmline::rtp::parse_rtp(packet, view);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(view.payload.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(packet.size()));
}
BENCHMARK(BM_ParseRtp)->ArgsProduct({{160, 320}, {0, 2}});

void BM_WriteRtpHeader(benchmark::State& state) {
  std::array<uint32_t, warmline::rtp::kMaxCsrcs> csrcs{};
  std::array<uint8_t, 1500> buffer{};
  RtpHeaderFields fields{.payload_type = 8, .sequence = 0, .timestamp = 0, .ssrc = 0x12345678,
                         .csrcs = std::span(csrcs).first(static_cast<size_t>(state.range(0)))};
  for (auto _ : state) {
    ++fields.sequence;  // what a sender does per packet
    fields.timestamp += 160;
    size_t n = warmline::rtp::write_rtp_header(buffer, fields);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WriteRtpHeader)->Arg(0)->Arg(2);

// A relay's per-packet path: parse the incoming packet, rewrite the header for the other leg, copy the
// payload behind it.
void BM_ParseAndRewrite(benchmark::State& state) {
  const auto packet = make_packet(160, 0);
  std::array<uint8_t, 1500> out{};
  RtpHeaderFields fields{.payload_type = 0, .ssrc = 0x0badcafe};
  RtpPacketView view;
  for (auto _ : state) {
    warmline::rtp::parse_rtp(packet, view);
    fields.sequence = view.sequence;
    fields.timestamp = view.timestamp;
    fields.marker = view.marker;
    size_t n = warmline::rtp::write_rtp_header(out, fields);
    std::copy(view.payload.begin(), view.payload.end(), out.begin() + static_cast<ptrdiff_t>(n));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseAndRewrite);

}  // namespace
