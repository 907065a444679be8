#include "rtp/jitter_buffer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <vector>

#include "media/g711.hpp"

namespace warmline::rtp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kSsrc = 0x1234;

// Packet i of a PCMU stream is 160 copies of one distinct mu-law code (0xFE, 0xFD, ...: increasing
// positive levels), so the decoded output says exactly which packet played.
uint8_t code_of(uint32_t i) { return static_cast<uint8_t>(0xFE - (i % 100)); }

std::vector<uint8_t> payload_for(uint32_t i) { return std::vector<uint8_t>(160, code_of(i)); }

// Which packet a frame came from, judged by its last sample (after a concealed gap the PLC smooths
// the first samples of the next packet), or -1.
int packet_of(const media::Frame& f, uint32_t max_index) {
  const int16_t v = f[f.size() - 1];
  for (uint32_t i = 0; i <= max_index; ++i) {
    if (v == media::g711::ulaw_to_linear(code_of(i))) return static_cast<int>(i);
  }
  return -1;
}

// Concealed frames before the last decoded one (the tail after a stream's end is concealed too).
long concealed_inside(const auto& outs) {
  long n = 0, pending = 0;
  for (const auto& o : outs) {
    if (o.kind == FrameKind::kConcealed) ++pending;
    if (o.kind == FrameKind::kDecoded) {
      n += pending;
      pending = 0;
    }
  }
  return n;
}

// Drives a buffer on a fake 20 ms clock: packets are delivered when their arrival time has come,
// then one frame is taken.
class Harness {
 public:
  explicit Harness(JitterBufferOptions opts = {})
      : decoder_(media::make_decoder({.name = "PCMU", .clock_rate = 8000})), jb_(opts, *decoder_) {}

  // Packet i (timestamp base + 160 i) arriving at t0 + arrival_ms.
  void schedule(uint32_t i, int arrival_ms, uint32_t ssrc = kSsrc, uint32_t ts_base = 1000, bool marker = false) {
    pending_.push_back({i, arrival_ms, ssrc, ts_base + 160 * i, marker});
  }

  struct Out {
    FrameKind kind;
    int packet;
  };
  // Runs `ticks` ticks; tick k happens at t0 + 20 k ms.
  std::vector<Out> run(int ticks, uint32_t max_index = 99) {
    std::vector<Out> outs;
    for (int k = 0; k < ticks; ++k, ++tick_) {
      const int now_ms = tick_ * 20;
      std::stable_sort(pending_.begin(), pending_.end(), [](auto& a, auto& b) { return a.arrival_ms < b.arrival_ms; });
      while (!pending_.empty() && pending_.front().arrival_ms <= now_ms) {
        const auto p = pending_.front();
        pending_.erase(pending_.begin());
        const auto payload = payload_for(p.index);
        results_[p.index] = jb_.put({.ssrc = p.ssrc, .sequence = static_cast<uint16_t>(p.index), .timestamp = p.ts,
                                     .marker = p.marker, .payload = payload,
                                     .arrival = t0_ + std::chrono::milliseconds(p.arrival_ms)});
      }
      media::Frame f;
      const auto kind = jb_.get(f);
      EXPECT_EQ(f.size(), 160U);
      outs.push_back({kind, kind == FrameKind::kDecoded ? packet_of(f, max_index) : -1});
    }
    return outs;
  }

  JitterBuffer& jb() { return jb_; }
  PutResult result(uint32_t i) { return results_.at(i); }

 private:
  struct Pending {
    uint32_t index;
    int arrival_ms;
    uint32_t ssrc;
    uint32_t ts;
    bool marker;
  };
  std::unique_ptr<media::Decoder> decoder_;
  JitterBuffer jb_;
  Clock::time_point t0_ = Clock::time_point(1000s);
  std::vector<Pending> pending_;
  std::map<uint32_t, PutResult> results_;
  int tick_ = 0;
};

std::vector<int> decoded_sequence(const std::vector<Harness::Out>& outs) {
  std::vector<int> seq;
  for (const auto& o : outs) {
    if (o.kind == FrameKind::kDecoded) seq.push_back(o.packet);
  }
  return seq;
}

