// The latency histograms GET /metrics exposes: each observation lands in the first bucket whose bound
// it does not exceed (Prometheus `le`), the sum and count follow.
#include "server/metrics.hpp"

#include <gtest/gtest.h>

namespace warmline::server {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(LatencyHistogramTest, ObservationsLandInTheirBucketWithSumAndCount) {
  LatencyHistogram h;
  h.observe(milliseconds(50));    // exactly on the first bound: le="0.05"
  h.observe(milliseconds(51));    // just above it: le="0.1"
  h.observe(milliseconds(2500));  // le="2.5"
  h.observe(std::chrono::seconds(61));  // above every bound: +Inf only
  EXPECT_EQ(h.buckets[0].load(), 1u);
  EXPECT_EQ(h.buckets[1].load(), 1u);
  EXPECT_EQ(h.buckets[5].load(), 1u);
  EXPECT_EQ(h.buckets.back().load(), 1u);
  EXPECT_EQ(h.count.load(), 4u);
  EXPECT_DOUBLE_EQ(h.sum.load(), 0.05 + 0.051 + 2.5 + 61);
}

TEST(LatencyHistogramTest, ANegativeDurationCountsAsZero) {
  LatencyHistogram h;
  h.observe(microseconds(-5));  // a wall clock stepped back between request and answer
  EXPECT_EQ(h.buckets[0].load(), 1u);
  EXPECT_EQ(h.sum.load(), 0.0);
}

TEST(FrameLatencyHistogramTest, MicrosecondLatenciesHaveTheirOwnBuckets) {
  FrameLatencyHistogram h;
  h.observe(microseconds(80));    // le="0.0001"
  h.observe(microseconds(300));   // le="0.0005"
  h.observe(microseconds(1500));  // le="0.002"
  EXPECT_EQ(h.buckets[0].load(), 1u);
  EXPECT_EQ(h.buckets[2].load(), 1u);
  EXPECT_EQ(h.buckets[4].load(), 1u);
  EXPECT_EQ(h.count.load(), 3u);
}

TEST(LossHistogramTest, NoLossIsItsOwnBucket) {
  LossHistogram h;
  h.observe(0.0);    // le="0"
  h.observe(0.004);  // le="0.005"
  h.observe(0.9);    // +Inf
  EXPECT_EQ(h.buckets[0].load(), 1u);
  EXPECT_EQ(h.buckets[2].load(), 1u);
  EXPECT_EQ(h.buckets.back().load(), 1u);
  EXPECT_DOUBLE_EQ(h.sum.load(), 0.904);
}

}  // namespace
}  // namespace warmline::server
