#include "media/g711.hpp"

#include <array>

namespace warmline::media::g711 {
namespace {

// G.191 ulaw_expand for one code.
constexpr int16_t ulaw_expand(uint8_t code) {
  const int sign = code < 0x80 ? -1 : 1;
  int mantissa = static_cast<uint8_t>(~code);
  const int exponent = (mantissa >> 4) & 0x07;
  const int segment = exponent + 1;
  mantissa &= 0x0F;
  const int step = 4 << segment;
  return static_cast<int16_t>(sign * ((0x80 << exponent) + step * mantissa + step / 2 - 4 * 33));
}

// G.191 alaw_expand for one code.
constexpr int16_t alaw_expand(uint8_t code) {
  int ix = (code ^ 0x55) & 0x7F;
  const int iexp = ix >> 4;
  int mant = ix & 0x0F;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 0x08;
  if (iexp > 1) mant <<= (iexp - 1);
  return static_cast<int16_t>(code > 127 ? mant : -mant);
}

// G.191 ulaw_compress for one 16-bit sample (only its 14 top bits matter).
constexpr uint8_t ulaw_compress(int16_t x) {
  int absno = x < 0 ? ((~x) >> 2) + 33 : (x >> 2) + 33;
  if (absno > 0x1FFF) absno = 0x1FFF;
  int segno = 1;
  for (int i = absno >> 6; i != 0; i >>= 1) ++segno;
  const int high = 0x08 - segno;
  const int low = 0x0F - ((absno >> segno) & 0x0F);
  int code = (high << 4) | low;
  if (x >= 0) code |= 0x80;
  return static_cast<uint8_t>(code);
}

// G.191 alaw_compress for one 16-bit sample (only its 13 top bits matter).
constexpr uint8_t alaw_compress(int16_t x) {
  int ix = x < 0 ? (~x) >> 4 : x >> 4;
  if (ix > 15) {
    int iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      ++iexp;
    }
    ix -= 16;
    ix += iexp << 4;
  }
  if (x >= 0) ix |= 0x80;
  return static_cast<uint8_t>(ix ^ 0x55);
}

constexpr auto make_ulaw_decode() {
  std::array<int16_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = ulaw_expand(static_cast<uint8_t>(c));
  return t;
}
constexpr auto make_alaw_decode() {
  std::array<int16_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = alaw_expand(static_cast<uint8_t>(c));
  return t;
}
// Encode tables are indexed by the significant bits as an unsigned offset: mu-law by (x >> 2) + 8192
// (16 KiB), A-law by (x >> 3) + 4096 (8 KiB); both stay in L1/L2 during a media-clock tick.
constexpr auto make_ulaw_encode() {
  std::array<uint8_t, 16384> t{};
  for (int i = 0; i < 16384; ++i) t[i] = ulaw_compress(static_cast<int16_t>((i - 8192) * 4));
  return t;
}
constexpr auto make_alaw_encode() {
  std::array<uint8_t, 8192> t{};
  for (int i = 0; i < 8192; ++i) t[i] = alaw_compress(static_cast<int16_t>((i - 4096) * 8));
  return t;
}

constexpr auto kUlawDecode = make_ulaw_decode();
constexpr auto kAlawDecode = make_alaw_decode();
constexpr auto kUlawEncode = make_ulaw_encode();
constexpr auto kAlawEncode = make_alaw_encode();

}  // namespace

uint8_t linear_to_ulaw(int16_t sample) { return kUlawEncode[(sample >> 2) + 8192]; }
int16_t ulaw_to_linear(uint8_t code) { return kUlawDecode[code]; }
uint8_t linear_to_alaw(int16_t sample) { return kAlawEncode[(sample >> 3) + 4096]; }
int16_t alaw_to_linear(uint8_t code) { return kAlawDecode[code]; }

namespace {

// All-or-nothing span conversion through one table lookup per sample.
template <typename In, typename Out, typename Lookup>
size_t convert(std::span<const In> in, std::span<Out> out, Lookup lookup) {
  if (out.size() < in.size()) return 0;
  for (size_t i = 0; i < in.size(); ++i) out[i] = lookup(in[i]);
  return in.size();
}

}  // namespace

size_t encode_ulaw(std::span<const int16_t> in, std::span<uint8_t> out) { return convert(in, out, linear_to_ulaw); }
size_t decode_ulaw(std::span<const uint8_t> in, std::span<int16_t> out) { return convert(in, out, ulaw_to_linear); }
size_t encode_alaw(std::span<const int16_t> in, std::span<uint8_t> out) { return convert(in, out, linear_to_alaw); }
size_t decode_alaw(std::span<const uint8_t> in, std::span<int16_t> out) { return convert(in, out, alaw_to_linear); }

}  // namespace warmline::media::g711
