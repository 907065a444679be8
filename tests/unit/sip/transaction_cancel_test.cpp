// CANCEL (RFC 3261 §9) on both sides of the transaction layer.
#include "transaction_fixture.hpp"

namespace warmline::sip {
namespace {

class CancelTest : public TransactionFixture {
 protected:
  Message invite = peer_request("INVITE", "z9hG4bKinv9");
  Message cancel_for(const Message& req, std::string branch) {
    Message c = peer_request("CANCEL", std::move(branch), req.cseq.number);
    c.request_uri = req.request_uri;
    return c;
  }
};

TEST_F(CancelTest, CancelMatchingAnInviteIsAnswered200AndReported) {
  layer.receive(Message(invite), peer);
  server_txs[0].respond(180, {}, "our-tag");
  layer.receive(cancel_for(invite, "z9hG4bKinv9"), peer);
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0].id(), server_txs[0].id());
  EXPECT_EQ(requests.size(), 1u);  // the CANCEL is not a new request for the TU
  const auto& ok = transport.last().message;
  EXPECT_EQ(ok.status_code, 200);
  EXPECT_EQ(ok.cseq.method, "CANCEL");
  EXPECT_EQ(ok.to.tag(), "our-tag");  // §9.2: same To tag as the INVITE's responses
  // The TU answers the INVITE with 487 through the handle it was given; the ACK is absorbed.
  ASSERT_TRUE(cancelled[0].respond(487, {}, "our-tag"));
  EXPECT_EQ(transport.count_responses(487), 1);
  Message ack = peer_request("ACK", "z9hG4bKinv9");
  ack.to.set_tag("our-tag");
  layer.receive(std::move(ack), peer);
  EXPECT_TRUE(acks.empty());
  timers.advance(10'000ms);
  EXPECT_EQ(transport.count_responses(487), 1);
}

TEST_F(CancelTest, CancelRetransmissionIsAbsorbedByItsOwnTransaction) {
  layer.receive(Message(invite), peer);
  layer.receive(cancel_for(invite, "z9hG4bKinv9"), peer);
  layer.receive(cancel_for(invite, "z9hG4bKinv9"), peer);
  EXPECT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(transport.count_responses(200), 2);  // the 200 repeated, the TU told once
}

TEST_F(CancelTest, CancelWithoutMatchingInviteGets481) {
  layer.receive(Message(invite), peer);
  layer.receive(cancel_for(invite, "z9hG4bKother"), peer);
  EXPECT_TRUE(cancelled.empty());
  EXPECT_EQ(transport.count_responses(481), 1);
}

TEST_F(CancelTest, CancelAfterTheFinalResponseHasNoEffect) {
  layer.receive(Message(invite), peer);
  server_txs[0].respond(486, {}, "our-tag");
  layer.receive(cancel_for(invite, "z9hG4bKinv9"), peer);
  EXPECT_TRUE(cancelled.empty());
  EXPECT_EQ(transport.count_responses(200), 1);
}

TEST_F(CancelTest, ClientCancelWaitsForAProvisional) {
  std::vector<Message> responses;
  auto id = layer.send_request(our_request("INVITE"), peer, [&](const Message& r) { responses.push_back(r); });
  const Message sent = transport.sent().front().message;
  EXPECT_TRUE(layer.cancel(id));
  EXPECT_EQ(transport.count_requests("CANCEL"), 0);  // §9.1: not before a provisional
  layer.receive(reply(sent, 180), peer);
  ASSERT_EQ(transport.count_requests("CANCEL"), 1);
  const Message* cancel = last_sent_request("CANCEL");
  EXPECT_EQ(cancel->vias[0].branch(), sent.vias[0].branch());
  EXPECT_EQ(cancel->cseq.number, sent.cseq.number);
  EXPECT_EQ(cancel->cseq.method, "CANCEL");
  EXPECT_EQ(cancel->call_id, sent.call_id);
  EXPECT_TRUE(cancel->to.tag().empty());  // the INVITE's To, not the response's
  layer.receive(reply(*cancel, 200), peer);
  layer.receive(reply(sent, 487), peer);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[1].status_code, 487);
  EXPECT_EQ(transport.count_requests("ACK"), 1);
  EXPECT_FALSE(layer.cancel(id));  // already final
}

TEST_F(CancelTest, CancelledInviteWithoutFinalEndsAfter64T1) {
  std::vector<Message> responses;
  auto id = layer.send_request(our_request("INVITE"), peer, [&](const Message& r) { responses.push_back(r); });
  layer.receive(reply(transport.sent().front().message, 183), peer);
  ASSERT_TRUE(layer.cancel(id));
  timers.advance(31'999ms);
  EXPECT_EQ(responses.size(), 1u);
  timers.advance(1ms);  // §9.1: give up on the INVITE 64*T1 after the CANCEL
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[1].status_code, 408);
  EXPECT_EQ(layer.client_transactions(), 0u);
}

TEST_F(CancelTest, OnlyInvitesCanBeCancelled) {
  auto id = layer.send_request(our_request("OPTIONS"), peer, nullptr);
  EXPECT_FALSE(layer.cancel(id));
  EXPECT_FALSE(layer.cancel(12345));
}

}  // namespace
}  // namespace warmline::sip
