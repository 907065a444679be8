// G.711 Appendix I style packet-loss concealment (see plc.hpp for the algorithm and the deviations).
#include "media/plc.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace warmline::media {
namespace {

size_t samples_of(uint32_t rate_hz, size_t at_8khz) { return at_8khz * rate_hz / 8000; }

int16_t saturate(float v) {
  const float r = v >= 0.0F ? v + 0.5F : v - 0.5F;
  if (r >= 32767.0F) return 32767;
  if (r <= -32768.0F) return -32768;
  return static_cast<int16_t>(r);
}

// Attenuation after 10 ms of loss: 20 % of full scale per further 10 ms, so 0 at 60 ms.
constexpr size_t kSilentAfterTenMs = 6;

}  // namespace

PacketLossConcealer::PacketLossConcealer(uint32_t rate_hz)
    : rate_hz_(rate_hz),
      pitch_min_(samples_of(rate_hz, 40)),
      pitch_max_(samples_of(rate_hz, 120)),
      history_len_(3 * pitch_max_ + pitch_max_ / 4),
      corr_len_(samples_of(rate_hz, 160)),
      ten_ms_(samples_of(rate_hz, 80)),
      end_ola_step_(samples_of(rate_hz, 32)),
      decimation_(std::max<size_t>(1, samples_of(rate_hz, 2))),
      fade_step_(1.0F / static_cast<float>((kSilentAfterTenMs - 1) * ten_ms_)),
      hist_end_(history_len_) {
  // Only G.711 and G.722 construct this, with a constant rate: another rate is a bug, not input.
  if (rate_hz < kMinRateHz || rate_hz > kMaxRateHz) std::abort();
}

void PacketLossConcealer::reset() {
  hist_.fill(0);
  hist_end_ = history_len_;
  pitch_ = 0;
  erased_ = 0;
  ola_len_ = 0;
  ola_pos_ = 0;
}

void PacketLossConcealer::push_history(std::span<const int16_t> pcm) {
  if (pcm.size() >= history_len_) {
    std::copy(pcm.end() - static_cast<std::ptrdiff_t>(history_len_), pcm.end(), hist_.begin());
    hist_end_ = history_len_;
    return;
  }
  if (hist_end_ + pcm.size() > hist_.size()) {
    // Out of slack: move the history to the front (once every few frames, not on every push).
    std::copy(hist_.begin() + static_cast<std::ptrdiff_t>(hist_end_ - history_len_),
              hist_.begin() + static_cast<std::ptrdiff_t>(hist_end_), hist_.begin());
    hist_end_ = history_len_;
  }
  std::copy(pcm.begin(), pcm.end(), hist_.begin() + static_cast<std::ptrdiff_t>(hist_end_));
  hist_end_ += pcm.size();
}

void PacketLossConcealer::rx(std::span<int16_t> pcm) {
  if (erased_ > 0 && ola_len_ == 0) begin_recovery();
  if (ola_len_ > 0) {
    const size_t n = std::min(pcm.size(), ola_len_ - ola_pos_);
    std::array<float, kChunk> synthetic;  // ola_len_ <= 10 ms <= kChunk
    synthesize(std::span(synthetic).first(n));
    const float step = 1.0F / static_cast<float>(ola_len_ + 1);
    for (size_t i = 0; i < n; ++i) {
      const float w = static_cast<float>(ola_pos_ + i + 1) * step;  // weight of the real audio
      pcm[i] = saturate(w * pcm[i] + (1.0F - w) * synthetic[i]);
    }
    ola_pos_ += n;
    if (ola_pos_ == ola_len_) {
      ola_len_ = 0;
      erased_ = 0;
    }
  }
  push_history(pcm);
}

// Appendix I: 4 ms after the first 10 ms of loss, 4 ms more per further 10 ms, at most 10 ms.
void PacketLossConcealer::begin_recovery() {
  const size_t started_tens = (erased_ + ten_ms_ - 1) / ten_ms_;
  ola_len_ = std::min(ten_ms_, end_ola_step_ * started_tens);
  ola_pos_ = 0;
}

void PacketLossConcealer::fillin(std::span<int16_t> pcm) {
  if (ola_len_ > 0) {
    // Lost again while fading back in: the history already holds the blended audio, so this is a new
    // erasure that starts from it.
    ola_len_ = 0;
    erased_ = 0;
  }
  if (erased_ == 0) start_erasure();
  if (erased_ >= kSilentAfterTenMs * ten_ms_) {
    std::fill(pcm.begin(), pcm.end(), int16_t{0});  // a long loss: nothing left to synthesise
    push_history(pcm);
    return;
  }
  std::array<float, kChunk> synthetic;
  for (size_t done = 0; done < pcm.size();) {
    const size_t n = std::min(kChunk, pcm.size() - done);
    synthesize(std::span(synthetic).first(n));
    for (size_t i = 0; i < n; ++i) pcm[done + i] = saturate(synthetic[i]);
    done += n;
  }
  push_history(pcm);
}

