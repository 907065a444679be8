#include "sip/replaces.hpp"

#include <gtest/gtest.h>

#include "sip/uri.hpp"

namespace warmline::sip {
namespace {

TEST(Replaces, ValueNamesTheDialogAsItsHolderSeesIt) {
  EXPECT_EQ(replaces_value("425928@bobster.example.org", "7743", "6472"),
            "425928@bobster.example.org;to-tag=7743;from-tag=6472");
}

TEST(Replaces, HeaderValueEscapesEverythingButUnreservedAndHnvUnreserved) {
  EXPECT_EQ(escape_header_value("12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994"),
            "12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994");  // RFC 3891 §7.1's own
  EXPECT_EQ(escape_header_value("a-_.!~*'()[]/?:+$z"), "a-_.!~*'()[]/?:+$z");
  EXPECT_EQ(escape_header_value("%& \"<>,\x01\xff"), "%25%26%20%22%3C%3E%2C%01%FF");
}

TEST(Replaces, TargetIsTheRemoteTargetWithOurDialogEmbeddedAndEscaped) {
  Uri contact = *parse_uri("sip:carol@192.0.2.4:5062;transport=udp?Subject=hi");
  DialogId leg{.call_id = "b7f2@10.0.0.1", .local_tag = "ours", .remote_tag = "theirs"};
  Uri refer_to = replaces_target(contact, leg);
  // RFC 5589 §7: the far end's to-tag is its own (our remote tag), its from-tag ours. The contact's
  // own headers go; its parameters stay.
  EXPECT_EQ(refer_to.to_string(),
            "sip:carol@192.0.2.4:5062;transport=udp?Replaces=b7f2%4010.0.0.1%3Bto-tag%3Dtheirs%3Bfrom-tag%3Dours");
  // Read back as a URI, its Replaces unescapes to the dialog the far end holds.
  auto parsed = parse_uri(refer_to.to_string());
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->headers.size(), 1u);
  auto id = parse_replaces(uri_unescape(parsed->headers[0].value));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->call_id, "b7f2@10.0.0.1");
  EXPECT_EQ(id->local_tag, "theirs");
  EXPECT_EQ(id->remote_tag, "ours");
}

TEST(Replaces, ParsedAsTheReceivingUaKeysItsDialogs) {
  auto id = parse_replaces("98732@sip.example.com ; from-tag=r33th4x0r;to-tag=ff87ff;early-only");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->call_id, "98732@sip.example.com");
  EXPECT_EQ(id->local_tag, "ff87ff");   // to-tag: ours
  EXPECT_EQ(id->remote_tag, "r33th4x0r");  // from-tag: the peer's
  EXPECT_TRUE(parse_replaces("x;TO-TAG=1;From-Tag=2"));
}

TEST(Replaces, MalformedValuesAreRefused) {
  EXPECT_FALSE(parse_replaces(""));
  EXPECT_FALSE(parse_replaces("abc"));                              // no tags
  EXPECT_FALSE(parse_replaces("abc;to-tag=1"));                     // from-tag missing
  EXPECT_FALSE(parse_replaces(";to-tag=1;from-tag=2"));             // no Call-ID
  EXPECT_FALSE(parse_replaces("abc;to-tag=;from-tag=2"));           // empty tag
  EXPECT_FALSE(parse_replaces("abc;to-tag=1;to-tag=3;from-tag=2"));  // a tag twice
  EXPECT_FALSE(parse_replaces("a b;to-tag=1;from-tag=2"));          // space inside the Call-ID
  EXPECT_FALSE(parse_replaces("abc;to-tag=1;from-tag=2, def;to-tag=3;from-tag=4"));
  EXPECT_FALSE(parse_replaces("abc;;to-tag=1;from-tag=2"));
}

}  // namespace
}  // namespace warmline::sip
