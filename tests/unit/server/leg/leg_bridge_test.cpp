// Two LegMedia with their real RTP sockets on 127.0.0.1, bridged: what one party sends reaches the
// other — relayed untouched when both legs use one codec, transcoded otherwise — with each leg's own
// SSRC, sequence and timestamps, and DTMF crossing as RFC 4733 events. A tapped leg's audio also
// reaches the agent (an agent listening in), and a three-way mixes the agent's audio with the other
// party's. The legs are opened untapped, as the call's Bridge sets them for a plain bridge.
#include "server/leg/leg_media.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "media/codec.hpp"
#include "rtp/packet.hpp"
#include "rtp_party.hpp"

namespace warmline::server {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

using test::Party;
using test::Received;

struct LegBridgeTest : ::testing::Test {
  asio::io_context io;
  rtp::PortAllocator ports{{.min = 43200, .max = 43299}};
  std::unique_ptr<MediaScratch> scratch = std::make_unique<MediaScratch>();
  Party caller{io, 0x11111111};
  Party target{io, 0x22222222};
  std::vector<size_t> agent_audio;  // sizes of what reached the agent handler
  std::string agent_dtmf;

  std::unique_ptr<LegMedia> open(const Party& party, const std::string& codec, uint8_t pt, uint64_t seed,
                                 bool tap = false) {
    std::error_code ec;
    const media::CodecInfo* info = media::find_codec(codec, 8000);
    LegMediaOptions o{.codec_name = codec, .clock_rate = info ? info->clock_rate : 8000, .payload_type = pt,
                      .telephone_event_pt = 101, .local_ip = "127.0.0.1", .remote = party.endpoint(),
                      .agent_rate = 16000, .ports = &ports, .scratch = scratch.get(), .random_seed = seed};
    LegMediaHandlers h{.on_caller_audio = [this](std::span<const int16_t> pcm) { agent_audio.push_back(pcm.size()); },
                       .on_dtmf = [this](char d, uint32_t) { agent_dtmf += d; }};
    auto m = LegMedia::open(io, std::move(o), std::move(h), ec);
    EXPECT_TRUE(m) << ec.message();
    if (m) m->start();
    if (m) m->set_tap(tap);
    return m;
  }

  // Runs the legs' handlers until `want` packets have reached `party` or a second has passed.
  std::vector<Received> collect(Party& party, size_t want) {
    std::vector<Received> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(5));
      for (auto& r : party.drain()) got.push_back(std::move(r));
    }
    return got;
  }
};

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(seed + i * 7);
  return p;
}

TEST_F(LegBridgeTest, SameCodecIsRelayedByteForByteWithTheLegsOwnStream) {
  auto a = open(caller, "PCMU", 0, 1);
  auto b = open(target, "PCMU", 0, 2);
  ASSERT_TRUE(a && b);
  a->bridge_to(b.get());
  EXPECT_TRUE(a->relaying());
  EXPECT_TRUE(b->relaying());

  std::vector<std::vector<uint8_t>> sent;
  for (int i = 0; i < 5; ++i) {
    sent.push_back(pattern(160, static_cast<uint8_t>(i)));
    caller.send(a->local_port(), 0, sent.back(), 160, i == 0);
  }
  auto got = collect(target, 5);
  ASSERT_EQ(got.size(), 5u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].payload(), sent[i]) << "packet " << i << " was not relayed untouched";
    EXPECT_EQ(got[i].view.payload_type, 0);
    EXPECT_NE(got[i].view.ssrc, caller.ssrc) << "leg b sends with its own SSRC";
    if (i > 0) {
      EXPECT_EQ(static_cast<uint16_t>(got[i].view.sequence - got[i - 1].view.sequence), 1);
      EXPECT_EQ(got[i].view.timestamp - got[i - 1].view.timestamp, 160u);
    }
  }
  EXPECT_TRUE(got[0].view.marker);
  EXPECT_TRUE(agent_audio.empty()) << "a bridged leg's audio went to the agent";

  // And the other way.
  target.send(b->local_port(), 0, pattern(160, 99), 160);
  auto back = collect(caller, 1);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].payload(), pattern(160, 99));
}

