#include "rtp/session.hpp"

#include <gtest/gtest.h>

#include "run_until.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <functional>
#include <vector>

namespace warmline::rtp {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace std::chrono_literals;

using test::run_until;

struct Received {
  uint8_t pt;
  bool marker;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  std::vector<uint8_t> payload;
};

// A plain UDP socket playing a peer, with a receive loop that records RTP packets.
struct RawPeer {
  explicit RawPeer(asio::io_context& io)
      : socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  void listen() {
    socket.async_receive_from(asio::buffer(buf), from, [this](boost::system::error_code ec, size_t n) {
      if (ec) return;
      RtpPacketView v;
      if (parse_rtp(std::span<const uint8_t>(buf.data(), n), v) == RtpParseStatus::kOk) {
        got.push_back({v.payload_type, v.marker, v.sequence, v.timestamp, v.ssrc,
                       {v.payload.begin(), v.payload.end()}});
      }
      listen();
    });
  }
  void send(udp::endpoint to, std::span<const uint8_t> bytes) {
    socket.send_to(asio::buffer(bytes.data(), bytes.size()), to);
  }
  void send_rtp(udp::endpoint to, uint8_t pt, uint16_t seq, uint32_t ts, std::span<const uint8_t> payload,
                uint32_t ssrc = 0x5151) {
    std::array<uint8_t, 256> pkt{};
    size_t n = write_rtp_header(pkt, {.payload_type = pt, .sequence = seq, .timestamp = ts, .ssrc = ssrc});
    std::copy(payload.begin(), payload.end(), pkt.begin() + n);
    send(to, std::span<const uint8_t>(pkt.data(), n + payload.size()));
  }
  udp::endpoint endpoint() const { return socket.local_endpoint(); }

  udp::socket socket;
  std::array<uint8_t, 1500> buf{};
  udp::endpoint from;
  std::vector<Received> got;
};

class RtpSessionTest : public ::testing::Test {
 protected:
  std::shared_ptr<RtpSession> open(RtpSessionOptions options) {
    options.local_ip = "127.0.0.1";
    options.ports = &ports_;
    return test::open_started(io_, std::move(options), sessions_);
  }
  udp::endpoint local(const std::shared_ptr<RtpSession>& s) { return s->local_endpoint(); }
  void TearDown() override {
    for (auto& s : sessions_) s->close();
  }

  asio::io_context io_;
  PortAllocator ports_{{.min = 42000, .max = 42999}};
  std::vector<std::shared_ptr<RtpSession>> sessions_;
};

TEST_F(RtpSessionTest, TwoSessionsExchangeAudio) {
  std::vector<Received> at_b;
  std::vector<Received> at_a;
  auto recorder = [](std::vector<Received>& into) {
    return [&into](const RtpPacketView& v) {
      into.push_back({v.payload_type, v.marker, v.sequence, v.timestamp, v.ssrc,
                      {v.payload.begin(), v.payload.end()}});
    };
  };
  auto a = open({.payload_type = 0, .on_packet = recorder(at_a)});
  auto b = open({.payload_type = 0, .on_packet = recorder(at_b)});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->local_port() % 2, 0);
  EXPECT_NE(a->local_port(), b->local_port());
  a->set_remote(local(b));
  b->set_remote(local(a));

  std::vector<uint8_t> frame(160, 0xff);
  for (uint8_t i = 0; i < 3; ++i) {
    frame[0] = i;
    ASSERT_TRUE(a->send_audio(frame, 160));
  }
  ASSERT_TRUE(run_until(io_, [&] { return at_b.size() == 3; }));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(at_b[i].pt, 0);
    EXPECT_EQ(at_b[i].ssrc, a->ssrc());
    EXPECT_EQ(at_b[i].marker, i == 0);  // first packet of the stream starts a talkspurt
    EXPECT_EQ(at_b[i].seq, static_cast<uint16_t>(at_b[0].seq + i));
    EXPECT_EQ(at_b[i].ts, at_b[0].ts + 160 * i);
    EXPECT_EQ(at_b[i].payload.size(), 160u);
    EXPECT_EQ(at_b[i].payload[0], i);
  }
  ASSERT_TRUE(b->send_audio(frame, 160));
  ASSERT_TRUE(run_until(io_, [&] { return at_a.size() == 1; }));
  EXPECT_EQ(at_a[0].ssrc, b->ssrc());
  EXPECT_NE(a->ssrc(), b->ssrc());

  EXPECT_EQ(a->stats().packets_sent, 3u);
  EXPECT_EQ(a->stats().bytes_sent, 480u);
  EXPECT_EQ(b->stats().packets_received, 3u);
  EXPECT_EQ(b->stats().bytes_received, 480u);
  EXPECT_EQ(b->stats().packets_lost, 0);
  EXPECT_NE(b->stats().last_receive, std::chrono::steady_clock::time_point{});
}

