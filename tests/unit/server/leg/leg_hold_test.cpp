// A caller's LegMedia on hold (issue 9, warm transfers), with its real RTP socket on 127.0.0.1: what the
// caller receives on each media tick is the hold audio — the shared music clip at the leg's own rate,
// from the leg's own position, looping; the ringback; or encoded silence that keeps coming — and not
// the agent's audio, which waits and resumes when the hold ends. The caller's audio still reaches the
// agent, and the hold audio never does.
#include "server/leg/leg_media.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "media/codec.hpp"
#include "media/prompts.hpp"
#include "media/tone.hpp"
#include "server/leg/hold_music.hpp"
#include "rtp_party.hpp"

namespace warmline::server {
namespace {

using test::Party;
using test::Received;

constexpr size_t kFrame = 160;  // 20 ms at 8 kHz

// 1,000 samples, not a whole number of frames, so a loop restarts in the middle of a packet. Every
// sample differs from its neighbours, so a packet from the wrong place cannot pass for the right one.
std::shared_ptr<const media::AudioClip> test_clip(uint32_t rate_hz = 8000, size_t n = 1000) {
  auto clip = std::make_shared<media::AudioClip>();
  clip->rate_hz = rate_hz;
  for (size_t i = 0; i < n; ++i)
    clip->samples.push_back(static_cast<int16_t>(6000 * std::sin(0.37 * static_cast<double>(i)) + 20 * (i % 50)));
  return clip;
}

std::shared_ptr<const media::AudioClip> tone_clip(uint32_t rate_hz, double freq_hz) {
  auto clip = std::make_shared<media::AudioClip>();
  clip->rate_hz = rate_hz;
  for (size_t i = 0; i < rate_hz; ++i)  // one second
    clip->samples.push_back(
        static_cast<int16_t>(8000 * std::sin(2 * std::numbers::pi * freq_hz * static_cast<double>(i) / rate_hz)));
  return clip;
}

// The PCMU payload of samples [from, from + kFrame) of `clip`, wrapping at its end: what a looping
// ClipSource at that position must put on the wire (G.711 is exact, so the bytes can be compared).
std::vector<uint8_t> pcmu_of(const media::AudioClip& clip, size_t from) {
  std::vector<int16_t> pcm(kFrame);
  for (size_t i = 0; i < kFrame; ++i) pcm[i] = clip.samples[(from + i) % clip.samples.size()];
  auto enc = media::make_encoder({.name = "PCMU", .clock_rate = 8000});
  std::vector<uint8_t> out(kFrame);
  EXPECT_TRUE(enc->encode(pcm, out));
  return out;
}

std::vector<uint8_t> pcmu_constant(int16_t value) {
  const std::vector<int16_t> pcm(kFrame, value);
  auto enc = media::make_encoder({.name = "PCMU", .clock_rate = 8000});
  std::vector<uint8_t> out(kFrame);
  EXPECT_TRUE(enc->encode(pcm, out));
  return out;
}

// Power of `pcm` at `freq_hz` (Goertzel), relative to its total power: near 1 for a pure tone there.
double share_at(const std::vector<int16_t>& pcm, uint32_t rate_hz, double freq_hz) {
  const double w = 2 * std::numbers::pi * freq_hz / rate_hz;
  double re = 0, im = 0, total = 0;
  for (size_t i = 0; i < pcm.size(); ++i) {
    re += pcm[i] * std::cos(w * static_cast<double>(i));
    im += pcm[i] * std::sin(w * static_cast<double>(i));
    total += static_cast<double>(pcm[i]) * pcm[i];
  }
  return total > 0 ? 2 * (re * re + im * im) / (static_cast<double>(pcm.size()) * total) : 0;
}

struct LegHoldTest : ::testing::Test {
  boost::asio::io_context io;
  rtp::PortAllocator ports{{.min = 43300, .max = 43399}};
  std::unique_ptr<MediaScratch> scratch = std::make_unique<MediaScratch>();
  Party caller{io, 0x33333333};
  std::shared_ptr<const media::AudioClip> clip = test_clip();
  std::unique_ptr<HoldMusic> music = HoldMusic::from_clips("test", {clip});
  std::vector<int16_t> to_agent;  // everything the caller's leg handed to the agent
  uint64_t ticks = 0;

