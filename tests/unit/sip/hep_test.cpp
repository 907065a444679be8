// HEP v3 encoding against packets written out byte by byte from the HEP3 specification, and the
// textual Call-ID lookup the tracer uses on bytes that may not parse.
#include "sip/hep.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sip/sip_trace.hpp"

namespace warmline::sip {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(Hep, EncodesAnIpv4UdpPacketChunkByChunk) {
  hep::Packet p;
  p.protocol = Protocol::udp;
  p.source_ip = "192.0.2.1";
  p.source_port = 5060;
  p.destination_ip = "198.51.100.7";
  p.destination_port = 5080;
  p.seconds = 0x65000001;
  p.microseconds = 123456;  // 0x0001e240
  p.capture_id = 2001;      // 0x000007d1
  p.correlation = "abc@h";
  p.payload = "OPTIONS";
  std::string out;
  ASSERT_TRUE(hep::encode(p, out));

  std::string want = "HEP3";
  // 6 + family 7 + proto 7 + src 10 + dst 10 + ports 8+8 + s 10 + us 10 + type 7 + id 10 + payload 13 + corr 11
  want += bytes({0x00, 0x75});  // 117
  want += bytes({0, 0, 0, 1, 0, 7, 2});                       // IPv4
  want += bytes({0, 0, 0, 2, 0, 7, 17});                      // UDP
  want += bytes({0, 0, 0, 3, 0, 10, 192, 0, 2, 1});           // source
  want += bytes({0, 0, 0, 4, 0, 10, 198, 51, 100, 7});        // destination
  want += bytes({0, 0, 0, 7, 0, 8, 0x13, 0xc4});              // 5060
  want += bytes({0, 0, 0, 8, 0, 8, 0x13, 0xd8});              // 5080
  want += bytes({0, 0, 0, 9, 0, 10, 0x65, 0x00, 0x00, 0x01}); // seconds
  want += bytes({0, 0, 0, 10, 0, 10, 0x00, 0x01, 0xe2, 0x40});
  want += bytes({0, 0, 0, 11, 0, 7, 1});                      // SIP
  want += bytes({0, 0, 0, 12, 0, 10, 0, 0, 0x07, 0xd1});      // capture id 2001
  want += bytes({0, 0, 0, 15, 0, 13}) + "OPTIONS";
  want += bytes({0, 0, 0, 17, 0, 11}) + "abc@h";
  ASSERT_EQ(want.size(), 117u);
  EXPECT_EQ(out, want);
}

TEST(Hep, EncodesIpv6TcpWithAnAuthKeyAndNoCorrelation) {
  hep::Packet p;
  p.protocol = Protocol::tls;  // traced decrypted: TCP
  p.source_ip = "2001:db8::1";
  p.source_port = 5061;
  p.destination_ip = "::1";
  p.destination_port = 40000;
  p.capture_id = 7;
  p.auth_key = "pw";
  p.payload = "X";
  std::string out;
  ASSERT_TRUE(hep::encode(p, out));

  std::string want = "HEP3";
  // 6 + 7 + 7 + 22 + 22 + 8 + 8 + 10 + 10 + 7 + 10 + auth 8 + payload 7
  want += bytes({0x00, 0x84});  // 132
  want += bytes({0, 0, 0, 1, 0, 7, 10});
  want += bytes({0, 0, 0, 2, 0, 7, 6});
  want += bytes({0, 0, 0, 5, 0, 22, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  want += bytes({0, 0, 0, 6, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  want += bytes({0, 0, 0, 7, 0, 8, 0x13, 0xc5});
  want += bytes({0, 0, 0, 8, 0, 8, 0x9c, 0x40});
  want += bytes({0, 0, 0, 9, 0, 10, 0, 0, 0, 0});
  want += bytes({0, 0, 0, 10, 0, 10, 0, 0, 0, 0});
  want += bytes({0, 0, 0, 11, 0, 7, 1});
  want += bytes({0, 0, 0, 12, 0, 10, 0, 0, 0, 7});
  want += bytes({0, 0, 0, 14, 0, 8}) + "pw";
  want += bytes({0, 0, 0, 15, 0, 7}) + "X";
  ASSERT_EQ(want.size(), 132u);
  EXPECT_EQ(out, want);
}

TEST(Hep, RefusesWhatCannotBeEncoded) {
  hep::Packet p;
  p.source_ip = "192.0.2.1";
  p.destination_ip = "::1";  // mixed families
  p.payload = "X";
  std::string out = "stale";
  EXPECT_FALSE(hep::encode(p, out));
  EXPECT_TRUE(out.empty());
  p.destination_ip = "gw.example.com";  // not a literal
  EXPECT_FALSE(hep::encode(p, out));
  p.destination_ip = "[::1]";
  EXPECT_FALSE(hep::encode(p, out));
  p.destination_ip = "192.0.2.2";
  std::string big(65535, 'x');
  p.payload = big;  // past HEP3's 16-bit length
  EXPECT_FALSE(hep::encode(p, out));
  EXPECT_TRUE(out.empty());
  p.payload = std::string_view(big).substr(0, 65535 - 99);  // 99 bytes of header and chunks around it
  EXPECT_TRUE(hep::encode(p, out));
  EXPECT_EQ(out.size(), 65535u);
}

TEST(RawCallId, FindsTheHeaderInBytesThatNeedNotParse) {
  EXPECT_EQ(raw_call_id("INVITE sip:a@b SIP/2.0\r\nVia: x\r\nCall-ID:  abc@h \r\nCSeq: 1 INVITE\r\n\r\n"), "abc@h");
  EXPECT_EQ(raw_call_id("SIP/2.0 200 OK\r\ncall-id: Q1\r\n\r\n"), "Q1");
  EXPECT_EQ(raw_call_id("BYE x SIP/2.0\ni: compact\n\n"), "compact");
  EXPECT_EQ(raw_call_id("garbage with no headers"), "");
  // A Call-ID in the body is not a header.
  EXPECT_EQ(raw_call_id("INVITE x SIP/2.0\r\nVia: v\r\n\r\nCall-ID: body\r\n"), "");
  EXPECT_EQ(raw_call_id(""), "");
}

}  // namespace
}  // namespace warmline::sip
