// sip/usage/digest_retry: the retry a 401/407 asks for (RFC 3261 §22.2, §8.1.3.5), sending a request that
// answers its challenges on its own, and the outbound INVITE session's BYE, which uses it and must be
// answered even when the session is gone.
#include "sip/usage/digest_retry.hpp"

#include <gmock/gmock.h>

#include "digest_test_util.hpp"
#include "invite_client_fixture.hpp"

namespace warmline::sip {
namespace {

using ::testing::ElementsAre;

constexpr std::string_view kChallenge = R"(Digest realm="trunk.example", nonce="n-1", algorithm=MD5, qop="auth")";

auth::DigestClient client() { return auth::DigestClient(auth::DigestCredentials{"alice", "secret"}); }

struct DigestRetryTest : InviteClientFixture {
  std::vector<Message> responses;  // what a send_answering_challenges handler saw
  std::shared_ptr<auth::DigestClient> digest = std::make_shared<auth::DigestClient>(client());

  // A BYE as a dialog builds it: no Via yet.
  static Message bye() {
    Message m = auth::test::outbound_request("BYE");
    m.vias.clear();
    m.cseq.number = 5;
    return m;
  }
  ResponseHandler record() {
    return [this](const Message& r) { responses.push_back(r); };
  }
  // The far end answers the last request sent with `method`: `status`, with a challenge when one is given.
  void answer(std::string_view method, int status, std::string_view challenge = {}) {
    const Message* req = last_sent(method);
    ASSERT_NE(req, nullptr);
    Message r = make_response(*req, status, {});
    if (r.to.tag().empty()) r.to.set_tag("far-tag");
    if (!challenge.empty()) r.add_header(status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate", challenge);
    deliver(r);
  }
  std::vector<const Message*> sent(std::string_view method) const {
    std::vector<const Message*> out;
    for (const auto& s : transport.sent())
      if (s.message.is_request && s.message.method == method) out.push_back(&s.message);
    return out;
  }
};

// ---------------------------------------------------------------------------------------------------
// build_challenge_retry

TEST_F(DigestRetryTest, TheRetryIsTheSameRequestWithTheGivenCSeqNoViaAndTheCredentials) {
  Message sent = auth::test::outbound_request("REFER", "sip:bob@203.0.113.5:5070");
  sent.add_header("Refer-To", "<sip:support@pbx.example.com>");
  Message challenge = auth::test::challenge_response(sent, 407, {kChallenge});
  auth::DigestClient d = client();
  ChallengeRetry retry = build_challenge_retry(d, sent, challenge, 9, random);
  ASSERT_TRUE(retry.ok()) << retry.error.message();
  const Message& m = *retry.request;
  EXPECT_TRUE(m.vias.empty()) << "a new transaction: the layer adds a Via with a fresh branch";
  EXPECT_EQ(m.cseq.number, 9u);
  EXPECT_EQ(m.cseq.method, "REFER");
  EXPECT_EQ(m.call_id, sent.call_id);
  EXPECT_EQ(m.from.tag(), sent.from.tag());
  EXPECT_EQ(m.request_uri.to_string(), sent.request_uri.to_string());
  EXPECT_EQ(m.header("Refer-To"), "<sip:support@pbx.example.com>");
  EXPECT_TRUE(m.header("Authorization").empty());
  auto params = auth::test::credential_params(m.header("Proxy-Authorization"));
  EXPECT_EQ(params["username"], "alice");
  EXPECT_EQ(params["realm"], "trunk.example");
  EXPECT_EQ(params["uri"], "sip:bob@203.0.113.5:5070");
}

TEST_F(DigestRetryTest, AChallengeToTheAnsweredRequestIsNotAnsweredAgain) {
  const Message sent = auth::test::outbound_request("BYE");
  auth::DigestClient d = client();
  ChallengeRetry first =
      build_challenge_retry(d, sent, auth::test::challenge_response(sent, 401, {kChallenge}), 2, random);
  ASSERT_TRUE(first.ok());
  Message on_wire = *first.request;
  on_wire.vias = sent.vias;  // what the layer adds (the branch does not matter here)
  const Message again =
      auth::test::challenge_response(on_wire, 401, {R"(Digest realm="trunk.example", nonce="n-2", qop="auth")"});
  ChallengeRetry second = build_challenge_retry(d, on_wire, again, 3, random);
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.error, auth::DigestError::kCredentialsRejected);
}

// ---------------------------------------------------------------------------------------------------
// send_answering_challenges

TEST_F(DigestRetryTest, WithoutADigestClientTheChallengeIsTheFinalResponse) {
  send_answering_challenges(layer, bye(), trunk, nullptr, record());
  answer("BYE", 401, kChallenge);
  EXPECT_EQ(transport.count_requests("BYE"), 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 401);
}

TEST_F(DigestRetryTest, AChallengeIsAnsweredWithTheNextCSeqAndTheHandlerSeesTheAnsweredRequestsFinal) {
  send_answering_challenges(layer, bye(), trunk, digest, record());
  answer("BYE", 401, kChallenge);
  EXPECT_TRUE(responses.empty()) << "the challenge is not the outcome";
  auto byes = sent("BYE");
  ASSERT_EQ(byes.size(), 2u);
  EXPECT_EQ(byes[1]->cseq.number, 6u);
  EXPECT_NE(byes[1]->vias.front().branch(), byes[0]->vias.front().branch());
  EXPECT_TRUE(byes[0]->header("Authorization").empty());
  EXPECT_FALSE(byes[1]->header("Authorization").empty());
  EXPECT_EQ(transport.sent().back().to, trunk);
  answer("BYE", 200);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 200);
  EXPECT_EQ(responses[0].cseq.number, 6u);
}

TEST_F(DigestRetryTest, RefusedCredentialsEndItWithTheSecondChallenge) {
  send_answering_challenges(layer, bye(), trunk, digest, record());
  answer("BYE", 401, kChallenge);
  answer("BYE", 401, R"(Digest realm="trunk.example", nonce="n-2", qop="auth")");
  EXPECT_EQ(transport.count_requests("BYE"), 2);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 401);
}

