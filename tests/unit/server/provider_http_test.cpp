// Form bodies and credentials of the providers' REST paths (server/provider_http.hpp): form decoding as
// browsers and Twilio's helper libraries encode, HTTP Basic (RFC 7617) and Bearer (RFC 6750) checks.
#include "server/provider_http.hpp"

#include <gtest/gtest.h>

#include <string>

namespace warmline::server::provider {
namespace {

TEST(FormTest, DecodesPairsPlusAndPercentEscapes) {
  auto form = parse_form("Status=completed&Twiml=%3CResponse%3E%3CSay%3EHi+there%3C%2FSay%3E%3C%2FResponse%3E&x=a%2Bb");
  ASSERT_TRUE(form);
  ASSERT_EQ(form->size(), 3u);
  EXPECT_EQ(form_value(*form, "Status"), "completed");
  EXPECT_EQ(form_value(*form, "Twiml"), "<Response><Say>Hi there</Say></Response>");
  EXPECT_EQ(form_value(*form, "x"), "a+b");  // an escaped '+' stays a plus
  EXPECT_EQ(form_value(*form, "status"), std::nullopt);  // names are case-sensitive
}

TEST(FormTest, EdgeCases) {
  auto form = parse_form("&&a=&b&=v&c=1=2&%ZZ=%4&d=%e2%82%ac&a=second");
  ASSERT_TRUE(form);
  EXPECT_EQ(form_value(*form, "a"), "");        // first value wins
  EXPECT_EQ(form_value(*form, "b"), "");        // no '='
  EXPECT_EQ(form_value(*form, ""), "v");
  EXPECT_EQ(form_value(*form, "c"), "1=2");     // only the first '=' splits
  EXPECT_EQ(form_value(*form, "%ZZ"), "%4");    // malformed escapes kept as written
  EXPECT_EQ(form_value(*form, "d"), "\xe2\x82\xac");
  EXPECT_TRUE(parse_form("")->empty());
}

TEST(FormTest, FieldCountIsBounded) {
  std::string body;
  for (size_t i = 0; i < kMaxFormFields; ++i) body += "f" + std::to_string(i) + "=1&";
  EXPECT_TRUE(parse_form(body));
  EXPECT_FALSE(parse_form(body + "one=more"));
}

TEST(CredentialsTest, SecretsEqual) {
  EXPECT_TRUE(secrets_equal("s3cret", "s3cret"));
  EXPECT_TRUE(secrets_equal("", ""));
  EXPECT_FALSE(secrets_equal("s3cret", "s3creT"));
  EXPECT_FALSE(secrets_equal("s3cret", "s3cret "));
  EXPECT_FALSE(secrets_equal("s3cret", ""));
}

TEST(CredentialsTest, BasicAuth) {
  // base64("AC123:tok3n") = QUMxMjM6dG9rM24=
  EXPECT_TRUE(basic_auth_matches("Basic QUMxMjM6dG9rM24=", "AC123", "tok3n"));
  EXPECT_TRUE(basic_auth_matches("basic   QUMxMjM6dG9rM24=  ", "AC123", "tok3n"));  // scheme case, spaces
  EXPECT_FALSE(basic_auth_matches("Basic QUMxMjM6dG9rM24=", "AC123", "tok3m"));
  EXPECT_FALSE(basic_auth_matches("Basic QUMxMjM6dG9rM24=", "AC124", "tok3n"));
  EXPECT_FALSE(basic_auth_matches("Bearer QUMxMjM6dG9rM24=", "AC123", "tok3n"));
  EXPECT_FALSE(basic_auth_matches("Basic", "AC123", "tok3n"));
  EXPECT_FALSE(basic_auth_matches("", "AC123", "tok3n"));
  EXPECT_FALSE(basic_auth_matches("Basic QUMxMjM6dG9rM24", "AC123", "tok3n"));   // not base64
  EXPECT_FALSE(basic_auth_matches("Basic QUMxMjN0b2szbg==", "AC123", "tok3n"));  // "AC123tok3n": no colon
  EXPECT_FALSE(basic_auth_matches("BasicQUMxMjM6dG9rM24=", "AC123", "tok3n"));
  // base64("AC123:tok:3n") — the password may hold a colon, the user may not.
  EXPECT_TRUE(basic_auth_matches("Basic QUMxMjM6dG9rOjNu", "AC123", "tok:3n"));
}

TEST(CredentialsTest, BearerAuth) {
  EXPECT_TRUE(bearer_auth_matches("Bearer KEY_abc", "KEY_abc"));
  EXPECT_TRUE(bearer_auth_matches("bearer KEY_abc", "KEY_abc"));
  EXPECT_FALSE(bearer_auth_matches("Bearer KEY_abd", "KEY_abc"));
  EXPECT_FALSE(bearer_auth_matches("Bearer ", "KEY_abc"));
  EXPECT_FALSE(bearer_auth_matches("Basic KEY_abc", "KEY_abc"));
  EXPECT_FALSE(bearer_auth_matches("KEY_abc", "KEY_abc"));
}

}  // namespace
}  // namespace warmline::server::provider
