// Reading digest challenges: the auth-header grammar under abuse (quoting, escapes, commas, order,
// case, several challenges), the interpretation of each Digest parameter, and which challenge of a
// 401/407 gets answered.
#include <gtest/gtest.h>

#include <string>

#include "digest_test_util.hpp"
#include "sip/auth/digest_challenge.hpp"

namespace warmline::sip::auth {
namespace {

using test::challenge_response;
using test::outbound_request;
using test::parse_or_fail;

// One header value -> the challenge select_challenge picks from a 401 carrying it.
ChallengeParse pick(std::string_view value, int status = 401) {
  return select_challenge(challenge_response(outbound_request(), status, {value}));
}

DigestError error_of(std::string_view value) { return pick(value).error; }

TEST(DigestChallenge, EscapedQuotesAndBackslashesAreUnescaped) {
  ChallengeParse p = pick(R"(Digest realm="the \"office\" pbx", nonce="ab\\cd\"e")");
  ASSERT_TRUE(p.challenge) << to_string(p.error);
  EXPECT_EQ(p.challenge->realm, "the \"office\" pbx");
  EXPECT_EQ(p.challenge->nonce, "ab\\cd\"e");
}

TEST(DigestChallenge, CommasInsideQuotesAreData) {
  ChallengeParse p = pick(R"(Digest realm="a, b", nonce="x,y,z", opaque=",", qop="auth,auth-int")");
  ASSERT_TRUE(p.challenge);
  EXPECT_EQ(p.challenge->realm, "a, b");
  EXPECT_EQ(p.challenge->nonce, "x,y,z");
  EXPECT_EQ(p.challenge->opaque, ",");
  EXPECT_EQ(p.challenge->qop, Qop::kAuth);
}

TEST(DigestChallenge, AnyOrderAnyCaseSpacesAroundEqualsUnknownParamsIgnored) {
  ChallengeParse p = pick(
      R"(dIgEsT  NONCE = "n1" , Foo=bar, ALGORITHM=sha-256,baz="q, \"x\"", QoP="AUTH", REALM= "r", STALE=TRUE)");
  ASSERT_TRUE(p.challenge) << to_string(p.error);
  EXPECT_EQ(p.challenge->realm, "r");
  EXPECT_EQ(p.challenge->nonce, "n1");
  EXPECT_EQ(p.challenge->algorithm, DigestAlgorithm::kSha256);
  EXPECT_EQ(p.challenge->qop, Qop::kAuth);
  EXPECT_TRUE(p.challenge->stale);
}

TEST(DigestChallenge, OptionalParametersAndDefaults) {
  ChallengeParse p = pick(R"(Digest realm="biloxi.com", nonce="n")");
  ASSERT_TRUE(p.challenge);
  EXPECT_EQ(p.challenge->algorithm, DigestAlgorithm::kMd5);  // RFC 7616 §3.3: MD5 when absent
  EXPECT_EQ(p.challenge->qop, Qop::kNone);                   // RFC 2069 form
  EXPECT_FALSE(p.challenge->opaque);
  EXPECT_FALSE(p.challenge->stale);
  EXPECT_FALSE(p.challenge->userhash);
  EXPECT_FALSE(p.challenge->proxy);

  p = pick(R"(Digest realm="", nonce="n", stale="true", userhash=true, algorithm="SHA-256",)"
           R"( domain="sip:a.example.com  sip:b.example.com")");
  ASSERT_TRUE(p.challenge);
  EXPECT_EQ(p.challenge->realm, "");
  EXPECT_TRUE(p.challenge->stale);
  EXPECT_TRUE(p.challenge->userhash);
  EXPECT_EQ(p.challenge->algorithm, DigestAlgorithm::kSha256);  // quoted by a lax server: accepted
  EXPECT_EQ(p.challenge->domain, (std::vector<std::string>{"sip:a.example.com", "sip:b.example.com"}));

  p = pick(R"(Digest realm="r", nonce="n", stale=false, userhash=no)");
  ASSERT_TRUE(p.challenge);
  EXPECT_FALSE(p.challenge->stale);
  EXPECT_FALSE(p.challenge->userhash);
}

TEST(DigestChallenge, EveryAlgorithmByName) {
  for (auto alg : {DigestAlgorithm::kMd5, DigestAlgorithm::kMd5Sess, DigestAlgorithm::kSha256,
                   DigestAlgorithm::kSha256Sess, DigestAlgorithm::kSha512_256, DigestAlgorithm::kSha512_256Sess}) {
    std::string value = "Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=" + std::string(algorithm_name(alg));
    ChallengeParse p = pick(value);
    ASSERT_TRUE(p.challenge) << value;
    EXPECT_EQ(p.challenge->algorithm, alg);
  }
}

TEST(DigestChallenge, UnanswerableChallengesGiveTheReason) {
  EXPECT_EQ(error_of(R"(Digest realm="r", opaque="o")"), DigestError::kMissingNonce);
  EXPECT_EQ(error_of(R"(Digest realm="r", nonce="")"), DigestError::kMissingNonce);
  EXPECT_EQ(error_of(R"(Digest nonce="n")"), DigestError::kMissingRealm);
  EXPECT_EQ(error_of(R"(Digest realm="r", nonce="n", algorithm=SHA-1)"), DigestError::kUnsupportedAlgorithm);
  EXPECT_EQ(error_of(R"(Digest realm="r", nonce="n", algorithm=MD5-sess)"), DigestError::kUnsupportedAlgorithm)
      << "-sess has no cnonce to hash without qop";
  EXPECT_EQ(error_of(R"(Digest realm="r", nonce="n", qop="auth-conf")"), DigestError::kUnsupportedQop);
  EXPECT_EQ(error_of(R"(Basic realm="r")"), DigestError::kNotDigest);
  EXPECT_EQ(error_of("Negotiate abc123=="), DigestError::kNotDigest);
}

TEST(DigestChallenge, OnlyAuthIntOfferedIsAnsweredWithAuthInt) {
  ChallengeParse p = pick(R"(Digest realm="r", nonce="n", qop="auth-int")");
  ASSERT_TRUE(p.challenge);
  EXPECT_EQ(p.challenge->qop, Qop::kAuthInt);
}

TEST(DigestChallenge, MalformedValuesAreErrorsNotCrashes) {
  for (std::string_view bad : {
           R"(Digest realm="r, nonce="n")",            // unterminated quote
           R"(Digest realm="r" junk, nonce="n")",      // junk after a quoted value
           R"(Digest realm="r", realm="s", nonce="n")",  // a name twice
           R"(realm="r", Digest nonce="n")",           // a parameter before any scheme
           R"(Digest"r")",                             // no space after the scheme
           R"(Digest realm=, nonce="n")",              // empty value
           R"(Digest realm=a b, nonce="n")",           // a bare value with a space
           R"(Digest realm="r", nonce="n", =x)",       // no name
           R"(Negotiate abc==, realm="r")",            // parameters after a token68
           "Digest abc==",                             // Digest has no token68 form
           ",,,",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(error_of(bad), DigestError::kMalformed);
  }
}

// Every prefix of a busy header value, and the value with each byte replaced by a hostile one: the
// parser answers each with a value (a challenge or an error) and never throws or reads out of bounds.
TEST(DigestChallenge, TruncatedAndMangledInputIsSafe) {
  const std::string value =
      R"(Basic realm="x", Digest realm="a \"b\", c", nonce="n,1", qop="auth, auth-int", )"
      R"(algorithm=SHA-256, opaque="o\\", stale=true, Digest realm="a", nonce="n2")";
  for (size_t n = 0; n <= value.size(); ++n) {
    auto elements = parse_auth_elements(std::string_view(value).substr(0, n));
    if (elements)
      for (const auto& e : *elements) (void)interpret_digest_challenge(e);
  }
  for (size_t i = 0; i < value.size(); ++i) {
    for (char c : {'"', '\\', ',', '=', ' ', '\0', '<', '\x7f', '\xff'}) {
      std::string mangled = value;
      mangled[i] = c;
      auto elements = parse_auth_elements(mangled);
      if (elements)
        for (const auto& e : *elements) (void)interpret_digest_challenge(e);
    }
  }
  EXPECT_TRUE(parse_auth_elements(value));
}

TEST(DigestChallengeSelection, TwoChallengesInOneHeaderStrongestWins) {
  ChallengeParse p = pick(R"(Digest realm="r", nonce="n1", algorithm=MD5, qop="auth", )"
                          R"(Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth", )"
                          R"(Digest realm="r", nonce="n3", algorithm=SHA-256-sess, qop="auth")");
  ASSERT_TRUE(p.challenge);
  EXPECT_EQ(p.challenge->nonce, "n2");  // SHA-256 and SHA-256-sess tie: the first listed
  p = pick(R"(Digest realm="r", nonce="n1", algorithm=SHA-512-256, qop="auth", Digest realm="r", nonce="n2")");
  ASSERT_TRUE(p.challenge);
  EXPECT_EQ(p.challenge->algorithm, DigestAlgorithm::kSha512_256);
}

