// RtpSession on the shard's batched I/O (options.media_io): receiving through the watch (latching,
// SRTP unprotected in the receive slot), sending inside a batch (nothing leaves before the flush; SRTP
// protected in the send slot), a packet the kernel refuses at the flush, and a session closed with a
// packet still queued.
#include "rtp/session.hpp"

#include <gtest/gtest.h>

#include "run_until.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>

#include <vector>

namespace warmline::rtp {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using test::run_until;

std::vector<uint8_t> key_of(uint8_t seed) {
  std::vector<uint8_t> k(30);
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + 7 * i);
  return k;
}

class RtpSessionBatchedTest : public ::testing::Test {
 protected:
  std::shared_ptr<RtpSession> open(std::vector<std::vector<uint8_t>>& got, std::shared_ptr<SrtpSession> srtp = {}) {
    RtpSessionOptions o;
    o.local_ip = "127.0.0.1";
    o.ports = &ports_;
    o.srtp = std::move(srtp);
    o.media_io = &media_io_;
    o.on_packet = [&got](const RtpPacketView& v) { got.emplace_back(v.payload.begin(), v.payload.end()); };
    std::error_code ec;
    auto s = RtpSession::open(io_, std::move(o), ec);
    EXPECT_TRUE(s) << ec.message();
    if (s) {
      s->start();
      sessions_.push_back(s);
    }
    return s;
  }
  std::shared_ptr<SrtpSession> contexts(const std::vector<uint8_t>& out, const std::vector<uint8_t>& in) {
    std::string error;
    SrtpKeys outbound, inbound;
    outbound.key_salt = out;
    inbound.key_salt = in;
    auto s = SrtpSession::create(outbound, inbound, error);
    EXPECT_TRUE(s) << error;
    return std::shared_ptr<SrtpSession>(std::move(s));
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
  std::vector<std::shared_ptr<RtpSession>> sessions_;
  const std::vector<uint8_t> payload_ = std::vector<uint8_t>(160, 0x55);
};

TEST_F(RtpSessionBatchedTest, PacketsArriveThroughTheWatchAndLatchTheSource) {
  std::vector<std::vector<uint8_t>> got;
  auto s = open(got);
  ASSERT_TRUE(s);
  udp::socket peer(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::array<uint8_t, 200> pkt{};
  for (uint16_t seq = 0; seq < 5; ++seq) {
    const size_t n = write_rtp_header(pkt, {.payload_type = 0, .sequence = seq, .timestamp = seq * 160U, .ssrc = 7});
    pkt[n] = static_cast<uint8_t>(seq);
    peer.send_to(asio::buffer(pkt.data(), n + 160), s->local_endpoint());
  }
  ASSERT_TRUE(run_until(io_, [&] { return got.size() == 5; }));
  EXPECT_EQ(got[4][0], 4);
  EXPECT_TRUE(s->latched());
  EXPECT_EQ(s->remote(), peer.local_endpoint());
  EXPECT_EQ(s->stats().packets_received, 5U);
  EXPECT_GE(media_io_.stats().receive_calls, 1U);
}

TEST_F(RtpSessionBatchedTest, InsideABatchThePacketLeavesAtTheFlush) {
  std::vector<std::vector<uint8_t>> got;
  auto s = open(got);
  ASSERT_TRUE(s);
  udp::socket peer(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  s->set_remote(peer.local_endpoint());
  media_io_.begin();
  EXPECT_TRUE(s->batching());
  ASSERT_TRUE(s->send_audio(payload_, 160));
  EXPECT_TRUE(s->time_last_sent());
  EXPECT_EQ(queued(peer), 0U) << "still in the batch";
  EXPECT_EQ(media_io_.flush(), 1U);
  std::array<uint8_t, 1500> buf{};
  const size_t n = peer.receive(asio::buffer(buf));
  RtpPacketView v;
  ASSERT_EQ(parse_rtp(std::span<const uint8_t>(buf.data(), n), v), RtpParseStatus::kOk);
  EXPECT_EQ(v.ssrc, s->ssrc());
  EXPECT_EQ(v.payload.size(), 160U);
  // Outside a batch the session sends at once.
  EXPECT_FALSE(s->batching());
  ASSERT_TRUE(s->send_audio(payload_, 160));
  EXPECT_FALSE(s->time_last_sent());
  EXPECT_GT(peer.receive(asio::buffer(buf)), 0U);
  EXPECT_EQ(s->stats().packets_sent, 2U);
}

TEST_F(RtpSessionBatchedTest, SrtpIsProtectedInTheSendSlotAndUnprotectedInTheReceiveSlot) {
  std::vector<std::vector<uint8_t>> at_a, at_b;
  auto a = open(at_a, contexts(key_of(1), key_of(101)));
  auto b = open(at_b, contexts(key_of(101), key_of(1)));
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
  std::vector<std::vector<uint8_t>> got;
  auto s = open(got);
  ASSERT_TRUE(s);
  s->set_remote(udp::endpoint(asio::ip::make_address("::1"), 9));  // IPv6 on an IPv4 socket: refused
  media_io_.begin();
  ASSERT_TRUE(s->send_audio(payload_, 160)) << "queued";
  media_io_.flush();
  EXPECT_EQ(s->stats().send_dropped, 1U);
  EXPECT_EQ(s->stats().packets_sent, 0U);
}

TEST_F(RtpSessionBatchedTest, AClosedSessionsQueuedPacketDoesNotLeave) {
  std::vector<std::vector<uint8_t>> got;
  auto s = open(got);
  ASSERT_TRUE(s);
  udp::socket peer(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  s->set_remote(peer.local_endpoint());
  media_io_.begin();
  ASSERT_TRUE(s->send_audio(payload_, 160));
  s->close();
  media_io_.flush();
  EXPECT_EQ(queued(peer), 0U);
  EXPECT_EQ(media_io_.stats().sent, 0U);
}

}  // namespace
}  // namespace warmline::rtp
