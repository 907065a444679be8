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
    const float step = 1.0F / static_cast<float>(ola_len_ + 1);
    for (size_t i = 0; i < n; ++i, ++ola_pos_) {
      const float w = static_cast<float>(ola_pos_ + 1) * step;  // weight of the real audio
      pcm[i] = saturate(w * pcm[i] + (1.0F - w) * next_synthetic());
    }
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
  size_t i = 0;
  for (; i < pcm.size() && erased_ < kSilentAfterTenMs * ten_ms_; ++i) pcm[i] = saturate(next_synthetic());
  std::fill(pcm.begin() + static_cast<std::ptrdiff_t>(i), pcm.end(), int16_t{0});
  push_history(pcm);
}

void PacketLossConcealer::start_erasure() {
  std::copy(hist_.begin() + static_cast<std::ptrdiff_t>(hist_end_ - history_len_),
            hist_.begin() + static_cast<std::ptrdiff_t>(hist_end_), cycle_src_.begin());
  pitch_ = find_pitch();
  overlap_ = pitch_ / 4;
  tail_periods_ = 1;
  pos_ = history_len_ - pitch_;
  // The repeated period is played as a cycle whose last quarter fades into the samples one period
  // earlier, so the cycle wraps onto its first sample smoothly. The real audio, though, ended on its
  // own last sample: the difference to the cycle's version of it is added to the first quarter-period
  // of synthetic audio, fading from all of it to nothing, so the join has no step (no click).
  join_offset_ = static_cast<float>(cycle_src_[history_len_ - 1]) - cycle_sample(history_len_ - 1);
}

// The lag in [lo, hi] (every `stride`-th, correlating every `stride`-th sample) whose past window best
// matches the target window by normalised cross-correlation; ties go to the shorter lag.
size_t PacketLossConcealer::best_lag(const int16_t* target, size_t lo, size_t hi, size_t stride) const {
  size_t best = lo;
  double best_score = -std::numeric_limits<double>::infinity();
  for (size_t lag = lo; lag <= hi; lag += stride) {
    const int16_t* past = target - lag;
    int64_t corr = 0, energy = 0;
    for (size_t i = 0; i < corr_len_; i += stride) {
      corr += int64_t{target[i]} * past[i];
      energy += int64_t{past[i]} * past[i];
    }
    const double score = static_cast<double>(corr) / std::sqrt(std::max(1.0, static_cast<double>(energy)));
    if (score > best_score) {
      best_score = score;
      best = lag;
    }
  }
  return best;
}

// Appendix I: a coarse search on the decimated signal, then a fine one around its best lag.
size_t PacketLossConcealer::find_pitch() const {
  const int16_t* target = cycle_src_.data() + history_len_ - corr_len_;
  const size_t coarse = best_lag(target, pitch_min_, pitch_max_, decimation_);
  const size_t lo = std::max(pitch_min_, coarse - (decimation_ - 1));
  const size_t hi = std::min(pitch_max_, coarse + (decimation_ - 1));
  return best_lag(target, lo, hi, 1);
}

float PacketLossConcealer::cycle_sample(size_t pos) const {
  const size_t tail_start = history_len_ - overlap_;
  if (pos < tail_start) return cycle_src_[pos];
  const float w = static_cast<float>(pos - tail_start + 1) / static_cast<float>(overlap_ + 1);
  return (1.0F - w) * cycle_src_[pos] + w * cycle_src_[pos - tail_periods_ * pitch_];
}

float PacketLossConcealer::next_synthetic() {
  if (erased_ >= kSilentAfterTenMs * ten_ms_) return 0.0F;
  float v = cycle_sample(pos_);
  if (erased_ < overlap_) {
    v += join_offset_ * (1.0F - static_cast<float>(erased_ + 1) / static_cast<float>(overlap_ + 1));
  }
  if (erased_ >= ten_ms_) {
    v *= 1.0F - static_cast<float>(erased_ - ten_ms_) / static_cast<float>((kSilentAfterTenMs - 1) * ten_ms_);
  }
  ++erased_;
  ++pos_;
  if (pos_ == history_len_ - overlap_) {
    // Entering the cycle's tail: decide how far back the next pass starts (Appendix I: one period for
    // the first 10 ms, two up to 20 ms, then three), so the tail fades toward exactly that sample.
    tail_periods_ = std::min<size_t>(3, 1 + erased_ / ten_ms_);
  } else if (pos_ == history_len_) {
    pos_ = history_len_ - tail_periods_ * pitch_;
  }
  return v;
}

}  // namespace warmline::media