TEST_F(LegBridgeTest, TheSourcesTimingIsKeptAcrossALostPacketAndTheNextPayloadTypeIsOurs) {
  auto a = open(caller, "PCMA", 8, 3);
  auto b = open(target, "PCMA", 96, 4);  // a peer that numbers PCMA dynamically: same codec
  ASSERT_TRUE(a && b);
  a->bridge_to(b.get());
  ASSERT_TRUE(a->relaying());
  caller.send(a->local_port(), 8, pattern(160, 1), 160);
  caller.ts += 160;  // one packet lost on the way to us
  caller.send(a->local_port(), 8, pattern(160, 2), 160);
  auto got = collect(target, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].view.timestamp - got[0].view.timestamp, 320u);
  EXPECT_EQ(static_cast<uint16_t>(got[1].view.sequence - got[0].view.sequence), 1) << "our stream lost nothing";
  EXPECT_EQ(got[0].view.payload_type, 96);
}

TEST_F(LegBridgeTest, DifferentCodecsAreTranscodedOnTheTicks) {
  auto a = open(caller, "PCMU", 0, 5);
  auto b = open(target, "PCMA", 8, 6);
  ASSERT_TRUE(a && b);
  a->bridge_to(b.get());
  EXPECT_FALSE(a->relaying());
  // A 1 kHz tone in PCMU from the caller ...
  auto enc = media::make_encoder({.name = "PCMU", .clock_rate = 8000});
  std::vector<int16_t> pcm(160);
  std::vector<uint8_t> payload(160);
  for (int f = 0; f < 4; ++f) {
    for (size_t i = 0; i < pcm.size(); ++i)
      pcm[i] = static_cast<int16_t>(8000 * std::sin(2 * M_PI * 1000 * static_cast<double>(f * 160 + i) / 8000));
    auto r = enc->encode(pcm, payload);
    ASSERT_TRUE(r);
    caller.send(a->local_port(), 0, payload, 160);
  }
  for (int i = 0; i < 50 && b->playout_empty(); ++i) io.run_for(std::chrono::milliseconds(5));
  ASSERT_FALSE(b->playout_empty()) << "the caller's audio did not reach the target leg";
  for (uint64_t t = 0; t < 4; ++t) b->on_media_tick(t);
  auto got = collect(target, 4);
  ASSERT_EQ(got.size(), 4u);
  auto dec = media::make_decoder({.name = "PCMA", .clock_rate = 8000});
  double energy = 0;
  for (const auto& r : got) {
    EXPECT_EQ(r.view.payload_type, 8);
    std::vector<int16_t> out(160);
    auto d = dec->decode(r.view.payload, out);
    ASSERT_TRUE(d);
    for (size_t i = 0; i < d.size; ++i) energy += static_cast<double>(out[i]) * out[i];
  }
  EXPECT_GT(energy / (4 * 160), 1e6) << "the tone did not come through (mean power)";
  EXPECT_TRUE(agent_audio.empty());
}

TEST_F(LegBridgeTest, DtmfCrossesTheBridgeAsTelephoneEvents) {
  auto a = open(caller, "PCMU", 0, 7);
  auto b = open(target, "PCMU", 0, 8);
  ASSERT_TRUE(a && b);
  a->bridge_to(b.get());
  // Key 5, end of event (E bit), volume 10, duration 800: sent three times as RFC 4733 says.
  const uint8_t end5[] = {5, 0x80 | 10, 0x03, 0x20};
  for (int i = 0; i < 3; ++i) caller.send(a->local_port(), 101, end5, 0, i == 0);
  for (int i = 0; i < 20; ++i) io.run_for(std::chrono::milliseconds(2));
  for (uint64_t t = 0; t < 10; ++t) b->on_media_tick(t);
  auto got = collect(target, 1);
  ASSERT_FALSE(got.empty());
  bool saw_event = false;
  for (const auto& r : got) saw_event |= r.view.payload_type == 101 && !r.view.payload.empty() && r.view.payload[0] == 5;
  EXPECT_TRUE(saw_event) << "digit 5 did not reach the target";
  EXPECT_TRUE(agent_dtmf.empty()) << "a bridged leg's DTMF went to the agent";
}

TEST_F(LegBridgeTest, UnbridgingFromEitherSideOrDestroyingALegEndsItBothWays) {
  auto a = open(caller, "PCMU", 0, 9);
  auto b = open(target, "PCMU", 0, 10);
  ASSERT_TRUE(a && b);
  a->bridge_to(b.get());
  b->bridge_to(nullptr);
  EXPECT_FALSE(a->bridged());
  EXPECT_FALSE(b->bridged());
  a->set_tap(true);  // the plan gives the caller back to the agent
  caller.send(a->local_port(), 0, pattern(160, 3), 160);
  for (int i = 0; i < 50 && agent_audio.empty(); ++i) io.run_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(agent_audio.empty()) << "after the bridge the caller's audio goes to the agent again";
  EXPECT_TRUE(target.drain().empty());

  a->bridge_to(b.get());
  b.reset();  // the target's leg goes first
  EXPECT_FALSE(a->bridged());
  caller.send(a->local_port(), 0, pattern(160, 4), 160);
  const size_t before = agent_audio.size();
  for (int i = 0; i < 50 && agent_audio.size() == before; ++i) io.run_for(std::chrono::milliseconds(5));
  EXPECT_GT(agent_audio.size(), before);
}

