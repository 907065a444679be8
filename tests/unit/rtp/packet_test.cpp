#include "rtp/packet.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace warmline::rtp {
namespace {

// RFC 3550 §5.1 header, PCMU, marker set, seq 0x1234, ts 0x01020304, ssrc 0xdeadbeef, 3 payload bytes.
std::vector<uint8_t> basic_packet() {
  return {0x80, 0x80, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef, 0xaa, 0xbb, 0xcc};
}

TEST(RtpPacket, ParsesFixedHeader) {
  const auto bytes = basic_packet();
  RtpPacketView v;
  ASSERT_EQ(parse_rtp(bytes, v), RtpParseStatus::kOk);
  EXPECT_EQ(v.payload_type, 0);
  EXPECT_TRUE(v.marker);
  EXPECT_EQ(v.sequence, 0x1234);
  EXPECT_EQ(v.timestamp, 0x01020304u);
  EXPECT_EQ(v.ssrc, 0xdeadbeefu);
  EXPECT_EQ(v.csrc_count, 0);
  EXPECT_FALSE(v.has_extension);
  ASSERT_EQ(v.payload.size(), 3u);
  EXPECT_EQ(v.payload.data(), bytes.data() + 12);  // zero copy: points into the datagram
  EXPECT_EQ(v.payload[2], 0xcc);
}

TEST(RtpPacket, ParsesCsrcsExtensionAndPadding) {
  std::vector<uint8_t> bytes = {
      0xb2, 0x08, 0x00, 0x01, 0, 0, 0, 2, 0, 0, 0, 3,  // V=2 P=1 X=1 CC=2, PCMA
      0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,   // two CSRCs
      0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0x00, 0x00,   // extension: profile 0xBEDE, 1 word
      0x01, 0x02,                                       // payload
      0x00, 0x00, 0x03};                                // 3 bytes of padding
  RtpPacketView v;
  ASSERT_EQ(parse_rtp(bytes, v), RtpParseStatus::kOk);
  EXPECT_EQ(v.payload_type, 8);
  EXPECT_FALSE(v.marker);
  EXPECT_EQ(v.csrc_count, 2);
  EXPECT_EQ(v.csrcs.size(), 8u);
  EXPECT_TRUE(v.has_extension);
  EXPECT_EQ(v.extension_profile, 0xbede);
  EXPECT_EQ(v.extension.size(), 4u);
  EXPECT_EQ(v.padding, 3);
  ASSERT_EQ(v.payload.size(), 2u);
  EXPECT_EQ(v.payload[0], 0x01);
  EXPECT_EQ(v.payload[1], 0x02);
}

TEST(RtpPacket, RejectsInvalidAndTruncated) {
  RtpPacketView v;
  auto bytes = basic_packet();
  EXPECT_EQ(parse_rtp(std::span(bytes).first(11), v), RtpParseStatus::kTooShort);
  EXPECT_EQ(parse_rtp({}, v), RtpParseStatus::kTooShort);
  auto v1 = bytes;
  v1[0] = 0x40;  // version 1
  EXPECT_EQ(parse_rtp(v1, v), RtpParseStatus::kBadVersion);
  auto csrc = bytes;
  csrc[0] = 0x81;  // one CSRC but only 3 bytes follow the header
  EXPECT_EQ(parse_rtp(csrc, v), RtpParseStatus::kTruncatedCsrc);
  auto ext = bytes;
  ext[0] = 0x90;  // extension header needs 4 bytes, 3 follow
  EXPECT_EQ(parse_rtp(ext, v), RtpParseStatus::kTruncatedExtension);
  std::vector<uint8_t> ext_len = {0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x02, 1, 2, 3, 4};
  EXPECT_EQ(parse_rtp(ext_len, v), RtpParseStatus::kTruncatedExtension);  // says 8 bytes, has 4
  auto pad0 = bytes;
  pad0[0] = 0xa0;
  pad0.back() = 0;  // padding count 0
  EXPECT_EQ(parse_rtp(pad0, v), RtpParseStatus::kBadPadding);
  auto pad_big = bytes;
  pad_big[0] = 0xa0;
  pad_big.back() = 4;  // more than the 3 bytes after the header
  EXPECT_EQ(parse_rtp(pad_big, v), RtpParseStatus::kBadPadding);
  pad_big.back() = 3;  // exactly everything: an empty payload is legal
  ASSERT_EQ(parse_rtp(pad_big, v), RtpParseStatus::kOk);
  EXPECT_TRUE(v.payload.empty());
}

TEST(RtpPacket, EveryTruncationOfAValidPacketIsHandled) {
  std::vector<uint8_t> bytes = {0xb1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 9, 9, 9,
                                0x00, 0x01, 0x00, 0x01, 7, 7, 7, 7, 5, 5, 0x02};
  RtpPacketView v;
  ASSERT_EQ(parse_rtp(bytes, v), RtpParseStatus::kOk);
  for (size_t len = 0; len < bytes.size(); ++len) {
    RtpParseStatus s = parse_rtp(std::span(bytes).first(len), v);
    if (s == RtpParseStatus::kOk) {  // a shorter valid reading must stay inside the bytes given
      EXPECT_LE(v.payload.data() + v.payload.size(), bytes.data() + len);
    }
  }
}

TEST(RtpPacket, RecognisesMuxedRtcp) {
  // RTCP receiver report header: V=2, PT=201, length 1.
  std::vector<uint8_t> rr = {0x80, 201, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78};
  EXPECT_TRUE(is_rtcp(rr));
  rr[1] = 200;
  EXPECT_TRUE(is_rtcp(rr));
  rr[1] = 204;
  EXPECT_TRUE(is_rtcp(rr));
  EXPECT_FALSE(is_rtcp(basic_packet()));
  auto te = basic_packet();
  te[1] = 0x80 | 101;  // marker + telephone-event pt 101 = 229: RTP, not RTCP
  EXPECT_FALSE(is_rtcp(te));
  EXPECT_FALSE(is_rtcp(std::span(rr).first(4)));
}

TEST(RtpPacket, WriteThenParseRoundTrip) {
  const std::array<uint32_t, 2> csrcs = {0x01020304, 0xa0b0c0d0};
  for (bool marker : {false, true}) {
    for (uint8_t pt : {uint8_t{0}, uint8_t{8}, uint8_t{101}, uint8_t{127}}) {
      std::array<uint8_t, 64> buf{};
      const RtpHeaderFields fields{.payload_type = pt, .marker = marker, .sequence = 65535,
                                   .timestamp = 0xfffffff0, .ssrc = 0x11223344, .csrcs = csrcs};
      const size_t n = write_rtp_header(buf, fields);
      ASSERT_EQ(n, 20u);
      buf[n] = 0x42;  // one payload byte
      RtpPacketView v;
      ASSERT_EQ(parse_rtp(std::span(buf).first(n + 1), v), RtpParseStatus::kOk);
      EXPECT_EQ(v.payload_type, pt);
      EXPECT_EQ(v.marker, marker);
      EXPECT_EQ(v.sequence, 65535);
      EXPECT_EQ(v.timestamp, 0xfffffff0u);
      EXPECT_EQ(v.ssrc, 0x11223344u);
      EXPECT_EQ(v.csrc_count, 2);
      EXPECT_EQ(v.csrcs[0], 0x01);
      EXPECT_EQ(v.csrcs[7], 0xd0);
      ASSERT_EQ(v.payload.size(), 1u);
      EXPECT_EQ(v.payload[0], 0x42);
    }
  }
}

TEST(RtpPacket, WriteRefusesWhatDoesNotFit) {
  std::array<uint8_t, 11> small{};
  EXPECT_EQ(write_rtp_header(small, {.payload_type = 0}), 0u);
  std::array<uint8_t, 12> exact{};
  EXPECT_EQ(write_rtp_header(exact, {.payload_type = 0}), 12u);
  EXPECT_EQ(write_rtp_header(exact, {.payload_type = 128}), 0u);
  std::array<uint32_t, 16> too_many{};
  std::array<uint8_t, 128> big{};
  EXPECT_EQ(write_rtp_header(big, {.payload_type = 0, .csrcs = too_many}), 0u);
}

}  // namespace
}  // namespace warmline::rtp
