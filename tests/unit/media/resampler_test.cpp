#include "media/resampler.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "signal_util.hpp"

namespace warmline::media {
namespace {

using test::best_snr_db;
using test::sine;
using test::tone_amplitude;

// Runs `in` through `r` in 20 ms frames, as the media clock does.
std::vector<int16_t> run_frames(Resampler& r, const std::vector<int16_t>& in) {
  const size_t frame = r.in_rate_hz() / 50;
  std::vector<int16_t> out;
  std::vector<int16_t> buf(r.output_size(frame));
  for (size_t pos = 0; pos + frame <= in.size(); pos += frame) {
    const size_t n = r.process(std::span(in).subspan(pos, frame), buf);
    EXPECT_GT(n, 0U);
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return out;
}

struct RatePair {
  uint32_t in;
  uint32_t out;
};

std::string rate_name(const RatePair& p) { return "From" + std::to_string(p.in) + "To" + std::to_string(p.out); }
// GoogleTest shows this (not the struct's bytes) as GetParam() in test lists and failures.
void PrintTo(const RatePair& p, std::ostream* os) { *os << rate_name(p); }

class ResamplerRates : public ::testing::TestWithParam<RatePair> {};

// A 1 kHz tone (inside every band) resampled frame by frame keeps its frequency and level, yields exactly
// the expected number of samples per frame, and matches an ideal sine at the output rate (SNR, after the
// filter delay) - so frames join without clicks.
TEST_P(ResamplerRates, ToneSurvivesFrameByFrame) {
  const auto [in_rate, out_rate] = GetParam();
  auto r = Resampler::create({.in_rate_hz = in_rate, .out_rate_hz = out_rate});
  ASSERT_TRUE(r.has_value());
  const auto in = sine(1000.0, in_rate, in_rate);  // 1 s
  const auto out = run_frames(*r, in);
  EXPECT_EQ(out.size(), static_cast<size_t>(out_rate));
  const auto ideal = sine(1000.0, out_rate, out_rate);
  // Filter delay: compare ideal[i] with out[i + d]; skip the first 50 ms (filter warm-up).
  EXPECT_GT(best_snr_db(ideal, out, out_rate / 100, out_rate / 20, out_rate / 2), 35.0);
  EXPECT_NEAR(tone_amplitude(std::span(out).subspan(out_rate / 10), 1000.0, out_rate), 8000.0, 400.0);
}

INSTANTIATE_TEST_SUITE_P(AllRates, ResamplerRates,
                         ::testing::Values(RatePair{8000, 16000}, RatePair{16000, 8000}, RatePair{8000, 48000},
                                           RatePair{48000, 8000}, RatePair{16000, 48000}, RatePair{48000, 16000},
                                           RatePair{24000, 16000}, RatePair{16000, 24000}, RatePair{8000, 24000},
                                           RatePair{8000, 8000}),
                         [](const ::testing::TestParamInfo<RatePair>& info) { return rate_name(info.param); });

// Downsampling removes what the lower rate cannot carry instead of folding it back as an alias.
TEST(Resampler, DownsamplingFiltersAboveNyquist) {
  auto r = Resampler::create({.in_rate_hz = 16000, .out_rate_hz = 8000});
  ASSERT_TRUE(r.has_value());
  const auto in = sine(6000.0, 16000, 16000);  // would alias to 2 kHz at 8 kHz
  const auto out = run_frames(*r, in);
  EXPECT_LT(tone_amplitude(std::span(out).subspan(800), 2000.0, 8000), 80.0);
}

TEST(Resampler, RejectsBadRatesAndShortOutput) {
  EXPECT_FALSE(Resampler::create({.in_rate_hz = 0, .out_rate_hz = 8000}).has_value());
  EXPECT_FALSE(Resampler::create({.in_rate_hz = 8000, .out_rate_hz = 1'000'000}).has_value());
  EXPECT_FALSE(Resampler::create({.in_rate_hz = 8000, .out_rate_hz = 16000, .quality = 11}).has_value());
  auto r = Resampler::create({.in_rate_hz = 8000, .out_rate_hz = 16000});
  ASSERT_TRUE(r.has_value());
  std::vector<int16_t> in(160, 100);
  std::vector<int16_t> out(100);
  EXPECT_EQ(r->process(in, out), 0U);
}

// The stream keeps state: resetting forgets it, so a fresh stream and a reset one produce the same output.
TEST(Resampler, ResetForgetsHistory) {
  auto a = Resampler::create({.in_rate_hz = 8000, .out_rate_hz = 16000});
  auto b = Resampler::create({.in_rate_hz = 8000, .out_rate_hz = 16000});
  ASSERT_TRUE(a && b);
  const auto noise = sine(700.0, 8000, 160, 20000.0);
  std::vector<int16_t> out_a(400), out_b(400);
  a->process(noise, out_a);
  a->reset();
  const auto tone = sine(300.0, 8000, 160);
  const size_t na = a->process(tone, out_a);
  const size_t nb = b->process(tone, out_b);
  ASSERT_EQ(na, nb);
  for (size_t i = 0; i < na; ++i) ASSERT_EQ(out_a[i], out_b[i]) << i;
}

}  // namespace
}  // namespace warmline::media
