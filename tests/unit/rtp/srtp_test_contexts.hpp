// Test helper for RtpSession SRTP tests: deterministic 30-byte master keys and the contexts of one end.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rtp/srtp_session.hpp"

namespace warmline::rtp::test {

inline std::vector<uint8_t> key_of(uint8_t seed) {
  std::vector<uint8_t> k(30);
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + 7 * i);
  return k;
}

// One end's contexts: A's outbound key is B's inbound key and the other way round.
inline std::shared_ptr<SrtpSession> srtp_contexts(const std::vector<uint8_t>& out, const std::vector<uint8_t>& in) {
  std::string error;
  SrtpKeys outbound, inbound;
  outbound.key_salt = out;
  inbound.key_salt = in;
  auto s = SrtpSession::create(outbound, inbound, error);
  EXPECT_TRUE(s) << error;
  return std::shared_ptr<SrtpSession>(std::move(s));
}

}  // namespace warmline::rtp::test
