// Helpers shared by the digest tests: requests and 401/407 responses as warmline's own parser reads
// them from the wire, and reading a credentials value back.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "sip/auth/digest_challenge.hpp"
#include "sip/builders.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"

namespace warmline::sip::auth::test {

// Parses raw SIP text; fails the test when it does not parse.
inline Message parse_or_fail(const std::string& raw) {
  ParseResult r = parse_message(raw);
  EXPECT_TRUE(r.ok()) << r.reason << "\n" << raw;
  return r.ok() ? *r.message : Message{};
}

// An outbound request as warmline would send it through a trunk.
inline Message outbound_request(std::string_view method = "INVITE", std::string_view uri = "sip:+27115550100@trunk.example.net",
                                std::string_view body = "") {
  std::string raw = std::string(method) + " " + std::string(uri) + " SIP/2.0\r\n";
  raw += "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKdigest1\r\n";
  raw += "From: <sip:gateway@192.0.2.1>;tag=ft1\r\n";
  raw += "To: <" + std::string(uri) + ">\r\n";
  raw += "Call-ID: digest-test@192.0.2.1\r\n";
  raw += "CSeq: 1 " + std::string(method) + "\r\n";
  raw += "Max-Forwards: 70\r\n";
  if (!body.empty()) raw += "Content-Type: application/sdp\r\n";
  raw += "\r\n";
  raw += body;
  return parse_or_fail(raw);
}

// The 401/407 a server answers `request` with: one header line per value, as read off the wire.
inline Message challenge_response(const Message& request, int status, std::initializer_list<std::string_view> values) {
  Message r = make_response(request, status, "");
  r.to.set_tag("srv");
  for (std::string_view v : values) r.add_header(challenge_header_name(status), v);
  return parse_or_fail(serialize(r));
}

// The parameters of a single-element credentials value, names lower-cased.
inline std::map<std::string, std::string> credential_params(std::string_view value) {
  std::map<std::string, std::string> out;
  auto elements = parse_auth_elements(value);
  EXPECT_TRUE(elements && elements->size() == 1) << value;
  if (!elements || elements->empty()) return out;
  EXPECT_EQ(elements->front().scheme, "Digest");
  for (const auto& p : elements->front().params) {
    std::string name = p.name;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[name] = p.value;
  }
  return out;
}

}  // namespace warmline::sip::auth::test