std::vector<uint8_t> pcmu_of(int16_t level, size_t n = 160) {
  auto enc = media::make_encoder({.name = "PCMU", .clock_rate = 8000});
  std::vector<int16_t> pcm(n, level);
  std::vector<uint8_t> payload(n);
  auto r = enc->encode(pcm, payload);
  payload.resize(r ? r.size : 0);
  return payload;
}

double mean_level(const std::vector<Received>& got, size_t from) {
  auto dec = media::make_decoder({.name = "PCMU", .clock_rate = 8000});
  double sum = 0;
  size_t n = 0;
  for (size_t i = from; i < got.size(); ++i) {
    std::vector<int16_t> out(160);
    auto d = dec->decode(got[i].view.payload, out);
    for (size_t k = 0; d && k < d.size; ++k, ++n) sum += out[k];
  }
  return n ? sum / static_cast<double>(n) : 0;
}

TEST_F(LegBridgeTest, ATappedLegIsRelayedAndDecodedForTheAgentToo) {
  auto a = open(caller, "PCMU", 0, 11, /*tap=*/true);
  auto b = open(target, "PCMU", 0, 12);
  ASSERT_TRUE(a && b);
  a->bridge_to(b.get());
  ASSERT_TRUE(a->relaying()) << "listening in does not cost the relay";
  for (int i = 0; i < 3; ++i) caller.send(a->local_port(), 0, pattern(160, static_cast<uint8_t>(i)), 160, i == 0);
  auto got = collect(target, 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].payload(), pattern(160, 2)) << "still relayed untouched";
  EXPECT_EQ(agent_audio, (std::vector<size_t>{320, 320, 320})) << "each packet also reached the agent, at 16 kHz";
  // The target's leg is not tapped: its audio crosses the bridge only.
  target.send(b->local_port(), 0, pattern(160, 50), 160);
  ASSERT_EQ(collect(caller, 1).size(), 1u);
  EXPECT_EQ(agent_audio.size(), 3u);
}

TEST_F(LegBridgeTest, AThreeWayMixesTheAgentsAudioWithTheOtherPartysOnEachLeg) {
  auto a = open(caller, "PCMU", 0, 13);
  auto b = open(target, "PCMU", 0, 14);
  ASSERT_TRUE(a && b);
  a->set_mix_agent(true);
  b->set_mix_agent(true);
  a->bridge_to(b.get());
  EXPECT_FALSE(a->relaying() || b->relaying()) << "mixing needs the other party decoded";
  // The caller says a steady 1000; the agent a steady 2000 (at its 16 kHz) to the target's leg.
  for (int i = 0; i < 6; ++i) caller.send(a->local_port(), 0, pcmu_of(1000), 160, i == 0);
  for (int i = 0; i < 50; ++i) io.run_for(std::chrono::milliseconds(2));
  b->push_agent_samples(std::vector<int16_t>(320 * 6, 2000));
  for (uint64_t t = 0; t < 5; ++t) b->on_media_tick(t);
  auto got = collect(target, 5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_NEAR(mean_level(got, 2), 3000, 200) << "the target hears the caller and the agent together";

  // Without the agent the legs relay again.
  a->set_mix_agent(false);
  b->set_mix_agent(false);
  EXPECT_TRUE(a->relaying() && b->relaying());
  caller.send(a->local_port(), 0, pattern(160, 77), 160);
  auto relayed = collect(target, 1);
  ASSERT_EQ(relayed.size(), 1u);
  EXPECT_EQ(relayed[0].payload(), pattern(160, 77));
}

TEST_F(LegBridgeTest, AThreeWayWithoutTheOtherPartysAudioStillPlaysTheAgent) {
  auto a = open(caller, "PCMU", 0, 15);
  auto b = open(target, "PCMU", 0, 16);
  ASSERT_TRUE(a && b);
  a->set_mix_agent(true);
  b->set_mix_agent(true);
  a->bridge_to(b.get());
  b->push_agent_samples(std::vector<int16_t>(320 * 4, -1500));  // the caller is silent (DTX, mute)
  for (uint64_t t = 0; t < 4; ++t) b->on_media_tick(t);
  auto got = collect(target, 4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_NEAR(mean_level(got, 1), -1500, 150);
}

}  // namespace
}  // namespace warmline::server
