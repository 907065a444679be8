// What a registration reads from the registrar's answers (RFC 3261 §10.2.4, §20.19, §20.23).
#include <gtest/gtest.h>

#include "sip/builders.hpp"
#include "sip/parser.hpp"
#include "sip/usage/register_messages.hpp"
#include "sip/uri.hpp"

namespace warmline::sip {
namespace {

NameAddr our_contact() { return *parse_name_addr("<sip:gw@192.0.2.10:5060>"); }

Message ok_with(std::string_view headers) {
  std::string raw =
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKr1\r\n"
      "From: <sip:gw@carrier.example>;tag=a\r\nTo: <sip:gw@carrier.example>;tag=b\r\n"
      "Call-ID: r@192.0.2.10\r\nCSeq: 2 REGISTER\r\n" +
      std::string(headers) + "Content-Length: 0\r\n\r\n";
  ParseResult r = parse_message(raw);
  EXPECT_TRUE(r.ok()) << r.reason;
  return r.ok() ? *r.message : Message{};
}

TEST(RegisterMessages, GrantedExpiresPrefersOurContactsParameter) {
  Message ok = ok_with(
      "Contact: <sip:other@203.0.113.9>;expires=50, <sip:gw@192.0.2.10:5060>;expires=120\r\n"
      "Expires: 3600\r\n");
  EXPECT_EQ(granted_expires(ok, our_contact()), 120u);
}

TEST(RegisterMessages, GrantedExpiresFallsBackToTheExpiresHeader) {
  EXPECT_EQ(granted_expires(ok_with("Contact: <sip:gw@192.0.2.10:5060>\r\nExpires: 90\r\n"), our_contact()), 90u);
  EXPECT_EQ(granted_expires(ok_with("Expires: 90\r\n"), our_contact()), 90u);
  // Another UA's binding is not ours.
  EXPECT_EQ(granted_expires(ok_with("Contact: <sip:a@203.0.113.9>;expires=5, <sip:b@203.0.113.9>;expires=6\r\n"
                                    "Expires: 70\r\n"),
                            our_contact()),
            70u);
}

TEST(RegisterMessages, ASingleRewrittenContactIsOurs) {
  EXPECT_EQ(granted_expires(ok_with("Contact: <sip:gw@198.51.100.1:61000>;expires=300\r\n"), our_contact()), 300u);
}

TEST(RegisterMessages, NoExpiryAtAllIsNullopt) {
  EXPECT_EQ(granted_expires(ok_with(""), our_contact()), std::nullopt);
  EXPECT_EQ(granted_expires(ok_with("Expires: soon\r\n"), our_contact()), std::nullopt);
}

TEST(RegisterMessages, HugeValuesReadAsTheLargest) {
  EXPECT_EQ(granted_expires(ok_with("Expires: 99999999999999\r\n"), our_contact()), 4294967295u);
}

TEST(RegisterMessages, MinExpires) {
  EXPECT_EQ(min_expires(ok_with("Min-Expires: 600\r\n")), 600u);
  EXPECT_EQ(min_expires(ok_with("")), std::nullopt);
  EXPECT_EQ(min_expires(ok_with("Min-Expires: -1\r\n")), std::nullopt);
}

TEST(RegisterMessages, MakeRegisterCarriesNoToTag) {
  RegisterRequestFields f;
  f.call_id = "r@192.0.2.10";
  f.registrar = *parse_uri("sip:carrier.example");
  f.aor = *parse_name_addr("<sip:gw@carrier.example>;tag=stray");
  f.from_tag = "ft";
  f.contact = our_contact();
  f.cseq = 7;
  f.expires = 0;
  Message m = make_register(f);
  EXPECT_TRUE(m.to.tag().empty());
  EXPECT_EQ(m.from.tag(), "ft");
  EXPECT_EQ(m.cseq.number, 7u);
  EXPECT_EQ(m.header("Expires"), "0");
}

}  // namespace
}  // namespace warmline::sip
