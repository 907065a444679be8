// TransportMux: each destination's protocol picks its transport and the Via it names; a protocol the
// node does not run falls back to UDP, Via included.
#include "sip/transport_mux.hpp"

#include <gtest/gtest.h>

#include "sip/testing/loopback_transport.hpp"

namespace warmline::sip {
namespace {

TEST(TransportMuxTest, ProtocolPicksTransportAndVia) {
  testing::LoopbackTransport udp({"192.0.2.10", 5060});
  testing::LoopbackTransport tcp({"192.0.2.10", 5070});
  TransportMux mux;
  mux.set(Protocol::udp, &udp);
  mux.set(Protocol::tcp, &tcp, Endpoint{"192.0.2.10", 5080, Protocol::tcp});
  const Endpoint over_tcp{"198.51.100.7", 5060, Protocol::tcp};
  EXPECT_FALSE(mux.send(Message{}, over_tcp));
  ASSERT_EQ(tcp.sent().size(), 1u);
  EXPECT_EQ(tcp.last().to, over_tcp);
  EXPECT_TRUE(udp.sent().empty());
  EXPECT_EQ(mux.via_transport_for(over_tcp), "TCP");
  EXPECT_EQ(mux.local_for(over_tcp).port, 5080);  // the sent-by given, not the transport's local()
  EXPECT_EQ(mux.via_transport_for(Endpoint{"198.51.100.7", 5060}), "UDP");
  EXPECT_EQ(mux.local_for(Endpoint{"198.51.100.7", 5060}).port, 5060);
}

TEST(TransportMuxTest, ProtocolNotRunFallsBackToUdp) {
  testing::LoopbackTransport udp({"192.0.2.10", 5060});
  TransportMux mux;
  mux.set(Protocol::udp, &udp);
  const Endpoint over_tls{"198.51.100.7", 5061, Protocol::tls};
  EXPECT_FALSE(mux.send(Message{}, over_tls));
  ASSERT_EQ(udp.sent().size(), 1u);
  EXPECT_EQ(udp.last().to, (Endpoint{"198.51.100.7", 5061, Protocol::udp}));
  EXPECT_EQ(mux.via_transport_for(over_tls), "UDP");
}

}  // namespace
}  // namespace warmline::sip
