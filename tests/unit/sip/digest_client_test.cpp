// DigestClient: answering 401/407 for a trunk's credentials, the retry built from it as it goes on
// the wire, nc per nonce, one stale retry, and the refusals that keep a caller from looping.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "digest_test_util.hpp"
#include "sip/auth/digest_client.hpp"

namespace warmline::sip::auth {
namespace {

using test::challenge_response;
using test::credential_params;
using test::outbound_request;
using test::parse_or_fail;

constexpr std::string_view kRealm = "trunk.example.net";
const DigestCredentials kTrunk{"gw-user", "s3cret"};

std::string challenge(std::string_view nonce, std::string_view extra = ", qop=\"auth\"", std::string_view realm = kRealm) {
  return "Digest realm=\"" + std::string(realm) + "\", nonce=\"" + std::string(nonce) + "\", opaque=\"op\"" +
         std::string(extra);
}

// The retry of `request` after `answer`, per the DigestClient contract: header in, CSeq + 1, new
// branch; then serialized and parsed back, as the server would see it.
Message retry(const Message& request, const AuthorizationHeader& header) {
  Message r = request;
  set_authorization(r, header);
  ++r.cseq.number;
  r.vias.front().params.front().value += "x";
  return parse_or_fail(serialize(r));
}

// What a server checks: the response recomputed from the received parameters and its own copy of
// the password.
void expect_server_accepts(const Message& request, std::string_view header_name, std::string_view password) {
  auto params = credential_params(request.header(header_name));
  auto algorithm = algorithm_from_name(params["algorithm"]);
  ASSERT_TRUE(algorithm);
  Qop qop = params["qop"] == "auth" ? Qop::kAuth : params["qop"] == "auth-int" ? Qop::kAuthInt : Qop::kNone;
  DigestInput in{.algorithm = *algorithm,
                 .username = params["username"],
                 .password = password,
                 .realm = params["realm"],
                 .nonce = params["nonce"],
                 .method = request.method,
                 .uri = params["uri"],
                 .qop = qop,
                 .nc = static_cast<uint32_t>(std::stoul(params["nc"].empty() ? "1" : params["nc"], nullptr, 16)),
                 .cnonce = params["cnonce"],
                 .body = request.body,
                 .body_hash = {}};
  EXPECT_EQ(compute_response(in), params["response"]);
  EXPECT_EQ(params["uri"], request.request_uri.to_string());  // the digest-uri is the Request-URI sent
}

TEST(DigestClient, Answers401WithAuthorizationThatRoundTripsThroughTheParser) {
  RandomSource random(7);
  DigestClient client(kTrunk);
  Message invite = outbound_request();
  DigestAnswer a = client.answer(invite, challenge_response(invite, 401, {challenge("n1")}), random);
  ASSERT_TRUE(a.ok()) << a.error.message();
  EXPECT_EQ(a.header->name, "Authorization");
  EXPECT_EQ(client.realm(), kRealm);

  Message sent = retry(invite, *a.header);
  EXPECT_EQ(sent.header("Authorization"), a.header->value);  // unchanged by serialize + parse
  EXPECT_EQ(sent.find_header("Proxy-Authorization"), nullptr);
  EXPECT_EQ(sent.cseq.number, 2u);
  EXPECT_EQ(sent.call_id, invite.call_id);
  EXPECT_EQ(sent.from.tag(), invite.from.tag());
  auto params = credential_params(sent.header("Authorization"));
  EXPECT_EQ(params["username"], "gw-user");
  EXPECT_EQ(params["realm"], kRealm);
  EXPECT_EQ(params["nonce"], "n1");
  EXPECT_EQ(params["uri"], "sip:+27115550100@trunk.example.net");
  EXPECT_EQ(params["algorithm"], "MD5");
  EXPECT_EQ(params["qop"], "auth");
  EXPECT_EQ(params["nc"], "00000001");
  EXPECT_EQ(params["cnonce"].size(), 16u);
  EXPECT_EQ(params["opaque"], "op");
  expect_server_accepts(sent, "Authorization", "s3cret");
}

TEST(DigestClient, Answers407WithProxyAuthorization) {
  RandomSource random(7);
  DigestClient client(kTrunk);
  Message invite = outbound_request();
  DigestAnswer a = client.answer(invite, challenge_response(invite, 407, {challenge("p1")}), random);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.header->name, "Proxy-Authorization");
  Message sent = retry(invite, *a.header);
  EXPECT_EQ(sent.find_header("Authorization"), nullptr);
  expect_server_accepts(sent, "Proxy-Authorization", "s3cret");
}

TEST(DigestClient, CnonceComesFromTheRandomSourceGiven) {
  Message invite = outbound_request();
  Message r401 = challenge_response(invite, 401, {challenge("n1")});
  auto cnonce_with_seed = [&](uint64_t seed) {
    RandomSource random(seed);
    DigestClient client(kTrunk);
    return credential_params(client.answer(invite, r401, random).header->value)["cnonce"];
  };
  EXPECT_EQ(cnonce_with_seed(42), cnonce_with_seed(42));
  EXPECT_NE(cnonce_with_seed(42), cnonce_with_seed(43));
  EXPECT_EQ(cnonce_with_seed(42), RandomSource(42).token(16));
}

// Quotes and backslashes in what the server sent come back escaped, so the server reads exactly
// the realm and nonce it hashed.
TEST(DigestClient, QuotedRealmAndNonceAreEscapedInTheAnswer) {
  RandomSource random(1);
  DigestClient client(kTrunk);
  Message invite = outbound_request();
  DigestAnswer a = client.answer(
      invite, challenge_response(invite, 401, {R"(Digest realm="the \"pbx\\", nonce="a\"b, c", opaque="\\")"}), random);
  ASSERT_TRUE(a.ok()) << a.error.message();
  EXPECT_EQ(client.realm(), "the \"pbx\\");
  Message sent = retry(invite, *a.header);
  auto params = credential_params(sent.header("Authorization"));
  EXPECT_EQ(params["realm"], "the \"pbx\\");
  EXPECT_EQ(params["nonce"], "a\"b, c");
  EXPECT_EQ(params["opaque"], "\\");
  expect_server_accepts(sent, "Authorization", "s3cret");
}

TEST(DigestClient, SecondChallengeWithoutStaleIsCredentialsRejected) {
  RandomSource random(1);
  DigestClient client({"gw-user", "wrong"});
  Message invite = outbound_request();
  DigestAnswer first = client.answer(invite, challenge_response(invite, 401, {challenge("n1")}), random);
  ASSERT_TRUE(first.ok());
  Message second_try = retry(invite, *first.header);
  // The server refuses the answer with a fresh challenge (a new nonce, no stale): stop.
  DigestAnswer second = client.answer(second_try, challenge_response(second_try, 401, {challenge("n2")}), random);
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.error, DigestError::kCredentialsRejected);
}

TEST(DigestClient, StaleIsRetriedOnceThenGivenUp) {
  RandomSource random(1);
  DigestClient client(kTrunk);
  Message invite = outbound_request();
  DigestAnswer a1 = client.answer(invite, challenge_response(invite, 401, {challenge("n1")}), random);
  ASSERT_TRUE(a1.ok());
  Message try2 = retry(invite, *a1.header);

  DigestAnswer a2 = client.answer(try2, challenge_response(try2, 401, {challenge("n2", ", qop=\"auth\", stale=true")}), random);
  ASSERT_TRUE(a2.ok()) << a2.error.message();
  Message try3 = retry(try2, *a2.header);
  EXPECT_EQ(try3.cseq.number, 3u);
  auto params = credential_params(try3.header("Authorization"));
  EXPECT_EQ(params["nonce"], "n2");
  EXPECT_EQ(params["nc"], "00000001");
  ASSERT_EQ(std::count_if(try3.headers.begin(), try3.headers.end(),
                          [](const Header& h) { return h.name == "Authorization"; }),
            1)
      << "set_authorization replaces our earlier answer";
  expect_server_accepts(try3, "Authorization", "s3cret");

  DigestAnswer a3 = client.answer(try3, challenge_response(try3, 401, {challenge("n3", ", qop=\"auth\", stale=true")}), random);
  EXPECT_EQ(a3.error, DigestError::kStaleRepeated);
  DigestAnswer a3b = client.answer(try3, challenge_response(try3, 401, {challenge("n3")}), random);
  EXPECT_EQ(a3b.error, DigestError::kCredentialsRejected);
}

TEST(DigestClient, NonceCountGrowsPerNonce) {
  RandomSource random(1);
  DigestClient client(kTrunk);
  auto nc_of = [](const AuthorizationHeader& h) { return credential_params(h.value)["nc"]; };

  EXPECT_FALSE(client.authorize(outbound_request("REFER"), random)) << "nothing to reuse before a challenge";
  Message invite = outbound_request();
  DigestAnswer a = client.answer(invite, challenge_response(invite, 401, {challenge("n1")}), random);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(nc_of(*a.header), "00000001");

  // A later request, authorized up front with the same nonce (one round trip saved).
  Message refer = outbound_request("REFER", "sip:caller@192.0.2.9:5062");
  auto pre = client.authorize(refer, random);
  ASSERT_TRUE(pre);
  EXPECT_EQ(nc_of(*pre), "00000002");
  Message refer_sent = retry(refer, *pre);
  expect_server_accepts(refer_sent, "Authorization", "s3cret");

  // The server hands out the same nonce again to a new request: nc keeps counting for it.
  Message bye = outbound_request("BYE");
  a = client.answer(bye, challenge_response(bye, 401, {challenge("n1")}), random);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(nc_of(*a.header), "00000003");
  EXPECT_EQ(client.nonce_count(), 3u);

  // A new nonce starts at 1.
  a = client.answer(invite, challenge_response(invite, 401, {challenge("n9")}), random);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(nc_of(*a.header), "00000001");
}

// A request authorized up front with a nonce that has since expired gets stale=true: that is a
// normal expiry, not the stale loop, even when the nonce came from an earlier stale retry.
TEST(DigestClient, StaleOnAReusedNonceIsRetried) {
  RandomSource random(1);
  DigestClient client(kTrunk);
  Message invite = outbound_request();
  DigestAnswer a = client.answer(invite, challenge_response(invite, 401, {challenge("n1")}), random);
  Message try2 = retry(invite, *a.header);
  a = client.answer(try2, challenge_response(try2, 401, {challenge("n2", ", qop=\"auth\", stale=true")}), random);
  ASSERT_TRUE(a.ok());

  Message refer = outbound_request("REFER");
  auto pre = client.authorize(refer, random);  // n2, nc=2
  ASSERT_TRUE(pre);
  Message refer_sent = retry(refer, *pre);
  a = client.answer(refer_sent, challenge_response(refer_sent, 401, {challenge("n3", ", qop=\"auth\", stale=true")}), random);
  ASSERT_TRUE(a.ok()) << a.error.message();
  EXPECT_EQ(credential_params(a.header->value)["nonce"], "n3");
}

// Requests in flight at once through one trunk: each is judged by the credentials it carried.
TEST(DigestClient, ConcurrentRequestsAreJudgedSeparately) {
  RandomSource random(1);
  DigestClient client(kTrunk);
  Message first = outbound_request();
  Message second = outbound_request("INVITE", "sip:+27115550199@trunk.example.net");
  second.call_id = "other@192.0.2.1";
  DigestAnswer a1 = client.answer(first, challenge_response(first, 401, {challenge("n1")}), random);
  DigestAnswer b1 = client.answer(second, challenge_response(second, 401, {challenge("n2")}), random);
  ASSERT_TRUE(a1.ok());
  ASSERT_TRUE(b1.ok());
  Message first_retry = retry(first, *a1.header);
  // The first INVITE's answer (nonce n1) is refused while the second one is still fresh.
  EXPECT_EQ(client.answer(first_retry, challenge_response(first_retry, 401, {challenge("n3")}), random).error,
            DigestError::kCredentialsRejected);
  Message second_retry = retry(second, *b1.header);
  expect_server_accepts(second_retry, "Authorization", "s3cret");
}

TEST(DigestClient, RealmIsBoundAndForeignRealmsAreNotAnswered) {
  RandomSource random(1);
  Message invite = outbound_request();
  DigestClient fixed(kTrunk, "pbx.example.com");
  EXPECT_EQ(fixed.answer(invite, challenge_response(invite, 401, {challenge("n1")}), random).error,
            DigestError::kRealmMismatch);

  DigestClient first_come(kTrunk);
  ASSERT_TRUE(first_come.answer(invite, challenge_response(invite, 401, {challenge("n1")}), random).ok());
  EXPECT_EQ(first_come.answer(invite, challenge_response(invite, 401, {challenge("n2", "", "evil.example")}), random).error,
            DigestError::kRealmMismatch);
}

// A proxy challenges (407), then the far end (401): the final request carries both answers.
TEST(DigestClient, ProxyThenServerCarriesBothHeaders) {
  RandomSource random(1);
  DigestClient proxy({"proxy-user", "p"}, "proxy.example.net");
  DigestClient server(kTrunk, std::string(kRealm));
  Message invite = outbound_request();
  DigestAnswer p = proxy.answer(invite, challenge_response(invite, 407, {challenge("pn", "", "proxy.example.net")}), random);
  ASSERT_TRUE(p.ok());
  Message try2 = retry(invite, *p.header);
  DigestAnswer s = server.answer(try2, challenge_response(try2, 401, {challenge("sn")}), random);
  ASSERT_TRUE(s.ok());
  Message try3 = retry(try2, *s.header);
  expect_server_accepts(try3, "Proxy-Authorization", "p");
  expect_server_accepts(try3, "Authorization", "s3cret");
}

TEST(DigestClient, AuthIntOnlyHashesTheBody) {
  RandomSource random(1);
  DigestClient client(kTrunk);
  Message invite = outbound_request("INVITE", "sip:+27115550100@trunk.example.net",
                                    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n");
  DigestAnswer a = client.answer(
      invite, challenge_response(invite, 401, {challenge("n1", ", qop=\"auth-int\", algorithm=SHA-256")}), random);
  ASSERT_TRUE(a.ok());
  Message sent = retry(invite, *a.header);
  EXPECT_EQ(credential_params(sent.header("Authorization"))["qop"], "auth-int");
  expect_server_accepts(sent, "Authorization", "s3cret");
}

TEST(DigestClient, RefusesWhatCannotBeSent) {
  RandomSource random(1);
  Message invite = outbound_request();
  Message r401 = challenge_response(invite, 401, {challenge("n1")});
  DigestClient bad_user({"gw\r\nX-Injected: 1", "pw"});
  EXPECT_EQ(bad_user.answer(invite, r401, random).error, DigestError::kInvalidInput);
  DigestClient client(kTrunk);
  Message ok = make_response(invite, 200, "");
  EXPECT_EQ(client.answer(invite, ok, random).error, DigestError::kNoChallenge);
}

}  // namespace
}  // namespace warmline::sip::auth
