// A shard's media work for 1,000 calls in each phase of a warm transfer (issue 9), with real LegMedia
// and real sockets on 127.0.0.1: two legs per call (the caller's and the target's), each with its
// party's socket. One iteration is 20 ms of all the calls: every party's RTP packet arrives and is
// received (io.poll: the relay, or the decode and resample for the other leg and for the agent), the
// agent's 20 ms of audio arrives where the phase sends it (resampled to the leg's rate), and one media
// tick runs on every leg (hold music, the agent's audio, the three-way mix, encode, send).
// The parties' sends are outside the timing; the legs' sends (sendto) are inside: they are the
// shard's. What reaches the agent is counted, not written to a WebSocket (ws_write_bench has that).
//
//   phase 0 relay    — caller <-> target bridged, same codec: packets relayed, nothing decoded
//   phase 1 consult  — the caller held with music (its audio not decoded), the agent <-> the target:
//                      the target's packets decoded for the agent, the agent's audio played to it
//   phase 2 three-way— introduce: both legs decode the other's audio, mix it with the agent's, and
//                      tap their own for the agent, joined into mono (AgentMix)
//   phase 3 listen   — relayed as phase 0, both legs also decoded for the agent, joined as stereo
//
// Reproduce: build-bench/bench/warm_phases_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "rtp/packet.hpp"
#include "server/bridge/agent_mix.hpp"
#include "server/leg/hold_music.hpp"
#include "server/leg/leg_media.hpp"

namespace warmline::server {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

enum Phase : int64_t { kRelay = 0, kConsult = 1, kThreeWay = 2, kListen = 3 };
constexpr uint32_t kAgentRate = 16000;
constexpr size_t kAgentFrame = kAgentRate / 50;

udp::endpoint loopback(uint16_t port) { return {asio::ip::make_address("127.0.0.1"), port}; }

struct Party {
  udp::socket socket;
  std::array<uint8_t, 12 + 160> packet{};
  uint16_t seq = 0;
  uint32_t ts = 0;
  explicit Party(asio::io_context& io) : socket(io, loopback(0)) {
    socket.set_option(asio::socket_base::receive_buffer_size(4096));  // what the legs send is dropped
    for (size_t i = 12; i < packet.size(); ++i) packet[i] = static_cast<uint8_t>(0x55 + (i % 7));
  }
  void send(const udp::endpoint& to) {
    rtp::write_rtp_header(packet, {.payload_type = 0, .sequence = seq++, .timestamp = ts, .ssrc = 0xabcdef});
    ts += 160;
    socket.send_to(asio::buffer(packet), to);
  }
};

struct Call {
  Party caller_party, target_party;
  std::unique_ptr<LegMedia> caller, target;
  std::unique_ptr<AgentMix> mix;
  udp::endpoint to_caller, to_target;
  uint64_t to_agent = 0;  // samples that reached the agent

  Call(asio::io_context& io, rtp::PortAllocator& ports, MediaScratch& scratch, const HoldMusic& music, Phase phase)
      : caller_party(io), target_party(io) {
    caller = open(io, ports, scratch, caller_party.socket.local_endpoint(), &music, AgentMix::Side::kCaller);
    target = open(io, ports, scratch, target_party.socket.local_endpoint(), nullptr, AgentMix::Side::kTarget);
    if (!caller || !target) return;
    to_caller = loopback(caller->local_port());
    to_target = loopback(target->local_port());
    // As the call's Bridge applies each phase's mix plan (server/bridge/mix_plan.cpp).
    const bool bridged = phase != kConsult;
    caller->set_tap(phase == kThreeWay || phase == kListen);
    target->set_tap(phase != kRelay);
    caller->set_mix_agent(phase == kThreeWay);
    target->set_mix_agent(phase == kThreeWay);
    if (phase == kConsult) caller->set_hold(HoldAudio::kMusic);
    if (bridged) caller->bridge_to(target.get());
    if (phase == kThreeWay || phase == kListen)
      mix = std::make_unique<AgentMix>(kAgentRate,
                                       phase == kThreeWay ? AgentMix::Layout::kMono : AgentMix::Layout::kStereo,
                                       [this](std::span<const int16_t> pcm) { to_agent += pcm.size(); });
  }

