// Response, branch, tag and Call-ID builders (RFC 3261 §8.1.1, §8.2.6).
#include "sip/builders.hpp"

#include <gtest/gtest.h>

#include <set>

namespace warmline::sip {
namespace {

Message sample_request() {
  Message m;
  m.method = "INVITE";
  Via v1, v2;
  v1.host = "proxy.example";
  set_param(v1.params, "branch", "z9hG4bK1");
  v2.host = "198.51.100.7";
  set_param(v2.params, "branch", "z9hG4bK2");
  m.vias = {v1, v2};
  m.from.uri.scheme = "sip";
  m.from.uri.host = "a.example";
  m.from.set_tag("f1");
  m.to.uri.scheme = "sip";
  m.to.uri.host = "b.example";
  m.call_id = "cid";
  m.cseq = CSeq{5, "INVITE"};
  m.contacts.resize(1);
  m.body = "v=0";
  m.content_type = "application/sdp";
  m.add_header("Subject", "hi");
  return m;
}

TEST(BuildersTest, ResponseCopiesOnlyTheTransactionHeaders) {
  Message r = make_response(sample_request(), 486, "Busy Here");
  EXPECT_FALSE(r.is_request);
  EXPECT_EQ(r.status_code, 486);
  EXPECT_EQ(r.reason, "Busy Here");
  ASSERT_EQ(r.vias.size(), 2u);  // every Via, in order
  EXPECT_EQ(r.vias[1].host, "198.51.100.7");
  EXPECT_EQ(r.from.tag(), "f1");
  EXPECT_EQ(r.to.uri.host, "b.example");
  EXPECT_TRUE(r.to.tag().empty());  // the caller adds it
  EXPECT_EQ(r.call_id, "cid");
  EXPECT_EQ(r.cseq.number, 5u);
  EXPECT_EQ(r.cseq.method, "INVITE");
  EXPECT_TRUE(r.contacts.empty());
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(r.content_type.empty());
  EXPECT_TRUE(r.headers.empty());
}

TEST(BuildersTest, EmptyReasonUsesTheStandardPhrase) {
  EXPECT_EQ(make_response(sample_request(), 487, {}).reason, "Request Terminated");
  EXPECT_EQ(make_response(sample_request(), 299, {}).reason, "");
}

TEST(BuildersTest, CancelAndNon2xxAckShareTheInviteTransaction) {
  Message invite = sample_request();
  invite.routes.resize(1);
  invite.routes[0].uri.host = "proxy.example";
  Message cancel = make_cancel(invite);
  EXPECT_EQ(cancel.method, "CANCEL");
  EXPECT_EQ(cancel.cseq.number, 5u);
  EXPECT_EQ(cancel.cseq.method, "CANCEL");
  ASSERT_EQ(cancel.vias.size(), 1u);  // only the top Via (§9.1)
  EXPECT_EQ(cancel.vias[0].branch(), "z9hG4bK1");
  EXPECT_EQ(cancel.routes.size(), 1u);
  EXPECT_TRUE(cancel.body.empty());
  Message busy = make_response(invite, 486, {});
  busy.to.set_tag("callee");
  Message ack = make_non_2xx_ack(invite, busy);
  EXPECT_EQ(ack.method, "ACK");
  EXPECT_EQ(ack.cseq.method, "ACK");
  EXPECT_EQ(ack.to.tag(), "callee");  // §17.1.1.3: To from the response
  EXPECT_TRUE(cancel.to.tag().empty());
  EXPECT_EQ(ack.vias[0].branch(), "z9hG4bK1");
}

TEST(BuildersTest, BranchesCarryTheCookieAndAreUnique) {
  RandomSource random(1);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string b = new_branch(random);
    EXPECT_TRUE(b.starts_with("z9hG4bK"));
    EXPECT_EQ(b.size(), 7u + 16u);
    seen.insert(b);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(BuildersTest, TagsAndCallIdsAreTokens) {
  RandomSource random(2);
  std::string tag = new_tag(random);
  EXPECT_EQ(tag.size(), 12u);
  for (char c : tag) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << tag;
  std::string id = new_call_id(random, "gw.example");
  EXPECT_TRUE(id.ends_with("@gw.example"));
  EXPECT_EQ(id.size(), 20u + 1u + 10u);
  EXPECT_EQ(new_call_id(random, "").find('@'), std::string::npos);
}

TEST(BuildersTest, SeededSourcesAreReproducibleAndIndependent) {
  RandomSource a(42), b(42), c(43);
  std::string ta = a.token(32);
  EXPECT_EQ(ta, b.token(32));
  EXPECT_NE(ta, c.token(32));
  EXPECT_NE(a.token(32), ta);  // the sequence moves on
}

}  // namespace
}  // namespace warmline::sip
