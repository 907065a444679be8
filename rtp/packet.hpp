// RTP fixed header (RFC 3550 §5.1): a zero-copy parser into a view over the datagram, and a writer
// for the fixed header. RTCP sharing the port (RFC 5761 §4) is recognised so it can be told apart.
//
// Thread: pure functions; the view borrows the caller's buffer and is valid only while it lives
// (in RtpSession: until the handler returns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace warmline::rtp {

constexpr size_t kRtpHeaderSize = 12;  // without CSRCs or extension
constexpr size_t kMaxCsrcs = 15;

struct RtpPacketView {
  uint8_t payload_type = 0;
  bool marker = false;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrc_count = 0;
  std::span<const uint8_t> csrcs;      // csrc_count * 4 bytes, network order
  bool has_extension = false;
  uint16_t extension_profile = 0;      // RFC 3550 §5.3.1 "defined by profile" field
  std::span<const uint8_t> extension;  // the extension data after its 4-byte header
  std::span<const uint8_t> payload;    // without padding
  uint8_t padding = 0;                 // padding bytes removed from the end (0 when P is clear)
};

enum class RtpParseStatus {
  kOk,
  kTooShort,           // fewer than 12 bytes
  kBadVersion,         // V != 2
  kTruncatedCsrc,      // CC says more CSRCs than there are bytes
  kTruncatedExtension, // X set but the extension runs past the end
  kBadPadding,         // P set with a count of 0 or larger than what follows the header
};

std::string_view to_string(RtpParseStatus status);

// RFC 5761 §4: on a muxed port, a second byte in 192..223 (RTCP packet types 192-223, which covers
// SR 200 .. APP 204) is RTCP; RTP payload types 64-95 are therefore never used there.
bool is_rtcp(std::span<const uint8_t> datagram);

// Parses without copying. On anything but kOk, `out` is left unspecified.
RtpParseStatus parse_rtp(std::span<const uint8_t> datagram, RtpPacketView& out);

struct RtpHeaderFields {
  uint8_t payload_type = 0;            // 0..127
  bool marker = false;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::span<const uint32_t> csrcs = {};  // at most kMaxCsrcs
};

// Writes the header (12 + 4*CSRC bytes, no extension, no padding) at the start of `out` and returns
// its size, or 0 when `out` is too small or the fields are out of range (nothing is truncated).
size_t write_rtp_header(std::span<uint8_t> out, const RtpHeaderFields& fields);

}  // namespace warmline::rtp
