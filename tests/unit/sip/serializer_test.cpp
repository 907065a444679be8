// serialize(): header order, derived Content-Length, and parse(serialize(parse(x))) == parse(x) field by
// field over hand-written messages and every RFC 4475 message that parses.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "sip/parser.hpp"
#include "sip/serializer.hpp"
#include "sip/uri.hpp"

namespace warmline::sip {
namespace {

void expect_params_equal(const std::vector<Param>& a, const std::vector<Param>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].value, b[i].value);
    EXPECT_EQ(a[i].has_value, b[i].has_value);
  }
}

void expect_uri_equal(const Uri& a, const Uri& b) {
  EXPECT_EQ(a.to_string(), b.to_string());
  EXPECT_EQ(a.scheme, b.scheme);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.password, b.password);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.port, b.port);
  EXPECT_EQ(a.opaque, b.opaque);
  expect_params_equal(a.params, b.params);
  expect_params_equal(a.headers, b.headers);
}

void expect_addr_equal(const NameAddr& a, const NameAddr& b) {
  EXPECT_EQ(a.display, b.display);
  expect_uri_equal(a.uri, b.uri);
  expect_params_equal(a.params, b.params);
}

void expect_addrs_equal(const std::vector<NameAddr>& a, const std::vector<NameAddr>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) expect_addr_equal(a[i], b[i]);
}

void expect_message_equal(const Message& a, const Message& b) {
  EXPECT_EQ(a.is_request, b.is_request);
  EXPECT_EQ(a.method, b.method);
  expect_uri_equal(a.request_uri, b.request_uri);
  EXPECT_EQ(a.status_code, b.status_code);
  EXPECT_EQ(a.reason, b.reason);
  ASSERT_EQ(a.vias.size(), b.vias.size());
  for (size_t i = 0; i < a.vias.size(); ++i) {
    EXPECT_EQ(a.vias[i].transport, b.vias[i].transport);
    EXPECT_EQ(a.vias[i].host, b.vias[i].host);
    EXPECT_EQ(a.vias[i].port, b.vias[i].port);
    expect_params_equal(a.vias[i].params, b.vias[i].params);
  }
  expect_addr_equal(a.from, b.from);
  expect_addr_equal(a.to, b.to);
  EXPECT_EQ(a.call_id, b.call_id);
  EXPECT_EQ(a.cseq.number, b.cseq.number);
  EXPECT_EQ(a.cseq.method, b.cseq.method);
  EXPECT_EQ(a.max_forwards, b.max_forwards);
  EXPECT_EQ(a.contact_star, b.contact_star);
  expect_addrs_equal(a.contacts, b.contacts);
  expect_addrs_equal(a.routes, b.routes);
  expect_addrs_equal(a.record_routes, b.record_routes);
  EXPECT_EQ(a.content_type, b.content_type);
  ASSERT_EQ(a.headers.size(), b.headers.size());
  for (size_t i = 0; i < a.headers.size(); ++i) {
    EXPECT_EQ(a.headers[i].name, b.headers[i].name);
    EXPECT_EQ(a.headers[i].value, b.headers[i].value);
  }
  EXPECT_EQ(a.body, b.body);
}

void expect_round_trip(std::string_view raw) {
  ParseResult first = parse_message(raw);
  ASSERT_TRUE(first.ok()) << first.reason;
  std::string wire = serialize(*first.message);
  ParseResult second = parse_message(wire);
  ASSERT_TRUE(second.ok()) << second.reason << "\n" << wire;
  expect_message_equal(*first.message, *second.message);
  EXPECT_EQ(serialize(*second.message), wire);  // and serialization is a fixed point
}

Message sample_invite() {
  Message m;
  m.method = "INVITE";
  m.request_uri = *parse_uri("sip:bob@example.com");
  Via via;
  via.host = "192.0.2.1";
  via.port = 5062;
  set_param(via.params, "branch", "z9hG4bKabc");
  m.vias.push_back(via);
  m.max_forwards = 70;
  m.from = *parse_name_addr("\"Alice, A.\" <sip:alice@example.com>;tag=9");
  m.to = *parse_name_addr("<sip:bob@example.com>");
  m.call_id = "c1@192.0.2.1";
  m.cseq = {1, "INVITE"};
  m.contacts.push_back(*parse_name_addr("<sip:alice@192.0.2.1:5062>"));
  m.routes.push_back(*parse_name_addr("<sip:proxy.example.com;lr>"));
  m.content_type = "application/sdp";
  m.add_header("X-Case", "42");
  m.add_header("Content-Length", "999");  // a stray length must never reach the wire
  m.body = "v=0\r\n";
  return m;
}

TEST(Serialize, TypedHeadersFirstThenOthersThenDerivedLength) {
  EXPECT_EQ(serialize(sample_invite()),
            "INVITE sip:bob@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKabc\r\n"
            "Max-Forwards: 70\r\n"
            "Route: <sip:proxy.example.com;lr>\r\n"
            "From: \"Alice, A.\" <sip:alice@example.com>;tag=9\r\n"
            "To: <sip:bob@example.com>\r\n"
            "Call-ID: c1@192.0.2.1\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:alice@192.0.2.1:5062>\r\n"
            "Content-Type: application/sdp\r\n"
            "X-Case: 42\r\n"
            "Content-Length: 5\r\n"
            "\r\n"
            "v=0\r\n");
}

TEST(Serialize, ResponseStatusLineAndEmptyReason) {
  Message m;
  m.is_request = false;
  m.status_code = 100;
  EXPECT_EQ(serialize(m), "SIP/2.0 100 \r\nContent-Length: 0\r\n\r\n");
  m.reason = "Trying";
  m.contact_star = true;
  EXPECT_EQ(serialize(m), "SIP/2.0 100 Trying\r\nContact: *\r\nContent-Length: 0\r\n\r\n");
}

TEST(Serialize, SerializeToAppendsToTheGivenBuffer) {
  std::string buffer = "prefix|";
  serialize_to(sample_invite(), buffer);
  EXPECT_EQ(buffer, "prefix|" + serialize(sample_invite()));
}

TEST(Serialize, BuiltMessageRoundTrips) { expect_round_trip(serialize(sample_invite())); }

TEST(Serialize, HandWrittenCornersRoundTrip) {
  using namespace std::literals;
  expect_round_trip(
      "SIP/2.0 200 OK\r\nv: SIP/2.0/udp h1;branch=z9hG4bK1;received=[::1];rport=5060, SIP/2.0/TCP h2\r\n"
      "f: \"a \\\\ \\\"b\\\"\" <sip:a@b>;tag=1\r\nt: sip:c@d;tag=2;x=\"q;,\"\r\ni: x\r\nCSeq: 7 INVITE\r\n"
      "m: <sip:u;p=1@[2001:db8::1]:5070;transport=tcp?H=%20v>;expires=5\r\nRecord-Route: <sip:r1;lr>,<sip:r2;lr>\r\n"
      "Supported: replaces, norefersub\r\nc: application/sdp\r\n\r\nbody\0with nul"sv);
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Serialize, EveryParsableRfc4475MessageRoundTrips) {
  int round_tripped = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(WARMLINE_TEST_DATA) / "rfc4475")) {
    if (entry.path().extension() != ".dat") continue;
    std::string raw = read_bytes(entry.path());
    if (!parse_message(raw).ok()) continue;
    SCOPED_TRACE(entry.path().filename().string());
    expect_round_trip(raw);
    ++round_tripped;
  }
  EXPECT_EQ(round_tripped, 28);  // the files rfc4475_test expects to parse
}

}  // namespace
}  // namespace warmline::sip
