// Base64 on OpenSSL's block codec, with the strictness checks it lacks.
#include "ai_bridge/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

namespace warmline::ai {
namespace {

// EVP_*Block take an int length: larger inputs go through in blocks of this many bytes (a multiple
// of 3 raw bytes, i.e. of 4 base64 characters).
constexpr std::size_t kEncodeBlockBytes = 3 * (1u << 20);
constexpr std::size_t kDecodeBlockChars = 4 * (1u << 20);

}  // namespace

void append_base64(std::string& out, std::span<const std::uint8_t> data) {
  while (!data.empty()) {
    const auto block = data.first(std::min(data.size(), kEncodeBlockBytes));
    const std::size_t at = out.size();
    const std::size_t chars = base64_encoded_size(block.size());
    out.resize(at + chars + 1);  // EVP_EncodeBlock writes a terminating NUL
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at), block.data(), static_cast<int>(block.size()));
    out.resize(at + chars);
    data = data.subspan(block.size());
  }
}

std::optional<std::size_t> decode_base64(std::string_view in, std::span<std::uint8_t> out) {
  if (in.size() % 4 != 0 || out.size() < base64_decoded_max(in.size())) return std::nullopt;
  if (in.empty()) return 0;
  const std::size_t pad = in.back() != '=' ? 0 : in[in.size() - 2] == '=' ? 2 : 1;
  // EVP_DecodeBlock reads '=' anywhere as zero bits ("A===", "=AAA" decode to 3 bytes): only the
  // final padding may be '='.
  if (std::memchr(in.data(), '=', in.size() - pad) != nullptr) return std::nullopt;
  std::size_t written = 0;
  while (!in.empty()) {
    const std::string_view block = in.substr(0, kDecodeBlockChars);
    const int n = EVP_DecodeBlock(out.data() + written, reinterpret_cast<const unsigned char*>(block.data()),
                                  static_cast<int>(block.size()));
    // It also trims whitespace at both ends instead of failing: then fewer bytes come out than the
    // length promises, and that is refused too. Characters outside the alphabet give -1.
    if (n < 0 || static_cast<std::size_t>(n) != base64_decoded_max(block.size())) return std::nullopt;
    written += static_cast<std::size_t>(n);
    in.remove_prefix(block.size());
  }
  return written - pad;
}

}  // namespace warmline::ai
