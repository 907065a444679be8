#pragma once
// Call-progress tones (ringback, busy) with national cadences, chosen by config (`[media] tones`).
// Frequencies and cadences per ITU-T E.180 Supplement 2 and the national standards it lists.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "media/source.hpp"

namespace warmline::media {

struct ToneSpec {
  std::array<double, 2> freqs_hz{};  // 0 = unused; both summed
  std::vector<uint32_t> cadence_ms;  // on, off, on, off, ...; empty = continuous
  double level_dbm0 = -19.0;         // per frequency
};

enum class ToneKind { kRingback, kBusy };

// Country codes accepted: "us"/"ca"/"na" (North America), "etsi"/"eu" (ETSI ES 201 970 defaults, used
// across the EU), "uk"/"gb", "de", "fr", "au", "za". nullopt for an unknown code.
std::optional<ToneSpec> national_tone(std::string_view country, ToneKind kind);

class ToneSource final : public Source {
 public:
  // rate_hz: the frames' rate (read() expects frames at that rate).
  ToneSource(ToneSpec spec, uint32_t rate_hz);
  // Endless: true for every frame at rate_hz (silence in the off parts of the cadence); false for frames
  // at another rate.
  bool read(Frame& out) override;

 private:
  // Recursive sine oscillator per frequency: y[n] = 2cos(w)y[n-1] - y[n-2]; two multiplies a sample,
  // restarted at the beginning of every burst so rounding cannot accumulate.
  struct Oscillator {
    double coeff = 0.0, y1 = 0.0, y2 = 0.0, amplitude = 0.0, w = 0.0;
    void start();
    double next() {
      const double y0 = coeff * y1 - y2;
      y2 = y1;
      y1 = y0;
      return y0;
    }
  };

  ToneSpec spec_;
  uint32_t rate_hz_;
  std::array<Oscillator, 2> osc_{};
  uint64_t cadence_len_samples_ = 0;
  uint64_t pos_ = 0;  // position within one cadence cycle, in samples
};

}  // namespace warmline::media
