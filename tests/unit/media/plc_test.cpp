#include "media/plc.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <ostream>
#include <vector>

#include "signal_util.hpp"

namespace warmline::media {
namespace {

using test::rms;

// A voiced-speech-like signal: a 173 Hz fundamental (46.24 samples at 8 kHz: not a whole number, so
// repetition is never trivially exact) with two weaker harmonics.
constexpr double kF0 = 173.0;

std::vector<int16_t> voiced(uint32_t rate, size_t n) {
  std::vector<int16_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double t = 2.0 * std::numbers::pi * kF0 * static_cast<double>(i) / rate;
    out[i] = static_cast<int16_t>(std::lround(6000 * std::sin(t) + 3000 * std::sin(2 * t + 0.7) + 1500 * std::sin(3 * t + 1.9)));
  }
  return out;
}

// Like voiced(), but the fundamental glides up by 80 % per second and the level swells.
std::vector<int16_t> gliding(uint32_t rate, size_t n, double f0) {
  std::vector<int16_t> out(n);
  double phase = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double sec = static_cast<double>(i) / rate;
    phase += 2.0 * std::numbers::pi * f0 * (1.0 + 0.8 * sec) / rate;
    const double level = 0.6 + 1.2 * sec;
    out[i] = static_cast<int16_t>(std::lround(
        level * (6000 * std::sin(phase) + 3000 * std::sin(2 * phase + 0.7) + 1500 * std::sin(3 * phase + 1.9))));
  }
  return out;
}

int max_second_difference(std::span<const int16_t> x) {
  int m = 0;
  for (size_t i = 2; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - 2 * x[i - 1] + x[i - 2]));
  return m;
}

int max_step(std::span<const int16_t> x) {
  int m = 0;
  for (size_t i = 1; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - x[i - 1]));
  return m;
}

// Normalised correlation of two equally long sequences (of any sample type).
double correlation(const auto& a, const auto& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

size_t ms(uint32_t rate, size_t millis) { return rate / 1000 * millis; }

// Plays `signal` through a concealer frame by frame; frames listed in `lost` are concealed instead of
// received. Returns the output stream.
std::vector<int16_t> play(PacketLossConcealer& plc, const std::vector<int16_t>& signal, size_t frame,
                          const std::vector<size_t>& lost) {
  std::vector<int16_t> out = signal;
  for (size_t f = 0; (f + 1) * frame <= out.size(); ++f) {
    auto span = std::span(out).subspan(f * frame, frame);
    if (std::find(lost.begin(), lost.end(), f) != lost.end()) {
      plc.fillin(span);
    } else {
      plc.rx(span);
    }
  }
  return out;
}

struct Case {
  uint32_t rate;
  size_t frame_ms;
};
std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.rate << "Hz_" << c.frame_ms << "ms"; }

class PlcFrames : public ::testing::TestWithParam<Case> {};

// One frame lost after 300 ms of voiced audio: the concealment is the same waveform, in phase with
// the true continuation, and the pitch found is the signal's period.
TEST_P(PlcFrames, LostFrameContinuesWithTheSamePeriod) {
  const auto [rate, frame_ms] = GetParam();
  const size_t frame = ms(rate, frame_ms);
  const size_t lost = ms(rate, 300) / frame;
  const auto ref = voiced(rate, (lost + 3) * frame);
  PacketLossConcealer plc(rate);
  const auto out = play(plc, ref, frame, {lost});
  EXPECT_NEAR(static_cast<double>(plc.pitch()), rate / kF0, 1.0);
  const size_t n = std::min(frame, ms(rate, 20));
  const auto concealed = std::span(out).subspan(lost * frame, n);
  EXPECT_GT(correlation(concealed, std::span(ref).subspan(lost * frame, n)), 0.9);
  EXPECT_GT(rms(concealed), 0.7 * rms(std::span(ref).subspan(lost * frame, n)));
}

// No click where the gap starts or ends: neither the sample-to-sample step nor its change (the second
// difference, where a click shows first) is much larger anywhere in the output than in the signal
// itself. The signal glides in pitch and swells, like speech, so the repeated period never matches
// the audio around it exactly and the cross-fades have work to do.
TEST_P(PlcFrames, NoClickAtEitherEndOfTheGap) {
  const auto [rate, frame_ms] = GetParam();
  const size_t frame = ms(rate, frame_ms);
  const size_t lost = ms(rate, 300) / frame;
  for (const double f0 : {100.0, 173.0, 230.0}) {
    const auto ref = gliding(rate, (lost + 3) * frame, f0);
    PacketLossConcealer plc(rate);
    const auto out = play(plc, ref, frame, {lost});
    EXPECT_LE(max_step(out), max_step(ref) * 5 / 4) << f0 << " Hz";
    EXPECT_LE(max_second_difference(out), max_second_difference(ref) * 5 / 4) << f0 << " Hz";
  }
}

