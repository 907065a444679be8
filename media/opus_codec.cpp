// Opus (libopus) behind the codec interface, RFC 7587: RTP clock 48 kHz whatever the PCM rate, mono
// voice, in-band FEC (a lost packet is rebuilt from the low-bitrate copy inside the next one) and the
// decoder's own packet-loss concealment.
#include <opus/opus.h>

#include <algorithm>
#include <memory>

#include "media/codec_factories.hpp"

namespace warmline::media::detail {
namespace {

bool is_opus_rate(uint32_t hz) { return hz == 8000 || hz == 12000 || hz == 16000 || hz == 24000 || hz == 48000; }

// RFC 7587 section 4.2: a packet carries at most 120 ms; at 48 kHz that is 5760 samples.
constexpr int kMaxPacketMs = 120;

class OpusEncoderImpl final : public Encoder {
 public:
  OpusEncoderImpl(uint32_t rate, OpusEncoder* enc) : Encoder(rate), enc_(enc) {}
  ~OpusEncoderImpl() override { opus_encoder_destroy(enc_); }
  const CodecInfo& info() const override { return kCodecs[kOpus]; }
  CodecResult encode(std::span<const int16_t> pcm, std::span<uint8_t> payload) override {
    if (!is_frame_length(pcm.size(), pcm_rate_hz())) return {0, CodecError::kBadInput};
    const int n = opus_encode(enc_, pcm.data(), static_cast<int>(pcm.size()), payload.data(),
                              static_cast<opus_int32>(std::min<size_t>(payload.size(), 1275)));
    if (n == OPUS_BUFFER_TOO_SMALL) return {0, CodecError::kOutputTooSmall};
    if (n < 0) return {0, CodecError::kLibrary};
    return {static_cast<size_t>(n), {}};
  }
  void reset() override { opus_encoder_ctl(enc_, OPUS_RESET_STATE); }

 private:
  OpusEncoder* enc_;
};

class OpusDecoderImpl final : public Decoder {
 public:
  OpusDecoderImpl(uint32_t rate, OpusDecoder* dec) : Decoder(rate), dec_(dec) {}
  ~OpusDecoderImpl() override { opus_decoder_destroy(dec_); }
  const CodecInfo& info() const override { return kCodecs[kOpus]; }
  size_t samples_in(std::span<const uint8_t> payload) const override {
    if (payload.empty()) return 0;
    const int n = opus_packet_get_nb_samples(payload.data(), static_cast<opus_int32>(payload.size()),
                                             static_cast<opus_int32>(pcm_rate_hz()));
    return n > 0 ? static_cast<size_t>(n) : 0;
  }
  CodecResult decode(std::span<const uint8_t> payload, std::span<int16_t> pcm) override {
    if (payload.empty()) return {0, CodecError::kBadInput};
    const size_t need = samples_in(payload);
    if (need == 0) return {0, CodecError::kCorruptPayload};
    if (pcm.size() < need) return {0, CodecError::kOutputTooSmall};
    return finish(opus_decode(dec_, payload.data(), static_cast<opus_int32>(payload.size()), pcm.data(),
                              static_cast<int>(need), 0));
  }
  CodecResult conceal(std::span<int16_t> pcm) override {
    if (!is_plc_length(pcm.size())) return {0, CodecError::kBadInput};
    return finish(opus_decode(dec_, nullptr, 0, pcm.data(), static_cast<int>(pcm.size()), 0));
  }
  CodecResult recover(std::span<const uint8_t> next_payload, std::span<int16_t> pcm) override {
    if (!is_plc_length(pcm.size())) return {0, CodecError::kBadInput};
    if (next_payload.empty()) return conceal(pcm);
    // decode_fec=1 with frame_size = the lost duration decodes the FEC data of the next packet; if it
    // carries none, libopus falls back to PLC by itself.
    return finish(opus_decode(dec_, next_payload.data(), static_cast<opus_int32>(next_payload.size()),
                              pcm.data(), static_cast<int>(pcm.size()), 1));
  }
  void reset() override { opus_decoder_ctl(dec_, OPUS_RESET_STATE); }

 private:
  // PLC/FEC lengths must be a multiple of 2.5 ms and at most one packet.
  bool is_plc_length(size_t n) const {
    const size_t quantum = pcm_rate_hz() / 400;
    return n != 0 && n % quantum == 0 && n <= pcm_rate_hz() / 1000 * kMaxPacketMs;
  }
  static CodecResult finish(int n) {
    if (n == OPUS_INVALID_PACKET) return {0, CodecError::kCorruptPayload};
    if (n < 0) return {0, CodecError::kLibrary};
    return {static_cast<size_t>(n), {}};
  }

  OpusDecoder* dec_;
};

}  // namespace

std::unique_ptr<Encoder> make_opus_encoder(const CodecParams& params) {
  const uint32_t rate = params.pcm_rate_hz == 0 ? 48000 : params.pcm_rate_hz;
  if (!is_opus_rate(rate) || params.bitrate_bps < 6000 || params.bitrate_bps > 510000) return nullptr;
  int err = OPUS_OK;
  OpusEncoder* enc = opus_encoder_create(static_cast<opus_int32>(rate), 1, OPUS_APPLICATION_VOIP, &err);
  if (enc == nullptr || err != OPUS_OK) return nullptr;
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(params.bitrate_bps));
  opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(params.inband_fec ? 1 : 0));
  opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(std::clamp(params.expected_loss_pct, 0, 100)));
  opus_encoder_ctl(enc, OPUS_SET_DTX(params.dtx ? 1 : 0));
  opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(std::clamp(params.complexity, 0, 10)));
  return std::make_unique<OpusEncoderImpl>(rate, enc);
}

std::unique_ptr<Decoder> make_opus_decoder(const CodecParams& params) {
  const uint32_t rate = params.pcm_rate_hz == 0 ? 48000 : params.pcm_rate_hz;
  if (!is_opus_rate(rate)) return nullptr;
  int err = OPUS_OK;
  OpusDecoder* dec = opus_decoder_create(static_cast<opus_int32>(rate), 1, &err);
  if (dec == nullptr || err != OPUS_OK) return nullptr;
  return std::make_unique<OpusDecoderImpl>(rate, dec);
}

}  // namespace warmline::media::detail
