// RFC 3263 server location against a real DNS server: dnsmasq on 127.0.0.1 (dnsmasq_peer.hpp),
// started by each test that needs it. No resolution is mocked; only the cache's clock and the SRV
// weight draw are injected. Waits are bounded and end on real events (io_wait.hpp).
#include "sip/resolve/resolver.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "../io_wait.hpp"
#include "dnsmasq_peer.hpp"
#include "sip/resolve/ares_channel.hpp"
#include "sip/uri.hpp"

namespace warmline::sip {
namespace {

using namespace std::chrono_literals;
using TT = TargetTransport;

// The zone every test's dnsmasq serves (everything under .test; unknown names are NXDOMAIN).
const std::vector<std::string> kRecords = {
    // NAPTR -> SRV -> A/AAAA. The TCP record has the better preference but we only do UDP.
    "--naptr-record=pbx.test,10,20,S,SIP+D2U,,_sip._udp.pbx.test",
    "--naptr-record=pbx.test,10,10,S,SIP+D2T,,_sip._tcp.pbx.test",
    "--srv-host=_sip._udp.pbx.test,b.pbx.test,5064,20,0",
    "--srv-host=_sip._udp.pbx.test,a.pbx.test,5062,10,0",
    "--srv-host=_sip._tcp.pbx.test,tcp.pbx.test,5060,0,0",
    "--host-record=a.pbx.test,127.0.0.11",
    "--host-record=b.pbx.test,127.0.0.12,2001:db8::12",
    "--host-record=tcp.pbx.test,127.0.0.13",
    "--host-record=pbx.test,127.0.0.10",
    // SRV only, priorities and weights: w3 (priority 5), then w1/w2 by weight, then w4.
    "--srv-host=_sip._udp.weighted.test,w1.weighted.test,5001,10,10",
    "--srv-host=_sip._udp.weighted.test,w2.weighted.test,5002,10,30",
    "--srv-host=_sip._udp.weighted.test,w3.weighted.test,5003,5,0",
    "--srv-host=_sip._udp.weighted.test,w4.weighted.test,5004,20,0",
    "--host-record=w1.weighted.test,127.0.1.1",
    "--host-record=w2.weighted.test,127.0.1.2",
    "--host-record=w3.weighted.test,127.0.1.3",
    "--host-record=w4.weighted.test,127.0.1.4",
    // Neither NAPTR nor SRV: A of the host, port 5060.
    "--host-record=plain.test,127.0.0.20",
    // IPv6 only.
    "--host-record=v6only.test,2001:db8::7",
    // SRV target "." (RFC 2782: decidedly not available).
    "--srv-host=_sip._udp.closed.test",
    "--host-record=closed.test,127.0.0.40",
    // TTLs for the cache test: NAPTR and SRV 60 s (--local-ttl), the addresses 20 s.
    "--naptr-record=cache.test,10,10,S,SIP+D2U,,_sip._udp.cache.test",
    "--srv-host=_sip._udp.cache.test,c1.cache.test,5080,0,0",
    "--host-record=c1.cache.test,127.0.0.30,2001:db8::30,20",
};

// 30 SRV records with long targets: about 1,500 bytes, over the 512 a UDP answer without EDNS may
// carry, so dnsmasq sets TC and c-ares asks again over TCP.
std::vector<std::string> big_zone() {
  std::vector<std::string> records = kRecords;
  for (int i = 1; i <= 30; ++i) {
    const std::string n = (i < 10 ? "0" : "") + std::to_string(i);
    const std::string host = "server-with-a-rather-long-name-" + n + ".big.test";
    records.push_back("--srv-host=_sip._udp.big.test," + host + ",5060,0,0");
    records.push_back("--host-record=" + host + ",127.0.2." + std::to_string(i));
  }
  return records;
}

Uri uri(std::string_view text) {
  auto u = parse_uri(text);
  EXPECT_TRUE(u.has_value()) << text;
  return u.value_or(Uri{});
}

std::vector<std::string> strings(const std::vector<Target>& targets) {
  std::vector<std::string> out;
  for (const Target& t : targets) out.push_back(t.to_string());
  return out;
}

class ResolverTest : public ::testing::Test {
 protected:
  // Starts dnsmasq; the test fails (never skips) when it is not installed.
  void start_dns(const std::vector<std::string>& records = kRecords) {
    std::string error;
    ASSERT_TRUE(dns.start(records, error)) << error;
    options.servers = {dns.server()};
  }