TEST_F(RtpSessionTest, SkipAdvancesTimestampAndMarksTalkspurt) {
  std::vector<Received> at_b;
  auto a = open({.payload_type = 8});
  auto b = open({.on_packet = [&](const RtpPacketView& v) {
    at_b.push_back({v.payload_type, v.marker, v.sequence, v.timestamp, v.ssrc, {}});
  }});
  a->set_remote(local(b));
  std::vector<uint8_t> frame(160, 0xd5);
  ASSERT_TRUE(a->send_audio(frame, 160));
  ASSERT_TRUE(a->send_audio(frame, 160));
  a->skip(480);  // 60 ms of silence not sent
  ASSERT_TRUE(a->send_audio(frame, 160));
  ASSERT_TRUE(run_until(io_, [&] { return at_b.size() == 3; }));
  EXPECT_EQ(at_b[0].pt, 8);
  EXPECT_FALSE(at_b[1].marker);
  EXPECT_TRUE(at_b[2].marker);
  EXPECT_EQ(at_b[2].ts - at_b[1].ts, 160u + 480u);
  EXPECT_EQ(static_cast<uint16_t>(at_b[2].seq - at_b[1].seq), 1);  // no sequence gap: nothing lost
}

TEST_F(RtpSessionTest, LatchesToTheSourceOfReceivedPackets) {
  RawPeer sdp_address(io_);  // where the SDP said to send
  RawPeer real_source(io_);  // where the peer actually sends from (behind a NAT)
  sdp_address.listen();
  real_source.listen();
  size_t audio = 0;
  auto b = open({.remote = sdp_address.endpoint(), .on_packet = [&](const RtpPacketView&) { ++audio; }});
  std::vector<uint8_t> frame(160, 0x7f);
  ASSERT_TRUE(b->send_audio(frame, 160));
  ASSERT_TRUE(run_until(io_, [&] { return sdp_address.got.size() == 1; }));
  EXPECT_FALSE(b->latched());

  // Not the SDP's address: learned from three packets in a row (one SSRC, consecutive sequence
  // numbers); the first two are dropped.
  real_source.send_rtp(local(b), 0, 100, 1000, frame);
  real_source.send_rtp(local(b), 0, 101, 1160, frame);
  ASSERT_TRUE(run_until(io_, [&] { return b->stats().foreign_dropped == 2; }));
  EXPECT_FALSE(b->latched());
  real_source.send_rtp(local(b), 0, 102, 1320, frame);
  ASSERT_TRUE(run_until(io_, [&] { return audio == 1; }));
  EXPECT_TRUE(b->latched());
  EXPECT_EQ(b->remote(), real_source.endpoint());
  ASSERT_TRUE(b->send_audio(frame, 160));
  ASSERT_TRUE(run_until(io_, [&] { return real_source.got.size() == 1; }));
  EXPECT_EQ(real_source.got[0].ssrc, b->ssrc());

  // Once latched, another source cannot take the stream over (only the SDP's own address could:
  // TheSdpAddressTakesTheStreamFromALearnedSprayer).
  RawPeer other(io_);
  other.listen();
  for (uint16_t i = 0; i < 3; ++i) other.send_rtp(local(b), 0, static_cast<uint16_t>(7 + i), 7u + 160u * i, frame, 0x6666);
  ASSERT_TRUE(run_until(io_, [&] { return b->stats().foreign_dropped == 5; }));
  EXPECT_EQ(audio, 1u);
  EXPECT_EQ(sdp_address.got.size(), 1u);
  EXPECT_TRUE(other.got.empty());

  // A re-INVITE moves the stream: the latch is re-armed.
  b->set_remote(other.endpoint());
  other.send_rtp(local(b), 0, 10, 487, frame, 0x6666);
  ASSERT_TRUE(run_until(io_, [&] { return audio == 2; }));
  EXPECT_EQ(b->remote(), other.endpoint());
}