TEST(DigestChallengeSelection, OtherSchemesAndUnusableChallengesAreSkipped) {
  ChallengeParse p = pick(R"(Basic realm="x", Digest realm="r", nonce="n1", algorithm=SHA3-256, )"
                          R"(Negotiate abc=, Digest realm="r", nonce="n2")");
  ASSERT_TRUE(p.challenge) << to_string(p.error);
  EXPECT_EQ(p.challenge->nonce, "n2");
}

TEST(DigestChallengeSelection, SeveralHeaderLinesAndAMalformedOne) {
  Message r = challenge_response(outbound_request(), 401,
                                 {R"(Digest realm="r", nonce="n1")", R"(Digest realm="r, nonce=)",
                                  R"(Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth")"});
  ChallengeParse p = select_challenge(r);
  ASSERT_TRUE(p.challenge);
  EXPECT_EQ(p.challenge->nonce, "n2");
}

TEST(DigestChallengeSelection, A407ReadsProxyAuthenticateOnly) {
  Message r = challenge_response(outbound_request(), 407, {R"(Digest realm="proxy", nonce="p")"});
  r.add_header("WWW-Authenticate", R"(Digest realm="uas", nonce="u")");
  ChallengeParse p = select_challenge(r);
  ASSERT_TRUE(p.challenge);
  EXPECT_EQ(p.challenge->realm, "proxy");
  EXPECT_TRUE(p.challenge->proxy);

  Message only_www = challenge_response(outbound_request(), 401, {R"(Digest realm="uas", nonce="u")"});
  only_www.status_code = 407;
  EXPECT_EQ(select_challenge(only_www).error, DigestError::kNoChallenge);
}