  Resolver& make_resolver() {
    options.clock = [this] { return now; };
    options.random = [this](uint32_t max) { return std::min(next_random, max); };
    resolver.emplace(io, options);
    EXPECT_FALSE(resolver->start());
    return *resolver;
  }

  // Resolves and runs the loop until the handler ran (at most 5 s). The handler must not run inline.
  ResolveResult resolve(const Uri& u) {
    std::optional<ResolveResult> result;
    bool returned = false;
    resolver->resolve(u, [&](ResolveResult r) {
      EXPECT_TRUE(returned) << "handler ran inside resolve()";
      result = std::move(r);
    });
    returned = true;
    EXPECT_TRUE(test::run_until(io, [&] { return result.has_value(); })) << "no result; dnsmasq log:\n" << dns.log();
    return result.value_or(ResolveResult{make_error_code(ResolveError::kServerFailure), {}});
  }

  uint64_t queries() const { return resolver->stats().queries; }

  boost::asio::io_context io;
  test::DnsmasqPeer dns;
  ResolverOptions options;
  std::chrono::steady_clock::time_point now{};
  uint32_t next_random = 0;
  std::optional<Resolver> resolver;
};

TEST_F(ResolverTest, NaptrThenSrvThenAddresses) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  ResolveResult r = resolve(uri("sip:101@pbx.test"));
  ASSERT_TRUE(r.ok()) << r.error.message() << "\n" << dns.log();
  // UDP NAPTR -> its SRV (priority 10 before 20) -> A then AAAA of each target. SIP+D2T is skipped.
  EXPECT_EQ(strings(r.targets),
            (std::vector<std::string>{"udp:127.0.0.11:5062", "udp:127.0.0.12:5064", "udp:[2001:db8::12]:5064"}));
  EXPECT_EQ(queries(), 6u);  // NAPTR, SRV, A+AAAA for a and b
}

TEST_F(ResolverTest, LookupsOfOneNameAtOnceShareTheirQueries) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  std::vector<ResolveResult> results;
  for (int i = 0; i < 3; ++i) resolver->resolve(uri("sip:pbx.test"), [&](ResolveResult r) { results.push_back(r); });
  ASSERT_TRUE(test::run_until(io, [&] { return results.size() == 3; }));
  for (const ResolveResult& r : results) EXPECT_EQ(r.targets.size(), 3u) << r.error.message();
  EXPECT_EQ(queries(), 6u);
}

TEST_F(ResolverTest, SrvPriorityThenWeight) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  // weighted.test has no NAPTR: _sip._udp SRV. Priority 5, then 10 (w1 weight 10, w2 weight 30:
  // the draw is 1 + [0, 39]), then 20.
  next_random = 39;  // 40 > w1's running sum 10: w2 first
  ResolveResult heavy = resolve(uri("sip:weighted.test"));
  ASSERT_TRUE(heavy.ok()) << heavy.error.message();
  EXPECT_EQ(strings(heavy.targets), (std::vector<std::string>{"udp:127.0.1.3:5003", "udp:127.0.1.2:5002",
                                                              "udp:127.0.1.1:5001", "udp:127.0.1.4:5004"}));
  next_random = 0;  // 1 <= 10: w1 first. The order is drawn again on every lookup, cached or not.
  ResolveResult light = resolve(uri("sip:weighted.test"));
  ASSERT_TRUE(light.ok()) << light.error.message();
  EXPECT_EQ(strings(light.targets), (std::vector<std::string>{"udp:127.0.1.3:5003", "udp:127.0.1.1:5001",
                                                              "udp:127.0.1.2:5002", "udp:127.0.1.4:5004"}));
}

// A truncated UDP answer is asked again over TCP: c-ares connects (a write wait on the loop), sends,
// and reads the whole answer. Every record arrived: the targets are the first 16 in our fixed order
// (all weights zero; the draw always 0), the most one lookup follows.
TEST_F(ResolverTest, LargeAnswerComesOverTcp) {
  ASSERT_NO_FATAL_FAILURE(start_dns(big_zone()));
  options.ipv6 = false;
  make_resolver();
  ResolveResult r = resolve(uri("sip:big.test;transport=udp"));
  ASSERT_TRUE(r.ok()) << r.error.message();
  std::vector<std::string> expected;
  for (int i = 1; i <= 16; ++i) expected.push_back("udp:127.0.2." + std::to_string(i) + ":5060");
  EXPECT_EQ(strings(r.targets), expected);
}

