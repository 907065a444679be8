// The UDP transport on 127.0.0.1: delivery with received/rport, stateless 400 for malformed requests,
// dropped malformed responses, sending, SO_REUSEPORT. Waits are bounded and end on real events.
#include "sip/udp_transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "io_wait.hpp"
#include "sip/parser.hpp"

namespace warmline::sip {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using namespace std::chrono_literals;

class UdpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(transport.start()) << "bind 127.0.0.1:0";
    peer.open(udp::v4());
    peer.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    server = udp::endpoint(asio::ip::make_address("127.0.0.1"), transport.local().port);
  }

  // Runs the io_context until `done()` or 5 s pass (each step returns on a real event).
  template <class Pred>
  bool run_until(Pred done) {
    return test::run_until(io, done);
  }

  void peer_send(const std::string& datagram) { peer.send_to(asio::buffer(datagram), server); }

  // Arms one receive on the peer socket; `answer` gets the datagram.
  void peer_expect_answer() {
    answer.reset();
    peer.async_receive_from(asio::buffer(rx), rx_from, [this](const boost::system::error_code& ec, size_t n) {
      if (!ec) answer = std::string(rx.data(), n);
    });
  }

  std::string invite(const std::string& via, const std::string& cseq = "1 INVITE") const {
    return "INVITE sip:agent@127.0.0.1 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP " + via + "\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:alice@example.com>;tag=a1\r\n"
           "To: <sip:agent@127.0.0.1>\r\n"
           "Call-ID: udp-test-1\r\n"
           "CSeq: " + cseq + "\r\n"
           "Contact: <sip:alice@127.0.0.1>\r\n"
           "Content-Length: 0\r\n\r\n";
  }

  asio::io_context io;
  std::vector<std::pair<Message, Endpoint>> delivered;
  UdpTransport transport{io, {.address = "127.0.0.1", .port = 0},
                         [this](Message&& m, const Endpoint& from) { delivered.emplace_back(std::move(m), from); }};
  udp::socket peer{io};
  udp::endpoint server;
  std::array<char, 65536> rx{};
  udp::endpoint rx_from;
  std::optional<std::string> answer;
};

TEST_F(UdpTransportTest, DeliversRequestWithReceivedAndRport) {
  peer_send(invite("10.0.0.1:5060;branch=z9hG4bKu1;rport"));
  ASSERT_TRUE(run_until([&] { return !delivered.empty(); }));
  const auto& [msg, from] = delivered[0];
  EXPECT_EQ(msg.method, "INVITE");
  EXPECT_EQ(from, (Endpoint{"127.0.0.1", peer.local_endpoint().port()}));
  const Via& via = msg.vias.front();
  const Param* received = find_param(via.params, "received");
  ASSERT_NE(received, nullptr);
  EXPECT_EQ(received->value, "127.0.0.1");
  const Param* rport = find_param(via.params, "rport");
  ASSERT_NE(rport, nullptr);
  EXPECT_EQ(rport->value, std::to_string(peer.local_endpoint().port()));
  // The response destination derived from this Via is the real source.
  EXPECT_EQ(response_destination(via), from);
}

TEST_F(UdpTransportTest, MatchingSentByWithoutRportIsLeftAlone) {
  peer_send(invite("127.0.0.1:" + std::to_string(peer.local_endpoint().port()) + ";branch=z9hG4bKu2"));
  ASSERT_TRUE(run_until([&] { return !delivered.empty(); }));
  const Via& via = delivered[0].first.vias.front();
  EXPECT_EQ(find_param(via.params, "received"), nullptr);
  EXPECT_EQ(find_param(via.params, "rport"), nullptr);
}

TEST_F(UdpTransportTest, MalformedRequestIsAnswered400AndNotDelivered) {
  peer_expect_answer();
  peer_send(invite("127.0.0.1:5099;branch=z9hG4bKbad", "1 BYE"));  // CSeq method differs: 400
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  EXPECT_TRUE(answer->starts_with("SIP/2.0 400")) << *answer;
  ParseResult parsed = parse_message(*answer);
  ASSERT_TRUE(parsed.ok()) << parsed.reason;
  EXPECT_EQ(parsed.message->call_id, "udp-test-1");
  EXPECT_EQ(parsed.message->vias.front().branch(), "z9hG4bKbad");
  EXPECT_TRUE(delivered.empty());
  EXPECT_EQ(transport.stats().rejected, 1u);
}

