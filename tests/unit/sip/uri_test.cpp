// URI, name-addr and Via grammar corners (RFC 3261 §19.1, §20.10, §20.42, §25.1) and §19.1.4 comparison.
#include <gtest/gtest.h>

#include "sip/uri.hpp"

namespace warmline::sip {
namespace {

Uri uri(std::string_view text) {
  auto u = parse_uri(text);
  EXPECT_TRUE(u) << text;
  return u.value_or(Uri{});
}

TEST(ParseUri, SplitsEverySipPart) {
  Uri u = uri("SIPS:alice:secret@[2001:db8::1]:5061;transport=tls;lr?Subject=hi&Priority=urgent");
  EXPECT_EQ(u.scheme, "sips");
  EXPECT_EQ(u.user, "alice");
  EXPECT_EQ(u.password, "secret");
  EXPECT_EQ(u.host, "[2001:db8::1]");
  EXPECT_EQ(u.port, 5061);
  ASSERT_EQ(u.params.size(), 2u);
  EXPECT_EQ(u.params[0].value, "tls");
  EXPECT_FALSE(u.params[1].has_value);
  ASSERT_EQ(u.headers.size(), 2u);
  EXPECT_EQ(u.headers[1].name, "Priority");
  EXPECT_EQ(u.to_string(), "sips:alice:secret@[2001:db8::1]:5061;transport=tls;lr?Subject=hi&Priority=urgent");
}

TEST(ParseUri, HostOnlyAndTelAndOpaqueSchemes) {
  Uri h = uri("sip:example.com");
  EXPECT_TRUE(h.user.empty());
  EXPECT_EQ(h.port, 0);
  Uri tel = uri("tel:+27115550100;phone-context=example.com");
  EXPECT_FALSE(tel.is_sip());
  EXPECT_EQ(tel.opaque, "+27115550100;phone-context=example.com");
  EXPECT_EQ(tel.to_string(), "tel:+27115550100;phone-context=example.com");
}

TEST(ParseUri, RejectsMalformedInput) {
  for (std::string_view bad : {"", "sip:", "example.com", "sip:user@", "sip:@example.com", "sip:a b@example.com",
                               "sip:user@example.com:0", "sip:user@example.com:65536", "sip:user@exa mple.com",
                               "sip:user@example.com;;lr", "sip:user@example.com;=x", "sip:%4@example.com",
                               "<sip:user@example.com>", "sip:user@[::1", "1sip:x", "sip:user@example.com?=v",
                               "sip:us\"er@example.com", "sip:user@host\x01"})
    EXPECT_FALSE(parse_uri(bad)) << bad;
}

TEST(ParseUri, EscapedHeaderWithoutEqualsIsKeptAsAName) {
  // RFC 3515 §2.1 example (tests from /work/shared/testdata/vectors/refer-to-vectors.txt).
  Uri u = uri("sip:bob@biloxi.example.net?Accept-Contact=sip:bobsdesk.biloxi.example.net&Call-ID%3D55432%40alicepc.atlanta.example.com");
  ASSERT_EQ(u.headers.size(), 2u);
  EXPECT_EQ(u.headers[0].value, "sip:bobsdesk.biloxi.example.net");
  EXPECT_FALSE(u.headers[1].has_value);
  EXPECT_EQ(uri_unescape(u.headers[1].name), "Call-ID=55432@alicepc.atlanta.example.com");
  EXPECT_EQ(u.to_string(), "sip:bob@biloxi.example.net?Accept-Contact=sip:bobsdesk.biloxi.example.net&Call-ID%3D55432%40alicepc.atlanta.example.com");
}

TEST(ParseUri, ReplacesHeaderUnescapes) {
  Uri u = uri("sip:dave@denver.example.org?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994");
  ASSERT_EQ(u.headers.size(), 1u);
  EXPECT_EQ(uri_unescape(u.headers[0].value), "12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994");
}

TEST(UriUnescape, DecodesValidEscapesOnly) {
  EXPECT_EQ(uri_unescape("a%20b%2fc"), "a b/c");
  EXPECT_EQ(uri_unescape("%Z%45"), "%ZE");
  EXPECT_EQ(uri_unescape("100%"), "100%");
  EXPECT_EQ(uri_unescape("%4"), "%4");
  EXPECT_EQ(uri_unescape("x%00y"), std::string("x\0y", 3));
}

TEST(UriEqual, FollowsRfc3261Section19_1_4) {
  // The equal pairs of §19.1.4.
  EXPECT_TRUE(uri_equal(uri("sip:%61lice@atlanta.com;transport=TCP"), uri("sip:alice@AtLanTa.CoM;Transport=tcp")));
  EXPECT_TRUE(uri_equal(uri("sip:carol@chicago.com"), uri("sip:carol@chicago.com;newparam=5")));
  EXPECT_TRUE(uri_equal(uri("sip:carol@chicago.com;security=on"), uri("sip:carol@chicago.com;newparam=5")));
  EXPECT_TRUE(uri_equal(uri("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com"),
                        uri("sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com")));
  EXPECT_TRUE(uri_equal(uri("sip:alice@atlanta.com?subject=project%20x&priority=urgent"),
                        uri("sip:alice@atlanta.com?priority=urgent&subject=project%20x")));
  // The unequal pairs of §19.1.4.
  EXPECT_FALSE(uri_equal(uri("SIP:ALICE@AtLanTa.CoM;Transport=udp"), uri("sip:alice@AtLanTa.CoM;Transport=UDP")));
  EXPECT_FALSE(uri_equal(uri("sip:bob@biloxi.com"), uri("sip:bob@biloxi.com:5060")));
  EXPECT_FALSE(uri_equal(uri("sip:bob@biloxi.com"), uri("sip:bob@biloxi.com;transport=udp")));
  EXPECT_FALSE(uri_equal(uri("sip:bob@biloxi.com"), uri("sip:bob@biloxi.com:6000;transport=tcp")));
  EXPECT_FALSE(uri_equal(uri("sip:carol@chicago.com"), uri("sip:carol@chicago.com?Subject=next%20meeting")));
  EXPECT_FALSE(uri_equal(uri("sip:bob@phone21.boxesbybob.com"), uri("sip:bob@192.0.2.4")));
  EXPECT_FALSE(uri_equal(uri("sip:carol@chicago.com;security=on"), uri("sip:carol@chicago.com;security=off")));
  EXPECT_FALSE(uri_equal(uri("sip:alice@atlanta.com"), uri("sips:alice@atlanta.com")));
}

// Found by the sip_uri fuzz target (corpus/sip_uri/crash-uri-repeated-param): a parameter or URI header
// given twice compared each occurrence with the other URI's first one, so such a URI was not equal to
// itself. Occurrences now pair up in order.
TEST(UriEqual, RepeatedParametersAndHeadersCompareInOrder) {
  const Uri twice = uri("sip:+27115550100@trunk.example.net;tag=a;tag=b?x=1&X=2");
  EXPECT_TRUE(uri_equal(twice, twice));
  EXPECT_TRUE(uri_equal(twice, uri("sip:+27115550100@trunk.example.net;TAG=a;tag=b?x=1&x=2")));
  EXPECT_FALSE(uri_equal(twice, uri("sip:+27115550100@trunk.example.net;tag=b;tag=a?x=1&x=2")));
  EXPECT_FALSE(uri_equal(twice, uri("sip:+27115550100@trunk.example.net;tag=a;tag=b?x=2&x=1")));
}

TEST(ParseNameAddr, DisplayForms) {
  auto q = parse_name_addr(R"(  "Bob \"the\" Builder" <sip:bob@example.com>;tag=a1 )");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->display, "Bob \"the\" Builder");
  EXPECT_EQ(q->tag(), "a1");
  auto t = parse_name_addr("Bob  Smith<sip:bob@example.com>");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->display, "Bob  Smith");
  auto none = parse_name_addr("<sip:bob@example.com;lr>;expires=60");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->display.empty());
  EXPECT_EQ(none->uri.params.size(), 1u);
  EXPECT_EQ(find_param(none->params, "expires")->value, "60");
}

