// The outbound INVITE session and reliable provisional responses (RFC 3262 §4): a PRACK in the early
// dialog for each reliable 1xx (RAck = its RSeq and the INVITE's CSeq), retransmissions and responses
// out of RSeq order neither PRACKed nor reported, one RSeq space per fork, and the dialog's CSeq going
// on from the PRACK once the 2xx confirms it.
#include "invite_client_fixture.hpp"

namespace warmline::sip {
namespace {

struct InviteClientPrackTest : InviteClientFixture {
  Message reliable(int status, uint32_t rseq, std::string_view tag = "fork-a", std::string_view body = {}) const {
    Message r = response(status, tag, body);
    r.add_header("Require", "100rel");
    r.add_header("RSeq", std::to_string(rseq));
    return r;
  }
  std::vector<const Message*> pracks() const {
    std::vector<const Message*> out;
    for (const auto& s : transport.sent())
      if (s.message.is_request && s.message.method == "PRACK") out.push_back(&s.message);
    return out;
  }
};

TEST_F(InviteClientPrackTest, AReliable183IsPrackedInItsEarlyDialogAndItsMediaReported) {
  start();
  deliver(response(100));
  deliver(reliable(183, 7, "fork-a", kAnswer));
  auto sent = pracks();
  ASSERT_EQ(sent.size(), 1u);
  const Message& p = *sent[0];
  EXPECT_EQ(p.header("RAck"), "7 1 INVITE");
  EXPECT_EQ(p.cseq.number, 2u);
  EXPECT_EQ(p.cseq.method, "PRACK");
  EXPECT_EQ(p.call_id, options().call_id);
  EXPECT_EQ(p.from.tag(), "our-tag");
  EXPECT_EQ(p.to.tag(), "fork-a");
  // §12.2.1.1 in the early dialog: the remote target (the 183's Contact) and the route set, reversed.
  EXPECT_EQ(p.request_uri.to_string(), "sip:bob@203.0.113.5:5070");
  ASSERT_EQ(p.routes.size(), 2u);
  EXPECT_EQ(p.routes[0].uri.host, "198.51.100.7");
  EXPECT_EQ(last_sent_entry("PRACK")->to, trunk);
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].status, 183);
  EXPECT_EQ(progress[0].early_sdp, std::string(kAnswer));

  answer_last("PRACK", 200);
  deliver(response(200, "fork-a", kAnswer));
  ASSERT_EQ(session->state(), InviteClientSession::State::kConfirmed);
  EXPECT_EQ(last_sent("ACK")->cseq.number, 1u) << "the ACK keeps the INVITE's CSeq";
  session->hang_up();
  ASSERT_TRUE(last_sent("BYE"));
  EXPECT_EQ(last_sent("BYE")->cseq.number, 3u) << "§12.2.1.1: after the PRACK's 2, not 2 again";
}

TEST_F(InviteClientPrackTest, RetransmissionsAndOutOfOrderResponsesAreNeitherPrackedNorReported) {
  start();
  deliver(reliable(180, 100));
  deliver(reliable(180, 100));  // its retransmission: our PRACK has its own (non-INVITE) reliability
  deliver(reliable(183, 102, "fork-a", kAnswer));  // one is missing in between: §4 "MUST NOT" process it
  deliver(reliable(183, 99, "fork-a", kAnswer));
  ASSERT_EQ(pracks().size(), 1u);
  EXPECT_EQ(progress.size(), 1u);
  deliver(reliable(183, 101, "fork-a", kAnswer));
  auto sent = pracks();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1]->header("RAck"), "101 1 INVITE");
  EXPECT_EQ(sent[1]->cseq.number, 3u);
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[1].early_sdp, std::string(kAnswer));
}

TEST_F(InviteClientPrackTest, EachForkHasItsOwnRSeqSpace) {
  start();
  deliver(reliable(180, 5, "fork-a"));
  deliver(reliable(180, 900, "fork-b"));
  auto sent = pracks();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0]->to.tag(), "fork-a");
  EXPECT_EQ(sent[1]->to.tag(), "fork-b");
  EXPECT_EQ(sent[1]->header("RAck"), "900 1 INVITE");
}

TEST_F(InviteClientPrackTest, UnreliableOrMalformedProvisionalsGetNoPrack) {
  start();
  deliver(response(180));
  Message trying = response(100);
  trying.add_header("Require", "100rel");
  trying.add_header("RSeq", "1");
  deliver(trying);
  Message bad = response(183, "fork-a", kAnswer);
  bad.add_header("Require", "100rel");
  bad.add_header("RSeq", "zero");
  deliver(bad);
  EXPECT_TRUE(pracks().empty());
  // A malformed RSeq makes no reliable response: it is taken as an ordinary 183.
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[0].status, 180);
  EXPECT_EQ(progress[1].status, 183);
}

}  // namespace
}  // namespace warmline::sip
