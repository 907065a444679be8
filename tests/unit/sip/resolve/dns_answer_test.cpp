// Parsing c-ares answer buffers into the resolver's records: TTLs (the smallest of the answer
// section), each record type, and malformed buffers (untrusted input: an error, never a crash).
#include "sip/resolve/dns_answer.hpp"

#include <ares.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warmline::sip {
namespace {

// Builds DNS messages by hand (RFC 1035 §4.1), so each test states exactly what the server said.
class Message {
 public:
  Message(std::string_view qname, uint16_t qtype, uint16_t answers) {
    const uint8_t header[12] = {0x12, 0x34, 0x81, 0x80, 0, 1, static_cast<uint8_t>(answers >> 8),
                                static_cast<uint8_t>(answers), 0, 0, 0, 0};
    bytes.assign(header, header + 12);
    name(qname);
    u16(qtype);
    u16(1);
  }
  void name(std::string_view n) {
    while (!n.empty()) {
      const size_t dot = n.find('.');
      std::string_view label = n.substr(0, dot);
      bytes.push_back(static_cast<uint8_t>(label.size()));
      bytes.insert(bytes.end(), label.begin(), label.end());
      n = dot == std::string_view::npos ? std::string_view() : n.substr(dot + 1);
    }
    bytes.push_back(0);
  }
  void u16(uint16_t v) {
    bytes.push_back(static_cast<uint8_t>(v >> 8));
    bytes.push_back(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  // An answer record whose owner is a pointer to the question name (offset 12).
  void record(uint16_t type, uint32_t ttl, const std::vector<uint8_t>& rdata) {
    u16(0xC00C);
    u16(type);
    u16(1);
    u32(ttl);
    u16(static_cast<uint16_t>(rdata.size()));
    bytes.insert(bytes.end(), rdata.begin(), rdata.end());
  }
  std::vector<uint8_t> bytes;
};

std::vector<uint8_t> encoded_name(std::string_view n) {
  Message m("x", 1, 0);
  const size_t before = m.bytes.size();
  m.name(n);
  return {m.bytes.begin() + static_cast<std::ptrdiff_t>(before), m.bytes.end()};
}

std::vector<uint8_t> srv_rdata(uint16_t priority, uint16_t weight, uint16_t port, std::string_view target) {
  std::vector<uint8_t> r = {static_cast<uint8_t>(priority >> 8), static_cast<uint8_t>(priority),
                            static_cast<uint8_t>(weight >> 8),   static_cast<uint8_t>(weight),
                            static_cast<uint8_t>(port >> 8),     static_cast<uint8_t>(port)};
  auto n = encoded_name(target);
  r.insert(r.end(), n.begin(), n.end());
  return r;
}

DnsAnswer parse(RecordType type, const Message& m, int status = ARES_SUCCESS) {
  return parse_dns_answer(type, status, m.bytes.data(), static_cast<int>(m.bytes.size()));
}

TEST(DnsAnswerTest, SrvRecordsAndTheSmallestTtl) {
  Message m("_sip._udp.pbx.test", 33, 2);
  m.record(33, 300, srv_rdata(10, 60, 5062, "a.pbx.test"));
  m.record(33, 120, srv_rdata(20, 0, 5060, "b.pbx.test"));
  DnsAnswer a = parse(RecordType::kSrv, m);
  ASSERT_FALSE(a.error) << a.error.message();
  EXPECT_EQ(a.ttl, 120u);
  ASSERT_EQ(a.srv.size(), 2u);
  EXPECT_EQ(a.srv[0].target, "a.pbx.test");
  EXPECT_EQ(a.srv[0].port, 5062);
  EXPECT_EQ(a.srv[0].priority, 10);
  EXPECT_EQ(a.srv[0].weight, 60);
  EXPECT_EQ(a.srv[1].target, "b.pbx.test");
}

TEST(DnsAnswerTest, NaptrRecords) {
  Message m("pbx.test", 35, 1);
  std::vector<uint8_t> rdata = {0, 10, 0, 20, 1, 'S', 7, 'S', 'I', 'P', '+', 'D', '2', 'U', 0};
  auto n = encoded_name("_sip._udp.pbx.test");
  rdata.insert(rdata.end(), n.begin(), n.end());
  m.record(35, 60, rdata);
  DnsAnswer a = parse(RecordType::kNaptr, m);
  ASSERT_FALSE(a.error) << a.error.message();
  ASSERT_EQ(a.naptr.size(), 1u);
  EXPECT_EQ(a.naptr[0].order, 10);
  EXPECT_EQ(a.naptr[0].preference, 20);
  EXPECT_EQ(a.naptr[0].flags, "S");
  EXPECT_EQ(a.naptr[0].service, "SIP+D2U");
  EXPECT_EQ(a.naptr[0].regexp, "");
  EXPECT_EQ(a.naptr[0].replacement, "_sip._udp.pbx.test");
  EXPECT_EQ(a.ttl, 60u);
}

TEST(DnsAnswerTest, AddressesOfBothFamilies) {
  Message v4("a.test", 1, 2);
  v4.record(1, 30, {192, 0, 2, 1});
  v4.record(1, 30, {192, 0, 2, 2});
  DnsAnswer a = parse(RecordType::kA, v4);
  ASSERT_FALSE(a.error) << a.error.message();
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(a.ttl, 30u);

  Message v6("a.test", 28, 1);
  v6.record(28, 45, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  DnsAnswer b = parse(RecordType::kAaaa, v6);
  ASSERT_FALSE(b.error) << b.error.message();
  EXPECT_EQ(b.addresses, (std::vector<std::string>{"2001:db8::2"}));
  EXPECT_EQ(b.ttl, 45u);
}

TEST(DnsAnswerTest, TtlWithTheTopBitSetCountsAsZero) {
  Message m("a.test", 1, 1);
  m.record(1, 0x80000001u, {192, 0, 2, 1});
  uint32_t ttl = 99;
  ASSERT_TRUE(min_answer_ttl(m.bytes.data(), static_cast<int>(m.bytes.size()), ttl));
  EXPECT_EQ(ttl, 0u);
}

TEST(DnsAnswerTest, StatusesMapToResolveErrors) {
  Message m("nx.test", 1, 0);
  EXPECT_EQ(parse(RecordType::kA, m, ARES_ENOTFOUND).error, ResolveError::kNoSuchName);
  EXPECT_EQ(parse(RecordType::kA, m, ARES_ENODATA).error, ResolveError::kNoRecords);
  EXPECT_EQ(parse(RecordType::kA, m, ARES_ETIMEOUT).error, ResolveError::kTimeout);
  EXPECT_EQ(parse(RecordType::kA, m, ARES_ESERVFAIL).error, ResolveError::kServerFailure);
  EXPECT_EQ(parse(RecordType::kA, m, ARES_EREFUSED).error, ResolveError::kServerFailure);
  EXPECT_EQ(parse(RecordType::kA, m, ARES_ECONNREFUSED).error, ResolveError::kServerUnreachable);
  EXPECT_TRUE(is_fatal_dns_error(ResolveError::kTimeout));
  EXPECT_TRUE(is_fatal_dns_error(ResolveError::kServerUnreachable));
  EXPECT_FALSE(is_fatal_dns_error(ResolveError::kNoSuchName));
  EXPECT_FALSE(is_fatal_dns_error(ResolveError::kServerFailure));
}

TEST(DnsAnswerTest, AnAnswerOfAnotherTypeIsNoRecords) {
  Message m("a.test", 1, 1);
  m.record(16, 30, {3, 'a', 'b', 'c'});  // TXT where A was asked
  EXPECT_EQ(parse(RecordType::kA, m).error, ResolveError::kNoRecords);
}

TEST(DnsAnswerTest, MalformedBuffersAreErrorsNotCrashes) {
  Message m("_sip._udp.pbx.test", 33, 1);
  m.record(33, 300, srv_rdata(10, 60, 5062, "a.pbx.test"));
  for (size_t cut = 0; cut < m.bytes.size(); ++cut) {
    DnsAnswer a = parse_dns_answer(RecordType::kSrv, ARES_SUCCESS, m.bytes.data(), static_cast<int>(cut));
    EXPECT_TRUE(a.error) << "truncated at " << cut;
    EXPECT_TRUE(a.srv.empty());
  }
  EXPECT_TRUE(parse_dns_answer(RecordType::kSrv, ARES_SUCCESS, nullptr, 0).error);
  // A label pointer loop must end.
  std::vector<uint8_t> loop = {0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
  uint32_t ttl = 0;
  EXPECT_FALSE(min_answer_ttl(loop.data(), static_cast<int>(loop.size()), ttl));
}

}  // namespace
}  // namespace warmline::sip