TEST_F(UdpTransportTest, MalformedResponseAndGarbageAreDroppedAndTheLoopGoesOn) {
  peer_send("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\nCSeq: nonsense\r\n\r\n");
  peer_send(std::string("\x00\xff\x01garbage", 10));
  peer_send(invite("127.0.0.1:5099;branch=z9hG4bKafter"));
  ASSERT_TRUE(run_until([&] { return !delivered.empty(); }));
  EXPECT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].first.vias.front().branch(), "z9hG4bKafter");
  EXPECT_EQ(transport.stats().received, 3u);
  EXPECT_EQ(transport.stats().dropped + transport.stats().rejected, 2u);
  EXPECT_GE(transport.stats().dropped, 1u);  // the response at least is never answered
}

TEST_F(UdpTransportTest, SendSerializesToThePeer) {
  peer_expect_answer();
  Message options;
  options.method = "OPTIONS";
  options.request_uri.scheme = "sip";
  options.request_uri.host = "127.0.0.1";
  Via via;
  via.host = "127.0.0.1";
  via.port = transport.local().port;
  set_param(via.params, "branch", "z9hG4bKsend");
  options.vias.push_back(via);
  options.from.uri = options.request_uri;
  options.from.set_tag("t");
  options.to.uri = options.request_uri;
  options.call_id = "send-1";
  options.cseq = CSeq{1, "OPTIONS"};
  options.max_forwards = 70;
  for (int i = 0; i < 2; ++i) {  // the second send reuses the buffer
    answer.reset();
    peer_expect_answer();
    ASSERT_FALSE(transport.send(options, Endpoint{"127.0.0.1", peer.local_endpoint().port()}));
    ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
    ParseResult parsed = parse_message(*answer);
    ASSERT_TRUE(parsed.ok()) << parsed.reason;
    EXPECT_EQ(parsed.message->method, "OPTIONS");
    EXPECT_EQ(parsed.message->call_id, "send-1");
  }
  EXPECT_EQ(transport.stats().sent, 2u);
}

TEST_F(UdpTransportTest, SendToANameOrPortZeroIsAnError) {
  Message m;
  EXPECT_TRUE(transport.send(m, Endpoint{"pbx.example", 5060}));
  EXPECT_TRUE(transport.send(m, Endpoint{"127.0.0.1", 0}));
  EXPECT_EQ(transport.stats().send_errors, 2u);
}

TEST_F(UdpTransportTest, ReusePortLetsShardsShareAPort) {
  asio::io_context other_io;
  UdpTransport a{other_io, {.address = "127.0.0.1", .port = 0, .reuse_port = true}, nullptr};
  ASSERT_FALSE(a.start());
  uint16_t port = a.local().port;
  UdpTransport b{other_io, {.address = "127.0.0.1", .port = port, .reuse_port = true}, nullptr};
  EXPECT_FALSE(b.start());
  EXPECT_EQ(b.local().port, port);
  UdpTransport c{other_io, {.address = "not-an-address", .port = 0}, nullptr};
  EXPECT_TRUE(c.start());
}

TEST(ViaStampTest, DomainSentByGetsReceived) {
  Message m;
  Via via;
  via.host = "client.example";
  via.port = 5060;
  m.vias.push_back(via);
  stamp_via_source(m, Endpoint{"203.0.113.4", 5060});
  const Param* received = find_param(m.vias[0].params, "received");
  ASSERT_NE(received, nullptr);
  EXPECT_EQ(received->value, "203.0.113.4");
  EXPECT_EQ(response_destination(m.vias[0]), (Endpoint{"203.0.113.4", 5060}));
}

}  // namespace
}  // namespace warmline::sip