  std::unique_ptr<LegMedia> open(asio::io_context& io, rtp::PortAllocator& ports, MediaScratch& scratch,
                                 const udp::endpoint& remote, const HoldMusic* music, AgentMix::Side side) {
    std::error_code ec;
    LegMediaOptions o{.codec_name = "PCMU", .clock_rate = 8000, .payload_type = 0, .telephone_event_pt = 101,
                      .local_ip = "127.0.0.1", .remote = remote, .agent_rate = kAgentRate, .ports = &ports,
                      .scratch = &scratch, .random_seed = 1, .hold_music = music};
    LegMediaHandlers h;
    h.on_caller_audio = [this, side](std::span<const int16_t> pcm) {
      if (mix) mix->push(side, pcm);
      else to_agent += pcm.size();
    };
    auto m = LegMedia::open(io, std::move(o), std::move(h), ec);
    if (m) m->start();
    return m;
  }
};

// range(0): Phase. range(1): what is timed — 0: all of the 20 ms; 1: the arrivals only (the packets'
// receive path); 2: the tick only (the agent's audio queued, every leg's tick and send). 1,000 calls.
enum Part : int64_t { kAll = 0, kArrival = 1, kTick = 2 };
void BM_WarmPhase1000(benchmark::State& state) {
  const auto phase = static_cast<Phase>(state.range(0));
  const auto part = static_cast<Part>(state.range(1));
  constexpr size_t kCalls = 1000;
  asio::io_context io;
  rtp::PortAllocator ports({.min = 30000, .max = 39999});
  auto scratch = std::make_unique<MediaScratch>();
  auto clip = std::make_shared<media::AudioClip>();
  clip->rate_hz = 8000;
  clip->samples.resize(8000 * 16);
  for (size_t i = 0; i < clip->samples.size(); ++i) clip->samples[i] = static_cast<int16_t>((i * 37) % 4000 - 2000);
  auto music = HoldMusic::from_clips("bench", {clip});
  std::vector<std::unique_ptr<Call>> calls;
  for (size_t c = 0; c < kCalls; ++c) {
    calls.push_back(std::make_unique<Call>(io, ports, *scratch, *music, phase));
    if (!calls.back()->caller || !calls.back()->target) {
      state.SkipWithError("no RTP port (or too few file descriptors: ulimit -n)");
      return;
    }
  }
  // The agent's 20 ms, as little-endian bytes (a consult's words to the target; a three-way's to both).
  std::vector<uint8_t> agent_bytes(kAgentFrame * 2);
  for (size_t i = 0; i < agent_bytes.size(); i += 2) agent_bytes[i] = static_cast<uint8_t>(i);
  uint64_t tick = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& call : calls) {
      call->caller_party.send(call->to_caller);
      call->target_party.send(call->to_target);
    }
    if (part != kTick) state.ResumeTiming();
    io.poll();  // every leg's receive
    io.restart();
    if (part == kTick) state.ResumeTiming();
    if (part == kArrival) state.PauseTiming();
    for (auto& call : calls) {
      if (phase == kConsult || phase == kThreeWay) call->target->push_agent_audio(agent_bytes);
      if (phase == kThreeWay) call->caller->push_agent_audio(agent_bytes);
      call->caller->on_media_tick(tick);
      call->target->on_media_tick(tick);
    }
    ++tick;
    if (part == kArrival) state.ResumeTiming();
  }
  uint64_t to_agent = 0;
  for (auto& call : calls) to_agent += call->to_agent;
  // CPU seconds per call per 20 ms (printed with an SI prefix: 1.5u = 1.5 µs).
  state.counters["per_call"] =
      benchmark::Counter(static_cast<double>(kCalls), benchmark::Counter::kIsIterationInvariantRate |
                                                          benchmark::Counter::kInvert);
  state.counters["agent_samples_per_call_tick"] =
      static_cast<double>(to_agent) / static_cast<double>(kCalls) / static_cast<double>(state.iterations());
  static constexpr const char* kNames[] = {"relay", "hold+consult", "introduce three-way", "listen"};
  static constexpr const char* kParts[] = {"", ", arrivals", ", tick"};
  state.SetLabel(std::string(kNames[phase]) + kParts[part]);
}
BENCHMARK(BM_WarmPhase1000)
    ->ArgsProduct({{kRelay, kConsult, kThreeWay, kListen}, {kAll, kArrival, kTick}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace warmline::server