// §4.2: a port in the URI means A/AAAA only, no NAPTR and no SRV.
TEST_F(ResolverTest, ExplicitPortSkipsNaptrAndSrv) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  ResolveResult r = resolve(uri("sip:101@pbx.test:5070"));
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(strings(r.targets), (std::vector<std::string>{"udp:127.0.0.10:5070"}));
  EXPECT_EQ(queries(), 2u);  // A and AAAA of pbx.test
}

// §4.1: a transport parameter skips NAPTR and asks that transport's SRV.
TEST_F(ResolverTest, TransportParameterSkipsNaptr) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  ResolveResult r = resolve(uri("sip:101@pbx.test;transport=udp"));
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.targets.front().to_string(), "udp:127.0.0.11:5062");
  EXPECT_EQ(queries(), 5u);  // SRV, A+AAAA for a and b
  EXPECT_EQ(resolve(uri("sip:101@pbx.test;transport=tcp")).error, ResolveError::kUnsupportedTransport);
}

// §4.2: no NAPTR and no SRV: the host's own addresses at 5060.
TEST_F(ResolverTest, NoNaptrNoSrvFallsBackToAddressesOnPort5060) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  ResolveResult r = resolve(uri("sip:plain.test"));
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(strings(r.targets), (std::vector<std::string>{"udp:127.0.0.20:5060"}));
}

TEST_F(ResolverTest, AaaaOnlyHost) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  ResolveResult r = resolve(uri("sip:v6only.test:5090"));
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(strings(r.targets), (std::vector<std::string>{"udp:[2001:db8::7]:5090"}));
}

TEST_F(ResolverTest, WithoutIpv6AnAaaaOnlyHostHasNoRecords) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  options.ipv6 = false;
  make_resolver();
  EXPECT_EQ(resolve(uri("sip:v6only.test:5090")).error, ResolveError::kNoRecords);
  EXPECT_EQ(queries(), 1u);  // A only
}

TEST_F(ResolverTest, SrvTargetDotMeansNotAvailable) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  // closed.test has an address, but its SRV says the service is not offered: no fallback to A.
  EXPECT_EQ(resolve(uri("sip:closed.test")).error, ResolveError::kNoRecords);
}

TEST_F(ResolverTest, NxdomainIsNoSuchName) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  ResolveResult r = resolve(uri("sip:101@nowhere.test"));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.targets.empty());
  EXPECT_EQ(r.error, ResolveError::kNoSuchName) << r.error.message();
}

TEST_F(ResolverTest, NumericHostNeedsNoDns) {
  options.servers = {"127.0.0.1:9"};  // never asked
  make_resolver();
  EXPECT_EQ(strings(resolve(uri("sip:101@127.0.0.5")).targets), (std::vector<std::string>{"udp:127.0.0.5:5060"}));
  EXPECT_EQ(strings(resolve(uri("sip:[::1]:5070")).targets), (std::vector<std::string>{"udp:[::1]:5070"}));
  EXPECT_EQ(strings(resolve(uri("sip:x@pbx.test;maddr=192.0.2.9")).targets),
            (std::vector<std::string>{"udp:192.0.2.9:5060"}));
  EXPECT_EQ(resolve(uri("sips:101@127.0.0.5")).error, ResolveError::kUnsupportedTransport);
  EXPECT_EQ(resolve(uri("tel:+27115550100")).error, ResolveError::kInvalidTarget);
  EXPECT_EQ(queries(), 0u);
}

// A server that takes the query and never answers: a timeout after c-ares' short test timeout.
TEST_F(ResolverTest, SilentServerTimesOut) {
  const int silent = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(silent, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len), 0);
  options.servers = {"127.0.0.1:" + std::to_string(ntohs(a.sin_port))};
  options.timeout = 100ms;
  options.tries = 1;
  make_resolver();
  ResolveResult r = resolve(uri("sip:pbx.test"));
  close(silent);
  EXPECT_EQ(r.error, ResolveError::kTimeout) << r.error.message();
  EXPECT_EQ(queries(), 1u);  // a timed-out NAPTR ends the lookup: SRV and A would wait again
}

// Nothing listens on the port: ICMP port unreachable, reported as such (not as a timeout).
TEST_F(ResolverTest, ClosedServerPortIsUnreachable) {
  options.servers = {"127.0.0.1:" + std::to_string(test::free_port())};
  options.timeout = 100ms;
  options.tries = 1;
  make_resolver();
  ResolveResult r = resolve(uri("sip:pbx.test"));
  EXPECT_EQ(r.error, ResolveError::kServerUnreachable) << r.error.message();
}

