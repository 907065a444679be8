// DTMF carried in SIP INFO requests (RFC 6086 transports it; the bodies are de-facto formats):
//   application/dtmf-relay   "Signal=5\r\nDuration=160\r\n"   (Cisco/Asterisk/FreeSWITCH style)
//   application/dtmf         "5"                               (a bare digit)
// Signal 10 and 11 mean * and # (some PBXs send the RFC 4733 event code instead of the character).
//
// Pure functions over untrusted text; they never throw.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace warmline::sip {

struct InfoDtmf {
  char digit = '0';           // 0-9 * # A-D
  uint32_t duration_ms = 0;   // as sent; kDefaultInfoDtmfMs when the body has none
};

inline constexpr uint32_t kDefaultInfoDtmfMs = 100;

// True for the content types parse_info_dtmf understands (case-insensitive, parameters ignored).
bool is_info_dtmf_type(std::string_view content_type);

// nullopt when the body is not a valid DTMF body of that type (no Signal, a signal that is not a DTMF
// key, a duration that is not a number).
std::optional<InfoDtmf> parse_info_dtmf(std::string_view content_type, std::string_view body);

}  // namespace warmline::sip
