#include "server/shard.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>

#include "server/api.hpp"

namespace warmline::server {
namespace {

TEST(ShardForCallId, IsStableAndInRange) {
  EXPECT_EQ(shard_for_call_id("a84b4c76e66710@pc33.atlanta.com", 4), shard_for_call_id("a84b4c76e66710@pc33.atlanta.com", 4));
  std::set<unsigned> seen;
  for (int i = 0; i < 200; ++i) {
    unsigned s = shard_for_call_id("call-" + std::to_string(i), 4);
    ASSERT_LT(s, 4u);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 4u) << "200 Call-IDs should spread over every shard";
  EXPECT_EQ(shard_for_call_id("anything", 1), 0u);
}

TEST(ShardOfCallId, ParsesOnlyOurIds) {
  EXPECT_EQ(shard_of_call_id("c0-abcdef", 2), 0u);
  EXPECT_EQ(shard_of_call_id("c1-abcdef", 2), 1u);
  EXPECT_EQ(shard_of_call_id("c12-abc", 16), 12u);
  EXPECT_FALSE(shard_of_call_id("c2-abcdef", 2)) << "shard index beyond the shard count";
  EXPECT_FALSE(shard_of_call_id("x1-abc", 2));
  EXPECT_FALSE(shard_of_call_id("c-abc", 2));
  EXPECT_FALSE(shard_of_call_id("c1abc", 2));
  EXPECT_FALSE(shard_of_call_id("", 2));
  EXPECT_FALSE(shard_of_call_id("c99999999-x", 2));
}

TEST(Shard, RunsPostedWorkOnItsOwnThread) {
  ShardSet shards(2);
  shards.start();
  std::promise<bool> on_own, on_other;
  shards.at(0).post([&] {
    on_own.set_value(shards.at(0).on_shard());
    on_other.set_value(shards.at(1).on_shard());
  });
  auto own = on_own.get_future();
  ASSERT_EQ(own.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(own.get());
  EXPECT_FALSE(on_other.get_future().get());
  EXPECT_FALSE(shards.at(0).on_shard()) << "the test thread is no shard";
  shards.stop();
  shards.join();
}

}  // namespace
}  // namespace warmline::server
