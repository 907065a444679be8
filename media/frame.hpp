#pragma once
// PCM16 audio frame: mono, 8/16/24/48 kHz, 10 or 20 ms. Fixed capacity (the largest case, 48 kHz x 20 ms)
// so a frame never allocates: frames live inside mixers, jitter buffers and sources and are reused on
// every media-clock tick (no per-packet allocation on media paths).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace warmline::media {

// The sample rate and duration of a frame. Only the combinations below are valid; everything else is
// rejected where it enters (set_format returns false), never truncated.
struct FrameFormat {
  uint32_t rate_hz = 8000;
  uint32_t ptime_ms = 20;

  constexpr size_t samples() const { return static_cast<size_t>(rate_hz) * ptime_ms / 1000; }
  constexpr bool valid() const {
    const bool rate_ok = rate_hz == 8000 || rate_hz == 16000 || rate_hz == 24000 || rate_hz == 48000;
    return rate_ok && (ptime_ms == 10 || ptime_ms == 20);
  }
  friend constexpr bool operator==(FrameFormat, FrameFormat) = default;
};

constexpr bool is_supported_rate(uint32_t rate_hz) { return FrameFormat{rate_hz, 20}.valid(); }

class Frame {
 public:
  static constexpr size_t kMaxSamples = 48000 * 20 / 1000;

  Frame() = default;  // 8 kHz, 20 ms, silence
  // Precondition: format.valid() (a constant chosen by code, not by the network); an invalid format
  // falls back to the default so the frame is always usable.
  explicit Frame(FrameFormat format) { set_format(format); }

  // Changes rate/duration and fills with silence. Returns false (frame unchanged) if invalid.
  bool set_format(FrameFormat format) {
    if (!format.valid()) return false;
    format_ = format;
    clear();
    return true;
  }
  FrameFormat format() const { return format_; }
  uint32_t rate_hz() const { return format_.rate_hz; }
  uint32_t ptime_ms() const { return format_.ptime_ms; }
  size_t size() const { return format_.samples(); }

  std::span<int16_t> samples() { return {data_.data(), size()}; }
  std::span<const int16_t> samples() const { return {data_.data(), size()}; }
  int16_t& operator[](size_t i) { return data_[i]; }
  int16_t operator[](size_t i) const { return data_[i]; }

  void clear() { std::fill_n(data_.begin(), size(), int16_t{0}); }
  bool is_silent() const {
    for (int16_t s : samples()) {
      if (s != 0) return false;
    }
    return true;
  }

 private:
  FrameFormat format_{};
  std::array<int16_t, kMaxSamples> data_{};
};

// Clamps a 32-bit sum into 16 bits (saturating mix/gain).
constexpr int16_t saturate16(int32_t v) {
  return static_cast<int16_t>(v > 32767 ? 32767 : (v < -32768 ? -32768 : v));
}

}  // namespace warmline::media
