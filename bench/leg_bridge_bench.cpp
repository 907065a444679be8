// A bridged call's packet path (MediaSession::bridge_to), with real sockets on 127.0.0.1:
//   party A --RTP--> leg a's socket -> [relay or transcode] -> leg b's socket --RTP--> party B
// One iteration = one 20 ms packet all the way: A's sendto, the leg's receive, the relay (or decode +
// resample + playout, then the tick's encode), leg b's sendto, B's receive. BM_LoopbackFloor does only
// A's sendto and B's receive straight to each other: subtract it to get what the gateway adds.
// BM_HeldCallerTick: a caller's tick on hold (warm transfers) against one not held.
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <memory>
#include <vector>

#include "rtp/packet.hpp"
#include "server/leg/hold_music.hpp"
#include "server/leg/leg_media.hpp"

namespace warmline::server {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

udp::endpoint loopback(uint16_t port) { return {asio::ip::make_address("127.0.0.1"), port}; }

struct Party {
  udp::socket socket;
  std::array<uint8_t, 12 + 160> packet{};
  std::array<uint8_t, 1500> in{};
  uint16_t seq = 0;
  uint32_t ts = 0;
  explicit Party(asio::io_context& io) : socket(io, loopback(0)) {}
  void send(const udp::endpoint& to) {
    rtp::write_rtp_header(packet, {.payload_type = 0, .sequence = seq++, .timestamp = ts, .ssrc = 0xabcdef});
    ts += 160;
    socket.send_to(asio::buffer(packet), to);
  }
  size_t receive() { return socket.receive(asio::buffer(in)); }  // blocking: the packet is on its way
};

std::unique_ptr<LegMedia> open_leg(asio::io_context& io, rtp::PortAllocator& ports, MediaScratch& scratch,
                                   const char* codec, uint8_t pt, const udp::endpoint& remote,
                                   const HoldMusic* hold_music = nullptr) {
  std::error_code ec;
  LegMediaOptions o{.codec_name = codec, .clock_rate = 8000, .payload_type = pt, .telephone_event_pt = 101,
                    .local_ip = "127.0.0.1", .remote = remote, .agent_rate = 16000, .ports = &ports,
                    .scratch = &scratch, .random_seed = 1, .hold_music = hold_music};
  auto m = LegMedia::open(io, std::move(o), LegMediaHandlers{}, ec);
  if (m) m->start();
  return m;
}

void BM_LoopbackFloor(benchmark::State& state) {
  asio::io_context io;
  Party a(io), b(io);
  for (auto _ : state) {
    a.send(b.socket.local_endpoint());
    benchmark::DoNotOptimize(b.receive());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LoopbackFloor);

// Arg 0: both legs PCMU (relayed, no decoding). Arg 1: PCMU -> PCMA (decoded, played out on the tick).
void BM_BridgedPacket(benchmark::State& state) {
  const bool transcode = state.range(0) == 1;
  asio::io_context io;
  rtp::PortAllocator ports({.min = 44000, .max = 44099});
  auto scratch = std::make_unique<MediaScratch>();
  Party pa(io), pb(io);
  auto a = open_leg(io, ports, *scratch, "PCMU", 0, pa.socket.local_endpoint());
  auto b = open_leg(io, ports, *scratch, transcode ? "PCMA" : "PCMU", transcode ? 8 : 0, pb.socket.local_endpoint());
  if (!a || !b) {
    state.SkipWithError("no RTP port");
    return;
  }
  a->bridge_to(b.get());
  const udp::endpoint to_a = loopback(a->local_port());
  uint64_t tick = 0;
  for (auto _ : state) {
    pa.send(to_a);
    io.run_one();  // leg a's receive: relayed to B, or queued on leg b for its tick
    if (transcode) b->on_media_tick(tick++);
    benchmark::DoNotOptimize(pb.receive());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BridgedPacket)->Arg(0)->Arg(1);

// One media tick of a caller's PCMU leg and the caller's receive. Arg 0: not held, nothing queued
// (encoded silence from the empty playout). Arg 1: held with music (a copy from the shared clip).
// Arg 2: held with silence.
void BM_HeldCallerTick(benchmark::State& state) {
  asio::io_context io;
  rtp::PortAllocator ports({.min = 44100, .max = 44199});
  auto scratch = std::make_unique<MediaScratch>();
  auto clip = std::make_shared<media::AudioClip>();
  clip->samples.resize(8000 * 16);
  for (size_t i = 0; i < clip->samples.size(); ++i) clip->samples[i] = static_cast<int16_t>((i * 37) % 4000 - 2000);
  auto music = HoldMusic::from_clips("bench", {clip});
  Party caller(io);
  auto leg = open_leg(io, ports, *scratch, "PCMU", 0, caller.socket.local_endpoint(), music.get());
  if (!leg) {
    state.SkipWithError("no RTP port");
    return;
  }
  if (state.range(0) == 1) leg->set_hold(HoldAudio::kMusic);
  if (state.range(0) == 2) leg->set_hold(HoldAudio::kSilence);
  uint64_t tick = 0;
  for (auto _ : state) {
    leg->on_media_tick(tick++);
    benchmark::DoNotOptimize(caller.receive());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeldCallerTick)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace warmline::server
