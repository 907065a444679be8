// StreamTransport's on_connect_failed on 127.0.0.1: a TCP connect that is refused and a TLS handshake
// with a peer that does not speak TLS are each reported once, with the peer and the reason, and what was
// queued is dropped; a connection that came up and closed later, and a connection the peer opened, are
// not connect failures. Waits are bounded and end on real events.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <string>
#include <vector>

#include "io_wait.hpp"
#include "sip/stream_transport.hpp"

namespace warmline::sip {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Bound but not listening: a connect to its port is refused (RST), and no other test can take the port.
tcp::acceptor refusing(asio::io_context& io) {
  tcp::acceptor a(io);
  a.open(tcp::v4());
  a.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a;
}

struct Failure {
  Endpoint to;
  std::string why;
};

class ConnectFailureTest : public ::testing::Test {
 protected:
  StreamTransportOptions options(Protocol protocol) {
    StreamTransportOptions o;
    o.protocol = protocol;  // no address: outbound connections only
    o.tls_client = [](const Endpoint&) { return TlsClientOptions{.verify = false}; };
    o.on_connect_failed = [this](const Endpoint& to, const std::string& why) { failures.push_back({to, why}); };
    return o;
  }
  static std::string request(const std::string& id) {
    return "OPTIONS sip:peer@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK" + id +
           "\r\nMax-Forwards: 70\r\nFrom: <sip:gw@127.0.0.1>;tag=1\r\nTo: <sip:peer@127.0.0.1>\r\nCall-ID: " + id +
           "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  }

  asio::io_context io;
  std::vector<Failure> failures;
};

TEST_F(ConnectFailureTest, ARefusedConnectIsReportedOnceWithThePeerAndTheReason) {
  tcp::acceptor closed = refusing(io);
  const Endpoint to{"127.0.0.1", closed.local_endpoint().port(), Protocol::tcp};
  StreamTransport transport{io, options(Protocol::tcp), [](Message&&, const Endpoint&) {}};
  ASSERT_FALSE(transport.start());
  ASSERT_FALSE(transport.send_bytes(request("r1"), to));
  ASSERT_FALSE(transport.send_bytes(request("r2"), to));  // queued on the same attempt

  ASSERT_TRUE(test::run_until(io, [&] { return !failures.empty(); }));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].to, to);
  EXPECT_NE(failures[0].why.find("connect failed"), std::string::npos) << failures[0].why;
  EXPECT_EQ(transport.stats().connect_failed, 1u);
  EXPECT_EQ(transport.connections(), 0u);
}

TEST_F(ConnectFailureTest, ATlsHandshakeWithAPeerThatDoesNotSpeakTlsIsReported) {
  tcp::acceptor plain(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket accepted(io);
  bool answered = false;
  plain.async_accept(accepted, [&](const boost::system::error_code& ec) {
    if (ec) return;
    // An HTTP answer to the ClientHello, then the peer hangs up.
    static const std::string junk = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    asio::async_write(accepted, asio::buffer(junk), [&](const boost::system::error_code&, size_t) {
      boost::system::error_code ignored;
      accepted.shutdown(tcp::socket::shutdown_both, ignored);
      accepted.close(ignored);
      answered = true;
    });
  });
  const Endpoint to{"127.0.0.1", plain.local_endpoint().port(), Protocol::tls};
  StreamTransport transport{io, options(Protocol::tls), [](Message&&, const Endpoint&) {}};
  ASSERT_FALSE(transport.start());
  ASSERT_FALSE(transport.send_bytes(request("t1"), to));

  ASSERT_TRUE(test::run_until(io, [&] { return !failures.empty(); }));
  EXPECT_TRUE(answered);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].to, to);
  EXPECT_NE(failures[0].why.find("TLS handshake failed"), std::string::npos) << failures[0].why;
  EXPECT_EQ(transport.stats().connect_failed, 1u);
}

TEST_F(ConnectFailureTest, AConnectionThatCameUpAndClosedLaterIsNotAConnectFailure) {
  tcp::acceptor remote(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket accepted(io);
  std::string got;
  std::array<char, 4096> buf{};
  remote.async_accept(accepted, [&](const boost::system::error_code& ec) {
    if (ec) return;
    accepted.async_read_some(asio::buffer(buf), [&](const boost::system::error_code& rec, size_t n) {
      if (!rec) got.append(buf.data(), n);
      boost::system::error_code ignored;
      accepted.close(ignored);  // after the request arrived: the peer hangs up
    });
  });
  const Endpoint to{"127.0.0.1", remote.local_endpoint().port(), Protocol::tcp};
  StreamTransport transport{io, options(Protocol::tcp), [](Message&&, const Endpoint&) {}};
  ASSERT_FALSE(transport.start());
  ASSERT_FALSE(transport.send_bytes(request("u1"), to));
  ASSERT_TRUE(test::run_until(io, [&] { return transport.stats().closed == 1; }));
  EXPECT_FALSE(got.empty());
  EXPECT_EQ(transport.stats().connected, 1u);
  EXPECT_EQ(transport.stats().connect_failed, 0u);
  io.poll();  // anything posted by the close has run
  EXPECT_TRUE(failures.empty());
}

TEST_F(ConnectFailureTest, StoppingTheTransportIsNotAConnectFailure) {
  tcp::acceptor closed = refusing(io);  // stopped before the refusal is read
  const Endpoint to{"127.0.0.1", closed.local_endpoint().port(), Protocol::tcp};
  {
    StreamTransport transport{io, options(Protocol::tcp), [](Message&&, const Endpoint&) {}};
    ASSERT_FALSE(transport.start());
    ASSERT_FALSE(transport.send_bytes(request("s1"), to));
    transport.stop();  // before the refusal is read
  }
  io.restart();
  io.poll();
  EXPECT_TRUE(failures.empty());
}

}  // namespace
}  // namespace warmline::sip
