// PCMU/PCMA behind the codec interface (RFC 3551 section 4.5.14): one byte per sample at 8 kHz.
#include <memory>

#include "media/codec_factories.hpp"
#include "media/g711.hpp"
#include "media/plc.hpp"

namespace warmline::media::detail {
namespace {

class G711Encoder final : public Encoder {
 public:
  explicit G711Encoder(const CodecInfo& info) : Encoder(8000), info_(info), ulaw_(&info == &kCodecs[kPcmu]) {}
  const CodecInfo& info() const override { return info_; }
  CodecResult encode(std::span<const int16_t> pcm, std::span<uint8_t> payload) override {
    if (!is_frame_length(pcm.size(), 8000)) return {0, CodecError::kBadInput};
    if (payload.size() < pcm.size()) return {0, CodecError::kOutputTooSmall};
    return {ulaw_ ? g711::encode_ulaw(pcm, payload) : g711::encode_alaw(pcm, payload), {}};
  }
  void reset() override {}

 private:
  const CodecInfo& info_;
  bool ulaw_;
};

class G711Decoder final : public Decoder {
 public:
  explicit G711Decoder(const CodecInfo& info) : Decoder(8000), info_(info), ulaw_(&info == &kCodecs[kPcmu]) {}
  const CodecInfo& info() const override { return info_; }
  size_t samples_in(std::span<const uint8_t> payload) const override { return payload.size(); }
  CodecResult decode(std::span<const uint8_t> payload, std::span<int16_t> pcm) override {
    if (payload.empty()) return {0, CodecError::kBadInput};
    if (pcm.size() < payload.size()) return {0, CodecError::kOutputTooSmall};
    const size_t n = ulaw_ ? g711::decode_ulaw(payload, pcm) : g711::decode_alaw(payload, pcm);
    plc_.rx(pcm.first(n));
    return {n, {}};
  }
  CodecResult conceal(std::span<int16_t> pcm) override {
    plc_.fillin(pcm);
    return {pcm.size(), {}};
  }
  void reset() override { plc_.reset(); }

 private:
  const CodecInfo& info_;
  bool ulaw_;
  PacketLossConcealer plc_{8000};
};

}  // namespace

std::unique_ptr<Encoder> make_g711_encoder(const CodecInfo& info) { return std::make_unique<G711Encoder>(info); }
std::unique_ptr<Decoder> make_g711_decoder(const CodecInfo& info) { return std::make_unique<G711Decoder>(info); }

}  // namespace warmline::media::detail