  std::unique_ptr<LegMedia> open(const HoldMusic* hold_music, const std::string& codec = "PCMU", uint8_t pt = 0) {
    std::error_code ec;
    LegMediaOptions o{.codec_name = codec, .clock_rate = 8000, .payload_type = pt, .telephone_event_pt = 101,
                      .local_ip = "127.0.0.1", .remote = caller.endpoint(), .agent_rate = 8000, .ports = &ports,
                      .scratch = scratch.get(), .random_seed = 11,
                      .ringback = media::national_tone("us", media::ToneKind::kRingback),
                      .hold_music = hold_music};
    LegMediaHandlers h{.on_caller_audio = [this](std::span<const int16_t> pcm) {
      to_agent.insert(to_agent.end(), pcm.begin(), pcm.end());
    }};
    auto m = LegMedia::open(io, std::move(o), std::move(h), ec);
    EXPECT_TRUE(m) << ec.message();
    if (m) m->start();
    return m;
  }

  // `n` media-clock ticks of `leg`, then what the caller received: one packet per tick.
  std::vector<Received> tick(LegMedia& leg, size_t n) {
    for (size_t i = 0; i < n; ++i) leg.on_media_tick(ticks++);
    std::vector<Received> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(2));
      for (auto& r : caller.drain()) got.push_back(std::move(r));
    }
    return got;
  }
};

TEST_F(LegHoldTest, MusicIsTheClipInOrderAcrossTicksAndLoopsAtItsEnd) {
  auto leg = open(music.get());
  ASSERT_TRUE(leg);
  leg->set_hold(HoldAudio::kMusic);
  EXPECT_EQ(leg->hold(), HoldAudio::kMusic);
  // 15 ticks: 2,400 samples of a 1,000-sample clip, so it wraps twice, inside packets 6 and 12.
  auto got = tick(*leg, 15);
  ASSERT_EQ(got.size(), 15u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].view.payload_type, 0);
    EXPECT_EQ(got[i].payload(), pcmu_of(*clip, i * kFrame)) << "packet " << i << " is not the clip at sample "
                                                            << (i * kFrame) % clip->samples.size();
    if (i > 0) {
      EXPECT_EQ(static_cast<uint16_t>(got[i].view.sequence - got[i - 1].view.sequence), 1);
      EXPECT_EQ(got[i].view.timestamp - got[i - 1].view.timestamp, kFrame);
    }
  }
  leg->close();
}

TEST_F(LegHoldTest, AgentAudioWaitsWhileHeldAndResumesWhenTheHoldEnds) {
  auto leg = open(music.get());
  ASSERT_TRUE(leg);
  const std::vector<int16_t> agent(kFrame * 4, 3000);  // 80 ms of a constant the clip never has
  leg->push_agent_samples(std::span<const int16_t>(agent.data(), kFrame));
  auto before = tick(*leg, 1);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].payload(), pcmu_constant(3000)) << "the agent is heard before the hold";

  leg->set_hold(HoldAudio::kMusic);
  leg->push_agent_samples(std::span<const int16_t>(agent.data() + kFrame, kFrame * 3));  // while held
  auto held = tick(*leg, 5);
  ASSERT_EQ(held.size(), 5u);
  for (size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(held[i].payload(), pcmu_of(*clip, i * kFrame)) << "held packet " << i;
    EXPECT_NE(held[i].payload(), pcmu_constant(3000)) << "the agent was heard on hold, packet " << i;
  }
  EXPECT_EQ(leg->playout_queued_ms(), 60u) << "the agent's audio was taken while the caller was held";

  leg->set_hold(std::nullopt);
  EXPECT_EQ(leg->hold(), std::nullopt);
  auto after = tick(*leg, 4);
  ASSERT_EQ(after.size(), 4u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(after[i].payload(), pcmu_constant(3000)) << "resumed packet " << i;
  EXPECT_EQ(after[3].payload(), pcmu_constant(0)) << "then silence: the agent's queue is empty";
  EXPECT_TRUE(leg->playout_empty());

  // Held again, the music goes on where this leg left it (5 frames in).
  leg->set_hold(HoldAudio::kMusic);
  auto again = tick(*leg, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].payload(), pcmu_of(*clip, 5 * kFrame));
  leg->close();
}

