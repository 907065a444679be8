// Checking a credentials value warmline sent (Authorization / Proxy-Authorization) the way a server that
// knows the password would: the digest is recomputed from the request as it went on the wire.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sip/auth/digest_challenge.hpp"
#include "sip/auth/digest_hash.hpp"
#include "sip/message.hpp"

namespace warmline::server {

struct ExpectedDigest {
  std::string_view username;
  std::string_view password;
  std::string_view realm;
  std::string_view nonce;
  uint32_t nc = 1;
};

// MD5 with qop=auth, as the fixtures' challenges ask for.
inline void expect_valid_digest(std::string_view auth, const sip::Message& request, const ExpectedDigest& expected) {
  auto elements = sip::auth::parse_auth_elements(auth);
  ASSERT_TRUE(elements && elements->size() == 1) << "not one credentials value: " << auth;
  const sip::auth::AuthElement& e = elements->front();
  EXPECT_TRUE(sip::iequals(e.scheme, "Digest"));
  auto value = [&](std::string_view name) {
    const sip::auth::AuthParam* p = e.param(name);
    return p ? p->value : std::string();
  };
  EXPECT_EQ(value("username"), expected.username);
  EXPECT_EQ(value("realm"), expected.realm);
  EXPECT_EQ(value("nonce"), expected.nonce);
  EXPECT_EQ(value("uri"), request.request_uri.to_string());
  EXPECT_EQ(value("qop"), "auth");
  const std::string cnonce = value("cnonce");
  EXPECT_EQ(value("nc"), sip::auth::format_nonce_count(expected.nc));
  EXPECT_FALSE(cnonce.empty());
  auto response = sip::auth::compute_response(sip::auth::DigestInput{.algorithm = sip::auth::DigestAlgorithm::kMd5,
                                                                     .username = expected.username,
                                                                     .password = expected.password,
                                                                     .realm = expected.realm,
                                                                     .nonce = expected.nonce,
                                                                     .method = request.method,
                                                                     .uri = value("uri"),
                                                                     .qop = sip::auth::Qop::kAuth,
                                                                     .nc = expected.nc,
                                                                     .cnonce = cnonce,
                                                                     .body = {},
                                                                     .body_hash = {}});
  ASSERT_TRUE(response);
  EXPECT_EQ(value("response"), *response) << "the digest does not match the password";
}

}  // namespace warmline::server
