#include "media/codec.hpp"

#include <array>
#include <string>

#include "media/codec_factories.hpp"

namespace warmline::media {
namespace detail {

// a=fmtp for opus (RFC 7587 section 6.1): mono voice, in-band FEC on, DTX off by default.
const std::array<CodecInfo, 4> kCodecs{{
    {"opus", 48000, 2, 48000, -1, "minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0", true},
    {"G722", 8000, 1, 16000, 9, "", true},
    {"PCMU", 8000, 1, 8000, 0, "", true},
    {"PCMA", 8000, 1, 8000, 8, "", true},
}};

}  // namespace detail

namespace {

class CodecCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "warmline.codec"; }
  std::string message(int ev) const override {
    switch (static_cast<CodecError>(ev)) {
      case CodecError::kBadInput: return "input is not one 10/20 ms frame or payload";
      case CodecError::kOutputTooSmall: return "output buffer too small";
      case CodecError::kCorruptPayload: return "corrupt payload";
      case CodecError::kLibrary: return "codec library error";
    }
    return "unknown codec error";
  }
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}


}  // namespace

const std::error_category& codec_category() {
  static const CodecCategory category;  // stateless; std::error_category needs one address
  return category;
}

std::error_code make_error_code(CodecError e) { return {static_cast<int>(e), codec_category()}; }

CodecResult Encoder::encode(const Frame& frame, std::span<uint8_t> payload) {
  if (frame.rate_hz() != pcm_rate_hz_) return {0, CodecError::kBadInput};
  return encode(frame.samples(), payload);
}

CodecResult Decoder::decode(std::span<const uint8_t> payload, Frame& frame) {
  const size_t n = samples_in(payload);
  const FrameFormat format{pcm_rate_hz_, static_cast<uint32_t>(n * 1000 / pcm_rate_hz_)};
  if (n == 0 || !format.valid() || format.samples() != n) return {0, CodecError::kBadInput};
  frame.set_format(format);
  return decode(payload, frame.samples());
}

CodecResult Decoder::conceal(Frame& frame, uint32_t ptime_ms) {
  if (!frame.set_format({pcm_rate_hz_, ptime_ms})) return {0, CodecError::kBadInput};
  return conceal(frame.samples());
}

std::span<const CodecInfo> supported_codecs() {
  return detail::kCodecs;
}

const CodecInfo* find_codec(std::string_view name, uint32_t clock_rate) {
  for (const CodecInfo& info : detail::kCodecs) {
    if (iequals(info.name, name) && info.clock_rate == clock_rate) return &info;
  }
  return nullptr;
}

std::string rtpmap_value(const CodecInfo& info) {
  std::string v(info.name);
  v += '/' + std::to_string(info.clock_rate);
  if (info.channels > 1) v += '/' + std::to_string(info.channels);
  return v;
}

namespace {

// One dispatch for both directions: G.711 and G.722 have a fixed PCM rate, only opus may change it.
template <typename T, typename G711, typename G722, typename Opus>
std::unique_ptr<T> make_codec(const CodecParams& params, G711 g711, G722 g722, Opus opus) {
  const CodecInfo* info = find_codec(params.name, params.clock_rate);
  if (info == nullptr) return nullptr;
  if (info == &detail::kCodecs[detail::kOpus]) return opus(params);
  if (params.pcm_rate_hz != 0 && params.pcm_rate_hz != info->pcm_rate_hz) return nullptr;
  if (info == &detail::kCodecs[detail::kG722]) return g722();
  return g711(*info);
}

}  // namespace

std::unique_ptr<Encoder> make_encoder(const CodecParams& params) {
  return make_codec<Encoder>(params, detail::make_g711_encoder, detail::make_g722_encoder,
                             detail::make_opus_encoder);
}

std::unique_ptr<Decoder> make_decoder(const CodecParams& params) {
  return make_codec<Decoder>(params, detail::make_g711_decoder, detail::make_g722_decoder,
                             detail::make_opus_decoder);
}

}  // namespace warmline::media