// Recovery: after the cross-fade (4 ms for a 10 ms loss, 8 ms for 20 ms, at most 10 ms) the real audio
// comes out unchanged.
TEST_P(PlcFrames, RealAudioIsUnchangedAfterTheRecoveryCrossFade) {
  const auto [rate, frame_ms] = GetParam();
  const size_t frame = ms(rate, frame_ms);
  const size_t first_lost = ms(rate, 300) / frame;
  const size_t lost_frames = std::max<size_t>(1, 20 / frame_ms);  // ~20 ms (one frame if longer)
  std::vector<size_t> lost;
  for (size_t f = 0; f < lost_frames; ++f) lost.push_back(first_lost + f);
  const auto ref = voiced(rate, (first_lost + lost_frames + 3) * frame);
  PacketLossConcealer plc(rate);
  const auto out = play(plc, ref, frame, lost);
  const size_t gap_ms = lost_frames * frame_ms;
  const size_t ola = std::min(ms(rate, 10), ms(rate, 4) * ((gap_ms + 9) / 10));
  const size_t back = (first_lost + lost_frames) * frame;
  EXPECT_NE(out[back], ref[back]);  // the cross-fade starts on the synthetic side
  for (size_t i = back + ola; i < out.size(); ++i) ASSERT_EQ(out[i], ref[i]) << "sample " << i - back;
  for (size_t i = 0; i < first_lost * frame; ++i) ASSERT_EQ(out[i], ref[i]) << "before the loss, sample " << i;
}

INSTANTIATE_TEST_SUITE_P(RatesAndFrames, PlcFrames,
                         ::testing::Values(Case{8000, 10}, Case{8000, 20}, Case{8000, 30}, Case{8000, 60},
                                           Case{16000, 10}, Case{16000, 20}, Case{16000, 30}, Case{16000, 60}),
                         ::testing::PrintToStringParamName());

class PlcRates : public ::testing::TestWithParam<uint32_t> {};

// Appendix I: full level for 10 ms, then 20 % less per 10 ms, silence from 60 ms on.
TEST_P(PlcRates, FadesAfterTenMsAndIsSilentFromSixty) {
  const uint32_t rate = GetParam();
  const size_t ten = ms(rate, 10);
  const auto ref = voiced(rate, ms(rate, 300));
  PacketLossConcealer plc(rate);
  auto history = ref;
  plc.rx(history);
  const double level = rms(std::span(ref).last(ten));
  std::vector<int16_t> chunk(ten);
  for (size_t k = 0; k < 9; ++k) {
    plc.fillin(chunk);
    const double r = rms(chunk) / level;
    if (k == 0) {
      EXPECT_GT(r, 0.85);
    } else if (k < 6) {
      // The gain falls from 1 - 0.2 (k - 1) to 1 - 0.2 k across this chunk.
      EXPECT_LT(r, 1.0 - 0.2 * static_cast<double>(k - 1) + 0.05) << "chunk " << k;
      EXPECT_GT(r, 1.0 - 0.2 * static_cast<double>(k) - 0.02) << "chunk " << k;
    } else {
      EXPECT_TRUE(std::all_of(chunk.begin(), chunk.end(), [](int16_t s) { return s == 0; })) << "chunk " << k;
    }
  }
}

// The recovery cross-fade grows with the loss: 4, 8, then at most 10 ms; after 60 ms of silence it fades
// the real audio in from zero.
TEST_P(PlcRates, RecoveryCrossFadeLengthFollowsTheLoss) {
  const uint32_t rate = GetParam();
  for (const size_t gap_ms : {10, 20, 30, 70}) {
    const auto ref = voiced(rate, ms(rate, 400));
    PacketLossConcealer plc(rate);
    auto head = std::vector<int16_t>(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(ms(rate, 300)));
    plc.rx(head);
    std::vector<int16_t> gap(ms(rate, gap_ms));
    plc.fillin(gap);
    std::vector<int16_t> tail(ref.begin() + static_cast<std::ptrdiff_t>(ms(rate, 300)), ref.end());
    plc.rx(tail);
    const size_t ola = std::min<size_t>(10, 4 * ((gap_ms + 9) / 10));
    size_t last_changed = 0;
    for (size_t i = 0; i < tail.size(); ++i) {
      if (tail[i] != ref[ms(rate, 300) + i]) last_changed = i;
    }
    EXPECT_LT(last_changed, ms(rate, ola)) << gap_ms << " ms gap";
    EXPECT_GE(last_changed, ms(rate, ola) / 2) << gap_ms << " ms gap";
    if (gap_ms > 60) {
      EXPECT_LE(std::abs(tail[0]), std::abs(ref[ms(rate, 300)]) / 8 + 1);
      EXPECT_LE(max_step(tail), max_step(ref) * 5 / 4);
    }
  }
}

