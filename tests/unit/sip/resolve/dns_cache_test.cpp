// The resolver's answer cache on a clock the test moves: expiry at the TTL, zero TTLs not kept,
// least-recently-used eviction at capacity, case-insensitive names.
#include "sip/resolve/dns_cache.hpp"

#include <gtest/gtest.h>

namespace warmline::sip {
namespace {

using namespace std::chrono_literals;

struct CacheTest : ::testing::Test {
  std::chrono::steady_clock::time_point now{};
  DnsCache cache{3, [this] { return now; }};

  static std::shared_ptr<const DnsAnswer> answer(std::string address) {
    auto a = std::make_shared<DnsAnswer>();
    a->addresses.push_back(std::move(address));
    return a;
  }
};

TEST_F(CacheTest, AnEntryLivesForItsTtl) {
  const std::string key = DnsCache::key(RecordType::kA, "a.test");
  cache.store(key, answer("192.0.2.1"), 30s);
  now += 29s;
  ASSERT_NE(cache.find(key), nullptr);
  EXPECT_EQ(cache.find(key)->addresses.at(0), "192.0.2.1");
  now += 1s;
  EXPECT_EQ(cache.find(key), nullptr);
  EXPECT_EQ(cache.size(), 0u);  // dropped when found expired
}

TEST_F(CacheTest, ZeroTtlIsNotKept) {
  cache.store(DnsCache::key(RecordType::kA, "a.test"), answer("192.0.2.1"), 0s);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(CacheTest, KeysIgnoreCaseAndTheRootDotButNotTheType) {
  cache.store(DnsCache::key(RecordType::kA, "PBX.Test."), answer("192.0.2.1"), 30s);
  EXPECT_NE(cache.find(DnsCache::key(RecordType::kA, "pbx.test")), nullptr);
  EXPECT_EQ(cache.find(DnsCache::key(RecordType::kAaaa, "pbx.test")), nullptr);
}

TEST_F(CacheTest, TheLeastRecentlyUsedGoesWhenFull) {
  const auto a = DnsCache::key(RecordType::kA, "a.test");
  const auto b = DnsCache::key(RecordType::kA, "b.test");
  const auto c = DnsCache::key(RecordType::kA, "c.test");
  const auto d = DnsCache::key(RecordType::kA, "d.test");
  cache.store(a, answer("192.0.2.1"), 60s);
  cache.store(b, answer("192.0.2.2"), 60s);
  cache.store(c, answer("192.0.2.3"), 60s);
  ASSERT_NE(cache.find(a), nullptr);  // a is now the most recent; b the least
  cache.store(d, answer("192.0.2.4"), 60s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find(b), nullptr);
  EXPECT_NE(cache.find(a), nullptr);
  EXPECT_NE(cache.find(c), nullptr);
  EXPECT_NE(cache.find(d), nullptr);
}

TEST_F(CacheTest, StoringAgainRefreshesTheAnswerAndExpiry) {
  const auto a = DnsCache::key(RecordType::kA, "a.test");
  cache.store(a, answer("192.0.2.1"), 10s);
  now += 5s;
  cache.store(a, answer("192.0.2.9"), 10s);
  now += 9s;
  ASSERT_NE(cache.find(a), nullptr);
  EXPECT_EQ(cache.find(a)->addresses.at(0), "192.0.2.9");
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace warmline::sip
