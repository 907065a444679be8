#include "sip/hep.hpp"

#include <arpa/inet.h>

#include <array>

namespace warmline::sip::hep {

namespace {

constexpr size_t kChunkHeader = 6;
constexpr size_t kMaxPacket = 65535;

// An IP literal's bytes: 4 for IPv4, 16 for IPv6; 0 when it is neither.
size_t ip_bytes(std::string_view text, std::array<unsigned char, 16>& out) {
  std::array<char, 64> z{};  // inet_pton needs a NUL-terminated string
  if (text.empty() || text.size() >= z.size()) return 0;
  text.copy(z.data(), text.size());
  if (inet_pton(AF_INET, z.data(), out.data()) == 1) return 4;
  if (inet_pton(AF_INET6, z.data(), out.data()) == 1) return 16;
  return 0;
}

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void put_u32(std::string& out, uint32_t v) {
  put_u16(out, static_cast<uint16_t>(v >> 16));
  put_u16(out, static_cast<uint16_t>(v & 0xffff));
}

void chunk_header(std::string& out, Chunk type, size_t payload_size) {
  put_u16(out, 0);  // vendor: generic
  put_u16(out, type);
  put_u16(out, static_cast<uint16_t>(kChunkHeader + payload_size));
}

void chunk_u8(std::string& out, Chunk type, uint8_t v) {
  chunk_header(out, type, 1);
  out.push_back(static_cast<char>(v));
}

void chunk_u16(std::string& out, Chunk type, uint16_t v) {
  chunk_header(out, type, 2);
  put_u16(out, v);
}

void chunk_u32(std::string& out, Chunk type, uint32_t v) {
  chunk_header(out, type, 4);
  put_u32(out, v);
}

void chunk_bytes(std::string& out, Chunk type, std::string_view bytes) {
  chunk_header(out, type, bytes.size());
  out.append(bytes);
}

}  // namespace

bool encode(const Packet& packet, std::string& out) {
  out.clear();
  std::array<unsigned char, 16> src{}, dst{};
  const size_t src_size = ip_bytes(packet.source_ip, src);
  const size_t dst_size = ip_bytes(packet.destination_ip, dst);
  if (src_size == 0 || src_size != dst_size) return false;
  const bool v6 = src_size == 16;
  // "HEP3" and the length; family, protocol and protocol type (1 byte each); the two addresses; the two
  // ports; seconds, microseconds and capture id; the payload; the optional chunks.
  size_t total = 6 + 3 * (kChunkHeader + 1) + 2 * (kChunkHeader + src_size) + 2 * (kChunkHeader + 2) +
                 3 * (kChunkHeader + 4) + kChunkHeader + packet.payload.size();
  if (!packet.auth_key.empty()) total += kChunkHeader + packet.auth_key.size();
  if (!packet.correlation.empty()) total += kChunkHeader + packet.correlation.size();
  if (total > kMaxPacket) return false;

  out.reserve(total);
  out.append("HEP3");
  put_u16(out, static_cast<uint16_t>(total));
  chunk_u8(out, kIpFamily, v6 ? 10 : 2);
  chunk_u8(out, kIpProtocol, packet.protocol == Protocol::udp ? 17 : 6);
  const auto* s = reinterpret_cast<const char*>(src.data());
  const auto* d = reinterpret_cast<const char*>(dst.data());
  chunk_bytes(out, v6 ? kIpv6Source : kIpv4Source, std::string_view(s, src_size));
  chunk_bytes(out, v6 ? kIpv6Destination : kIpv4Destination, std::string_view(d, dst_size));
  chunk_u16(out, kSourcePort, packet.source_port);
  chunk_u16(out, kDestinationPort, packet.destination_port);
  chunk_u32(out, kTimeSeconds, packet.seconds);
  chunk_u32(out, kTimeMicroseconds, packet.microseconds);
  chunk_u8(out, kProtocolType, kProtocolTypeSip);
  chunk_u32(out, kCaptureId, packet.capture_id);
  if (!packet.auth_key.empty()) chunk_bytes(out, kAuthKey, packet.auth_key);
  chunk_bytes(out, kPayload, packet.payload);
  if (!packet.correlation.empty()) chunk_bytes(out, kCorrelationId, packet.correlation);
  return true;
}

}  // namespace warmline::sip::hep
