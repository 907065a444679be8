#pragma once
// The stamp warmline-load writes into every G.711 payload it sends, so a frame can be matched when it
// comes back (caller -> AI at the agent, AI -> caller in the RTP stream).
//
// It survives the gateway because, with PCMU on the caller leg and an 8 kHz agent, the gateway's path
// is decode (mu-law -> PCM16) then encode (PCM16 -> mu-law), which is the identity for every code but
// 0x7F (-0 decodes to the same 0 as 0xFF). The stamp uses only bytes 0x20..0x2F after a magic byte, so
// it never contains 0x7F. At 16 or 24 kHz the resampler changes the samples: the stamp does not survive
// and the generator reports CPU, loss by counts and no latency (bench/README.md).
//
// Thread: pure functions.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "media/g711.hpp"

namespace warmline::load {

inline constexpr uint8_t kStampMagic = 0xA5;
inline constexpr size_t kStampNibbles = 12;            // 16-bit call index + 32-bit sequence
inline constexpr size_t kStampBytes = 1 + kStampNibbles;
inline constexpr uint8_t kStampFill = 0x55;            // the rest of the payload (not silence, not 0x7F)

struct Stamp {
  uint16_t call = 0;
  uint32_t seq = 0;
};

// Writes the stamp at the start of `payload` and fills the rest. False (nothing written) when the
// payload is shorter than the stamp.
inline bool write_stamp(std::span<uint8_t> payload, Stamp stamp) {
  if (payload.size() < kStampBytes) return false;
  const uint64_t v = (uint64_t{stamp.call} << 32) | stamp.seq;
  payload[0] = kStampMagic;
  for (size_t i = 0; i < kStampNibbles; ++i)
    payload[1 + i] = static_cast<uint8_t>(0x20 | ((v >> (4 * (kStampNibbles - 1 - i))) & 0xF));
  for (size_t i = kStampBytes; i < payload.size(); ++i) payload[i] = kStampFill;
  return true;
}

namespace detail {
template <typename ByteAt>
std::optional<Stamp> read_stamp_with(size_t size, ByteAt byte_at) {
  if (size < kStampBytes || byte_at(0) != kStampMagic) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < kStampNibbles; ++i) {
    const uint8_t b = byte_at(1 + i);
    if ((b & 0xF0) != 0x20) return std::nullopt;
    v = (v << 4) | (b & 0xF);
  }
  return Stamp{static_cast<uint16_t>(v >> 32), static_cast<uint32_t>(v)};
}
}  // namespace detail

// From a mu-law payload (RTP, caller side).
inline std::optional<Stamp> read_stamp(std::span<const uint8_t> payload) {
  return detail::read_stamp_with(payload.size(), [&](size_t i) { return payload[i]; });
}

// From the agent's view of the same frame: 16-bit little-endian PCM, re-encoded to mu-law sample by
// sample (only the first kStampBytes samples are looked at).
inline std::optional<Stamp> read_stamp_l16(std::span<const uint8_t> le_pcm) {
  return detail::read_stamp_with(le_pcm.size() / 2, [&](size_t i) {
    const auto s = static_cast<int16_t>(le_pcm[2 * i] | (le_pcm[2 * i + 1] << 8));
    return media::g711::linear_to_ulaw(s);
  });
}

}  // namespace warmline::load
