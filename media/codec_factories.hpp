#pragma once
// Internal to media/: the per-codec constructors behind make_encoder/make_decoder (codec.cpp). Each
// returns nullptr when the parameters do not fit the codec.
#include <array>
#include <memory>

#include "media/codec.hpp"

namespace warmline::media::detail {

// Every supported codec, in default preference order; index with CodecIndex.
enum CodecIndex : size_t { kOpus = 0, kG722 = 1, kPcmu = 2, kPcma = 3 };
extern const std::array<CodecInfo, 4> kCodecs;

std::unique_ptr<Encoder> make_g711_encoder(const CodecInfo& info);
std::unique_ptr<Decoder> make_g711_decoder(const CodecInfo& info);
std::unique_ptr<Encoder> make_g722_encoder();
std::unique_ptr<Decoder> make_g722_decoder();
std::unique_ptr<Encoder> make_opus_encoder(const CodecParams& params);
std::unique_ptr<Decoder> make_opus_decoder(const CodecParams& params);

// True when n samples are a whole 10 or 20 ms frame at rate_hz.
constexpr bool is_frame_length(size_t n, uint32_t rate_hz) {
  return n != 0 && (n == rate_hz / 100 || n == rate_hz / 50);
}

}  // namespace warmline::media::detail
