#pragma once
// One encoder/decoder interface for every codec, keyed by SDP encoding name + RTP clock rate
// ("PCMU"/8000, "PCMA"/8000, "G722"/8000, "opus"/48000). Codec objects are created at call set-up
// (the factory allocates), then used on one shard thread without allocating.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "media/frame.hpp"

namespace warmline::media {

enum class CodecError {
  kBadInput = 1,       // PCM length not a 10/20 ms frame at the codec rate, or an empty payload
  kOutputTooSmall,     // the output span cannot hold the result (nothing written)
  kCorruptPayload,     // the decoder rejected the payload (untrusted input: reported, never a crash)
  kLibrary,            // the codec library failed
};
const std::error_category& codec_category();
std::error_code make_error_code(CodecError e);

// What SDP and RTP need to know about a codec.
struct CodecInfo {
  std::string_view name;        // SDP encoding name as registered (case-insensitive in SDP)
  uint32_t clock_rate;          // RTP timestamp rate (G.722 says 8000 for historic reasons, RFC 3551 4.5.2)
  uint32_t channels;            // as written in a=rtpmap (opus is always "/2", RFC 7587)
  uint32_t pcm_rate_hz;         // sample rate of the PCM the codec consumes/produces by default
  int static_payload_type;      // 0, 8, 9; -1 for dynamic (opus)
  std::string_view fmtp;        // the a=fmtp parameters we offer ("" when none)
  bool has_plc;                 // real packet-loss concealment in the decoder
};

// Samples of `info`'s PCM clock per RTP timestamp unit are not always 1 (G.722: 2; opus at 16 kHz: 1/3).
struct CodecParams {
  std::string_view name;
  uint32_t clock_rate = 0;
  // PCM rate to work at; 0 = the codec's own. Only opus can change it (8/12/16/24/48 kHz), which saves a
  // resampler when the mixer runs at 8 or 16 kHz.
  uint32_t pcm_rate_hz = 0;
  // Opus encoder settings (ignored by the others).
  int bitrate_bps = 24000;
  bool inband_fec = true;
  int expected_loss_pct = 10;  // steers how much FEC opus spends
  bool dtx = false;
  // 0..10. 5 instead of libopus' default 10 roughly halves encode CPU for a small quality loss in voice;
  // a gateway encodes one stream per leg on the shard thread.
  int complexity = 5;
};

struct CodecResult {
  size_t size = 0;        // bytes written (encode) or samples written (decode/conceal)
  std::error_code error;  // empty on success
  explicit operator bool() const { return !error; }
};

class Encoder {
 public:
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;
  virtual ~Encoder() = default;
  virtual const CodecInfo& info() const = 0;
  uint32_t pcm_rate_hz() const { return pcm_rate_hz_; }
  // Encodes one 10 or 20 ms frame of PCM at pcm_rate_hz() into one RTP payload.
  virtual CodecResult encode(std::span<const int16_t> pcm, std::span<uint8_t> payload) = 0;
  CodecResult encode(const Frame& frame, std::span<uint8_t> payload);
  virtual void reset() = 0;

 protected:
  explicit Encoder(uint32_t pcm_rate_hz) : pcm_rate_hz_(pcm_rate_hz) {}

 private:
  uint32_t pcm_rate_hz_;
};

class Decoder {
 public:
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  virtual ~Decoder() = default;
  virtual const CodecInfo& info() const = 0;
  uint32_t pcm_rate_hz() const { return pcm_rate_hz_; }
  // PCM samples this payload decodes to (0 if it cannot be parsed), without decoding it.
  virtual size_t samples_in(std::span<const uint8_t> payload) const = 0;
  // Decodes one RTP payload into `pcm`; returns the number of samples written.
  virtual CodecResult decode(std::span<const uint8_t> payload, std::span<int16_t> pcm) = 0;
  // A packet was lost: fill all of `pcm` with concealment (the codec's PLC; for codecs without one,
  // a short fade of the last signal into silence).
  virtual CodecResult conceal(std::span<int16_t> pcm) = 0;
  // A packet was lost but the next one is here: recover the lost audio from the next packet's in-band
  // FEC where the codec has it (opus), else conceal. `pcm` has the lost packet's length.
  virtual CodecResult recover(std::span<const uint8_t> next_payload, std::span<int16_t> pcm) {
    (void)next_payload;
    return conceal(pcm);
  }
  // Forgets history (SSRC change, resync).
  virtual void reset() = 0;

  // Frame helpers: decode/conceal exactly one frame in the decoder's rate; the frame's format is set
  // to (pcm_rate_hz(), ptime_ms).
  CodecResult decode(std::span<const uint8_t> payload, Frame& frame);
  CodecResult conceal(Frame& frame, uint32_t ptime_ms);

 protected:
  explicit Decoder(uint32_t pcm_rate_hz) : pcm_rate_hz_(pcm_rate_hz) {}

 private:
  uint32_t pcm_rate_hz_;
};

// All codecs this build supports, in our default preference order (opus, G722, PCMU, PCMA).
std::span<const CodecInfo> supported_codecs();
// Looks a codec up by SDP name (case-insensitive) and clock rate; nullptr if unsupported.
const CodecInfo* find_codec(std::string_view name, uint32_t clock_rate);

// SDP (RFC 4566 section 6, RFC 3551): the a=rtpmap value after the payload type, e.g. "PCMU/8000",
// "G722/8000", "opus/48000/2". The a=fmtp parameters are info.fmtp.
std::string rtpmap_value(const CodecInfo& info);

// nullptr for an unknown codec or invalid parameters.
std::unique_ptr<Encoder> make_encoder(const CodecParams& params);
std::unique_ptr<Decoder> make_decoder(const CodecParams& params);

}  // namespace warmline::media

template <>
struct std::is_error_code_enum<warmline::media::CodecError> : std::true_type {};