void PacketLossConcealer::start_erasure() {
  std::copy(hist_.begin() + static_cast<std::ptrdiff_t>(hist_end_ - history_len_),
            hist_.begin() + static_cast<std::ptrdiff_t>(hist_end_), cycle_src_.begin());
  pitch_ = find_pitch();
  overlap_ = pitch_ / 4;
  overlap_step_ = 1.0F / static_cast<float>(overlap_ + 1);
  tail_periods_ = 1;
  pos_ = history_len_ - pitch_;
  // The repeated period is played as a cycle whose last quarter fades into the samples one period
  // earlier, so the cycle wraps onto its first sample smoothly. The real audio, though, ended on its
  // own last sample: the difference to the cycle's version of it is added to the first quarter-period
  // of synthetic audio, fading from all of it to nothing, so the join has no step (no click).
  join_offset_ = static_cast<float>(cycle_src_[history_len_ - 1]) - cycle_sample(history_len_ - 1);
}

// Appendix I: a coarse search on the signal decimated to 4 kHz, then a fine one around its best lag.
// The search runs on floats: it only has to rank lags, and float products need no 64-bit sums.
size_t PacketLossConcealer::find_pitch() const {
  const size_t span = corr_len_ + pitch_max_;  // the target window and the longest lag before it
  std::array<float, kMaxCorrLen + kMaxPitch> x;
  const int16_t* src = cycle_src_.data() + history_len_ - span;
  for (size_t i = 0; i < span; ++i) x[i] = src[i];
  std::array<float, kMaxCorrLen + kMaxPitch> decimated;
  const size_t d = decimation_;
  for (size_t j = 0; j * d < span; ++j) decimated[j] = x[j * d];
  const size_t coarse = d * best_lag(decimated.data(), pitch_max_ / d, corr_len_ / d, pitch_min_ / d, pitch_max_ / d);
  const size_t lo = std::max(pitch_min_, coarse - (d - 1));
  const size_t hi = std::min(pitch_max_, coarse + (d - 1));
  return best_lag(x.data(), pitch_max_, corr_len_, lo, hi);
}

namespace {

// Four partial sums, so the additions do not wait on one another.
float dot(const float* a, const float* b, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

// The lag in [lo, hi] whose past window best matches the `len` samples at x[target] by normalised
// cross-correlation (correlation / sqrt(energy of the past window)); ties go to the shorter lag.
size_t PacketLossConcealer::best_lag(const float* x, size_t target, size_t len, size_t lo, size_t hi) {
  const float* t = x + target;
  float energy = dot(t - lo, t - lo, len);
  size_t best = lo;
  float best_score = -std::numeric_limits<float>::infinity();
  for (size_t lag = lo;; ++lag) {
    const float score = dot(t, t - lag, len) / std::sqrt(std::max(1.0F, energy));
    if (score > best_score) {
      best_score = score;
      best = lag;
    }
    if (lag == hi) break;
    // The window slides one sample back: one sample enters at the front, one leaves at the end.
    const float entering = t[-static_cast<std::ptrdiff_t>(lag) - 1];
    const float leaving = t[static_cast<std::ptrdiff_t>(len) - static_cast<std::ptrdiff_t>(lag) - 1];
    energy += entering * entering - leaving * leaving;
  }
  return best;
}

float PacketLossConcealer::cycle_sample(size_t pos) const {
  const size_t tail_start = history_len_ - overlap_;
  if (pos < tail_start) return cycle_src_[pos];
  const float w = static_cast<float>(pos - tail_start + 1) * overlap_step_;
  return (1.0F - w) * cycle_src_[pos] + w * cycle_src_[pos - tail_periods_ * pitch_];
}

// The next out.size() samples of the erasure, in runs that end where something changes: the cycle's
// tail (a cross-fade) starts, the cycle wraps, or 60 ms are reached.
void PacketLossConcealer::synthesize(std::span<float> out) {
  const size_t silent = kSilentAfterTenMs * ten_ms_;
  const size_t tail_start = history_len_ - overlap_;
  for (size_t i = 0; i < out.size();) {
    if (erased_ >= silent) {
      std::fill(out.begin() + static_cast<std::ptrdiff_t>(i), out.end(), 0.0F);
      return;
    }
    const size_t next_event = pos_ < tail_start ? tail_start : history_len_;
    const size_t n = std::min({out.size() - i, next_event - pos_, silent - erased_});
    float* run = out.data() + i;
    if (pos_ < tail_start) {
      std::copy_n(cycle_src_.begin() + static_cast<std::ptrdiff_t>(pos_), n, run);
    } else {
      for (size_t k = 0; k < n; ++k) run[k] = cycle_sample(pos_ + k);
    }
    for (size_t k = 0; k < n && erased_ + k < overlap_; ++k) {
      run[k] += join_offset_ * (1.0F - static_cast<float>(erased_ + k + 1) * overlap_step_);
    }
    if (erased_ + n > ten_ms_) {
      // Appendix I: full level for 10 ms, then 20 % of it less per 10 ms.
      for (size_t k = 0; k < n; ++k) {
        run[k] *= std::min(1.0F, 1.0F - (static_cast<float>(erased_ + k) - static_cast<float>(ten_ms_)) * fade_step_);
      }
    }
    i += n;
    erased_ += n;
    pos_ += n;
    if (pos_ == tail_start) {
      // Entering the cycle's tail: decide how far back the next pass starts (Appendix I: one period for
      // the first 10 ms, two up to 20 ms, then three), so the tail fades toward exactly that sample.
      tail_periods_ = std::min<size_t>(3, 1 + erased_ / ten_ms_);
    } else if (pos_ == history_len_) {
      pos_ = history_len_ - tail_periods_ * pitch_;
    }
  }
}

}  // namespace warmline::media
