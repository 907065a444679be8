// The RFC 3550 A.8 interarrival jitter estimator that RtpSession feeds with each audio packet: checked
// against values worked out by hand from the formula J += (|D| - J) / 16.
#include <gtest/gtest.h>

#include "rtp/session.hpp"

namespace warmline::rtp {
namespace {

TEST(JitterEstimatorTest, PacketsArrivingOnTheirTimestampsHaveNoJitter) {
  JitterEstimator j;
  for (uint32_t i = 0; i < 50; ++i) j.update(10.0 + i * 0.020, 1000 + i * 160, 8000);  // 20 ms, 160 samples
  EXPECT_NEAR(j.jitter(), 0.0, 1e-6);
}

TEST(JitterEstimatorTest, OneLatePacketMovesTheEstimateBySixteenthOfItsDelay) {
  JitterEstimator j;
  j.update(10.000, 0, 8000);
  j.update(10.020, 160, 8000);                   // on time: D = 0
  EXPECT_NEAR(j.update(10.050, 320, 8000), 80.0 / 16.0, 1e-6);  // 10 ms late = 80 units: J = 5
  // The next one on its schedule (10.060): its transit is 10 ms shorter than the late one's, |D| = 80.
  EXPECT_NEAR(j.update(10.060, 480, 8000), 5.0 + (80.0 - 5.0) / 16.0, 1e-6);
}

TEST(JitterEstimatorTest, ABurstConvergesTowardsTheFrameSpacing) {
  // Every packet at the same instant with timestamps 160 apart: |D| = 160 each time, so J approaches
  // 160 as 160 * (1 - (15/16)^n).
  JitterEstimator j;
  j.update(5.0, 0, 8000);
  double expected = 0;
  for (uint32_t i = 1; i <= 40; ++i) {
    expected += (160.0 - expected) / 16.0;
    EXPECT_NEAR(j.update(5.0, i * 160, 8000), expected, 1e-6) << i;
  }
  EXPECT_GT(j.jitter(), 140.0);
}

TEST(JitterEstimatorTest, TimestampWrapAroundIsOneFrame) {
  JitterEstimator j;
  j.update(1.000, 0xFFFFFF60u, 8000);  // 160 before the wrap
  EXPECT_NEAR(j.update(1.020, 0, 8000), 0.0, 1e-6);
}

}  // namespace
}  // namespace warmline::rtp