// Appendix I: a long loss repeats more of the past (two periods after 10 ms, three after 20 ms) so it
// does not buzz. The signal is a pulse train (its period is certain) over noise (so no two periods are
// alike): once three periods repeat, the output matches itself three periods back, not one.
TEST_P(PlcRates, LongLossRepeatsThreePeriods) {
  const uint32_t rate = GetParam();
  const size_t period = ms(rate, 50) / 8;  // 6.25 ms
  std::vector<int16_t> history(ms(rate, 300));
  uint32_t lcg = 7;
  for (size_t i = 0; i < history.size(); ++i) {
    lcg = lcg * 1664525 + 1013904223;
    history[i] = static_cast<int16_t>(static_cast<int>(lcg >> 20) - 2048 + (i % period < 3 ? 8000 : 0));
  }
  PacketLossConcealer plc(rate);
  plc.rx(history);
  std::vector<int16_t> out(ms(rate, 60));
  plc.fillin(out);
  ASSERT_EQ(plc.pitch(), period);
  // Undo the fade (full level for 10 ms, then down to 0 at 60 ms) so that only the waveforms compare.
  std::vector<double> level(out.size() - 1);  // the last sample's gain is 0
  const double ten = static_cast<double>(ms(rate, 10));
  for (size_t i = 0; i < level.size(); ++i) level[i] = out[i] / std::min(1.0, 1.0 - (static_cast<double>(i) - ten) / (5 * ten));
  // With this period the passes are 1, 1, 2, 3, 3 periods long: the last one starts 7 periods in, the
  // one before it 4 periods in.
  const auto now = std::span(level).subspan(7 * period, level.size() - 7 * period);
  const auto three_back = std::span(level).subspan(4 * period, now.size());
  const auto one_back = std::span(level).subspan(6 * period, now.size());
  EXPECT_GT(correlation(now, three_back), 0.97);
  EXPECT_LT(correlation(now, one_back), 0.9);
}

TEST_P(PlcRates, ResetForgetsTheHistory) {
  const uint32_t rate = GetParam();
  PacketLossConcealer plc(rate);
  auto signal = voiced(rate, ms(rate, 200));
  plc.rx(signal);
  plc.reset();
  std::vector<int16_t> out(ms(rate, 20), 1234);
  plc.fillin(out);
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](int16_t s) { return s == 0; }));
}

// A loss before any audio (the first packet of a stream lost) conceals with silence, and the audio that
// follows fades in.
TEST_P(PlcRates, LossBeforeAnyAudioIsSilence) {
  const uint32_t rate = GetParam();
  PacketLossConcealer plc(rate);
  std::vector<int16_t> out(ms(rate, 20), 1234);
  plc.fillin(out);
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](int16_t s) { return s == 0; }));
  const auto ref = voiced(rate, ms(rate, 40));
  auto in = ref;
  plc.rx(in);
  EXPECT_LE(std::abs(in[0]), std::abs(ref[0]) / 8 + 1);
  EXPECT_TRUE(std::equal(in.begin() + static_cast<std::ptrdiff_t>(ms(rate, 10)), in.end(),
                         ref.begin() + static_cast<std::ptrdiff_t>(ms(rate, 10))));
}

// The jitter buffer conceals in pieces (the rest of a frame, a gap shorter than a packet): the
// concealment is the same however the erasure is cut, including into odd lengths.
TEST_P(PlcRates, ConcealmentDoesNotDependOnHowTheGapIsCut) {
  const uint32_t rate = GetParam();
  const auto ref = voiced(rate, ms(rate, 300));
  PacketLossConcealer whole(rate), pieces(rate);
  auto a = ref, b = ref;
  whole.rx(a);
  pieces.rx(b);
  std::vector<int16_t> one(ms(rate, 70)), cut(ms(rate, 70));
  whole.fillin(one);
  for (size_t pos = 0; pos < cut.size(); pos += 37) {
    pieces.fillin(std::span(cut).subspan(pos, std::min<size_t>(37, cut.size() - pos)));
  }
  EXPECT_EQ(one, cut);
}

// Frames longer than the history (e.g. 120 ms packets) and empty spans are fine.
TEST_P(PlcRates, LongAndEmptyFrames) {
  const uint32_t rate = GetParam();
  PacketLossConcealer plc(rate);
  auto big = voiced(rate, ms(rate, 120));
  plc.rx(big);
  plc.rx({});
  plc.fillin({});
  std::vector<int16_t> out(ms(rate, 120));
  plc.fillin(out);
  EXPECT_GT(rms(std::span(out).first(ms(rate, 10))), 0.7 * rms(std::span(big).last(ms(rate, 10))));
  EXPECT_TRUE(std::all_of(out.begin() + static_cast<std::ptrdiff_t>(ms(rate, 60)), out.end(),
                          [](int16_t s) { return s == 0; }));
}

INSTANTIATE_TEST_SUITE_P(Rates, PlcRates, ::testing::Values(8000U, 16000U));

}  // namespace
}  // namespace warmline::media
