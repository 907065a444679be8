#include "media/tone.hpp"

#include <cmath>
#include <numbers>

namespace warmline::media {
namespace {

struct NationalTones {
  std::string_view codes[3];
  ToneSpec ringback;
  ToneSpec busy;
};

// A-law/mu-law 0 dBm0 is a sine of amplitude ~ 32768 * 10^(-3.14/20) (ITU-T G.711 section 2.4).
double amplitude_for(double dbm0) { return 32768.0 * std::pow(10.0, (dbm0 - 3.14) / 20.0); }

const NationalTones kTones[] = {
    {{"us", "ca", "na"}, {{440, 480}, {2000, 4000}, -19}, {{480, 620}, {500, 500}, -21}},
    {{"etsi", "eu", ""}, {{425, 0}, {1000, 4000}, -13}, {{425, 0}, {500, 500}, -13}},
    {{"uk", "gb", ""}, {{400, 450}, {400, 200, 400, 2000}, -19}, {{400, 0}, {375, 375}, -13}},
    {{"de", "", ""}, {{425, 0}, {1000, 4000}, -13}, {{425, 0}, {480, 480}, -13}},
    {{"fr", "", ""}, {{440, 0}, {1500, 3500}, -13}, {{440, 0}, {500, 500}, -13}},
    {{"au", "", ""}, {{400, 450}, {400, 200, 400, 2000}, -19}, {{425, 0}, {375, 375}, -13}},
    {{"za", "", ""}, {{400, 450}, {400, 200, 400, 2000}, -19}, {{400, 0}, {500, 500}, -13}},
};

}  // namespace

std::optional<ToneSpec> national_tone(std::string_view country, ToneKind kind) {
  for (const auto& t : kTones) {
    for (std::string_view code : t.codes) {
      if (!code.empty() && code == country) return kind == ToneKind::kRingback ? t.ringback : t.busy;
    }
  }
  return std::nullopt;
}

void ToneSource::Oscillator::start() {
  // y[-1] = sin(-w), y[-2] = sin(-2w): the first next() yields sin(0) = 0.
  y1 = amplitude * std::sin(-w);
  y2 = amplitude * std::sin(-2.0 * w);
}

ToneSource::ToneSource(ToneSpec spec, uint32_t rate_hz) : spec_(std::move(spec)), rate_hz_(rate_hz) {
  for (size_t i = 0; i < osc_.size(); ++i) {
    const double f = spec_.freqs_hz[i];
    if (f <= 0.0 || rate_hz_ == 0 || f >= rate_hz_ / 2.0) continue;
    osc_[i].w = 2.0 * std::numbers::pi * f / rate_hz_;
    osc_[i].coeff = 2.0 * std::cos(osc_[i].w);
    osc_[i].amplitude = amplitude_for(spec_.level_dbm0);
    osc_[i].start();
  }
  for (uint32_t ms : spec_.cadence_ms) cadence_len_samples_ += static_cast<uint64_t>(ms) * rate_hz_ / 1000;
}

bool ToneSource::read(Frame& out) {
  if (out.rate_hz() != rate_hz_) {  // would play at the wrong pitch
    out.clear();
    return false;
  }
  auto dst = out.samples();
  for (auto& s : dst) {
    bool on = true;
    if (cadence_len_samples_ != 0) {
      // Which segment of the cadence are we in? Even segments sound, odd ones are silent.
      uint64_t t = pos_, seg_start = 0;
      size_t seg = 0;
      for (; seg < spec_.cadence_ms.size(); ++seg) {
        const uint64_t len = static_cast<uint64_t>(spec_.cadence_ms[seg]) * rate_hz_ / 1000;
        if (t < len) break;
        t -= len;
        seg_start += len;
      }
      on = seg % 2 == 0;
      if (on && pos_ == seg_start) {
        for (auto& o : osc_) o.start();
      }
      pos_ = (pos_ + 1) % cadence_len_samples_;
    }
    double v = 0.0;
    if (on) {
      for (auto& o : osc_) v += o.amplitude != 0.0 ? o.next() : 0.0;
    }
    s = saturate16(static_cast<int32_t>(std::lround(v)));
  }
  return true;
}

}  // namespace warmline::media
