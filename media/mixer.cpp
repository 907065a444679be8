#include "media/mixer.hpp"

#include <algorithm>
#include <bit>

namespace warmline::media {

Mixer::Mixer(FrameFormat format) : format_(format.valid() ? format : FrameFormat{}) {
  gain_q14_.fill(kUnityGain);
  for (size_t p = 0; p < kMaxPorts; ++p) {
    inputs_[p].set_format(format_);
    outputs_[p].set_format(format_);
  }
}

bool Mixer::connect(size_t listener, size_t speaker, bool hears) {
  if (listener >= kMaxPorts || speaker >= kMaxPorts || listener == speaker) return false;
  if (hears) {
    hears_[listener] |= 1U << speaker;
  } else {
    hears_[listener] &= ~(1U << speaker);
  }
  listening_mask_ = 0;
  for (size_t p = 0; p < kMaxPorts; ++p) {
    if (hears_[p] != 0) listening_mask_ |= 1U << p;
  }
  return true;
}

bool Mixer::hears(size_t listener, size_t speaker) const {
  return listener < kMaxPorts && speaker < kMaxPorts && ((hears_[listener] >> speaker) & 1U) != 0;
}

void Mixer::disconnect_all(size_t port) {
  if (port >= kMaxPorts) return;
  for (size_t p = 0; p < kMaxPorts; ++p) {
    connect(p, port, false);
    connect(port, p, false);
  }
}

bool Mixer::set_gain(size_t speaker, double gain) {
  if (speaker >= kMaxPorts) return false;
  gain_q14_[speaker] = static_cast<int>(std::clamp(gain, 0.0, 4.0) * kUnityGain + 0.5);
  return true;
}

void Mixer::commit(size_t port) {
  if (port < kMaxPorts) committed_mask_ |= 1U << port;
}

void Mixer::mix() {
  output_active_mask_ = 0;
  for (uint32_t listeners = listening_mask_; listeners != 0; listeners &= listeners - 1) {
    const auto l = static_cast<size_t>(std::countr_zero(listeners));
    const uint32_t active = hears_[l] & committed_mask_;
    if (active == 0) {
      outputs_[l].clear();
      continue;
    }
    output_active_mask_ |= 1U << l;
    const auto first = static_cast<size_t>(std::countr_zero(active));
    if ((active & (active - 1)) == 0 && gain_q14_[first] == kUnityGain) {
      // Fast path: one speaker, untouched.
      std::copy_n(inputs_[first].samples().begin(), format_.samples(), outputs_[l].samples().begin());
    } else {
      mix_many(l, active);
    }
  }
  committed_mask_ = 0;
}

void Mixer::mix_many(size_t listener, uint32_t active) {
  const size_t n = format_.samples();
  std::array<int32_t, Frame::kMaxSamples> acc;  // only the first n are used: zero just those
  std::fill_n(acc.begin(), n, 0);
  for (; active != 0; active &= active - 1) {
    const auto s = static_cast<size_t>(std::countr_zero(active));
    const int16_t* in = inputs_[s].samples().data();
    const int32_t g = gain_q14_[s];
    if (g == kUnityGain) {
      for (size_t i = 0; i < n; ++i) acc[i] += in[i];
    } else {
      for (size_t i = 0; i < n; ++i) acc[i] += (in[i] * g) >> 14;
    }
  }
  int16_t* out = outputs_[listener].samples().data();
  for (size_t i = 0; i < n; ++i) out[i] = saturate16(acc[i]);
}

}  // namespace warmline::media
