#include "media/tone.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "signal_util.hpp"

namespace warmline::media {
namespace {

// Renders `ms` of a tone source into 10 ms blocks of (which frequencies are present) and returns, per
// block, whether every frequency of the spec is present and nothing else.
std::vector<bool> on_pattern(ToneSource& src, const ToneSpec& spec, uint32_t rate, uint32_t ms) {
  std::vector<bool> on;
  Frame f({rate, 10});
  for (uint32_t t = 0; t < ms; t += 10) {
    EXPECT_TRUE(src.read(f));
    bool all = true, any = false;
    for (double hz : spec.freqs_hz) {
      if (hz == 0) continue;
      const double a = test::tone_amplitude(f.samples(), hz, rate);
      all = all && a > 300.0;
      any = any || a > 30.0;
    }
    EXPECT_EQ(all, any) << "partial tone at " << t << " ms";
    on.push_back(all);
  }
  return on;
}

std::vector<bool> expected_pattern(const std::vector<uint32_t>& cadence, uint32_t ms) {
  std::vector<bool> on;
  uint32_t cycle = 0;
  for (uint32_t c : cadence) cycle += c;
  for (uint32_t t = 0; t < ms; t += 10) {
    uint32_t pos = t % cycle, seg = 0;
    while (pos >= cadence[seg]) pos -= cadence[seg++];
    on.push_back(seg % 2 == 0);
  }
  return on;
}

struct Case {
  const char* country;
  ToneKind kind;
  std::array<double, 2> freqs;
  std::vector<uint32_t> cadence;
};

std::string case_name(const Case& c) { return std::string(c.country) + (c.kind == ToneKind::kBusy ? "_busy" : "_ringback"); }
// GoogleTest shows this (not the struct's bytes) as GetParam() in test lists and failures.
void PrintTo(const Case& c, std::ostream* os) { *os << case_name(c); }

class NationalTones : public ::testing::TestWithParam<Case> {};

// Frequencies per country plan and cadence over two full cycles, detected with Goertzel per 10 ms.
TEST_P(NationalTones, FrequencyAndCadence) {
  const Case c = GetParam();
  const auto spec = national_tone(c.country, c.kind);
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->freqs_hz, c.freqs);
  EXPECT_EQ(spec->cadence_ms, c.cadence);
  for (uint32_t rate : {8000U, 16000U}) {
    ToneSource src(*spec, rate);
    uint32_t cycle = 0;
    for (uint32_t ms : c.cadence) cycle += ms;
    EXPECT_EQ(on_pattern(src, *spec, rate, 2 * cycle), expected_pattern(c.cadence, 2 * cycle)) << rate;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Plans, NationalTones,
    ::testing::Values(Case{"us", ToneKind::kRingback, {440, 480}, {2000, 4000}},
                      Case{"us", ToneKind::kBusy, {480, 620}, {500, 500}},
                      Case{"etsi", ToneKind::kRingback, {425, 0}, {1000, 4000}},
                      Case{"uk", ToneKind::kRingback, {400, 450}, {400, 200, 400, 2000}},
                      Case{"uk", ToneKind::kBusy, {400, 0}, {375, 375}},
                      Case{"fr", ToneKind::kRingback, {440, 0}, {1500, 3500}}),
    [](const ::testing::TestParamInfo<Case>& info) { return case_name(info.param); });

TEST(Tone, UnknownCountryAndWrongRate) {
  EXPECT_FALSE(national_tone("xx", ToneKind::kBusy).has_value());
  ToneSource src(*national_tone("etsi", ToneKind::kBusy), 8000);
  Frame wide({16000, 20});
  EXPECT_FALSE(src.read(wide));
  EXPECT_TRUE(wide.is_silent());
}

// A continuous (no cadence) tone stays at its level and frequency for a long run (no oscillator drift).
TEST(Tone, ContinuousToneIsStable) {
  ToneSpec spec{{1000, 0}, {}, -10};
  ToneSource src(spec, 8000);
  Frame f;
  double first = 0, last = 0;
  for (int i = 0; i < 3000; ++i) {  // one minute
    src.read(f);
    const double a = test::tone_amplitude(f.samples(), 1000, 8000);
    if (i == 0) first = a;
    last = a;
  }
  EXPECT_GT(first, 5000.0);
  EXPECT_NEAR(last, first, first * 0.01);
}

}  // namespace
}  // namespace warmline::media
