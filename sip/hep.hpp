// HEP v3 (the Homer Encapsulation Protocol, sipcapture.org's "HEP3 Network Protocol Specification"):
// one captured SIP message with its addresses, ports, time and capture agent, as Homer's collectors
// (heplify-server) read it.
//
// A packet is "HEP3", its total length (u16, network order), then chunks of {u16 vendor = 0, u16 type,
// u16 length including the 6-byte chunk header, payload}. Written here: 1 IP family (2 IPv4, 10 IPv6),
// 2 IP protocol (17 UDP, 6 TCP; TLS is traced decrypted, as TCP), 3/4 IPv4 or 5/6 IPv6 source and
// destination, 7/8 source and destination port, 9/10 time (seconds, microseconds), 11 protocol type
// (1 = SIP), 12 capture agent id (u32), 14 authentication key (only when set), 15 the captured
// message, 17 correlation id (only when set).
//
// Thread: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sip/transport.hpp"

namespace warmline::sip::hep {

// Chunk types (vendor 0) of the HEP3 specification.
enum Chunk : uint16_t {
  kIpFamily = 1,
  kIpProtocol = 2,
  kIpv4Source = 3,
  kIpv4Destination = 4,
  kIpv6Source = 5,
  kIpv6Destination = 6,
  kSourcePort = 7,
  kDestinationPort = 8,
  kTimeSeconds = 9,
  kTimeMicroseconds = 10,
  kProtocolType = 11,
  kCaptureId = 12,
  kAuthKey = 14,
  kPayload = 15,
  kCorrelationId = 17,
};

inline constexpr uint16_t kProtocolTypeSip = 1;

struct Packet {
  Protocol protocol = Protocol::udp;  // the transport the message travelled over
  std::string_view source_ip;         // IP literals of one family (IPv6 without brackets)
  uint16_t source_port = 0;
  std::string_view destination_ip;
  uint16_t destination_port = 0;
  uint32_t seconds = 0;       // Unix time of the send or the arrival
  uint32_t microseconds = 0;  // 0..999999
  uint32_t capture_id = 0;
  std::string_view auth_key;     // "" = no chunk 14
  std::string_view correlation;  // "" = no chunk 17
  std::string_view payload;      // the SIP message's bytes as sent or received
};

// Encodes `packet` into `out` (cleared first; its capacity is reused). False, with `out` empty, when an
// address is not an IP literal, the two are of different families, or the packet would pass 65535
// bytes (HEP3's length field).
bool encode(const Packet& packet, std::string& out);

}  // namespace warmline::sip::hep
