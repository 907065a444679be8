// RtpSession with SRTP (options.srtp): two sessions with matching keys over loopback UDP; a plain RTP
// packet sent to an SRTP session is dropped, counted and does not latch the source; what goes on the
// wire is not the plain packet.
#include "rtp/session.hpp"

#include <gtest/gtest.h>

#include "run_until.hpp"
#include "srtp_test_contexts.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <vector>

namespace warmline::rtp {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

using test::run_until;

using test::key_of;

class RtpSessionSrtpTest : public ::testing::Test {
 protected:
  std::shared_ptr<SrtpSession> contexts(const std::vector<uint8_t>& out, const std::vector<uint8_t>& in) {
    return test::srtp_contexts(out, in);
  }
  std::shared_ptr<RtpSession> open(std::shared_ptr<SrtpSession> srtp, std::vector<std::vector<uint8_t>>& got) {
    RtpSessionOptions o;
    o.local_ip = "127.0.0.1";
    o.ports = &ports_;
    o.payload_type = 0;
    o.srtp = std::move(srtp);
    o.on_packet = [&got](const RtpPacketView& v) { got.emplace_back(v.payload.begin(), v.payload.end()); };
    return test::open_started(io_, std::move(o), sessions_);
  }
  void TearDown() override {
    for (auto& s : sessions_) s->close();
  }

  asio::io_context io_;
  PortAllocator ports_{{.min = 43000, .max = 43999}};
  std::vector<std::shared_ptr<RtpSession>> sessions_;
  const std::vector<uint8_t> key_a_ = key_of(1);
  const std::vector<uint8_t> key_b_ = key_of(101);
};

TEST_F(RtpSessionSrtpTest, AudioRoundTripIsProtectedOnTheWire) {
  std::vector<std::vector<uint8_t>> at_a, at_b;
  auto a = open(contexts(key_a_, key_b_), at_a);
  auto b = open(contexts(key_b_, key_a_), at_b);
  ASSERT_TRUE(a && b);
  a->set_remote(b->local_endpoint());
  b->set_remote(a->local_endpoint());
  std::vector<uint8_t> frame(160);
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(i);
  for (uint8_t n = 0; n < 3; ++n) {
    frame[0] = n;
    ASSERT_TRUE(a->send_audio(frame, 160));
  }
  ASSERT_TRUE(run_until(io_, [&] { return at_b.size() == 3; }));
  for (uint8_t n = 0; n < 3; ++n) {
    ASSERT_EQ(at_b[n].size(), 160u);
    EXPECT_EQ(at_b[n][0], n);
    EXPECT_TRUE(std::equal(at_b[n].begin() + 1, at_b[n].end(), frame.begin() + 1));
  }
  EXPECT_TRUE(b->latched());
  ASSERT_TRUE(b->send_audio(frame, 160));
  ASSERT_TRUE(run_until(io_, [&] { return at_a.size() == 1; }));
  EXPECT_EQ(at_a[0], frame);
  EXPECT_EQ(a->stats().srtp_failed, 0u);
  EXPECT_EQ(b->stats().srtp_failed, 0u);

  // A raw socket stands in for B: what A sends is 10 bytes longer (the HMAC-SHA1-80 tag) and the
  // payload is not the plain frame.
  udp::socket raw(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  a->set_remote(raw.local_endpoint());
  ASSERT_TRUE(a->send_audio(frame, 160));
  std::array<uint8_t, 1500> wire{};
  udp::endpoint from;
  size_t n = 0;
  raw.async_receive_from(asio::buffer(wire), from, [&n](boost::system::error_code ec, size_t size) {
    if (!ec) n = size;
  });
  ASSERT_TRUE(run_until(io_, [&] { return n != 0; }));
  EXPECT_EQ(n, 12u + 160u + 10u);
  EXPECT_FALSE(std::equal(frame.begin(), frame.end(), wire.begin() + 12));
}

TEST_F(RtpSessionSrtpTest, PlainRtpIsDroppedCountedAndDoesNotLatch) {
  std::vector<std::vector<uint8_t>> at_b;
  auto b = open(contexts(key_b_, key_a_), at_b);
  ASSERT_TRUE(b);
  udp::socket raw(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::array<uint8_t, 172> pkt{};
  const size_t header = write_rtp_header(pkt, {.payload_type = 0, .sequence = 7, .timestamp = 160, .ssrc = 0x77});
  ASSERT_EQ(header, 12u);
  for (int i = 0; i < 3; ++i) raw.send_to(asio::buffer(pkt), b->local_endpoint());
  ASSERT_TRUE(run_until(io_, [&] { return b->stats().srtp_failed == 3; }));
  EXPECT_TRUE(at_b.empty());
  EXPECT_FALSE(b->latched());
  EXPECT_EQ(b->stats().packets_received, 0u);

  // A peer with the right key is still accepted, and latched, after the plain packets.
  std::vector<std::vector<uint8_t>> at_a;
  auto a = open(contexts(key_a_, key_b_), at_a);
  ASSERT_TRUE(a);
  a->set_remote(b->local_endpoint());
  std::vector<uint8_t> frame(160, 0x55);
  ASSERT_TRUE(a->send_audio(frame, 160));
  ASSERT_TRUE(run_until(io_, [&] { return at_b.size() == 1; }));
  EXPECT_TRUE(b->latched());
  EXPECT_EQ(b->remote(), a->local_endpoint());
}

TEST_F(RtpSessionSrtpTest, WrongKeyFailsAuthentication) {
  std::vector<std::vector<uint8_t>> at_a, at_b;
  auto a = open(contexts(key_a_, key_b_), at_a);
  auto b = open(contexts(key_b_, key_of(55)), at_b);  // expects another key from A
  ASSERT_TRUE(a && b);
  a->set_remote(b->local_endpoint());
  std::vector<uint8_t> frame(160, 0x11);
  ASSERT_TRUE(a->send_audio(frame, 160));
  ASSERT_TRUE(run_until(io_, [&] { return b->stats().srtp_failed == 1; }));
  EXPECT_TRUE(at_b.empty());
  EXPECT_FALSE(b->latched());
}

}  // namespace
}  // namespace warmline::rtp