// RTP bleed, and a reused port: a stranger (or the previous call's peer) sending to the port before the
// peer does cannot take the stream; the peer's first packet from the SDP's address latches at once.
TEST_F(RtpSessionTest, AStrangerCannotTakeTheStreamBeforeThePeer) {
  RawPeer peer(io_);
  RawPeer stranger(io_);
  peer.listen();
  stranger.listen();
  size_t audio = 0;
  auto b = open({.remote = peer.endpoint(), .on_packet = [&](const RtpPacketView&) { ++audio; }});
  std::vector<uint8_t> frame(160, 0x7f);
  stranger.send_rtp(local(b), 0, 500, 80000, frame, 0xbad);
  stranger.send_rtp(local(b), 0, 501, 80160, frame, 0xbad);
  ASSERT_TRUE(run_until(io_, [&] { return b->stats().foreign_dropped == 2; }));
  peer.send_rtp(local(b), 0, 1, 160, frame);
  ASSERT_TRUE(run_until(io_, [&] { return audio == 1; }));
  EXPECT_EQ(b->remote(), peer.endpoint());
  stranger.send_rtp(local(b), 0, 502, 80320, frame, 0xbad);  // its third in a row: too late
  ASSERT_TRUE(run_until(io_, [&] { return b->stats().foreign_dropped == 3; }));
  EXPECT_EQ(audio, 1u);
  ASSERT_TRUE(b->send_audio(frame, 160));
  ASSERT_TRUE(run_until(io_, [&] { return peer.got.size() == 1; }));
  EXPECT_TRUE(stranger.got.empty()) << "the call's audio went to the stranger";
}

// A sprayer that sent a learnable run before the peer's first packet was latched, but the SDP's
// address takes the stream over the moment it sends; the sprayer is then foreign.
TEST_F(RtpSessionTest, TheSdpAddressTakesTheStreamFromALearnedSprayer) {
  RawPeer peer(io_);
  RawPeer sprayer(io_);
  peer.listen();
  sprayer.listen();
  size_t audio = 0;
  auto b = open({.remote = peer.endpoint(), .on_packet = [&](const RtpPacketView&) { ++audio; }});
  std::vector<uint8_t> frame(160, 0x7f);
  for (uint16_t i = 0; i < 3; ++i) sprayer.send_rtp(local(b), 0, static_cast<uint16_t>(900 + i), 160u * i, frame, 0xbad);
  ASSERT_TRUE(run_until(io_, [&] { return audio == 1; }));
  EXPECT_EQ(b->remote(), sprayer.endpoint());
  peer.send_rtp(local(b), 0, 1, 160, frame);
  ASSERT_TRUE(run_until(io_, [&] { return audio == 2; }));
  EXPECT_EQ(b->remote(), peer.endpoint());
  sprayer.send_rtp(local(b), 0, 903, 480, frame, 0xbad);
  ASSERT_TRUE(run_until(io_, [&] { return b->stats().foreign_dropped == 3; }));
  EXPECT_EQ(audio, 2u);
  ASSERT_TRUE(b->send_audio(frame, 160));
  ASSERT_TRUE(run_until(io_, [&] { return peer.got.size() == 1; }));
}

// Learning needs an unbroken run from one source: interleaved sources, a new SSRC or a sequence gap
// start it again.
TEST_F(RtpSessionTest, OnlyAnUnbrokenRunFromOneSourceIsLearned) {
  RawPeer sdp_address(io_);
  RawPeer a(io_);
  RawPeer c(io_);
  size_t audio = 0;
  auto b = open({.remote = sdp_address.endpoint(), .on_packet = [&](const RtpPacketView&) { ++audio; }});
  std::vector<uint8_t> frame(160, 0x7f);
  a.send_rtp(local(b), 0, 10, 0, frame);
  c.send_rtp(local(b), 0, 70, 0, frame, 0xc);
  a.send_rtp(local(b), 0, 11, 160, frame);
  c.send_rtp(local(b), 0, 71, 160, frame, 0xc);
  a.send_rtp(local(b), 0, 13, 480, frame);          // a gap
  a.send_rtp(local(b), 0, 14, 640, frame, 0x9999);  // another SSRC
  ASSERT_TRUE(run_until(io_, [&] { return b->stats().foreign_dropped == 6; }));
  EXPECT_FALSE(b->latched());
  EXPECT_EQ(audio, 0u);
  a.send_rtp(local(b), 0, 15, 800, frame, 0x9999);
  a.send_rtp(local(b), 0, 16, 960, frame, 0x9999);  // the third in a row with that SSRC
  ASSERT_TRUE(run_until(io_, [&] { return audio == 1; }));
  EXPECT_EQ(b->remote(), a.endpoint());
  EXPECT_EQ(b->stats().foreign_dropped, 7u);
}

