// The UDP transport's trace tap on 127.0.0.1: a datagram is traced before it is parsed (a malformed
// one too), with the peer as source and the bound address as destination; what is sent (the stateless
// 400, a message) is traced byte for byte as the peer receives it.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <string>
#include <vector>

#include "io_wait.hpp"
#include "recording_tracer.hpp"
#include "sip/parser.hpp"
#include "sip/sip_trace.hpp"
#include "sip/udp_transport.hpp"

namespace warmline::sip {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

using test::RecordingTracer;

class UdpTraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(transport.start());
    peer.open(udp::v4());
    peer.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    server = udp::endpoint(asio::ip::make_address("127.0.0.1"), transport.local().port);
    peer.async_receive_from(asio::buffer(rx), rx_from, [this](const boost::system::error_code& ec, size_t n) {
      if (!ec) received = std::string(rx.data(), n);
    });
  }
  Endpoint peer_endpoint() const { return Endpoint{"127.0.0.1", peer.local_endpoint().port()}; }

  asio::io_context io;
  RecordingTracer tracer;
  std::vector<Message> delivered;
  UdpTransport transport{io, {.address = "127.0.0.1", .port = 0, .tracer = &tracer},
                         [this](Message&& m, const Endpoint&) { delivered.push_back(std::move(m)); }};
  udp::socket peer{io};
  udp::endpoint server;
  std::array<char, 65536> rx{};
  udp::endpoint rx_from;
  std::string received;
};

TEST_F(UdpTraceTest, AMalformedDatagramAndItsAnswerAreTraced) {
  const std::string bad =
      "INVITE sip:agent@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKt1\r\n"
      "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: trace-1\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n";
  peer.send_to(asio::buffer(bad), server);
  ASSERT_TRUE(test::run_until(io, [&] { return !received.empty(); }));
  EXPECT_TRUE(delivered.empty());
  ASSERT_EQ(tracer.seen.size(), 2u);
  EXPECT_EQ(tracer.seen[0].bytes, bad);  // as it arrived, though it does not parse
  EXPECT_EQ(tracer.seen[0].protocol, Protocol::udp);
  EXPECT_EQ(tracer.seen[0].source, peer_endpoint());
  EXPECT_EQ(tracer.seen[0].destination, transport.local());
  EXPECT_TRUE(tracer.seen[1].bytes.starts_with("SIP/2.0 400")) << tracer.seen[1].bytes;
  EXPECT_EQ(tracer.seen[1].bytes, received);
  EXPECT_EQ(tracer.seen[1].source, transport.local());
  EXPECT_EQ(tracer.seen[1].destination, peer_endpoint());
}

TEST_F(UdpTraceTest, ASentMessageIsTracedAsTheBytesOnTheWire) {
  ParseResult parsed = parse_message(
      "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtrace\r\n"
      "From: <sip:127.0.0.1>;tag=t\r\nTo: <sip:127.0.0.1>\r\nCall-ID: trace-2\r\nCSeq: 1 OPTIONS\r\n"
      "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(parsed.ok()) << parsed.reason;
  const Message& options = *parsed.message;
  ASSERT_FALSE(transport.send(options, peer_endpoint()));
  ASSERT_TRUE(test::run_until(io, [&] { return !received.empty(); }));
  ASSERT_EQ(tracer.seen.size(), 1u);
  EXPECT_EQ(tracer.seen[0].bytes, received);
  EXPECT_EQ(raw_call_id(tracer.seen[0].bytes), "trace-2");
  EXPECT_EQ(tracer.seen[0].source, transport.local());
  EXPECT_EQ(tracer.seen[0].destination, peer_endpoint());
}

}  // namespace
}  // namespace warmline::sip
