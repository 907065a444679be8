// TransactionLayer::set_tap (a call's SIP ladder, server/sip_ladder.hpp): every message taken in, and
// every one sent for the TU, once each; the transactions' own retransmissions are not shown.
#include "transaction_fixture.hpp"

namespace warmline::sip {
namespace {

class TransactionTapTest : public TransactionFixture {
 protected:
  TransactionTapTest() {
    layer.set_tap([this](const Message& m, bool outgoing) {
      seen.push_back(std::string(outgoing ? "out " : "in ") +
                     (m.is_request ? m.method : std::to_string(m.status_code)));
    });
  }
  std::vector<std::string> seen;
};

TEST_F(TransactionTapTest, ServerSideRequestInResponsesOutRetransmissionsReceivedOnly) {
  const Message bye = peer_request("BYE", "z9hG4bKtap1", 2);
  layer.receive(Message(bye), peer);
  ASSERT_EQ(server_txs.size(), 1u);
  ASSERT_TRUE(server_txs[0].respond(200, {}, "our-tag"));
  layer.receive(Message(bye), peer);  // the peer's retransmission: our 200 is repeated by the transaction
  EXPECT_EQ(transport.count_responses(200), 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"in BYE", "out 200", "in BYE"}));
}

TEST_F(TransactionTapTest, ClientSideRequestOutOnceAndItsResponsesIn) {
  std::vector<int> statuses;
  layer.send_request(our_request("OPTIONS", 3), peer, [&](const Message& r) { statuses.push_back(r.status_code); });
  timers.advance(std::chrono::milliseconds(1600));  // Timer E resends: not shown again
  const Message* sent = last_sent_request("OPTIONS");
  ASSERT_NE(sent, nullptr);
  EXPECT_GT(transport.sent().size(), 1u) << "retransmitted meanwhile";
  layer.receive(reply(*sent, 200), peer);
  EXPECT_EQ(statuses, std::vector<int>{200});
  EXPECT_EQ(seen, (std::vector<std::string>{"out OPTIONS", "in 200"}));
}

TEST_F(TransactionTapTest, NoTapNothingChanges) {
  layer.set_tap({});
  layer.receive(peer_request("BYE", "z9hG4bKtap2", 2), peer);
  ASSERT_EQ(server_txs.size(), 1u);
  EXPECT_TRUE(server_txs[0].respond(200, {}, "our-tag"));
  EXPECT_TRUE(seen.empty());
}

}  // namespace
}  // namespace warmline::sip
