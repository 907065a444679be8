#include "bench/load/histogram.hpp"

#include <gtest/gtest.h>

namespace warmline::load {
namespace {

TEST(LatencyHistogram, BucketsAreContiguousAcrossTiers) {
  for (int64_t ns : {0LL, 999LL, 1'000LL, 1'999'999LL, 2'000'000LL, 2'049'999LL, 2'050'000LL, 99'999'999LL,
                     100'000'000LL, 9'999'999'999LL}) {
    const size_t b = LatencyHistogram::bucket_of(ns);
    EXPECT_LE(LatencyHistogram::bucket_low_ns(b), ns) << ns;
    EXPECT_GT(LatencyHistogram::bucket_low_ns(b) + LatencyHistogram::bucket_width_ns(b), ns) << ns;
  }
  EXPECT_EQ(LatencyHistogram::bucket_of(10'000'000'000), LatencyHistogram::kBuckets - 1);
  EXPECT_EQ(LatencyHistogram::bucket_of(2'000'000), 2000u);
}

TEST(LatencyHistogram, PercentilesOfOneToHundredMicroseconds) {
  LatencyHistogram h;
  for (int us = 1; us <= 100; ++us) h.record(us * 1'000 + 300);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.percentile_ns(50), 50'500);   // rank 50: the 50 us bucket, reported at its middle
  EXPECT_EQ(h.percentile_ns(99), 99'500);
  EXPECT_EQ(h.percentile_ns(100), 100'500);
  EXPECT_EQ(h.max_ns(), 100'300);
  EXPECT_EQ(h.mean_ns(), 50'800);
}

TEST(LatencyHistogram, CoarseTiersAndOverflow) {
  LatencyHistogram h;
  h.record(15'020'000);       // 15.02 ms: 50 us buckets
  h.record(20'000'000'000);   // 20 s: overflow, reported as the maximum
  EXPECT_EQ(h.percentile_ns(50), 15'025'000);
  EXPECT_EQ(h.percentile_ns(100), 20'000'000'000);
}

TEST(LatencyHistogram, EmptyAndNegative) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile_ns(50), 0);
  h.record(-5);
  EXPECT_EQ(h.negative(), 1u);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.percentile_ns(50), 500);
}

}  // namespace
}  // namespace warmline::load
