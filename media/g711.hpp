#pragma once
// ITU-T G.711 PCMU (mu-law) and PCMA (A-law), table-driven. Tables are built at compile time from the
// ITU-T G.191 reference algorithm (STL g711.c): mu-law quantises the 14 most significant bits, A-law the
// 13 most significant bits, negative values in one's complement as the reference does.
#include <cstddef>
#include <cstdint>
#include <span>

namespace warmline::media::g711 {

uint8_t linear_to_ulaw(int16_t sample);
int16_t ulaw_to_linear(uint8_t code);
uint8_t linear_to_alaw(int16_t sample);
int16_t alaw_to_linear(uint8_t code);

// Span versions: one byte per sample. They return the number of samples converted, which is in.size(),
// or 0 (nothing written) when out is smaller than in; never a partial, silent truncation.
size_t encode_ulaw(std::span<const int16_t> in, std::span<uint8_t> out);
size_t decode_ulaw(std::span<const uint8_t> in, std::span<int16_t> out);
size_t encode_alaw(std::span<const int16_t> in, std::span<uint8_t> out);
size_t decode_alaw(std::span<const uint8_t> in, std::span<int16_t> out);

// The code of digital silence (the encoding of 0), for filling a payload without encoding.
inline constexpr uint8_t kUlawSilence = 0xFF;
inline constexpr uint8_t kAlawSilence = 0xD5;

}  // namespace warmline::media::g711
