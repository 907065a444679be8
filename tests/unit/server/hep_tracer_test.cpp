// The HEP tracer on 127.0.0.1: one packet per traced message to a real UDP collector socket, equal to
// the packet built from the spec's fields; correlation by the caller's Call-ID for a linked leg; a
// wildcard address shown as the advertised one; counters for what could not be sent.
#include "server/hep_tracer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "sip/hep.hpp"

namespace warmline::server {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using namespace std::chrono_literals;

class HepTracerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    collector.open(udp::v4());
    collector.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    options.collector = collector.local_endpoint();
    options.capture_id = 99;
    options.password = "pw";
    options.advertised_ip = "192.0.2.10";
    ASSERT_FALSE(tracer.start());
  }

  // The next datagram at the collector (blocking with a 5 s receive timeout: the tracer sent it already).
  std::string next_packet() {
    struct timeval tv{5, 0};
    setsockopt(collector.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::array<char, 65536> buf{};
    boost::system::error_code ec;
    size_t n = collector.receive(asio::buffer(buf), 0, ec);
    return ec ? std::string() : std::string(buf.data(), n);
  }

  asio::io_context io;
  udp::socket collector{io};
  HepOptions options;
  TraceLinks links;
  std::atomic<uint64_t> sent{0}, errors{0};
  HepTracer tracer{io, options, &links, sent, errors};
};

const std::string kBye = "BYE sip:t@198.51.100.9 SIP/2.0\r\nCall-ID: leg-b@gw\r\nCSeq: 2 BYE\r\n\r\n";

TEST_F(HepTracerTest, SendsOnePacketPerMessageCorrelatedToTheCaller) {
  links.link("leg-b@gw", "caller-1@pbx");
  const sip::Endpoint from{"0.0.0.0", 5060}, to{"198.51.100.9", 5070};
  const auto at = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000) + 250000us);
  tracer.trace(sip::TracedMessage{sip::Protocol::udp, from, to, kBye, at});
  std::string want;
  ASSERT_TRUE(sip::hep::encode(sip::hep::Packet{.protocol = sip::Protocol::udp, .source_ip = "192.0.2.10",
                                                .source_port = 5060, .destination_ip = "198.51.100.9",
                                                .destination_port = 5070, .seconds = 1700000000,
                                                .microseconds = 250000, .capture_id = 99, .auth_key = "pw",
                                                .correlation = "caller-1@pbx", .payload = kBye},
                               want));
  EXPECT_EQ(next_packet(), want);
  EXPECT_EQ(sent.load(), 1u);
  EXPECT_EQ(errors.load(), 0u);
}

TEST_F(HepTracerTest, AnUnlinkedMessageCarriesItsOwnCallIdAndGarbageNone) {
  const sip::Endpoint a{"127.0.0.1", 5060}, b{"127.0.0.1", 5099};
  tracer.trace(sip::TracedMessage{sip::Protocol::udp, a, b, kBye, std::chrono::system_clock::now()});
  std::string own = next_packet();
  EXPECT_NE(own.find(std::string("\x00\x00\x00\x11\x00\x0e", 6) + "leg-b@gw"), std::string::npos);
  tracer.trace(sip::TracedMessage{sip::Protocol::udp, a, b, "\x01garbage", std::chrono::system_clock::now()});
  std::string garbage = next_packet();
  ASSERT_FALSE(garbage.empty());
  EXPECT_EQ(garbage.find(std::string("\x00\x00\x00\x11", 4)), std::string::npos);  // no chunk 17
  EXPECT_EQ(sent.load(), 2u);
}

TEST_F(HepTracerTest, WhatCannotBeEncodedIsCountedNotSent) {
  const sip::Endpoint a{"127.0.0.1", 5060}, b{"::1", 5099};  // two families
  tracer.trace(sip::TracedMessage{sip::Protocol::udp, a, b, kBye, std::chrono::system_clock::now()});
  EXPECT_EQ(sent.load(), 0u);
  EXPECT_EQ(errors.load(), 1u);
}

TEST(TraceLinksTest, ARetiredLinkLingersThenGoes) {
  TraceLinks links;
  const auto t0 = TraceLinks::Clock::now();
  links.link("b1", "a1", t0);
  std::string out;
  links.correlation("b1", out);
  EXPECT_EQ(out, "a1");
  links.correlation("a1", out);
  EXPECT_EQ(out, "a1");
  links.retire("b1", t0);
  links.correlation("b1", out);
  EXPECT_EQ(out, "a1");  // answers to the leg's last BYE still correlate
  links.link("b2", "a2", t0 + TraceLinks::kLinger);  // a later link sweeps what has expired
  links.correlation("b1", out);
  EXPECT_EQ(out, "b1");
  EXPECT_EQ(links.size(), 1u);
}

}  // namespace
}  // namespace warmline::server