// Each record is kept for its own TTL: NAPTR/SRV 60 s, the addresses 20 s (dnsmasq's answers).
TEST_F(ResolverTest, AnswersAreCachedForTheirTtl) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  const std::vector<std::string> expected = {"udp:127.0.0.30:5080", "udp:[2001:db8::30]:5080"};
  EXPECT_EQ(strings(resolve(uri("sip:cache.test")).targets), expected);
  EXPECT_EQ(queries(), 4u);  // NAPTR, SRV, A, AAAA

  EXPECT_EQ(strings(resolve(uri("sip:cache.test")).targets), expected);
  EXPECT_EQ(queries(), 4u);  // all four from the cache
  EXPECT_EQ(resolver->stats().cache_hits, 4u);

  now += 21s;  // the addresses expired, NAPTR and SRV did not
  EXPECT_EQ(strings(resolve(uri("sip:cache.test")).targets), expected);
  EXPECT_EQ(queries(), 6u);

  dns.stop();  // from here on, anything not cached fails
  EXPECT_EQ(strings(resolve(uri("sip:cache.test")).targets), expected);
  EXPECT_EQ(queries(), 6u);

  now += 40s;  // 61 s: NAPTR expired; the server is gone
  EXPECT_EQ(resolve(uri("sip:cache.test")).error, ResolveError::kServerUnreachable);
  EXPECT_EQ(queries(), 7u);
}

TEST_F(ResolverTest, NegativeAnswersAreCachedForTheNegativeTtl) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  options.negative_ttl = 30s;
  make_resolver();
  EXPECT_EQ(resolve(uri("sip:nowhere.test")).error, ResolveError::kNoSuchName);
  const uint64_t asked = queries();
  EXPECT_EQ(resolve(uri("sip:nowhere.test")).error, ResolveError::kNoSuchName);
  EXPECT_EQ(queries(), asked);
  now += 31s;
  EXPECT_EQ(resolve(uri("sip:nowhere.test")).error, ResolveError::kNoSuchName);
  EXPECT_EQ(queries(), 2 * asked);
}

TEST_F(ResolverTest, CancelledLookupNeverCallsItsHandler) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  bool cancelled_ran = false;
  std::optional<ResolveResult> other;
  const auto id = resolver->resolve(uri("sip:pbx.test"), [&](ResolveResult) { cancelled_ran = true; });
  resolver->resolve(uri("sip:pbx.test"), [&](ResolveResult r) { other = r; });
  resolver->cancel(id);
  // Both wait on the same questions, so once the second is done the first would have been too.
  ASSERT_TRUE(test::run_until(io, [&] { return other.has_value(); }));
  EXPECT_TRUE(other->ok());
  EXPECT_FALSE(cancelled_ran);
  EXPECT_EQ(resolver->pending(), 0u);
}

// Destroying the Resolver with queries on the wire: no handler runs, nothing is left on the loop.
TEST_F(ResolverTest, DestroyingTheResolverDropsPendingLookups) {
  ASSERT_NO_FATAL_FAILURE(start_dns());
  make_resolver();
  bool ran = false;
  resolver->resolve(uri("sip:pbx.test"), [&](ResolveResult) { ran = true; });
  ASSERT_EQ(queries(), 1u);  // c-ares sent the NAPTR question from inside resolve()
  resolver.reset();  // before the loop ran: the answer (if any) has not been read yet
  io.restart();
  io.run_for(2s);  // returns as soon as the loop has no work left
  EXPECT_FALSE(ran);
  EXPECT_TRUE(io.stopped());
}

TEST_F(ResolverTest, BadServerEntryIsRefusedAtStart) {
  options.servers = {"dns.example.com"};
  Resolver r(io, options);
  EXPECT_EQ(r.start(), std::errc::invalid_argument);
  std::optional<ResolveResult> result;
  r.resolve(uri("sip:pbx.test"), [&](ResolveResult res) { result = res; });
  ASSERT_TRUE(test::run_until(io, [&] { return result.has_value(); }));
  EXPECT_EQ(result->error, ResolveError::kServerFailure);
}

TEST(DnsServerSyntaxTest, AcceptsAddressesWithOptionalPorts) {
  for (const char* ok : {"127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:53", "[2001:db8::1]", "2001:db8::1"})
    EXPECT_TRUE(valid_dns_server(ok)) << ok;
  for (const char* bad : {"", "localhost", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "[127.0.0.1]:53",
                          "[::1]53", "[::1", "1.2.3.4:x"})
    EXPECT_FALSE(valid_dns_server(bad)) << bad;
}

}  // namespace
}  // namespace warmline::sip
