#pragma once
// Packet-loss concealment for the decoders that have none of their own (G.711, G.722), after ITU-T
// G.711 Appendix I: keep the last 48.75 ms of output; on a loss, find the pitch period by normalised
// cross-correlation and repeat it (1, then 2, then 3 periods as the loss grows), fading out linearly
// from 10 ms to silence at 60 ms; on the first good audio after a loss, cross-fade from the synthetic
// continuation into it. Every duration scales with the sample rate (8 kHz for G.711, 16 kHz for G.722).
//
// Deviation from the appendix: the appendix delays all output by 3.75 ms so that, at the start of a
// loss, it can cross-fade the last real quarter-period into the repeated one. A decoder here hands its
// audio out at once, so the mismatch at that join is spread over the first quarter-period of the
// synthetic audio instead (see start_erasure in plc.cpp). The appendix also switches to 2 and 3
// periods exactly at 10 and 20 ms, with a cross-fade; here the switch waits for the end of the period
// being played, where it needs none.
//
// One object per decoder, used on that decoder's (shard) thread; no allocation after construction, no
// locks, no logging: it runs once per packet on the media path.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace warmline::media {

class PacketLossConcealer {
 public:
  static constexpr uint32_t kMinRateHz = 8000;
  static constexpr uint32_t kMaxRateHz = 16000;

  // rate_hz must lie in [kMinRateHz, kMaxRateHz] (the arrays are sized for 16 kHz); anything else is a
  // programming error and aborts.
  explicit PacketLossConcealer(uint32_t rate_hz);
  PacketLossConcealer(const PacketLossConcealer&) = delete;
  PacketLossConcealer& operator=(const PacketLossConcealer&) = delete;

  // Good audio, any length. Right after concealment the first 4..10 ms are cross-faded from the
  // synthetic continuation into it (pcm is modified in place); after that it is left unchanged.
  void rx(std::span<int16_t> pcm);
  // One lost stretch of audio, any length; consecutive calls continue the same erasure.
  void fillin(std::span<int16_t> pcm);
  // Forgets all history (a new stream): a loss right after it is concealed with silence.
  void reset();

  uint32_t rate_hz() const { return rate_hz_; }
  // The pitch period (samples) found at the start of the latest erasure; 0 before the first one.
  size_t pitch() const { return pitch_; }

 private:
  // Appendix I at 8 kHz: pitch 40..120 samples (200..66 Hz); history 3 periods of the longest pitch
  // plus a quarter of it (390 samples, 48.75 ms). Sized here for kMaxRateHz.
  static constexpr size_t kMaxPitch = 120 * kMaxRateHz / 8000;
  static constexpr size_t kMaxHistory = 3 * kMaxPitch + kMaxPitch / 4;
  static constexpr size_t kMaxCorrLen = 160 * kMaxRateHz / 8000;
  static constexpr size_t kChunk = kMaxRateHz / 100;  // synthesis works in pieces of at most 10 ms

  void push_history(std::span<const int16_t> pcm);
  void start_erasure();
  size_t find_pitch() const;
  static size_t best_lag(const float* x, size_t target, size_t len, size_t lo, size_t hi);
  float cycle_sample(size_t pos) const;
  void synthesize(std::span<float> out);
  void begin_recovery();

  const uint32_t rate_hz_;
  const size_t pitch_min_;    // 5 ms
  const size_t pitch_max_;    // 15 ms
  const size_t history_len_;  // 3 * pitch_max_ + pitch_max_ / 4
  const size_t corr_len_;     // 20 ms: the window matched against its past in the pitch search
  const size_t ten_ms_;
  const size_t end_ola_step_;  // 4 ms: recovery cross-fade per 10 ms of erasure
  const size_t decimation_;    // coarse pitch search: every 2nd sample at 8 kHz (4 kHz equivalent)
  const float fade_step_;      // gain lost per sample from 10 ms on: 1 / 50 ms

  // Output history, newest last: the valid part is [hist_end_ - history_len_, hist_end_). The second
  // half is slack so that most pushes are one copy, not a shift of the whole history.
  std::array<int16_t, 2 * kMaxHistory> hist_{};
  size_t hist_end_;

  // The history frozen at the start of an erasure: the periods to repeat are read from its end.
  std::array<int16_t, kMaxHistory> cycle_src_{};
  size_t pitch_ = 0;
  size_t overlap_ = 0;       // a quarter period: the cross-fades inside the synthetic signal
  float overlap_step_ = 0;   // 1 / (overlap_ + 1), the weight step of those cross-fades
  size_t pos_ = 0;           // next sample of cycle_src_ to play
  size_t tail_periods_ = 1;  // periods the next pass repeats; this pass's last overlap_ samples fade toward it
  float join_offset_ = 0;    // last real sample minus the cycle's own predecessor of its first sample
  size_t erased_ = 0;        // synthetic samples since the erasure began (capped at 60 ms); 0 = none

  // Recovery cross-fade after an erasure: ola_len_ samples, ola_pos_ of them done; 0 = none running.
  size_t ola_len_ = 0;
  size_t ola_pos_ = 0;
};

}  // namespace warmline::media