TEST_F(LegHoldTest, SilenceKeepsSendingSilentPacketsEveryTick) {
  auto leg = open(music.get());
  ASSERT_TRUE(leg);
  const std::vector<int16_t> agent(kFrame * 10, 3000);
  leg->push_agent_samples(agent);  // queued agent audio does not break the silence either
  leg->set_hold(HoldAudio::kSilence);
  auto got = tick(*leg, 10);
  ASSERT_EQ(got.size(), 10u) << "one packet per tick, so the caller's side never sees the stream stop";
  auto dec = media::make_decoder({.name = "PCMU", .clock_rate = 8000});
  for (size_t i = 0; i < got.size(); ++i) {
    std::vector<int16_t> pcm(kFrame);
    auto d = dec->decode(got[i].view.payload, pcm);
    ASSERT_TRUE(d);
    ASSERT_EQ(d.size, kFrame);
    for (int16_t s : pcm) ASSERT_EQ(s, 0) << "packet " << i << " is not silent";
    if (i > 0) EXPECT_EQ(got[i].view.timestamp - got[i - 1].view.timestamp, kFrame);
  }
  EXPECT_EQ(leg->playout_queued_ms(), 200u);
  leg->close();
}

TEST_F(LegHoldTest, RingbackHoldIsTheRingbackTone) {
  auto leg = open(music.get());
  ASSERT_TRUE(leg);
  leg->set_hold(HoldAudio::kRingback);
  auto got = tick(*leg, 6);
  ASSERT_EQ(got.size(), 6u);
  media::ToneSource expected(*media::national_tone("us", media::ToneKind::kRingback), 8000);
  media::Frame frame({8000, 20});
  auto enc = media::make_encoder({.name = "PCMU", .clock_rate = 8000});
  for (size_t i = 0; i < got.size(); ++i) {
    expected.read(frame);
    std::vector<uint8_t> payload(kFrame);
    ASSERT_TRUE(enc->encode(frame.samples(), payload));
    EXPECT_EQ(got[i].payload(), payload) << "packet " << i;
  }
  leg->close();
}

// The clip is shared; the position is not: a leg held later starts the music from its beginning.
TEST_F(LegHoldTest, EachLegHasItsOwnPositionInTheSharedClip) {
  auto first = open(music.get());
  ASSERT_TRUE(first);
  first->set_hold(HoldAudio::kMusic);
  ASSERT_EQ(tick(*first, 3).size(), 3u);
  first->close();

  auto second = open(music.get());
  ASSERT_TRUE(second);
  second->set_hold(HoldAudio::kMusic);
  auto got = tick(*second, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload(), pcmu_of(*clip, 0));
  second->close();
}

// A G.722 leg runs at 16 kHz: it plays the clip loaded at 16 kHz, not the 8 kHz one (here two
// different tones, so the decoded audio says which one was played).
TEST_F(LegHoldTest, ALegPlaysTheClipLoadedAtItsOwnPcmRate) {
  auto both = HoldMusic::from_clips("tones", {tone_clip(8000, 1000), tone_clip(16000, 3000)});
  auto leg = open(both.get(), "G722", 9);
  ASSERT_TRUE(leg);
  leg->set_hold(HoldAudio::kMusic);
  auto got = tick(*leg, 10);
  ASSERT_EQ(got.size(), 10u);
  auto dec = media::make_decoder({.name = "G722", .clock_rate = 8000});
  std::vector<int16_t> pcm;
  for (const auto& r : got) {
    std::vector<int16_t> out(320);
    auto d = dec->decode(r.view.payload, out);
    ASSERT_TRUE(d);
    pcm.insert(pcm.end(), out.begin(), out.begin() + static_cast<long>(d.size));
  }
  pcm.erase(pcm.begin(), pcm.begin() + 320);  // the codec's start-up
  EXPECT_GT(share_at(pcm, 16000, 3000), 0.8) << "the 16 kHz clip (3 kHz tone) was not played";
  EXPECT_LT(share_at(pcm, 16000, 1000), 0.05);
  leg->close();
}