// After a re-INVITE moved the media, packets still in flight from the old address must not win the
// new latch (they would send the agent's audio to a port the phone has left)...
TEST_F(RtpSessionTest, StalePacketsFromTheOldAddressDoNotWinTheNewLatch) {
  RawPeer old_port(io_);
  RawPeer new_port(io_);
  old_port.listen();
  new_port.listen();
  size_t audio = 0;
  auto b = open({.remote = old_port.endpoint(), .on_packet = [&](const RtpPacketView&) { ++audio; }});
  std::vector<uint8_t> frame(160, 0x7f);
  old_port.send_rtp(local(b), 0, 1, 160, frame);
  ASSERT_TRUE(run_until(io_, [&] { return audio == 1; }));
  ASSERT_TRUE(b->latched());

  b->set_remote(new_port.endpoint());
  for (uint16_t i = 0; i < 5; ++i) old_port.send_rtp(local(b), 0, static_cast<uint16_t>(2 + i), 320u + 160u * i, frame);
  ASSERT_TRUE(run_until(io_, [&] { return b->stats().foreign_dropped == 5; }));
  EXPECT_FALSE(b->latched());
  EXPECT_EQ(audio, 1u);
  new_port.send_rtp(local(b), 0, 100, 16000, frame, 0x7777);
  ASSERT_TRUE(run_until(io_, [&] { return audio == 2; }));
  EXPECT_EQ(b->remote(), new_port.endpoint());
  ASSERT_TRUE(b->send_audio(frame, 160));
  ASSERT_TRUE(run_until(io_, [&] { return new_port.got.size() == 1; }));
  EXPECT_TRUE(old_port.got.empty());
}

// ...but a source that keeps sending alone for a second is the real one (a NATed phone whose new SDP
// carries its private address), and is latched again.
TEST_F(RtpSessionTest, OldAddressIsRelatchedWhenItIsTheOnlySource) {
  RawPeer nat(io_);
  RawPeer private_sdp(io_);
  nat.listen();
  size_t audio = 0;
  auto b = open({.remote = nat.endpoint(), .on_packet = [&](const RtpPacketView&) { ++audio; }});
  std::vector<uint8_t> frame(160, 0x7f);
  nat.send_rtp(local(b), 0, 1, 160, frame);
  ASSERT_TRUE(run_until(io_, [&] { return audio == 1; }));

  b->set_remote(private_sdp.endpoint());
  for (uint16_t i = 0; i < 60; ++i) nat.send_rtp(local(b), 0, static_cast<uint16_t>(2 + i), 320u + 160u * i, frame);
  ASSERT_TRUE(run_until(io_, [&] { return b->latched(); }));
  EXPECT_EQ(b->remote(), nat.endpoint());
  EXPECT_EQ(b->stats().foreign_dropped, 49u) << "49 dropped, the 50th re-latches";
  ASSERT_TRUE(run_until(io_, [&] { return audio == 1 + 60 - 49; }));
}

