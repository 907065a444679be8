// TransactionLayer::transport_failed: a TCP/TLS connection that could not be opened fails, at once and
// with the transport's reason, the client transactions that went to it and heard nothing (RFC 3261
// §8.1.3.1) — not those to other peers or protocols, not those a response already reached, not those
// started after the failure — instead of the 408 that timer B/F would give 32 s later.
#include "transaction_fixture.hpp"

namespace warmline::sip {
namespace {

class TransportFailureTest : public TransactionFixture {
 protected:
  Endpoint tls_peer{"198.51.100.7", 5061, Protocol::tls};
  std::vector<Message> finals(const std::vector<Message>& got) {
    std::vector<Message> out;
    for (const auto& m : got)
      if (m.status_code >= 200) out.push_back(m);
    return out;
  }
};

TEST_F(TransportFailureTest, QueuedInviteAndOptionsGet503WithTheReasonAtOnce) {
  std::vector<Message> invite_got, options_got;
  layer.send_request(our_request("INVITE"), tls_peer, [&](const Message& r) { invite_got.push_back(r); });
  layer.send_request(our_request("OPTIONS", 2), tls_peer, [&](const Message& r) { options_got.push_back(r); });
  ASSERT_EQ(layer.client_transactions(), 2u);

  EXPECT_EQ(layer.transport_failed(tls_peer, "TLS handshake failed: certificate verify failed", timers.now()), 2u);
  ASSERT_EQ(invite_got.size(), 1u);
  EXPECT_EQ(invite_got[0].status_code, 503);
  EXPECT_EQ(invite_got[0].reason, "TLS handshake failed: certificate verify failed");
  ASSERT_EQ(options_got.size(), 1u);
  EXPECT_EQ(options_got[0].status_code, 503);
  EXPECT_EQ(layer.client_transactions(), 0u);  // terminated and reaped: no 408 later
  timers.advance(40s);
  EXPECT_EQ(invite_got.size(), 1u);
  EXPECT_EQ(options_got.size(), 1u);
}

TEST_F(TransportFailureTest, OtherPeersProtocolsAndAnsweredTransactionsAreLeftAlone) {
  std::vector<Message> other_port, other_proto, answered, bracketed;
  layer.send_request(our_request("INVITE"), Endpoint{"198.51.100.7", 5070, Protocol::tls},
                     [&](const Message& r) { other_port.push_back(r); });
  layer.send_request(our_request("INVITE", 2), Endpoint{"198.51.100.7", 5061, Protocol::tcp},
                     [&](const Message& r) { other_proto.push_back(r); });
  layer.send_request(our_request("INVITE", 3), tls_peer, [&](const Message& r) { answered.push_back(r); });
  const Message* sent = last_sent_request("INVITE");
  ASSERT_NE(sent, nullptr);
  layer.receive(reply(*sent, 100), tls_peer);  // this one heard back: the connection worked for it
  ASSERT_EQ(answered.size(), 1u);

  EXPECT_EQ(layer.transport_failed(tls_peer, "connect failed: Connection refused", timers.now()), 0u);
  EXPECT_TRUE(finals(other_port).empty());
  EXPECT_TRUE(finals(other_proto).empty());
  EXPECT_TRUE(finals(answered).empty());
  EXPECT_EQ(layer.client_transactions(), 3u);

  // An IPv6 peer: the transport names it without brackets, a Contact-derived destination may have them.
  Endpoint v6{"[2001:db8::1]", 5061, Protocol::tls};
  layer.send_request(our_request("OPTIONS", 4), v6, [&](const Message& r) { bracketed.push_back(r); });
  EXPECT_EQ(layer.transport_failed(Endpoint{"2001:db8::1", 5061, Protocol::tls}, "connect failed", timers.now()), 1u);
  ASSERT_EQ(finals(bracketed).size(), 1u);
  EXPECT_EQ(bracketed.back().status_code, 503);
}

TEST_F(TransportFailureTest, ATransactionStartedAfterTheFailureIsNotFailed) {
  const auto failed_at = timers.now();
  timers.advance(10ms);  // the request below went out on a new connection attempt, after the failure
  std::vector<Message> got;
  layer.send_request(our_request("INVITE"), tls_peer, [&](const Message& r) { got.push_back(r); });
  EXPECT_EQ(layer.transport_failed(tls_peer, "connect failed: Connection refused", failed_at), 0u);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(layer.client_transactions(), 1u);
}

TEST_F(TransportFailureTest, AReasonWithLineBreaksCannotBreakTheSynthesizedResponse) {
  std::vector<Message> got;
  layer.send_request(our_request("OPTIONS"), tls_peer, [&](const Message& r) { got.push_back(r); });
  layer.transport_failed(tls_peer, "bad\r\nX-Injected: 1", timers.now());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].reason.find('\r'), std::string::npos);
  EXPECT_EQ(got[0].reason.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace warmline::sip
