// libFuzzer target: SRTP and SRTCP unprotect (rtp/srtp_session.cpp: SRTP through rtp/srtp_transform.cpp,
// SRTCP through libsrtp2) of arbitrary bytes, and
// the RTCP-or-RTP decision of a muxed port (rtp/packet.cpp is_rtcp), as RtpSession makes it. Every input
// goes, as one received datagram, to one session per suite and process (AES_CM_128_HMAC_SHA1_80 and
// _32, AEAD_AES_128_GCM; a session per input would spend the run in libsrtp's key setup, ~20 ms under
// ASan), keyed with RFC 3711 Appendix B.3's master key and salt, through unprotect_rtcp when
// is_rtcp says RTCP, else unprotect. What authenticates must come out no longer than it went in, and a
// plain RTP packet must parse. warmline reads nothing of RTCP beyond that decision (RtpSession counts
// it), so this is also the RTCP target. Build and run: tests/fuzz/README.md; corpus/rtp_srtp/ holds the
// known-answer packets of tests/unit/rtp/srtp_session_test.cpp (kat-gcm: AEAD_AES_128_GCM) and the findings.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "rtp/packet.hpp"
#include "rtp/srtp_session.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {

using namespace warmline::rtp;
using warmline::fuzz::require;

// RFC 3711 Appendix B.3: master key || master salt (30 bytes; GCM takes the first 28).
constexpr std::array<uint8_t, 30> kKeySalt = {0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f,
                                              0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39, 0x0e, 0xc6, 0x75, 0xad,
                                              0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};
constexpr size_t kMaxDatagram = 2048;

std::unique_ptr<SrtpSession> session(SrtpProfile profile) {
  const size_t length = profile == SrtpProfile::kAeadAes128Gcm ? 28 : 30;
  SrtpKeys keys;
  keys.profile = profile;
  keys.key_salt = std::span<const uint8_t>(kKeySalt.data(), length);
  std::string error;
  auto s = SrtpSession::create(keys, keys, error);
  require(s != nullptr, "libsrtp refused the fixed keys");
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxDatagram) return 0;
  const bool rtcp = is_rtcp(std::span<const uint8_t>(data, size));
  static const std::array<std::unique_ptr<SrtpSession>, 3> sessions = {
      session(SrtpProfile::kAesCm128HmacSha1_80), session(SrtpProfile::kAesCm128HmacSha1_32),
      session(SrtpProfile::kAeadAes128Gcm)};
  for (const auto& s : sessions) {
    // As RtpSession's receive buffer: the datagram, then room the libsrtp calls may not use.
    std::array<uint8_t, kMaxDatagram + SrtpSession::kMaxOverhead> buffer{};
    if (size > 0) std::memcpy(buffer.data(), data, size);
    size_t length = size;
    const SrtpResult result = rtcp ? s->unprotect_rtcp(buffer, length) : s->unprotect(buffer, length);
    if (result != SrtpResult::kOk) continue;
    require(length <= size, "unprotect made the packet longer");
    if (!rtcp) {
      RtpPacketView packet;
      require(parse_rtp(std::span<const uint8_t>(buffer.data(), length), packet) == RtpParseStatus::kOk,
              "an authenticated SRTP packet is not RTP");
    }
  }
  return 0;
}
