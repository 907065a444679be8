// libFuzzer target: the RTP fixed-header parser (rtp/packet.cpp) and the RFC 4733 telephone-event
// receiver (rtp/dtmf.cpp). Every input is one datagram on a media port: is_rtcp, then parse_rtp. A
// parsed packet's parts must lie inside the datagram and add up to it, and its header written back by
// write_rtp_header must parse to the same fields. Its payload then goes to one DtmfReceiver per process
// (state carries over, as in a stream), whose digits must be DTMF digits.
// Build and run: tests/fuzz/README.md; seeds and findings in corpus/rtp_packet/.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "rtp/dtmf.hpp"
#include "rtp/packet.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {

using namespace warmline::rtp;
using warmline::fuzz::require;

bool inside(std::span<const uint8_t> part, std::span<const uint8_t> whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

uint32_t read32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const uint8_t> datagram(data, size);
  (void)is_rtcp(datagram);
  RtpPacketView packet;
  if (parse_rtp(datagram, packet) != RtpParseStatus::kOk) return 0;

  require(inside(packet.csrcs, datagram) && inside(packet.extension, datagram) && inside(packet.payload, datagram),
          "a part of the packet lies outside the datagram");
  require(packet.csrc_count <= kMaxCsrcs && packet.csrcs.size() == size_t{packet.csrc_count} * 4,
          "CSRC count and CSRC bytes disagree");
  const size_t extension = packet.has_extension ? 4 + packet.extension.size() : 0;
  require(kRtpHeaderSize + packet.csrcs.size() + extension + packet.payload.size() + packet.padding == size,
          "header, extension, payload and padding do not add up to the datagram");

  std::array<uint32_t, kMaxCsrcs> csrcs{};
  for (size_t i = 0; i < packet.csrc_count; ++i) csrcs[i] = read32(packet.csrcs.data() + 4 * i);
  const RtpHeaderFields fields{.payload_type = packet.payload_type,
                               .marker = packet.marker,
                               .sequence = packet.sequence,
                               .timestamp = packet.timestamp,
                               .ssrc = packet.ssrc,
                               .csrcs = std::span<const uint32_t>(csrcs.data(), packet.csrc_count)};
  std::array<uint8_t, kRtpHeaderSize + 4 * kMaxCsrcs> header{};
  const size_t written = write_rtp_header(header, fields);
  require(written == kRtpHeaderSize + packet.csrcs.size(), "a parsed header cannot be written back");
  RtpPacketView again;
  require(parse_rtp(std::span<const uint8_t>(header.data(), written), again) == RtpParseStatus::kOk,
          "a written header does not parse");
  require(again.payload_type == packet.payload_type && again.marker == packet.marker &&
              again.sequence == packet.sequence && again.timestamp == packet.timestamp && again.ssrc == packet.ssrc &&
              again.csrc_count == packet.csrc_count &&
              (packet.csrcs.empty() || std::memcmp(again.csrcs.data(), packet.csrcs.data(), packet.csrcs.size()) == 0) &&
              again.payload.empty(),
          "a written header parses to other fields");

  static DtmfReceiver receiver;
  constexpr std::string_view kDigits = "0123456789*#ABCD";
  for (const DtmfDigit& digit : receiver.feed(packet.payload, packet.timestamp)) {
    require(kDigits.find(digit.digit) != std::string_view::npos, "a DTMF digit outside 0-9*#A-D");
  }
  if (packet.marker) {
    if (const auto open = receiver.flush()) {
      require(kDigits.find(open->digit) != std::string_view::npos, "a flushed DTMF digit outside 0-9*#A-D");
    }
  }
  return 0;
}
