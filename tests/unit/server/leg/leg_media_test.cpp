// LegMedia with its real RTP socket on 127.0.0.1: what the tick and the agent path do that a fake
// media session cannot show.
#include "server/leg/leg_media.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <vector>

namespace warmline::server {
namespace {

struct LegMediaTest : ::testing::Test {
  boost::asio::io_context io;
  rtp::PortAllocator ports{{.min = 43100, .max = 43199}};
  std::unique_ptr<MediaScratch> scratch = std::make_unique<MediaScratch>();
  std::vector<uint64_t> overflows;

  std::unique_ptr<LegMedia> open(uint32_t agent_rate = 8000) {
    std::error_code ec;
    LegMediaOptions o{.codec_name = "PCMU", .clock_rate = 8000, .payload_type = 0, .telephone_event_pt = 101,
                      .local_ip = "127.0.0.1", .agent_rate = agent_rate, .ports = &ports, .scratch = scratch.get(),
                      .random_seed = 7};
    LegMediaHandlers h{.on_playout_overflow = [this](uint64_t total) { overflows.push_back(total); }};
    auto m = LegMedia::open(io, std::move(o), std::move(h), ec);
    EXPECT_TRUE(m) << ec.message();
    return m;
  }
};

// Issue 7 item 11: agent audio beyond the playout capacity (60 s) used to vanish without a trace.
TEST_F(LegMediaTest, AgentAudioBeyondThePlayoutCapacityIsReportedNotSilentlyDropped) {
  auto media = open();
  ASSERT_TRUE(media);
  std::vector<int16_t> second(8000, 1000);  // one second at the agent's (and the codec's) 8 kHz
  for (int i = 0; i < 60; ++i) media->push_agent_samples(second);
  EXPECT_TRUE(overflows.empty());  // exactly the capacity: nothing lost
  EXPECT_EQ(media->agent_samples_dropped(), 0u);
  media->push_agent_samples(second);
  ASSERT_EQ(overflows.size(), 1u);
  EXPECT_EQ(overflows.back(), media->agent_samples_dropped());
  EXPECT_GT(overflows.back(), 0u);
  media->push_agent_samples(second);
  ASSERT_EQ(overflows.size(), 2u);  // one report per push that dropped, with the running total
  EXPECT_GT(overflows.back(), overflows.front());
  media->close();
}

TEST_F(LegMediaTest, SwitchesBetweenCodecsOfTheSameRateOnly) {
  auto media = open();
  ASSERT_TRUE(media);
  EXPECT_TRUE(media->set_codec("PCMA", 8000, 8, 101));  // a late offer's answer picked PCMA
  EXPECT_FALSE(media->set_codec("G722", 8000, 9, std::nullopt));  // 16 kHz PCM: needs a new session
  EXPECT_FALSE(media->set_codec("nonsense", 8000, 96, std::nullopt));
  media->close();
}

}  // namespace
}  // namespace warmline::server