TEST(ParseNameAddr, AddrSpecParamsAreHeaderParams) {
  auto a = parse_name_addr("sip:alice@atlanta.example.com;tag=88;transport=tcp");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->uri.params.empty());
  EXPECT_EQ(a->params.size(), 2u);
  EXPECT_EQ(a->tag(), "88");
  auto semi = parse_name_addr("sip:user;par=x@example.com;tag=1");
  ASSERT_TRUE(semi);
  EXPECT_EQ(semi->uri.user, "user;par=x");
  EXPECT_EQ(semi->tag(), "1");
  auto http = parse_name_addr("http://www.ietf.org");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->uri.scheme, "http");
}

TEST(ParseNameAddr, QuotedParamValuesKeepTheirQuotes) {
  auto a = parse_name_addr(R"(<sip:a@b>;x="a;b,c";y=[::1])");
  ASSERT_TRUE(a);
  EXPECT_EQ(find_param(a->params, "x")->value, "\"a;b,c\"");
  EXPECT_EQ(find_param(a->params, "y")->value, "[::1]");
  EXPECT_EQ(a->to_string(), R"(<sip:a@b>;x="a;b,c";y=[::1])");
}

TEST(ParseNameAddr, RejectsMalformed) {
  for (std::string_view bad : {"", "\"unterminated <sip:a@b>", "Bell, Alexander <sip:a@b>", "< sip:a@b >",
                               "<sip:a@b", "sip:a@b?Route=x", "\"x\" sip:a@b", "<sip:a@b>;", "<sip:a@b>;;tag=1",
                               "<sip:a@b>;tag=", "<sip:a@b> junk", "display"})
    EXPECT_FALSE(parse_name_addr(bad)) << bad;
}

