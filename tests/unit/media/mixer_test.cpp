#include "media/mixer.hpp"

#include <gtest/gtest.h>

#include "media/tone.hpp"
#include "signal_util.hpp"

namespace warmline::media {
namespace {

using test::tone_amplitude;

// Each party speaks its own tone; outputs are checked for exactly the tones they must hear.
constexpr double kCallerHz = 500, kAiHz = 700, kTargetHz = 1100, kMusicHz = 1500;
enum Port : size_t { kCaller = 0, kAi = 1, kTarget = 2, kMusic = 3 };
const double kHz[] = {kCallerHz, kAiHz, kTargetHz, kMusicHz};

void feed(Mixer& m, std::initializer_list<Port> speaking) {
  for (Port p : speaking) {
    const auto s = test::sine(kHz[p], m.format().rate_hz, m.format().samples(), 4000.0);
    std::copy(s.begin(), s.end(), m.input(p).samples().begin());
    m.commit(p);
  }
}

// Present (amplitude ~4000 x gain) or absent (< 1 % of it) for every tone at `listener`'s output.
void expect_hears(const Mixer& m, Port listener, std::initializer_list<Port> expected) {
  const auto& out = m.output(listener);
  for (Port p : {kCaller, kAi, kTarget, kMusic}) {
    const double a = tone_amplitude(out.samples(), kHz[p], out.rate_hz());
    const bool want = std::find(expected.begin(), expected.end(), p) != expected.end();
    if (want) {
      EXPECT_NEAR(a, 4000.0, 400.0) << "port " << listener << " should hear " << p;
    } else {
      EXPECT_LT(a, 40.0) << "port " << listener << " must not hear " << p;
    }
  }
}

TEST(Mixer, HoldMusicReachesCallerButNeverTheAi) {
  Mixer m({8000, 20});
  ASSERT_TRUE(m.connect(kCaller, kMusic));
  ASSERT_TRUE(m.connect(kAi, kCaller));
  feed(m, {kCaller, kAi, kMusic});
  m.mix();
  expect_hears(m, kCaller, {kMusic});
  expect_hears(m, kAi, {kCaller});
  EXPECT_FALSE(m.output_active(kMusic));
}

TEST(Mixer, TargetHearsTheBriefingThenThreePartiesHearEachOther) {
  Mixer m({16000, 20});
  m.connect(kCaller, kMusic);
  m.connect(kTarget, kAi);  // the briefing: the AI (or its TTS) speaks to the target
  feed(m, {kCaller, kAi, kTarget, kMusic});
  m.mix();
  expect_hears(m, kTarget, {kAi});
  expect_hears(m, kCaller, {kMusic});

  // Conference: everyone hears everyone else, nobody hears themselves.
  m.disconnect_all(kMusic);
  for (Port l : {kCaller, kAi, kTarget}) {
    for (Port s : {kCaller, kAi, kTarget}) m.connect(l, s);
  }
  feed(m, {kCaller, kAi, kTarget, kMusic});
  m.mix();
  expect_hears(m, kCaller, {kAi, kTarget});
  expect_hears(m, kAi, {kCaller, kTarget});
  expect_hears(m, kTarget, {kCaller, kAi});
}

TEST(Mixer, NobodyHearsThemselves) {
  Mixer m;
  EXPECT_FALSE(m.connect(kCaller, kCaller));
  EXPECT_FALSE(m.hears(kCaller, kCaller));
  EXPECT_FALSE(m.connect(kCaller, Mixer::kMaxPorts));
}

TEST(Mixer, SingleInputPassesThroughBitExact) {
  Mixer m;
  m.connect(kAi, kCaller);
  for (size_t i = 0; i < m.input(kCaller).size(); ++i) m.input(kCaller)[i] = static_cast<int16_t>(i * 211 - 17000);
  m.commit(kCaller);
  m.mix();
  for (size_t i = 0; i < m.output(kAi).size(); ++i) ASSERT_EQ(m.output(kAi)[i], m.input(kCaller)[i]);
}

TEST(Mixer, SumsSaturateAndGainApplies) {
  Mixer m;
  m.connect(kTarget, kCaller);
  m.connect(kTarget, kAi);
  std::fill(m.input(kCaller).samples().begin(), m.input(kCaller).samples().end(), int16_t{30000});
  std::fill(m.input(kAi).samples().begin(), m.input(kAi).samples().end(), int16_t{30000});
  m.commit(kCaller);
  m.commit(kAi);
  m.mix();
  EXPECT_EQ(m.output(kTarget)[0], 32767);  // clipped, not wrapped to negative
  std::fill(m.input(kCaller).samples().begin(), m.input(kCaller).samples().end(), int16_t{-30000});
  std::fill(m.input(kAi).samples().begin(), m.input(kAi).samples().end(), int16_t{-30000});
  m.commit(kCaller);
  m.commit(kAi);
  m.mix();
  EXPECT_EQ(m.output(kTarget)[5], -32768);

  // Gain on a single input leaves the fast path: half level.
  Mixer g;
  g.connect(kCaller, kMusic);
  g.set_gain(kMusic, 0.5);
  feed(g, {kMusic});
  g.mix();
  EXPECT_NEAR(tone_amplitude(g.output(kCaller).samples(), kMusicHz, 8000), 2000.0, 200.0);
}

TEST(Mixer, UncommittedInputsAreSilentNextTick) {
  Mixer m;
  m.connect(kCaller, kMusic);
  feed(m, {kMusic});
  m.mix();
  EXPECT_TRUE(m.output_active(kCaller));
  m.mix();  // no commit this tick: the music port is silent
  EXPECT_FALSE(m.output_active(kCaller));
  EXPECT_TRUE(m.output(kCaller).is_silent());
}

}  // namespace
}  // namespace warmline::media
