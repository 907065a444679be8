// G.722 (spandsp) behind the codec interface. 64 kbit/s: one byte per two 16 kHz samples, while the RTP
// clock runs at 8000 (RFC 3551 section 4.5.2), so a 20 ms packet is 160 bytes and 160 timestamp units.
#include <memory>

#include "media/codec_factories.hpp"
#include "media/plc.hpp"

// spandsp.h pulls in libtiff; g722.h stands alone after telephony.h (its SPAN_DECLARE macros).
#include <spandsp/telephony.h>
#include <spandsp/g722.h>

namespace warmline::media::detail {
namespace {

constexpr int kBitRate = 64000;

class G722Encoder final : public Encoder {
 public:
  G722Encoder() : Encoder(16000), state_(g722_encode_init(nullptr, kBitRate, 0)) {}
  ~G722Encoder() override { g722_encode_free(state_); }
  bool ok() const { return state_ != nullptr; }
  const CodecInfo& info() const override { return kCodecs[kG722]; }
  CodecResult encode(std::span<const int16_t> pcm, std::span<uint8_t> payload) override {
    if (!is_frame_length(pcm.size(), 16000)) return {0, CodecError::kBadInput};
    if (payload.size() < pcm.size() / 2) return {0, CodecError::kOutputTooSmall};
    const int n = g722_encode(state_, payload.data(), pcm.data(), static_cast<int>(pcm.size()));
    return {static_cast<size_t>(n), {}};
  }
  void reset() override {
    g722_encode_init(state_, kBitRate, 0);  // re-initialises in place
  }

 private:
  g722_encode_state_t* state_;  // spandsp keeps the layout private
};

class G722Decoder final : public Decoder {
 public:
  G722Decoder() : Decoder(16000), state_(g722_decode_init(nullptr, kBitRate, 0)) {}
  ~G722Decoder() override { g722_decode_free(state_); }
  bool ok() const { return state_ != nullptr; }
  const CodecInfo& info() const override { return kCodecs[kG722]; }
  size_t samples_in(std::span<const uint8_t> payload) const override { return payload.size() * 2; }
  CodecResult decode(std::span<const uint8_t> payload, std::span<int16_t> pcm) override {
    if (payload.empty()) return {0, CodecError::kBadInput};
    if (pcm.size() < payload.size() * 2) return {0, CodecError::kOutputTooSmall};
    const int n = g722_decode(state_, pcm.data(), payload.data(), static_cast<int>(payload.size()));
    plc_.rx(pcm.first(static_cast<size_t>(n)));
    return {static_cast<size_t>(n), {}};
  }
  CodecResult conceal(std::span<int16_t> pcm) override {
    plc_.fillin(pcm);
    return {pcm.size(), {}};
  }
  void reset() override {
    g722_decode_init(state_, kBitRate, 0);
    plc_.reset();
  }

 private:
  g722_decode_state_t* state_;
  PacketLossConcealer plc_{16000};  // the Appendix I durations, scaled to 16 kHz
};

}  // namespace

std::unique_ptr<Encoder> make_g722_encoder() {
  auto e = std::make_unique<G722Encoder>();
  return e->ok() ? std::move(e) : nullptr;
}

std::unique_ptr<Decoder> make_g722_decoder() {
  auto d = std::make_unique<G722Decoder>();
  return d->ok() ? std::move(d) : nullptr;
}

}  // namespace warmline::media::detail