TEST_F(RtpSessionTest, DtmfRtcpAndGarbageAreSortedOut) {
  RawPeer peer(io_);
  std::vector<DtmfDigit> digits;
  std::vector<uint8_t> pts;
  auto b = open({.telephone_event_pt = 101,
                 .on_packet = [&](const RtpPacketView& v) { pts.push_back(v.payload_type); },
                 .on_dtmf = [&](char d, uint32_t ms) { digits.push_back({d, ms}); }});
  const std::vector<uint8_t> audio(160, 0xff);
  const std::array<uint8_t, 4> start = {5, 10, 0, 160};
  const std::array<uint8_t, 4> end = {5, 0x80 | 10, 0x01, 0x40};  // 320 units = 40 ms
  const std::array<uint8_t, 8> rtcp_rr = {0x80, 201, 0, 1, 0, 0, 0x51, 0x51};
  const std::array<uint8_t, 5> garbage = {1, 2, 3, 4, 5};
  peer.send_rtp(local(b), 0, 1, 0, audio);
  peer.send_rtp(local(b), 101, 2, 160, start);
  peer.send(local(b), rtcp_rr);
  peer.send(local(b), garbage);
  for (uint16_t seq = 3; seq <= 5; ++seq) peer.send_rtp(local(b), 101, seq, 160, end);
  peer.send_rtp(local(b), 0, 6, 480, audio);
  ASSERT_TRUE(run_until(io_, [&] { return pts.size() == 2; }));
  EXPECT_EQ(digits, (std::vector<DtmfDigit>{{'5', 40}}));
  EXPECT_EQ(pts, (std::vector<uint8_t>{0, 0}));
  EXPECT_EQ(b->stats().rtcp_received, 1u);
  EXPECT_EQ(b->stats().invalid_received, 1u);
  EXPECT_EQ(b->stats().packets_received, 6u);
  EXPECT_EQ(b->stats().packets_lost, 0);
}

TEST_F(RtpSessionTest, CountsSequenceGapsAndLatePackets) {
  RawPeer peer(io_);
  size_t n = 0;
  auto b = open({.on_packet = [&](const RtpPacketView&) { ++n; }});
  const std::array<uint8_t, 1> p = {0};
  for (uint16_t seq : {65534, 65535, 2}) peer.send_rtp(local(b), 0, seq, 0, p);  // wraps; 0 and 1 lost
  ASSERT_TRUE(run_until(io_, [&] { return n == 3; }));
  EXPECT_EQ(b->stats().packets_lost, 2);
  peer.send_rtp(local(b), 0, 1, 0, p);  // arrives late
  ASSERT_TRUE(run_until(io_, [&] { return n == 4; }));
  EXPECT_EQ(b->stats().packets_lost, 1);
}

TEST_F(RtpSessionTest, SendRefusalsAndCloseReturnsPort) {
  auto a = open({});
  ASSERT_TRUE(a);
  std::vector<uint8_t> frame(160, 0);
  EXPECT_FALSE(a->send_audio(frame, 160));  // no remote yet
  a->set_remote(udp::endpoint(asio::ip::make_address("0.0.0.0"), 40000));
  EXPECT_FALSE(a->send_audio(frame, 160));  // c=0.0.0.0 hold
  a->set_remote(udp::endpoint(asio::ip::make_address("127.0.0.1"), 9));
  std::vector<uint8_t> huge(RtpSession::kMaxDatagram, 0);
  EXPECT_FALSE(a->send_audio(huge, 160));   // would not fit one datagram: refused, not truncated
  const size_t available = ports_.available();
  a->close();
  EXPECT_EQ(ports_.available(), available + 1);
  EXPECT_FALSE(a->send_audio(frame, 160));
  a->close();  // idempotent
  EXPECT_EQ(ports_.available(), available + 1);
}

TEST_F(RtpSessionTest, SkipsPortsHeldElsewhereAndReportsExhaustion) {
  auto first = open({});
  ASSERT_TRUE(first);
  const uint16_t taken = first->local_port();
  // Another allocator (another process, in effect) over the same port: it cannot bind.
  PortAllocator one({.min = taken, .max = static_cast<uint16_t>(taken + 1)});
  std::error_code ec;
  EXPECT_FALSE(RtpSession::open(io_, {.local_ip = "127.0.0.1", .ports = &one}, ec));
  EXPECT_EQ(ec, std::make_error_code(std::errc::address_in_use));
  EXPECT_EQ(one.available(), 1u);  // the failed port went back
  // With a second port in range, the held one is skipped.
  PortAllocator two({.min = taken, .max = static_cast<uint16_t>(taken + 3)});
  auto second = RtpSession::open(io_, {.local_ip = "127.0.0.1", .ports = &two}, ec);
  ASSERT_TRUE(second) << ec.message();
  EXPECT_EQ(second->local_port(), taken + 2);
  second->close();
  EXPECT_FALSE(RtpSession::open(io_, {.local_ip = "not-an-ip", .ports = &two}, ec));
  EXPECT_TRUE(ec);
  EXPECT_FALSE(RtpSession::open(io_, {.local_ip = "127.0.0.1"}, ec));  // no allocator
}

}  // namespace
}  // namespace warmline::rtp
