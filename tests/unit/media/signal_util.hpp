#pragma once
// Signal helpers for the media tests: sine generation, SNR with delay alignment, Goertzel power.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

namespace warmline::media::test {

inline std::vector<int16_t> sine(double hz, uint32_t rate, size_t n, double amplitude = 8000.0,
                                 double phase = 0.0) {
  std::vector<int16_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i] = static_cast<int16_t>(
        std::lround(amplitude * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(i) / rate + phase)));
  }
  return out;
}

inline double rms(std::span<const int16_t> x) {
  if (x.empty()) return 0.0;
  double sum = 0.0;
  for (int16_t s : x) sum += static_cast<double>(s) * s;
  return std::sqrt(sum / static_cast<double>(x.size()));
}

// SNR in dB of `out` against `ref`, with out delayed by `delay` samples relative to ref, over
// [skip, skip + len) of ref.
inline double snr_db(std::span<const int16_t> ref, std::span<const int16_t> out, size_t delay, size_t skip,
                     size_t len) {
  double sig = 0.0, noise = 0.0;
  for (size_t i = skip; i < skip + len && i + delay < out.size() && i < ref.size(); ++i) {
    const double r = ref[i];
    const double e = r - out[i + delay];
    sig += r * r;
    noise += e * e;
  }
  if (noise == 0.0) return 200.0;
  return 10.0 * std::log10(sig / noise);
}

// Best SNR over delays 0..max_delay (codecs and resamplers have a filter delay).
inline double best_snr_db(std::span<const int16_t> ref, std::span<const int16_t> out, size_t max_delay,
                          size_t skip, size_t len) {
  double best = -1000.0;
  for (size_t d = 0; d <= max_delay; ++d) best = std::max(best, snr_db(ref, out, d, skip, len));
  return best;
}

// Goertzel: power of `hz` in x, normalised so a full-scale-amplitude A sine gives about (A/2)^2.
inline double goertzel_power(std::span<const int16_t> x, double hz, uint32_t rate) {
  const double w = 2.0 * std::numbers::pi * hz / rate;
  const double coeff = 2.0 * std::cos(w);
  double s1 = 0.0, s2 = 0.0;
  for (int16_t v : x) {
    const double s0 = v + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double p = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  const double n = static_cast<double>(x.size());
  return p / (n * n);
}

// Amplitude estimate of a tone at hz (a sine of amplitude A gives ~A).
inline double tone_amplitude(std::span<const int16_t> x, double hz, uint32_t rate) {
  return 2.0 * std::sqrt(goertzel_power(x, hz, rate));
}

}  // namespace warmline::media::test
