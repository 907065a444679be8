#include "media/codec.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "signal_util.hpp"

namespace warmline::media {
namespace {

using test::best_snr_db;
using test::rms;
using test::sine;

struct RoundTrip {
  std::vector<int16_t> ref;
  std::vector<int16_t> out;
  size_t payload_bytes = 0;
};

// Encodes and decodes `seconds` of a two-tone speech-band signal in 20 ms frames.
RoundTrip round_trip(Encoder& enc, Decoder& dec, double seconds) {
  const uint32_t rate = enc.pcm_rate_hz();
  const size_t total = static_cast<size_t>(rate * seconds);
  RoundTrip rt;
  rt.ref = sine(440.0, rate, total, 6000.0);
  const auto second = sine(1250.0, rate, total, 3000.0);
  for (size_t i = 0; i < total; ++i) rt.ref[i] = static_cast<int16_t>(rt.ref[i] + second[i]);
  const size_t frame = rate / 50;
  std::vector<uint8_t> payload(1500);
  std::vector<int16_t> pcm(frame * 6);
  for (size_t pos = 0; pos + frame <= total; pos += frame) {
    const auto e = enc.encode(std::span(rt.ref).subspan(pos, frame), payload);
    EXPECT_TRUE(e) << e.error.message();
    rt.payload_bytes = e.size;
    const auto d = dec.decode(std::span(payload).first(e.size), pcm);
    EXPECT_TRUE(d) << d.error.message();
    EXPECT_EQ(d.size, frame);
    rt.out.insert(rt.out.end(), pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(d.size));
  }
  return rt;
}

struct SnrCase {
  const char* name;
  uint32_t clock;
  uint32_t pcm_rate;
  size_t payload_bytes;  // per 20 ms
  size_t max_delay;      // codec delay in samples, searched for the best alignment
  double min_snr_db;     // the codec's known bound on this signal
};

std::string snr_name(const SnrCase& c) { return std::string(c.name) + "_at_" + std::to_string(c.pcm_rate) + "Hz"; }
// GoogleTest shows this (not the struct's bytes) as GetParam() in test lists and failures.
void PrintTo(const SnrCase& c, std::ostream* os) { *os << snr_name(c); }

class CodecSnr : public ::testing::TestWithParam<SnrCase> {};

// Known bounds: G.711 gives ~38 dB SNR for a signal at this level (6 dB per bit, 8-bit log companding);
// G.722 at 64 kbit/s is waveform-matching in the low band (> 20 dB); opus is perceptual, so its
// waveform SNR is low but still well above the noise floor of a broken decoder (< 0 dB).
TEST_P(CodecSnr, RoundTripMeetsBound) {
  const SnrCase c = GetParam();
  auto enc = make_encoder({.name = c.name, .clock_rate = c.clock, .pcm_rate_hz = c.pcm_rate});
  auto dec = make_decoder({.name = c.name, .clock_rate = c.clock, .pcm_rate_hz = c.pcm_rate});
  ASSERT_TRUE(enc && dec);
  EXPECT_EQ(enc->pcm_rate_hz(), c.pcm_rate);
  const auto rt = round_trip(*enc, *dec, 1.0);
  if (c.payload_bytes != 0) {
    EXPECT_EQ(rt.payload_bytes, c.payload_bytes);
  }
  const size_t skip = c.pcm_rate / 10;
  const double snr = best_snr_db(rt.ref, rt.out, c.max_delay, skip, c.pcm_rate / 2);
  RecordProperty("snr_db", std::to_string(snr));
  EXPECT_GT(snr, c.min_snr_db) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, CodecSnr,
    ::testing::Values(SnrCase{"PCMU", 8000, 8000, 160, 0, 35.0}, SnrCase{"PCMA", 8000, 8000, 160, 0, 35.0},
                      SnrCase{"G722", 8000, 16000, 160, 64, 20.0},
                      SnrCase{"opus", 48000, 48000, 0, 960, 8.0},
                      SnrCase{"opus", 48000, 16000, 0, 320, 8.0}),
    [](const auto& info) { return snr_name(info.param); });

// Opus with 10 % random loss, concealed by FEC (next packet) or PLC: the output stays continuous - every
// frame carries the tone (no silent or garbage frame); received frames at full level, rebuilt frames
// attenuated at most ~6x, as is the frame after one while the decoder converges again (libopus fades PLC
// output and FEC is a low-bitrate copy).
TEST(Opus, TenPercentLossStaysContinuous) {
  auto enc = make_encoder({.name = "opus", .clock_rate = 48000, .pcm_rate_hz = 16000, .expected_loss_pct = 10});
  auto dec = make_decoder({.name = "opus", .clock_rate = 48000, .pcm_rate_hz = 16000});
  ASSERT_TRUE(enc && dec);
  const size_t frame = 320;
  const auto ref = sine(440.0, 16000, 16000 * 4, 6000.0);
  std::vector<std::vector<uint8_t>> packets;
  std::vector<uint8_t> payload(1500);
  for (size_t pos = 0; pos + frame <= ref.size(); pos += frame) {
    const auto e = enc->encode(std::span(ref).subspan(pos, frame), payload);
    ASSERT_TRUE(e);
    packets.emplace_back(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(e.size));
  }
  std::mt19937 rng(42);
  std::bernoulli_distribution lost(0.10);
  std::vector<int16_t> pcm(frame);
  size_t n_lost = 0;
  const double signal_rms = 6000.0 / std::sqrt(2.0);
  bool prev_lost = false;
  for (size_t i = 0; i < packets.size(); ++i) {
    CodecResult r;
    const bool is_lost = i > 5 && lost(rng);
    if (is_lost) {
      ++n_lost;
      r = (i + 1 < packets.size()) ? dec->recover(packets[i + 1], pcm) : dec->conceal(pcm);
    } else {
      r = dec->decode(packets[i], pcm);
    }
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r.size, frame);
    if (i > 10) {
      const double floor = (is_lost || prev_lost) ? 0.15 : 0.4;
      const double level = rms(pcm);
      EXPECT_GT(level, signal_rms * floor) << "frame " << i;
      EXPECT_LT(level, signal_rms * 1.6) << "frame " << i;
      // Concealment may drift the pitch a little, which costs Goertzel energy at exactly 440 Hz.
      EXPECT_GT(test::tone_amplitude(pcm, 440.0, 16000), 6000.0 * floor / 2) << "frame " << i;
    }
    prev_lost = is_lost;
  }
  EXPECT_GT(n_lost, 10U);
}

TEST(CodecFactory, KnowsSdpNamesAndRejectsUnknown) {
  ASSERT_NE(find_codec("pcmu", 8000), nullptr);
  EXPECT_EQ(find_codec("PCMU", 8000)->static_payload_type, 0);
  EXPECT_EQ(find_codec("PCMA", 8000)->static_payload_type, 8);
  EXPECT_EQ(find_codec("G722", 8000)->pcm_rate_hz, 16000U);
  EXPECT_EQ(find_codec("OPUS", 48000)->channels, 2U);
  EXPECT_EQ(find_codec("opus", 16000), nullptr);
  EXPECT_EQ(find_codec("GSM", 8000), nullptr);
  EXPECT_EQ(make_encoder({.name = "PCMU", .clock_rate = 16000}), nullptr);
  EXPECT_EQ(make_decoder({.name = "PCMA", .clock_rate = 8000, .pcm_rate_hz = 16000}), nullptr);
  EXPECT_EQ(make_encoder({.name = "opus", .clock_rate = 48000, .pcm_rate_hz = 44100}), nullptr);
  EXPECT_EQ(supported_codecs().size(), 4U);
}

TEST(CodecFactory, RejectsWrongFrameLengthsAndGarbage) {
  auto enc = make_encoder({.name = "PCMU", .clock_rate = 8000});
  std::vector<int16_t> pcm(123);
  std::vector<uint8_t> out(200);
  EXPECT_EQ(enc->encode(pcm, out).error, make_error_code(CodecError::kBadInput));
  pcm.resize(160);
  EXPECT_EQ(enc->encode(pcm, std::span(out).first(100)).error, make_error_code(CodecError::kOutputTooSmall));
  Frame wide({16000, 20});
  EXPECT_FALSE(enc->encode(wide, out));

  auto opus = make_decoder({.name = "opus", .clock_rate = 48000});
  std::vector<int16_t> dec(5760);
  const std::vector<uint8_t> garbage{0xFF, 0xFF, 0xFF};
  EXPECT_FALSE(opus->decode(garbage, dec));
  EXPECT_FALSE(opus->decode(std::span<const uint8_t>{}, dec));
}

TEST(CodecFactory, FrameHelpersSetFormat) {
  auto enc = make_encoder({.name = "G722", .clock_rate = 8000});
  auto dec = make_decoder({.name = "G722", .clock_rate = 8000});
  Frame in({16000, 10});
  const auto tone = sine(500.0, 16000, 160);
  std::copy(tone.begin(), tone.end(), in.samples().begin());
  std::vector<uint8_t> payload(200);
  const auto e = enc->encode(in, payload);
  ASSERT_TRUE(e);
  EXPECT_EQ(e.size, 80U);
  Frame out;
  ASSERT_TRUE(dec->decode(std::span(payload).first(e.size), out));
  EXPECT_EQ(out.format(), (FrameFormat{16000, 10}));
  ASSERT_TRUE(dec->conceal(out, 20));
  EXPECT_EQ(out.size(), 320U);
}

// G.711 PLC: after real audio, a concealed frame continues the signal instead of going silent.
TEST(G711Plc, ConcealmentContinuesTheSignal) {
  auto enc = make_encoder({.name = "PCMA", .clock_rate = 8000});
  auto dec = make_decoder({.name = "PCMA", .clock_rate = 8000});
  const auto ref = sine(300.0, 8000, 1600, 8000.0);
  std::vector<uint8_t> payload(160);
  std::vector<int16_t> pcm(160);
  for (size_t pos = 0; pos < 800; pos += 160) {
    enc->encode(std::span(ref).subspan(pos, 160), payload);
    dec->decode(payload, pcm);
  }
  ASSERT_TRUE(dec->conceal(pcm));
  EXPECT_GT(test::tone_amplitude(pcm, 300.0, 8000), 4000.0);
}

}  // namespace
}  // namespace warmline::media
