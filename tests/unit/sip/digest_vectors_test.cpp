// Known-answer tests of the digest response: every vector of tests/data/digest-vectors.json (RFC 2617,
// RFC 7616 §3.9.1, draft-smith-sipping-auth-examples), the RFC 7616 §3.9.1 exchange end to end, and
// the hash functions themselves against their published test values.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "digest_test_util.hpp"
#include "sip/auth/digest_challenge.hpp"
#include "sip/auth/digest_credentials.hpp"
#include "sip/auth/digest_hash.hpp"
#include "sip/parser_grammar.hpp"

namespace warmline::sip::auth {
namespace {

using test::challenge_response;
using test::credential_params;
using test::outbound_request;

struct Vector {
  std::string id;
  std::optional<std::string> challenge;  // the header line, "WWW-Authenticate: Digest ..."
  std::string method, uri, username, password, realm, nonce, expected;
  std::optional<std::string> opaque, algorithm, qop, nc, cnonce, entity_body_md5;
};

std::optional<std::string> optional_string(simdjson::dom::object o, const char* key) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  return std::string(std::string_view(e));
}

std::vector<Vector> load_vectors() {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load(std::filesystem::path(WARMLINE_TEST_DATA) / "digest-vectors.json");
  std::vector<Vector> out;
  for (simdjson::dom::object o : doc.get_array()) {
    Vector v;
    v.id = std::string(std::string_view(o["id"]));
    v.challenge = optional_string(o, "challenge");
    v.method = std::string(std::string_view(o["method"]));
    v.uri = std::string(std::string_view(o["uri"]));
    v.username = std::string(std::string_view(o["username"]));
    v.password = std::string(std::string_view(o["password"]));
    v.realm = std::string(std::string_view(o["realm"]));
    v.nonce = std::string(std::string_view(o["nonce"]));
    v.expected = std::string(std::string_view(o["expected_response"]));
    v.opaque = optional_string(o, "opaque");
    v.algorithm = optional_string(o, "algorithm");
    v.qop = optional_string(o, "qop");
    v.nc = optional_string(o, "nc");
    v.cnonce = optional_string(o, "cnonce");
    v.entity_body_md5 = optional_string(o, "entity_body_md5");
    out.push_back(std::move(v));
  }
  return out;
}

uint32_t nc_of(const Vector& v) { return v.nc ? static_cast<uint32_t>(std::stoul(*v.nc, nullptr, 16)) : 1; }

Qop qop_of(const Vector& v) {
  if (!v.qop) return Qop::kNone;
  return *v.qop == "auth-int" ? Qop::kAuthInt : Qop::kAuth;
}

// The challenge as a server sends it: the vector's own line, or one written from its fields.
std::string challenge_value(const Vector& v) {
  if (v.challenge) {
    constexpr std::string_view kPrefix = "WWW-Authenticate:";
    std::string_view line = *v.challenge;
    EXPECT_TRUE(line.starts_with(kPrefix)) << line;
    line.remove_prefix(kPrefix.size());
    return std::string(grammar::trim(line));
  }
  std::string c = "Digest realm=\"" + v.realm + "\", nonce=\"" + v.nonce + "\"";
  if (v.opaque) c += ", opaque=\"" + *v.opaque + "\"";
  if (v.algorithm) c += ", algorithm=" + *v.algorithm;
  if (v.qop) c += ", qop=\"" + *v.qop + "\"";
  return c;
}

const std::vector<Vector>& vectors() {
  static const std::vector<Vector> kVectors = load_vectors();
  return kVectors;
}

TEST(DigestVectors, FileHoldsEveryVector) {
  // The file is copied byte-exact from the shared test data; a count change means it was edited.
  EXPECT_EQ(vectors().size(), 10u);
}

// The formula alone, for every vector (the auth-int ones give H(entity-body), not the body).
TEST(DigestVectors, ComputeResponseMatchesEveryVector) {
  for (const Vector& v : vectors()) {
    SCOPED_TRACE(v.id);
    auto algorithm = algorithm_from_name(v.algorithm.value_or("MD5"));
    ASSERT_TRUE(algorithm);
    const std::string cnonce = v.cnonce.value_or("");  // a named string: DigestInput holds views
    DigestInput in{.algorithm = *algorithm,
                   .username = v.username,
                   .password = v.password,
                   .realm = v.realm,
                   .nonce = v.nonce,
                   .method = v.method,
                   .uri = v.uri,
                   .qop = qop_of(v),
                   .nc = nc_of(v),
                   .cnonce = cnonce,
                   .body = {},
                   .body_hash = v.entity_body_md5 ? std::string_view(*v.entity_body_md5) : std::string_view()};
    EXPECT_EQ(compute_response(in), v.expected);
  }
}

// Challenge text -> select_challenge on a parsed 401 -> Authorization value, for every vector whose
// qop is not auth-int (those need the body itself, which the vectors do not give).
TEST(DigestVectors, ChallengeToAuthorizationMatchesVectors) {
  int checked = 0;
  for (const Vector& v : vectors()) {
    SCOPED_TRACE(v.id);
    if (v.entity_body_md5) continue;
    Message response = challenge_response(outbound_request(), 401, {challenge_value(v)});
    ChallengeParse p = select_challenge(response);
    ASSERT_TRUE(p.challenge) << to_string(p.error);
    EXPECT_EQ(p.challenge->realm, v.realm);
    EXPECT_EQ(p.challenge->nonce, v.nonce);
    EXPECT_EQ(p.challenge->opaque, v.opaque);
    EXPECT_EQ(algorithm_name(p.challenge->algorithm), v.algorithm.value_or("MD5"));
    EXPECT_EQ(p.challenge->qop, qop_of(v));

    BuiltAuthorization built = build_authorization(
        *p.challenge, {v.username, v.password},
        {.method = v.method, .uri = v.uri, .body = {}, .nc = nc_of(v), .cnonce = v.cnonce.value_or("")});
    ASSERT_TRUE(built.ok()) << to_string(built.error);
    auto params = credential_params(built.value);
    EXPECT_EQ(params["response"], v.expected);
    EXPECT_EQ(params["username"], v.username);
    EXPECT_EQ(params["uri"], v.uri);
    EXPECT_EQ(params["nonce"], v.nonce);
    if (v.qop) {
      EXPECT_EQ(params["nc"], v.nc.value_or("00000001"));
      EXPECT_EQ(params["cnonce"], v.cnonce.value_or(""));
    } else {
      EXPECT_FALSE(params.contains("nc"));
      EXPECT_FALSE(params.contains("cnonce"));
    }
    ++checked;
  }
  EXPECT_EQ(checked, 8);  // all but the two auth-int vectors
}

// RFC 7616 §3.9.1: the server offers SHA-256 and MD5 in one 401; the client takes SHA-256. The
// Authorization values the RFC prints, compared parameter by parameter.
TEST(DigestRfc7616, Example391PicksSha256AndMatchesBothResponses) {
  const std::string sha256 =
      "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, "
      "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
  const std::string md5 =
      "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5, "
      "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
  const DigestCredentials mufasa{"Mufasa", "Circle of Life"};
  const AuthorizationInput input{.method = "GET",
                                 .uri = "/dir/index.html",
                                 .body = {},
                                 .nc = 1,
                                 .cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"};

  // Two header lines (as the RFC shows), and both orders in one line: SHA-256 wins each time.
  for (auto response : {challenge_response(outbound_request(), 401, {sha256, md5}),
                        challenge_response(outbound_request(), 401, {md5 + ", " + sha256})}) {
    ChallengeParse p = select_challenge(response);
    ASSERT_TRUE(p.challenge);
    EXPECT_EQ(p.challenge->algorithm, DigestAlgorithm::kSha256);
  }

  for (const auto& [challenge, expected] :
       {std::pair{sha256, std::string("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")},
        std::pair{md5, std::string("8ca523f5e9506fed4657c9700eebdbec")}}) {
    ChallengeParse p = select_challenge(challenge_response(outbound_request(), 401, {challenge}));
    ASSERT_TRUE(p.challenge);
    BuiltAuthorization built = build_authorization(*p.challenge, mufasa, input);
    ASSERT_TRUE(built.ok());
    auto params = credential_params(built.value);
    EXPECT_EQ(params.size(), 10u) << built.value;
    EXPECT_EQ(params["username"], "Mufasa");
    EXPECT_EQ(params["realm"], "http-auth@example.org");
    EXPECT_EQ(params["uri"], "/dir/index.html");
    EXPECT_EQ(params["algorithm"], algorithm_name(p.challenge->algorithm));
    EXPECT_EQ(params["nonce"], "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
    EXPECT_EQ(params["nc"], "00000001");
    EXPECT_EQ(params["cnonce"], "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
    EXPECT_EQ(params["qop"], "auth");
    EXPECT_EQ(params["response"], expected);
    EXPECT_EQ(params["opaque"], "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
  }
}

// The published test value of each hash for "abc" (RFC 1321 A.5; FIPS 180-4 examples for SHA-256 and
// SHA-512/256, which is its own initial value, not SHA-512 cut short).
TEST(DigestHash, KnownAnswersForAbc) {
  EXPECT_EQ(hash_hex(DigestAlgorithm::kMd5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hash_hex(DigestAlgorithm::kSha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash_hex(DigestAlgorithm::kSha512_256, "abc"),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
  EXPECT_EQ(hash_hex(DigestAlgorithm::kSha512_256Sess, "abc"), hash_hex(DigestAlgorithm::kSha512_256, "abc"));
}

// RFC 7616 §3.9.2's inputs (SHA-512-256, userhash, a UTF-8 username). The values the RFC prints
// cannot be reproduced (erratum 4897 is reported against them), so the expected values here were
// computed from the RFC's formulas with Python's hashlib, an implementation independent of this one.
TEST(DigestRfc7616, Example392Sha512_256WithUserhash) {
  ChallengeParse p = select_challenge(challenge_response(
      outbound_request(), 401,
      {"Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
       "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
       "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, userhash=true"}));
  ASSERT_TRUE(p.challenge) << to_string(p.error);
  EXPECT_EQ(p.challenge->algorithm, DigestAlgorithm::kSha512_256);
  EXPECT_TRUE(p.challenge->userhash);
  BuiltAuthorization built = build_authorization(
      *p.challenge, {"J\xc3\xa4s\xc3\xb8n Doe", "Secret, or not?"},
      {.method = "GET", .uri = "/doe.json", .body = {}, .nc = 1, .cnonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v"});
  ASSERT_TRUE(built.ok());
  auto params = credential_params(built.value);
  EXPECT_EQ(params["username"], "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
  EXPECT_EQ(params["userhash"], "true");
  EXPECT_EQ(params["algorithm"], "SHA-512-256");
  EXPECT_EQ(params["response"], "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
}

}  // namespace
}  // namespace warmline::sip::auth
