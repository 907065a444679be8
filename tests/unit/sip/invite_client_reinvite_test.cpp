// Our re-INVITE inside the outbound INVITE session (a session refresh without UPDATE, RFC 4028 §7.4):
// its 2xx is ACKed by the session, the same ACK again for each retransmission of that 2xx (RFC 3261
// §13.2.2.4) — without which the far end would BYE us after 64*T1 — one re-INVITE at a time (§14.1),
// and an offer of theirs while ours is out is glare (491).
#include "invite_client_fixture.hpp"

#include <gmock/gmock.h>

namespace warmline::sip {
namespace {

using ::testing::ElementsAre;

struct InviteClientReInviteTest : InviteClientFixture {
  // Sends our re-INVITE with kOffer; the statuses its handler saw go to `got`.
  ClientTransactionId send_reinvite(std::vector<int>& got) {
    std::optional<Message> reinvite = session->new_request("INVITE");
    if (!reinvite) return 0;
    with_sdp(*reinvite, kOffer);
    return session->send_request(std::move(*reinvite), [&got](const Message& r) { got.push_back(r.status_code); });
  }
  std::vector<const Message*> acks_with_cseq(uint32_t cseq) const {
    std::vector<const Message*> out;
    for (const auto& s : transport.sent())
      if (s.message.is_request && s.message.method == "ACK" && s.message.cseq.number == cseq) out.push_back(&s.message);
    return out;
  }
  // The far end's 200 to our last re-INVITE, with its To tag and SDP.
  Message ok_to_reinvite() const {
    Message ok = make_response(*last_sent("INVITE"), 200, {});
    with_sdp(ok, kAnswer);
    return ok;
  }
};

TEST_F(InviteClientReInviteTest, Its2xxIsAckedAndEachRetransmissionAckedAgainTheSame) {
  answered_call();
  std::vector<int> got;
  ASSERT_NE(send_reinvite(got), 0u);
  const Message* reinvite = last_sent("INVITE");
  ASSERT_NE(reinvite, nullptr);
  EXPECT_EQ(reinvite->cseq.number, 2u);
  EXPECT_EQ(reinvite->to.tag(), "fork-a");
  EXPECT_EQ(reinvite->routes.size(), 2u);  // the route set, like any request in the dialog
  ASSERT_EQ(reinvite->contacts.size(), 1u);  // §8.1.1.8: a re-INVITE carries our Contact
  EXPECT_EQ(reinvite->body, kOffer);

  const Message ok = ok_to_reinvite();
  deliver(ok);
  EXPECT_THAT(got, ElementsAre(200));
  auto acks = acks_with_cseq(2);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0]->cseq.method, "ACK");
  EXPECT_EQ(acks[0]->request_uri.user, "bob");  // end to end, to the remote target
  const std::string branch(acks[0]->vias.front().branch());

  deliver(ok);  // our ACK was lost: the far end resends its 200
  deliver(ok);
  acks = acks_with_cseq(2);
  ASSERT_EQ(acks.size(), 3u);
  for (const Message* ack : acks) EXPECT_EQ(ack->vias.front().branch(), branch);
  EXPECT_THAT(got, ElementsAre(200));  // the handler saw the 2xx once

  // A retransmitted 2xx from a foreign source gets nothing.
  deliver(ok, Endpoint{"198.51.100.99", 5060});
  EXPECT_EQ(acks_with_cseq(2).size(), 3u);
  EXPECT_EQ(session->state(), InviteClientSession::State::kConfirmed);
}

TEST_F(InviteClientReInviteTest, OneAtATimeAndAnOfferOfTheirsMeanwhileIsGlare) {
  answered_call();
  std::vector<int> got;
  ASSERT_NE(send_reinvite(got), 0u);
  std::vector<int> second;
  EXPECT_EQ(send_reinvite(second), 0u);  // §14.1: not while ours is pending
  EXPECT_EQ(transport.count_requests("INVITE"), 2);  // the first INVITE and one re-INVITE

  Message theirs = far_request("UPDATE", 2);
  with_sdp(theirs, kOffer);
  deliver(theirs);
  EXPECT_THAT(statuses("UPDATE"), ElementsAre(491));

  answer_last("INVITE", 491);  // glare the other way round: ours refused
  EXPECT_THAT(got, ElementsAre(491));
  EXPECT_EQ(acks_with_cseq(2).size(), 1u);  // the transaction's own ACK for a non-2xx final, hop by hop
  ASSERT_NE(send_reinvite(second), 0u);  // the final freed it
  // CSeq 3 went to the refused attempt's request (never sent): a gap, which §12.2.1.1 allows.
  EXPECT_EQ(last_sent("INVITE")->cseq.number, 4u);
}

}  // namespace
}  // namespace warmline::sip