TEST(DigestChallengeSelection, NoChallengeRealmFilterAndErrorOrder) {
  Message ok = challenge_response(outbound_request(), 401, {});
  EXPECT_EQ(select_challenge(ok).error, DigestError::kNoChallenge);
  ok.status_code = 200;
  ok.add_header("WWW-Authenticate", R"(Digest realm="r", nonce="n")");
  EXPECT_EQ(select_challenge(ok).error, DigestError::kNoChallenge);
  EXPECT_EQ(select_challenge(outbound_request()).error, DigestError::kNoChallenge);

  Message two = challenge_response(outbound_request(), 401,
                                   {R"(Digest realm="a", nonce="1")", R"(Digest realm="b", nonce="2")"});
  ASSERT_TRUE(select_challenge(two, "b").challenge);
  EXPECT_EQ(select_challenge(two, "b").challenge->nonce, "2");
  EXPECT_EQ(select_challenge(two, "c").error, DigestError::kRealmMismatch);

  // The most specific reason wins: an unsupported algorithm says more than a malformed line.
  Message mixed = challenge_response(outbound_request(), 401,
                                     {R"(Digest realm="r)", R"(Basic realm="x")",
                                      R"(Digest realm="r", nonce="n", algorithm=SHA-1)"});
  EXPECT_EQ(select_challenge(mixed).error, DigestError::kUnsupportedAlgorithm);
}

TEST(DigestChallengeSelection, FoldedHeaderLineFromTheWire) {
  Message r = parse_or_fail(
      "SIP/2.0 401 Unauthorized\r\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKdigest1\r\n"
      "From: <sip:gateway@192.0.2.1>;tag=ft1\r\n"
      "To: <sip:+27115550100@trunk.example.net>;tag=srv\r\n"
      "Call-ID: digest-test@192.0.2.1\r\n"
      "CSeq: 1 INVITE\r\n"
      "www-authenticate: Digest realm=\"trunk.example.net\",\r\n"
      "   nonce=\"abc\", algorithm=MD5,\r\n"
      "\tqop=\"auth\"\r\n"
      "Content-Length: 0\r\n\r\n");
  ChallengeParse p = select_challenge(r);
  ASSERT_TRUE(p.challenge) << to_string(p.error);
  EXPECT_EQ(p.challenge->realm, "trunk.example.net");
  EXPECT_EQ(p.challenge->nonce, "abc");
  EXPECT_EQ(p.challenge->qop, Qop::kAuth);
}

TEST(DigestError, IsAnErrorCode) {
  std::error_code ec = DigestError::kCredentialsRejected;
  EXPECT_EQ(ec, DigestError::kCredentialsRejected);
  EXPECT_STREQ(ec.category().name(), "sip-digest");
  EXPECT_EQ(ec.message(), "credentials rejected");
  EXPECT_FALSE(std::error_code(DigestError::kNone));
}

}  // namespace
}  // namespace warmline::sip::auth
