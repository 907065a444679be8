#include "rtp/packet.hpp"

namespace warmline::rtp {
namespace {

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

uint32_t load32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void store32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

std::string_view to_string(RtpParseStatus status) {
  switch (status) {
    case RtpParseStatus::kOk: return "ok";
    case RtpParseStatus::kTooShort: return "too short";
    case RtpParseStatus::kBadVersion: return "bad version";
    case RtpParseStatus::kTruncatedCsrc: return "truncated CSRC list";
    case RtpParseStatus::kTruncatedExtension: return "truncated header extension";
    case RtpParseStatus::kBadPadding: return "bad padding";
  }
  return "unknown";
}

bool is_rtcp(std::span<const uint8_t> datagram) {
  return datagram.size() >= 8 && (datagram[0] >> 6) == 2 && datagram[1] >= 192 && datagram[1] <= 223;
}

RtpParseStatus parse_rtp(std::span<const uint8_t> datagram, RtpPacketView& out) {
  const size_t size = datagram.size();
  if (size < kRtpHeaderSize) return RtpParseStatus::kTooShort;
  const uint8_t* p = datagram.data();
  if ((p[0] >> 6) != 2) return RtpParseStatus::kBadVersion;
  const bool padded = (p[0] & 0x20) != 0;
  out.has_extension = (p[0] & 0x10) != 0;
  out.csrc_count = p[0] & 0x0f;
  out.marker = (p[1] & 0x80) != 0;
  out.payload_type = p[1] & 0x7f;
  out.sequence = load16(p + 2);
  out.timestamp = load32(p + 4);
  out.ssrc = load32(p + 8);

  size_t offset = kRtpHeaderSize + size_t{out.csrc_count} * 4;
  if (offset > size) return RtpParseStatus::kTruncatedCsrc;
  out.csrcs = datagram.subspan(kRtpHeaderSize, offset - kRtpHeaderSize);
  out.extension_profile = 0;
  out.extension = {};
  if (out.has_extension) {  // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words
    if (offset + 4 > size) return RtpParseStatus::kTruncatedExtension;
    out.extension_profile = load16(p + offset);
    const size_t ext_len = size_t{load16(p + offset + 2)} * 4;
    if (offset + 4 + ext_len > size) return RtpParseStatus::kTruncatedExtension;
    out.extension = datagram.subspan(offset + 4, ext_len);
    offset += 4 + ext_len;
  }
  out.padding = 0;
  if (padded) {  // RFC 3550 §5.1: the last octet counts the padding, itself included
    const uint8_t count = p[size - 1];
    if (count == 0 || count > size - offset) return RtpParseStatus::kBadPadding;
    out.padding = count;
  }
  out.payload = datagram.subspan(offset, size - offset - out.padding);
  return RtpParseStatus::kOk;
}

size_t write_rtp_header(std::span<uint8_t> out, const RtpHeaderFields& fields) {
  const size_t size = kRtpHeaderSize + fields.csrcs.size() * 4;
  if (fields.payload_type > 127 || fields.csrcs.size() > kMaxCsrcs || out.size() < size) return 0;
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>(0x80 | fields.csrcs.size());
  p[1] = static_cast<uint8_t>((fields.marker ? 0x80 : 0) | fields.payload_type);
  store16(p + 2, fields.sequence);
  store32(p + 4, fields.timestamp);
  store32(p + 8, fields.ssrc);
  for (size_t i = 0; i < fields.csrcs.size(); ++i) store32(p + kRtpHeaderSize + i * 4, fields.csrcs[i]);
  return size;
}

}  // namespace warmline::rtp