std::vector<int> iota_vec(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST(JitterBuffer, InOrderStreamPlaysEveryPacketAfterPrefetch) {
  Harness h;
  for (uint32_t i = 0; i < 20; ++i) h.schedule(i, static_cast<int>(20 * i));
  const auto outs = h.run(24);
  EXPECT_EQ(outs[0].kind, FrameKind::kSilence);  // prefetching the initial 40 ms
  EXPECT_EQ(decoded_sequence(outs), iota_vec(0, 20));
  EXPECT_EQ(h.jb().stats().lost, 0U);
  EXPECT_EQ(h.jb().stats().received, 20U);
}

TEST(JitterBuffer, ReorderedPacketsComeOutInTimestampOrder) {
  Harness h;
  // Pairs swapped: 1 before 0, 3 before 2, ... each within the playout delay.
  for (uint32_t i = 0; i < 20; ++i) h.schedule(i ^ 1U, static_cast<int>(20 * i));
  const auto outs = h.run(26);
  EXPECT_EQ(decoded_sequence(outs), iota_vec(0, 20));
  EXPECT_EQ(h.jb().stats().lost, 0U);
  EXPECT_EQ(concealed_inside(outs), 0);
}

TEST(JitterBuffer, DuplicatesArePlayedOnce) {
  Harness h;
  for (uint32_t i = 0; i < 10; ++i) h.schedule(i, static_cast<int>(20 * i));
  h.schedule(3, 65);  // a copy of 3 while the original is still buffered
  const auto outs = h.run(14);
  EXPECT_EQ(decoded_sequence(outs), iota_vec(0, 10));
  EXPECT_EQ(h.jb().stats().duplicates, 1U);
}

TEST(JitterBuffer, LostPacketIsConcealedAndPlayoutContinues) {
  Harness h;
  for (uint32_t i = 0; i < 15; ++i) {
    if (i != 6) h.schedule(i, static_cast<int>(20 * i));
  }
  const auto outs = h.run(18);
  std::vector<int> expected = iota_vec(0, 15);
  expected.erase(expected.begin() + 6);
  EXPECT_EQ(decoded_sequence(outs), expected);
  EXPECT_EQ(h.jb().stats().lost, 1U);
  EXPECT_EQ(concealed_inside(outs), 1);
  // The concealed frame sits exactly where 6 would have been.
  const auto it = std::find_if(outs.begin(), outs.end(), [](auto& o) { return o.kind == FrameKind::kConcealed; });
  ASSERT_NE(it, outs.end());
  EXPECT_EQ((it - 1)->packet, 5);
  EXPECT_EQ((it + 1)->packet, 7);
}

// A tone through the buffer with one packet lost comes out continuous: the lost 20 ms are the tone,
// concealed by the decoder's PLC (not silence), and neither end of the gap clicks.
TEST(JitterBuffer, LostPacketOfAToneIsConcealedWithoutAClick) {
  const media::CodecParams pcmu{.name = "PCMU", .clock_rate = 8000};
  auto enc = media::make_encoder(pcmu);
  auto dec = media::make_decoder(pcmu);
  auto lossless = media::make_decoder(pcmu);  // what the stream sounds like with nothing lost
  JitterBuffer jb({}, *dec);
  constexpr uint32_t kPackets = 30, kLost = 12;
  const auto t0 = Clock::time_point(1000s);
  std::vector<int16_t> expected, out, pcm(160), decoded(160);
  std::vector<FrameKind> kinds;
  std::vector<uint8_t> payload(160);
  for (uint32_t i = 0; i < kPackets + 3; ++i) {
    if (i < kPackets) {
      for (size_t s = 0; s < pcm.size(); ++s) {
        pcm[s] = static_cast<int16_t>(std::lround(8000 * std::sin(2 * std::numbers::pi * 173 * (i * 160.0 + s) / 8000)));
      }
      ASSERT_TRUE(enc->encode(pcm, payload));
      ASSERT_TRUE(lossless->decode(payload, decoded));
      expected.insert(expected.end(), decoded.begin(), decoded.end());
      if (i != kLost) {
        jb.put({.ssrc = kSsrc, .sequence = static_cast<uint16_t>(i), .timestamp = 160 * i, .payload = payload,
                .arrival = t0 + std::chrono::milliseconds(20 * i)});
      }
    }
    media::Frame f;
    kinds.push_back(jb.get(f));
    out.insert(out.end(), f.samples().begin(), f.samples().end());
  }
  const auto first = static_cast<size_t>(std::find(kinds.begin(), kinds.end(), FrameKind::kDecoded) - kinds.begin());
  ASSERT_LT(first + kPackets, kinds.size());
  for (uint32_t i = 0; i < kPackets; ++i) {
    EXPECT_EQ(kinds[first + i], i == kLost ? FrameKind::kConcealed : FrameKind::kDecoded) << "packet " << i;
  }
  const auto played = std::span(out).subspan(first * 160, kPackets * 160);
  const auto gap = played.subspan(kLost * 160, 160);
  const auto truth = std::span(expected).subspan(kLost * 160, 160);
  double cross = 0, energy_gap = 0, energy_truth = 0;
  for (size_t s = 0; s < 160; ++s) {
    cross += static_cast<double>(gap[s]) * truth[s];
    energy_gap += static_cast<double>(gap[s]) * gap[s];
    energy_truth += static_cast<double>(truth[s]) * truth[s];
  }
  EXPECT_GT(cross / std::sqrt(energy_gap * energy_truth), 0.9);  // in phase with the tone
  EXPECT_GT(energy_gap, 0.5 * energy_truth);                     // not silence, not faded yet
  const auto max_step = [](std::span<const int16_t> x) {
    int m = 0;
    for (size_t s = 1; s < x.size(); ++s) m = std::max(m, std::abs(x[s] - x[s - 1]));
    return m;
  };
  EXPECT_LE(max_step(played), max_step(expected) * 5 / 4);
  // After the recovery cross-fade (8 ms after a 20 ms loss) the packets play exactly as sent.
  EXPECT_TRUE(std::equal(played.begin() + (kLost + 1) * 160 + 64, played.end(), expected.begin() + (kLost + 1) * 160 + 64));
}

TEST(JitterBuffer, PacketArrivingAfterItsSlotIsLate) {
  Harness h;
  for (uint32_t i = 0; i < 12; ++i) {
    if (i != 4) h.schedule(i, static_cast<int>(20 * i));
  }
  h.schedule(4, 400);  // long after its time was concealed
  h.run(22);
  EXPECT_EQ(h.result(4), PutResult::kLate);
  EXPECT_EQ(h.jb().stats().late, 1U);
}

TEST(JitterBuffer, SsrcChangeRestartsWithTheNewStream) {
  Harness h;
  for (uint32_t i = 0; i < 8; ++i) h.schedule(i, static_cast<int>(20 * i));
  // New source, unrelated timestamp base, continuing right after.
  for (uint32_t i = 50; i < 60; ++i) h.schedule(i, static_cast<int>(20 * (i - 42)), 0x9999, 777777);
  const auto outs = h.run(24);
  const auto seq = decoded_sequence(outs);
  ASSERT_FALSE(seq.empty());
  EXPECT_EQ(seq.back(), 59);
  EXPECT_TRUE(std::is_sorted(seq.begin(), seq.end()));
  EXPECT_EQ(std::count_if(seq.begin(), seq.end(), [](int p) { return p >= 50; }), 10);
  EXPECT_EQ(h.jb().stats().ssrc_changes, 1U);
}

TEST(JitterBuffer, BackwardTimestampJumpResyncs) {
  Harness h;
  for (uint32_t i = 0; i < 8; ++i) h.schedule(i, static_cast<int>(20 * i));
  // Same SSRC, timestamps restart far in the past (a sender that reset its clock).
  for (uint32_t i = 20; i < 30; ++i) h.schedule(i, static_cast<int>(20 * (i - 12)), kSsrc, 1000 - 160 * 20 - 500000);
  const auto outs = h.run(24);
  const auto seq = decoded_sequence(outs);
  EXPECT_EQ(std::count_if(seq.begin(), seq.end(), [](int p) { return p >= 20; }), 10);
  EXPECT_EQ(h.jb().stats().resyncs, 1U);
  EXPECT_EQ(h.jb().stats().late, 0U);
}

TEST(JitterBuffer, DtxGapWithMarkerIsSilenceNotLoss) {
  Harness h;
  for (uint32_t i = 0; i < 5; ++i) h.schedule(i, static_cast<int>(20 * i));
  // Silence suppression: nothing for 25 packets, then a talkspurt starting with the marker bit.
  for (uint32_t i = 30; i < 35; ++i) h.schedule(i, static_cast<int>(20 * i), kSsrc, 1000, i == 30);
  const auto outs = h.run(40);
  std::vector<int> expected = iota_vec(0, 5);
  for (int i = 30; i < 35; ++i) expected.push_back(i);
  EXPECT_EQ(decoded_sequence(outs), expected);
  EXPECT_EQ(h.jb().stats().lost, 0U);
  // A short concealment tail after the last packet, then silence for the rest of the gap.
  EXPECT_GT(std::count_if(outs.begin(), outs.end(), [](auto& o) { return o.kind == FrameKind::kSilence; }), 15);
}

TEST(JitterBuffer, TargetDelayGrowsWithJitterAndStaysLowWithout) {
  Harness steady;
  for (uint32_t i = 0; i < 100; ++i) steady.schedule(i, static_cast<int>(20 * i));
  steady.run(105);
  EXPECT_EQ(steady.jb().stats().target_delay_ms, 20U);
  EXPECT_LT(steady.jb().stats().jitter_ms, 1.0);

  Harness jittery;
  // Arrivals alternate 0 and 30 ms late.
  for (uint32_t i = 0; i < 100; ++i) jittery.schedule(i, static_cast<int>(20 * i + (i % 2) * 30));
  const auto outs = jittery.run(110);
  EXPECT_GT(jittery.jb().stats().jitter_ms, 15.0);
  EXPECT_GT(jittery.jb().stats().target_delay_ms, 60U);
  // After adapting, the stream plays without loss: the last 50 packets all decoded, in order.
  const auto seq = decoded_sequence(outs);
  ASSERT_GE(seq.size(), 50U);
  EXPECT_EQ(std::vector<int>(seq.end() - 50, seq.end()), iota_vec(50, 100));
}

TEST(JitterBuffer, ExcessDelayShrinks) {
  Harness h;
  // A burst: 15 packets at once (300 ms of audio), then real time.
  for (uint32_t i = 0; i < 15; ++i) h.schedule(i, 0);
  for (uint32_t i = 15; i < 80; ++i) h.schedule(i, static_cast<int>(20 * (i - 14)));
  h.run(85);
  EXPECT_GT(h.jb().stats().adaptive_drops, 3U);
  EXPECT_LE(h.jb().stats().depth_ms, 100U);
}

TEST(JitterBuffer, RefusesOversizeAndEmptyPayloadsAndSurvivesOverflow) {
  auto dec = media::make_decoder({.name = "PCMU", .clock_rate = 8000});
  JitterBuffer jb({.capacity = 4, .max_payload_bytes = 160}, *dec);
  const std::vector<uint8_t> big(161, 0xFF), ok(160, 0xFF);
  EXPECT_EQ(jb.put({.ssrc = 1, .timestamp = 0, .payload = big}), PutResult::kTooLarge);
  EXPECT_EQ(jb.put({.ssrc = 1, .timestamp = 0, .payload = {}}), PutResult::kEmpty);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(jb.put({.ssrc = 1, .timestamp = 160 * i, .payload = ok}), PutResult::kStored);
  EXPECT_EQ(jb.put({.ssrc = 1, .timestamp = 640, .payload = ok}), PutResult::kOverflow);
  EXPECT_EQ(jb.stats().too_large, 1U);
  EXPECT_EQ(jb.stats().overflow_drops, 1U);
  media::Frame f;
  for (int i = 0; i < 10; ++i) jb.get(f);  // bounded; must not crash or hang
}

TEST(JitterBuffer, OpusLossIsRebuiltFromFec) {
  auto enc = media::make_encoder({.name = "opus", .clock_rate = 48000, .pcm_rate_hz = 16000, .expected_loss_pct = 20});
  auto dec = media::make_decoder({.name = "opus", .clock_rate = 48000, .pcm_rate_hz = 16000});
  JitterBuffer jb({.max_payload_bytes = 400}, *dec);
  std::vector<int16_t> pcm(320);
  std::vector<uint8_t> payload(400);
  const auto t0 = Clock::time_point(1000s);
  media::Frame f;
  for (uint32_t i = 0; i < 40; ++i) {
    for (size_t s = 0; s < pcm.size(); ++s) {
      pcm[s] = static_cast<int16_t>(5000 * std::sin(2 * 3.14159265 * 300 * (i * 320.0 + s) / 16000));
    }
    const auto e = enc->encode(pcm, payload);
    ASSERT_TRUE(e);
    if (i != 20) {
      jb.put({.ssrc = 5, .sequence = static_cast<uint16_t>(i), .timestamp = 960 * i,
              .payload = std::span(payload).first(e.size), .arrival = t0 + std::chrono::milliseconds(20 * i)});
    }
    EXPECT_EQ(f.rate_hz(), i == 0 ? 8000U : 16000U);
    jb.get(f);
  }
  EXPECT_EQ(jb.stats().lost, 1U);
  EXPECT_EQ(jb.stats().fec_recovered, 1U);
}

}  // namespace
}  // namespace warmline::rtp
