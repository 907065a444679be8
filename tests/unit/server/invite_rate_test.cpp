// InviteRateLimiter: the per-source token bucket for new INVITEs, and its bounded table.
#include <gtest/gtest.h>

#include "server/invite_rate.hpp"

namespace warmline::server {
namespace {

using namespace std::chrono_literals;
const InviteRateLimiter::TimePoint kT0{};

TEST(InviteRateLimiter, ABurstUpToTheRateThenOneTokenPerPeriod) {
  InviteRateLimiter l;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(l.allow("192.0.2.1", kT0, 5)) << i;
  EXPECT_FALSE(l.allow("192.0.2.1", kT0, 5));
  EXPECT_TRUE(l.allow("192.0.2.2", kT0, 5)) << "another source has its own bucket";
  EXPECT_FALSE(l.allow("192.0.2.1", kT0 + 100ms, 5)) << "half a token back";
  EXPECT_TRUE(l.allow("192.0.2.1", kT0 + 200ms, 5)) << "one token back";
  EXPECT_FALSE(l.allow("192.0.2.1", kT0 + 200ms, 5));
}

TEST(InviteRateLimiter, ZeroIsNoLimit) {
  InviteRateLimiter l;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(l.allow("192.0.2.1", kT0, 0));
  EXPECT_EQ(l.sources(), 0u);
}

TEST(InviteRateLimiter, TheTableForgetsIdleSourcesWhenFull) {
  InviteRateLimiter l;
  for (size_t i = 0; i < InviteRateLimiter::kMaxSources; ++i) l.allow("s" + std::to_string(i), kT0, 1);
  EXPECT_EQ(l.sources(), InviteRateLimiter::kMaxSources);
  EXPECT_FALSE(l.allow("s0", kT0, 1)) << "s0 spent its token";
  // A second later every bucket has refilled: a new source makes room by forgetting the idle ones.
  EXPECT_TRUE(l.allow("new", kT0 + 1s, 1));
  EXPECT_EQ(l.sources(), 1u);
}

}  // namespace
}  // namespace warmline::server
