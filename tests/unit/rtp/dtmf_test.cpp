#include "rtp/dtmf.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace warmline::rtp {
namespace {

std::array<uint8_t, 4> event(uint8_t code, bool end, uint16_t duration) {
  return {code, static_cast<uint8_t>((end ? 0x80 : 0) | 10), static_cast<uint8_t>(duration >> 8),
          static_cast<uint8_t>(duration)};
}

// Feeds one packet and returns every digit it produced.
std::vector<DtmfDigit> feed(DtmfReceiver& r, uint8_t code, bool end, uint16_t duration, uint32_t ts) {
  auto payload = event(code, end, duration);
  auto result = r.feed(payload, ts);
  return {result.view().begin(), result.view().end()};
}

using Digits = std::vector<DtmfDigit>;

TEST(DtmfReceiver, ThreeEndPacketsGiveOneDigit) {
  DtmfReceiver r;
  EXPECT_EQ(feed(r, 5, false, 160, 1000), Digits{});
  EXPECT_EQ(feed(r, 5, false, 320, 1000), Digits{});
  EXPECT_EQ(feed(r, 5, false, 480, 1000), Digits{});
  EXPECT_EQ(feed(r, 5, true, 640, 1000), (Digits{{'5', 80}}));
  EXPECT_EQ(feed(r, 5, true, 640, 1000), Digits{});
  EXPECT_EQ(feed(r, 5, true, 640, 1000), Digits{});
  EXPECT_FALSE(r.flush());
}

TEST(DtmfReceiver, SameDigitTwiceIsTwoPresses) {
  DtmfReceiver r;
  EXPECT_EQ(feed(r, 1, true, 800, 1000), (Digits{{'1', 100}}));
  EXPECT_EQ(feed(r, 1, true, 800, 1000), Digits{});
  EXPECT_EQ(feed(r, 1, false, 160, 3000), Digits{});
  EXPECT_EQ(feed(r, 1, true, 960, 3000), (Digits{{'1', 120}}));
}

TEST(DtmfReceiver, LostEndPacketsReportedWhenNextEventStarts) {
  DtmfReceiver r;
  for (uint16_t d = 160; d <= 800; d += 160) EXPECT_EQ(feed(r, 11, false, d, 1000), Digits{});
  // Every end packet of '#' was lost; '7' starts at a new timestamp.
  EXPECT_EQ(feed(r, 7, false, 160, 5000), (Digits{{'#', 100}}));
  EXPECT_EQ(feed(r, 7, true, 400, 5000), (Digits{{'7', 50}}));
}

TEST(DtmfReceiver, LostEndAndSingleEndPacketOfNextEventGiveTwoDigits) {
  DtmfReceiver r;
  EXPECT_EQ(feed(r, 1, false, 320, 1000), Digits{});
  EXPECT_EQ(feed(r, 2, true, 480, 2000), (Digits{{'1', 40}, {'2', 60}}));
}

TEST(DtmfReceiver, LongPressUpdatesGiveOneDigitWithFullDuration) {
  DtmfReceiver r;
  // 2 s held: 100 updates at 20 ms, then the end packet three times.
  for (uint32_t i = 1; i <= 100; ++i) {
    EXPECT_EQ(feed(r, 0, false, static_cast<uint16_t>(i * 160), 7000), Digits{});
  }
  EXPECT_EQ(feed(r, 0, true, 16000, 7000), (Digits{{'0', 2000}}));
  EXPECT_EQ(feed(r, 0, true, 16000, 7000), Digits{});
  EXPECT_EQ(feed(r, 0, true, 16000, 7000), Digits{});
}

TEST(DtmfReceiver, VeryLongPressSpansSegments) {
  // RFC 4733 §2.5.1.3: past 0xFFFF units the event continues in a new segment 0xFFFF later.
  DtmfReceiver r;
  EXPECT_EQ(feed(r, 10, false, 60000, 100), Digits{});
  EXPECT_EQ(feed(r, 10, false, 0xFFFF, 100), Digits{});
  EXPECT_EQ(feed(r, 10, false, 8000, 100 + 0xFFFF), Digits{});  // not a new press
  EXPECT_EQ(feed(r, 10, true, 16000, 100 + 0xFFFF), (Digits{{'*', (0xFFFF + 16000) / 8}}));
}

TEST(DtmfReceiver, StaleAndWrappedTimestamps) {
  DtmfReceiver r;
  EXPECT_EQ(feed(r, 3, true, 160, 0xFFFFFF00u), (Digits{{'3', 20}}));
  EXPECT_EQ(feed(r, 4, true, 160, 0x00000100u), (Digits{{'4', 20}}));  // after the wrap: newer
  EXPECT_EQ(feed(r, 3, true, 160, 0xFFFFFF00u), Digits{});             // a straggler of '3'
  EXPECT_EQ(feed(r, 9, false, 160, 0x00000050u), Digits{});            // older than '4'
}

TEST(DtmfReceiver, IgnoresMalformedAndNonDigitEvents) {
  DtmfReceiver r;
  std::array<uint8_t, 3> short_payload = {1, 0x80, 0};
  EXPECT_EQ(r.feed(short_payload, 10).count, 0u);
  EXPECT_EQ(feed(r, 16, true, 800, 100), Digits{});   // flash: no digit
  EXPECT_EQ(feed(r, 200, true, 800, 200), Digits{});  // out of range
  EXPECT_EQ(feed(r, 15, true, 800, 300), (Digits{{'D', 100}}));
  EXPECT_EQ(feed(r, 12, true, 160, 300), Digits{});  // another code at an ended timestamp
}

TEST(DtmfReceiver, FlushReportsOpenPressOnce) {
  DtmfReceiver r;
  EXPECT_EQ(feed(r, 9, false, 480, 100), Digits{});
  auto d = r.flush();
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (DtmfDigit{'9', 60}));
  EXPECT_FALSE(r.flush());
  EXPECT_EQ(feed(r, 9, true, 480, 100), Digits{});  // its late end packets do not repeat it
}