TEST_F(DigestRetryTest, StaleChallengesAreAnsweredAtMostTwice) {
  send_answering_challenges(layer, bye(), trunk, digest, record());
  answer("BYE", 407, kChallenge);
  for (std::string_view nonce : {"n-2", "n-3", "n-4"})
    answer("BYE", 407,
           "Digest realm=\"trunk.example\", nonce=\"" + std::string(nonce) + "\", qop=\"auth\", stale=true");
  EXPECT_EQ(transport.count_requests("BYE"), 3) << "the first answer and one stale renewal";
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status_code, 407);
}

// ---------------------------------------------------------------------------------------------------
// The outbound INVITE session's BYE

TEST_F(DigestRetryTest, TheSessionsChallengedByeIsAnsweredOnceAndEndsWithTheAnsweredOnesFinal) {
  InviteClientOptions o = options();
  o.digest = digest;
  start(std::move(o));
  deliver(response(200, "fork-a", kAnswer));
  session->hang_up();
  answer("BYE", 401, kChallenge);
  EXPECT_TRUE(ended.empty()) << "the answered BYE is still out";
  auto byes = sent("BYE");
  ASSERT_EQ(byes.size(), 2u);
  EXPECT_EQ(byes[1]->cseq.number, byes[0]->cseq.number + 1);
  EXPECT_EQ(byes[1]->from.tag(), "our-tag");
  EXPECT_EQ(byes[1]->to.tag(), "fork-a");
  EXPECT_EQ(byes[1]->routes.size(), byes[0]->routes.size()) << "the route set as before";
  EXPECT_FALSE(byes[1]->header("Authorization").empty());
  answer("BYE", 401, R"(Digest realm="trunk.example", nonce="n-2", qop="auth")");
  EXPECT_EQ(transport.count_requests("BYE"), 2) << "no third BYE";
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kLocalHangUp));
}

TEST_F(DigestRetryTest, AChallengeToTheByeOfADestroyedSessionIsStillAnswered) {
  InviteClientOptions o = options();
  o.digest = digest;
  start(std::move(o));
  deliver(response(200, "fork-a", kAnswer));
  session->hang_up();
  session.reset();  // the owner drops the leg as soon as it has hung up
  answer("BYE", 407, kChallenge);
  auto byes = sent("BYE");
  ASSERT_EQ(byes.size(), 2u);
  EXPECT_FALSE(byes[1]->header("Proxy-Authorization").empty());
  answer("BYE", 200);
  EXPECT_TRUE(ended.empty()) << "no callback once the session is gone";
}

TEST_F(DigestRetryTest, WithoutCredentialsTheSessionsChallengedByeEndsIt) {
  answered_call();
  session->hang_up();
  answer("BYE", 401, kChallenge);
  EXPECT_EQ(transport.count_requests("BYE"), 1);
  EXPECT_THAT(ended, ElementsAre(InviteEnd::kLocalHangUp));
}

}  // namespace
}  // namespace warmline::sip
