#include "media/resampler.hpp"

#include <speex/speex_resampler.h>

#include <algorithm>

namespace warmline::media {
namespace {

constexpr uint32_t kMinRate = 1000;
constexpr uint32_t kMaxRate = 192000;

SpeexResamplerState* speex(void* p) { return static_cast<SpeexResamplerState*>(p); }

}  // namespace

void Resampler::StateDeleter::operator()(void* state) const {
  speex_resampler_destroy(speex(state));
}

std::optional<Resampler> Resampler::create(ResamplerOptions options) {
  const auto in_range = [](uint32_t r) { return r >= kMinRate && r <= kMaxRate; };
  if (!in_range(options.in_rate_hz) || !in_range(options.out_rate_hz)) return std::nullopt;
  if (options.quality < SPEEX_RESAMPLER_QUALITY_MIN || options.quality > SPEEX_RESAMPLER_QUALITY_MAX) {
    return std::nullopt;
  }
  if (options.in_rate_hz == options.out_rate_hz) return Resampler(options, nullptr);
  int err = RESAMPLER_ERR_SUCCESS;
  SpeexResamplerState* st =
      speex_resampler_init(1, options.in_rate_hz, options.out_rate_hz, options.quality, &err);
  if (st == nullptr || err != RESAMPLER_ERR_SUCCESS) {
    if (st != nullptr) speex_resampler_destroy(st);
    return std::nullopt;
  }
  return Resampler(options, st);
}

size_t Resampler::output_size(size_t in_samples) const {
  // Speex keeps a fractional phase, so a frame may yield one sample more than the exact ratio.
  const uint64_t num = static_cast<uint64_t>(in_samples) * options_.out_rate_hz;
  return static_cast<size_t>((num + options_.in_rate_hz - 1) / options_.in_rate_hz) + 1;
}

size_t Resampler::process(std::span<const int16_t> in, std::span<int16_t> out) {
  if (!state_) {
    if (out.size() < in.size()) return 0;
    std::copy(in.begin(), in.end(), out.begin());
    return in.size();
  }
  if (out.size() < output_size(in.size()) - 1 || in.size() > UINT32_MAX) return 0;
  spx_uint32_t in_len = static_cast<spx_uint32_t>(in.size());
  spx_uint32_t out_len = static_cast<spx_uint32_t>(std::min<size_t>(out.size(), UINT32_MAX));
  speex_resampler_process_int(speex(state_.get()), 0, in.data(), &in_len, out.data(), &out_len);
  return out_len;
}

int Resampler::input_latency() const {
  return state_ ? speex_resampler_get_input_latency(speex(state_.get())) : 0;
}

void Resampler::reset() {
  if (state_) speex_resampler_reset_mem(speex(state_.get()));
}

}  // namespace warmline::media
