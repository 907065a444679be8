// RtpSession on the shard's batched I/O (options.media_io): receiving through the watch (latching,
// SRTP unprotected in the receive slot), sending inside a batch (nothing leaves before the flush; SRTP
// protected in the send slot), a packet the kernel refuses at the flush, and a session closed with a
// packet still queued.
#include "rtp/session.hpp"

#include <gtest/gtest.h>

#include "run_until.hpp"
#include "srtp_test_contexts.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>

#include <vector>

namespace warmline::rtp {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using test::run_until;

using test::key_of;
using test::srtp_contexts;

class RtpSessionBatchedTest : public ::testing::Test {
 protected:
  std::shared_ptr<RtpSession> open(std::vector<std::vector<uint8_t>>& got, std::shared_ptr<SrtpSession> srtp = {}) {
    RtpSessionOptions o;
    o.local_ip = "127.0.0.1";
    o.ports = &ports_;
    o.srtp = std::move(srtp);
    o.media_io = &media_io_;
    o.on_packet = [&got](const RtpPacketView& v) { got.emplace_back(v.payload.begin(), v.payload.end()); };
    return test::open_started(io_, std::move(o), sessions_);
  }
  // A session that sends to peer_.
  std::shared_ptr<RtpSession> open_to_peer() {
    auto s = open(got_);
    if (s) s->set_remote(peer_.local_endpoint());
    return s;
  }
  // Whatever reached `peer` so far, without waiting.
  static size_t queued(udp::socket& peer) {
    boost::system::error_code ec;
    return peer.available(ec);
  }
  void TearDown() override {
    for (auto& s : sessions_) s->close();
  }

  asio::io_context io_;
  MediaIo media_io_{io_};
  PortAllocator ports_{{.min = 44000, .max = 44999}};
  udp::socket peer_{io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::vector<std::vector<uint8_t>> got_;
  std::vector<std::shared_ptr<RtpSession>> sessions_;
  const std::vector<uint8_t> payload_ = std::vector<uint8_t>(160, 0x55);
};

TEST_F(RtpSessionBatchedTest, PacketsArriveThroughTheWatchAndLatchTheSource) {
  auto s = open(got_);
  ASSERT_TRUE(s);
  std::array<uint8_t, 200> pkt{};
  for (uint16_t seq = 0; seq < 5; ++seq) {
    const size_t n = write_rtp_header(pkt, {.payload_type = 0, .sequence = seq, .timestamp = seq * 160U, .ssrc = 7});
    pkt[n] = static_cast<uint8_t>(seq);
    peer_.send_to(asio::buffer(pkt.data(), n + 160), s->local_endpoint());
  }
  ASSERT_TRUE(run_until(io_, [&] { return got_.size() == 5; }));
  EXPECT_EQ(got_[4][0], 4);
  EXPECT_TRUE(s->latched());
  EXPECT_EQ(s->remote(), peer_.local_endpoint());
  EXPECT_EQ(s->stats().packets_received, 5U);
  EXPECT_GE(media_io_.stats().receive_calls, 1U);
}

TEST_F(RtpSessionBatchedTest, InsideABatchThePacketLeavesAtTheFlush) {
  auto s = open_to_peer();
  ASSERT_TRUE(s);
  media_io_.begin();
  EXPECT_TRUE(s->batching());
  ASSERT_TRUE(s->send_audio(payload_, 160));
  EXPECT_TRUE(s->time_last_sent());
  EXPECT_EQ(queued(peer_), 0U) << "still in the batch";
  EXPECT_EQ(media_io_.flush(), 1U);
  std::array<uint8_t, 1500> buf{};
  const size_t n = peer_.receive(asio::buffer(buf));
  RtpPacketView v;
  ASSERT_EQ(parse_rtp(std::span<const uint8_t>(buf.data(), n), v), RtpParseStatus::kOk);
  EXPECT_EQ(v.ssrc, s->ssrc());
  EXPECT_EQ(v.payload.size(), 160U);
  // Outside a batch the session sends at once.
  EXPECT_FALSE(s->batching());
  ASSERT_TRUE(s->send_audio(payload_, 160));
  EXPECT_FALSE(s->time_last_sent());
  EXPECT_GT(peer_.receive(asio::buffer(buf)), 0U);
  EXPECT_EQ(s->stats().packets_sent, 2U);
}

TEST_F(RtpSessionBatchedTest, SrtpIsProtectedInTheSendSlotAndUnprotectedInTheReceiveSlot) {
  std::vector<std::vector<uint8_t>> at_a, at_b;
  auto a = open(at_a, srtp_contexts(key_of(1), key_of(101)));
  auto b = open(at_b, srtp_contexts(key_of(101), key_of(1)));
  ASSERT_TRUE(a && b);
  a->set_remote(b->local_endpoint());
  b->set_remote(a->local_endpoint());
  std::vector<uint8_t> frame(160);
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(i);
  media_io_.begin();
  for (int n = 0; n < 3; ++n) ASSERT_TRUE(a->send_audio(frame, 160));
  ASSERT_TRUE(b->send_audio(frame, 160));
  media_io_.flush();
  ASSERT_TRUE(run_until(io_, [&] { return at_b.size() == 3 && at_a.size() == 1; }));
  EXPECT_EQ(at_b[2], frame);
  EXPECT_EQ(at_a[0], frame);
  EXPECT_EQ(b->stats().srtp_failed, 0U);
}

TEST_F(RtpSessionBatchedTest, APacketRefusedAtTheFlushIsCountedDropped) {
  auto s = open(got_);
  ASSERT_TRUE(s);
  s->set_remote(udp::endpoint(asio::ip::make_address("::1"), 9));  // IPv6 on an IPv4 socket: refused
  media_io_.begin();
  ASSERT_TRUE(s->send_audio(payload_, 160)) << "queued";
  media_io_.flush();
  EXPECT_EQ(s->stats().send_dropped, 1U);
  EXPECT_EQ(s->stats().packets_sent, 0U);
}

TEST_F(RtpSessionBatchedTest, AClosedSessionsQueuedPacketDoesNotLeave) {
  auto s = open_to_peer();
  ASSERT_TRUE(s);
  media_io_.begin();
  ASSERT_TRUE(s->send_audio(payload_, 160));
  s->close();
  media_io_.flush();
  EXPECT_EQ(queued(peer_), 0U);
  EXPECT_EQ(media_io_.stats().sent, 0U);
}

}  // namespace
}  // namespace warmline::rtp