// Without a clip at the leg's rate (no music loaded, or not for this codec), a caller held with music
// hears the ringback rather than nothing.
TEST_F(LegHoldTest, MusicWithoutAClipForTheLegFallsBackToRingback) {
  auto only_16k = HoldMusic::from_clips("16k", {tone_clip(16000, 3000)});
  for (const HoldMusic* m : {static_cast<const HoldMusic*>(nullptr), static_cast<const HoldMusic*>(only_16k.get())}) {
    auto leg = open(m);
    ASSERT_TRUE(leg);
    leg->set_hold(HoldAudio::kMusic);
    auto got = tick(*leg, 2);
    ASSERT_EQ(got.size(), 2u);
    media::ToneSource ringback(*media::national_tone("us", media::ToneKind::kRingback), 8000);
    media::Frame frame({8000, 20});
    ringback.read(frame);
    auto enc = media::make_encoder({.name = "PCMU", .clock_rate = 8000});
    std::vector<uint8_t> payload(kFrame);
    ASSERT_TRUE(enc->encode(frame.samples(), payload));
    EXPECT_EQ(got[0].payload(), payload);
    leg->close();
  }
}

// The agent hears the caller while the caller hears the music — never the music itself.
TEST_F(LegHoldTest, TheCallersAudioStillGoesToTheAgentAndTheMusicDoesNot) {
  auto leg = open(music.get());
  ASSERT_TRUE(leg);
  leg->set_hold(HoldAudio::kMusic);
  const std::vector<uint8_t> caller_audio = pcmu_constant(-2000);
  for (int i = 0; i < 5; ++i) {
    caller.send(leg->local_port(), 0, caller_audio, kFrame);
    ASSERT_EQ(tick(*leg, 1).size(), 1u);  // a music packet out for every caller packet in
  }
  for (int i = 0; i < 100 && to_agent.size() < 5 * kFrame; ++i) io.run_for(std::chrono::milliseconds(2));
  ASSERT_EQ(to_agent.size(), 5 * kFrame) << "the caller's audio did not reach the agent while held";
  auto dec = media::make_decoder({.name = "PCMU", .clock_rate = 8000});
  std::vector<int16_t> expected(kFrame);
  ASSERT_TRUE(dec->decode(caller_audio, expected));
  for (size_t i = 0; i < to_agent.size(); ++i) ASSERT_EQ(to_agent[i], expected[i % kFrame]) << "sample " << i;
}

// The shipped hold music, loaded the way the gateway loads it, is what a held G.711 caller hears.
TEST_F(LegHoldTest, TheShippedMusicLoadedAtStartUpIsWhatTheCallerHears) {
  const uint32_t rates[] = {8000};
  std::string error;
  auto shipped = HoldMusic::load(shipped_audio_file(media::kHoldMusicFile), rates, error);
  ASSERT_TRUE(shipped) << error;
  auto clip8k = shipped->at(8000);
  ASSERT_TRUE(clip8k);
  auto leg = open(shipped.get());
  ASSERT_TRUE(leg);
  leg->set_hold(HoldAudio::kMusic);
  auto got = tick(*leg, 25);
  ASSERT_EQ(got.size(), 25u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].payload(), pcmu_of(*clip8k, i * kFrame)) << "packet " << i;
  leg->close();
}

}  // namespace
}  // namespace warmline::server
