// Hex strings to bytes for the SRTP tests' known answers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace warmline::rtp::test {

inline std::vector<uint8_t> hex(std::string_view h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

}  // namespace warmline::rtp::test