TEST(DtmfReceiver, WidebandClockRate) {
  DtmfReceiver r(16000);
  EXPECT_EQ(feed(r, 2, true, 1600, 100), (Digits{{'2', 100}}));
}

TEST(DtmfDigits, EventCodeMapping) {
  EXPECT_EQ(dtmf_event_digit(0), '0');
  EXPECT_EQ(dtmf_event_digit(10), '*');
  EXPECT_EQ(dtmf_event_digit(11), '#');
  EXPECT_EQ(dtmf_event_digit(12), 'A');
  EXPECT_EQ(dtmf_event_digit(15), 'D');
  EXPECT_FALSE(dtmf_event_digit(16));
  EXPECT_EQ(dtmf_digit_event('#'), 11);
  EXPECT_EQ(dtmf_digit_event('b'), 13);
  EXPECT_FALSE(dtmf_digit_event('x'));
}

TEST(DtmfSender, PacketsForOneDigit) {
  DtmfSender s;
  ASSERT_TRUE(s.start('#', 100));
  std::vector<DtmfPacket> packets;
  for (int i = 0; i < 20 && s.active(); ++i) packets.push_back(*s.next());
  EXPECT_FALSE(s.active());
  EXPECT_FALSE(s.next());
  // 20, 40, 60, 80 ms updates, then the 100 ms end packet three times.
  ASSERT_EQ(packets.size(), 7u);
  EXPECT_TRUE(packets[0].marker);
  for (size_t i = 1; i < packets.size(); ++i) EXPECT_FALSE(packets[i].marker);
  const uint16_t durations[] = {160, 320, 480, 640, 800, 800, 800};
  for (size_t i = 0; i < packets.size(); ++i) {
    EXPECT_EQ(packets[i].payload[0], 11);
    EXPECT_EQ(packets[i].payload[1] & 0x3f, 10);  // volume
    EXPECT_EQ(packets[i].payload[2] << 8 | packets[i].payload[3], durations[i]);
    EXPECT_EQ(packets[i].end, i >= 4);
    EXPECT_EQ((packets[i].payload[1] & 0x80) != 0, i >= 4);
    EXPECT_EQ(packets[i].last, i == 6);
  }
  // What the sender produces, the receiver reads back as exactly one press.
  DtmfReceiver r;
  std::vector<DtmfDigit> digits;
  for (const auto& p : packets) {
    for (const auto& d : r.feed(p.payload, 4242)) digits.push_back(d);
  }
  EXPECT_EQ(digits, (Digits{{'#', 100}}));
}

TEST(DtmfSender, ShortDigitIsOneEndPacketRepeated) {
  DtmfSender s({.packet_interval_ms = 50});
  ASSERT_TRUE(s.start('1', 40));
  auto first = s.next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->marker);
  EXPECT_TRUE(first->end);
  EXPECT_FALSE(s.next()->marker);
  EXPECT_TRUE(s.next()->last);
  EXPECT_FALSE(s.active());
}

TEST(DtmfSender, RejectsUnknownDigitAndImpossibleDurations) {
  DtmfSender s;
  EXPECT_FALSE(s.start('x', 100));
  EXPECT_FALSE(s.start('1', 0));
  EXPECT_FALSE(s.start('1', 9000));  // 72000 units > 0xFFFF at 8 kHz
  EXPECT_FALSE(s.active());
  EXPECT_TRUE(s.start('1', 8000));
}

}  // namespace
}  // namespace warmline::rtp