TEST(ParseNameAddrList, SplitsOutsideQuotesAndBrackets) {
  auto list = parse_name_addr_list(R"("Doe, John" <sip:j@a,b.example>, <sip:x@y>;q=0.5 , sip:z@w)");
  ASSERT_FALSE(list);  // ',' is not a host character: the first URI is invalid
  list = parse_name_addr_list(R"("Doe, John" <sip:j@a.example;x=1>, <sip:x@y>;q=0.5 , sip:z@w)");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].display, "Doe, John");
  EXPECT_EQ(find_param((*list)[1].params, "q")->value, "0.5");
  EXPECT_EQ((*list)[2].uri.host, "w");
  EXPECT_FALSE(parse_name_addr_list("<sip:a@b>,,<sip:c@d>"));
  EXPECT_FALSE(parse_name_addr_list("<sip:a@b>,"));
}

TEST(NameAddrToString, QuotesDisplayOnlyWhenNeeded) {
  NameAddr a;
  a.uri = uri("sip:bob@example.com");
  a.display = "Bob Smith";
  EXPECT_EQ(a.to_string(), "Bob Smith <sip:bob@example.com>");
  a.display = "Smith, Bob";
  EXPECT_EQ(a.to_string(), "\"Smith, Bob\" <sip:bob@example.com>");
  a.display = "say \"hi\" \\ bye";
  EXPECT_EQ(a.to_string(), R"("say \"hi\" \\ bye" <sip:bob@example.com>)");
  a.display = std::string("nul\0", 4);
  auto back = parse_name_addr(a.to_string());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->display, a.display);
  a.display.clear();
  a.set_tag("xyz");
  EXPECT_EQ(a.to_string(), "<sip:bob@example.com>;tag=xyz");
}

TEST(ParseVia, LwsAroundSeparatorsAndSeveralValues) {
  std::vector<Via> vias;
  ASSERT_TRUE(parse_via_list("SIP / 2.0 / udp host.example.com : 5070 ; branch = z9hG4bK1 ; rport, "
                             "SIP/2.0/TLS [2001:db8::9]:5061;received=2001:db8::1;maddr=[::2]", vias));
  ASSERT_EQ(vias.size(), 2u);
  EXPECT_EQ(vias[0].transport, "UDP");
  EXPECT_EQ(vias[0].host, "host.example.com");
  EXPECT_EQ(vias[0].port, 5070);
  EXPECT_EQ(vias[0].branch(), "z9hG4bK1");
  EXPECT_FALSE(find_param(vias[0].params, "rport")->has_value);
  EXPECT_EQ(vias[1].host, "[2001:db8::9]");
  EXPECT_EQ(find_param(vias[1].params, "received")->value, "2001:db8::1");
  EXPECT_EQ(vias[0].to_string(), "SIP/2.0/UDP host.example.com:5070;branch=z9hG4bK1;rport");
  EXPECT_EQ(vias[1].to_string(), "SIP/2.0/TLS [2001:db8::9]:5061;received=2001:db8::1;maddr=[::2]");
}

TEST(ParseVia, RejectsMalformed) {
  for (std::string_view bad : {"", "SIP/2.0/UDP", "SIP/7.0/UDP host", "HTTP/2.0/UDP host", "SIP/2.0/UDP host;;",
                               "SIP/2.0/UDP host,", "SIP/2.0/UDP host:99999", "SIP/2.0/UDPhost", "SIP/2.0 UDP host",
                               "SIP/2.0/UDP host;branch=", "SIP/2.0/UDP host junk"}) {
    std::vector<Via> vias;
    EXPECT_FALSE(parse_via_list(bad, vias)) << bad;
  }
}

}  // namespace
}  // namespace warmline::sip
