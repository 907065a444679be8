// The TCP transport's trace tap on 127.0.0.1: a framed message is traced before it is parsed (one that
// fails to parse too), from the peer to the connection's own address; what is written back (the
// stateless 400) is traced as the peer reads it; the keep-alive pong is not SIP and is not traced.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "io_wait.hpp"
#include "recording_tracer.hpp"
#include "sip/sip_trace.hpp"
#include "sip/stream_transport.hpp"

namespace warmline::sip {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

using test::RecordingTracer;

StreamTransportOptions traced_options(SipTracer* tracer) {
  StreamTransportOptions o;
  o.protocol = Protocol::tcp;
  o.address = "127.0.0.1";
  o.tracer = tracer;
  return o;
}

TEST(StreamTrace, AMalformedMessageAndItsAnswerAreTracedButNotThePong) {
  asio::io_context io;
  RecordingTracer tracer;
  std::vector<Message> delivered;
  StreamTransport transport{io, traced_options(&tracer), [&](Message&& m, const Endpoint&) { delivered.push_back(std::move(m)); }};
  ASSERT_FALSE(transport.start());
  tcp::socket peer{io};
  peer.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), transport.local().port));
  std::array<char, 4096> rx{};
  std::string received;
  std::function<void()> read = [&] {
    peer.async_read_some(asio::buffer(rx), [&](const boost::system::error_code& ec, size_t n) {
      if (ec) return;
      received.append(rx.data(), n);
      read();
    });
  };
  read();

  const std::string bad =
      "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKs1\r\n"
      "From: <sip:a@x>;tag=1\r\nTo: <sip:gw@127.0.0.1>\r\nCall-ID: stream-trace-1\r\nCSeq: 1 BYE\r\n"
      "Content-Length: 0\r\n\r\n";
  asio::write(peer, asio::buffer("\r\n\r\n" + bad));  // a keep-alive ping, then the message
  ASSERT_TRUE(test::run_until(io, [&] {
    // The answer has reached the peer, and its write has completed (where it is traced).
    return received.find("SIP/2.0 400") != std::string::npos && received.ends_with("\r\n\r\n") &&
           tracer.seen.size() >= 2;
  }));
  EXPECT_TRUE(delivered.empty());
  const Endpoint peer_end{"127.0.0.1", peer.local_endpoint().port(), Protocol::tcp};
  const Endpoint gw_end{"127.0.0.1", transport.local().port, Protocol::tcp};
  ASSERT_EQ(tracer.seen.size(), 2u);
  EXPECT_EQ(tracer.seen[0].bytes, bad);
  EXPECT_EQ(tracer.seen[0].protocol, Protocol::tcp);
  EXPECT_EQ(tracer.seen[0].source, peer_end);
  EXPECT_EQ(tracer.seen[0].destination, gw_end);
  EXPECT_TRUE(tracer.seen[1].bytes.starts_with("SIP/2.0 400")) << tracer.seen[1].bytes;
  EXPECT_EQ(received, "\r\n" + tracer.seen[1].bytes);  // the pong came first, untraced
  EXPECT_EQ(tracer.seen[1].source, gw_end);
  EXPECT_EQ(tracer.seen[1].destination, peer_end);
}

}  // namespace
}  // namespace warmline::sip
