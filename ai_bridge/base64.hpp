#pragma once
// Base64 for the dialects that carry audio in JSON (Twilio, Telnyx, Plivo, Exotel).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace warmline::ai {

// Base64 (RFC 4648 §4, standard alphabet, padded), on OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock.

constexpr std::size_t base64_encoded_size(std::size_t bytes) { return (bytes + 2) / 3 * 4; }
// An upper bound on the decoded size of `chars` base64 characters (exact when there is no padding).
constexpr std::size_t base64_decoded_max(std::size_t chars) { return chars / 4 * 3; }

// Appends the base64 of `data` to `out` (no allocation when `out` has the capacity).
void append_base64(std::string& out, std::span<const std::uint8_t> data);

// Strict decode: the length is a multiple of 4, '=' only as the last one or two characters, no
// whitespace or other characters outside the alphabet. Returns the number of bytes written to `out`,
// or nullopt when `in` is not such base64 or `out` (which needs base64_decoded_max(in.size())) is
// too small.
std::optional<std::size_t> decode_base64(std::string_view in, std::span<std::uint8_t> out);

}  // namespace warmline::ai
