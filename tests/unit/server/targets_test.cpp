#include "server/targets.hpp"

#include "server/transfer/refer_in.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warmline::server {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kConfig = R"(
[[trunk]]
name = "carrier"
address = "sip.carrier.example"
source_cidrs = ["198.51.100.0/24", "2001:db8:10::/48"]
caller_ids = ["+27115550100", "+27115550101"]
accepts_refer_from_peer = true

[[trunk]]
name = "office-pbx"
address = "10.0.0.5"
source_cidrs = ["10.0.0.0/8", "fd00::1"]

[[pbx]]
name = "office"
domain = "pbx.example.com"
trunk = "office-pbx"
[[pbx.extension]]
number = "101"
name = "Reception"
aliases = ["front desk"]
[[pbx.extension]]
number = "600"
name = "Support queue"
kind = "queue"
[[pbx.extension]]
number = "700"
kind = "ring_group"

[[agent]]
name = "demo"
numbers = ["demo"]
url = "ws://127.0.0.1:8765"
allow_patterns = ["+2711*", "+441234567890"]
default_forward = "+27215550000"
[[agent.target]]
name = "Support"
aliases = ["help", "human"]
uri = "sip:support@127.0.0.1:5062"
[[agent.target]]
name = "Craig"
uri = "tel:+27115550142"
caller_id = "+27115550101"
[[agent.target]]
name = "101"
uri = "sip:override@127.0.0.1"

[[agent]]
name = "strict"
numbers = ["+27115550100"]
url = "ws://127.0.0.1:8766"
trunk = "office-pbx"
)";

class TargetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadResult r = load_config_text(kConfig, "targets.toml", {});
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : format_config_error(r.errors[0]));
    config_ = *r.config;
  }
  TargetResult resolve(std::string_view requested, size_t agent = 0) {
    return resolve_target(config_.agents.at(agent), config_, requested);
  }
  // check_refer of a REFER from `trunk` with these Refer-To values (and Refer-Sub) for agent demo.
  ReferCheck refer(std::vector<std::string> refer_to, std::string_view trunk = "carrier", std::string_view refer_sub = "");
  // check_refer of a REFER to Support with these X-Warmline-Transfer values.
  ReferCheck refer_mode(std::vector<std::string> modes);
  Config config_;
};

TEST_F(TargetsTest, NamedTargetByNameAliasAndAnyCase) {
  for (std::string_view requested : {"Support", "support", "HELP", "human", " Human "}) {
    TargetResult r = resolve(requested);
    ASSERT_TRUE(r.ok()) << requested << ": " << r.error.message;
    EXPECT_EQ(r.target->name, "Support");
    EXPECT_EQ(r.target->uri, "sip:support@127.0.0.1:5062");
    EXPECT_EQ(r.target->via_trunk, "");  // a SIP URI goes to its own host
    EXPECT_EQ(r.target->kind, TargetKind::named);
  }
}

TEST_F(TargetsTest, NamedTargetByItsUri) {
  TargetResult r = resolve("sip:support@127.0.0.1:5062");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.target->name, "Support");
}

TEST_F(TargetsTest, TelTargetGoesThroughTheAgentTrunkWithItsCallerId) {
  TargetResult r = resolve("craig");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.target->uri, "tel:+27115550142");
  EXPECT_EQ(r.target->via_trunk, "carrier");  // the agent's default trunk: the first one
  EXPECT_EQ(r.target->caller_id, "+27115550101");
}

TEST_F(TargetsTest, AgentTargetsComeBeforeExtensions) {
  TargetResult r = resolve("101");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.target->uri, "sip:override@127.0.0.1");
  EXPECT_EQ(r.target->kind, TargetKind::named);
}

TEST_F(TargetsTest, ExtensionByNumberNameAndAlias) {
  for (std::string_view requested : {"reception", "Front Desk"}) {
    TargetResult r = resolve(requested);
    ASSERT_TRUE(r.ok()) << requested;
    EXPECT_EQ(r.target->name, "Reception");
    EXPECT_EQ(r.target->uri, "sip:101@pbx.example.com");
    EXPECT_EQ(r.target->via_trunk, "office-pbx");
    EXPECT_EQ(r.target->kind, TargetKind::extension);
  }
  TargetResult queue = resolve("600");
  ASSERT_TRUE(queue.ok());
  EXPECT_EQ(queue.target->kind, TargetKind::queue);
  EXPECT_EQ(queue.target->name, "Support queue");
  TargetResult group = resolve("700");
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group.target->kind, TargetKind::ring_group);
  EXPECT_EQ(group.target->name, "700");  // no name: the number names it
}

TEST_F(TargetsTest, NumberMatchingAllowPattern) {
  for (std::string_view requested : {"+27115550199", "tel:+27115550199", "tel:+27-11-555-0199;phone-context=x"}) {
    TargetResult r = resolve(requested);
    ASSERT_TRUE(r.ok()) << requested << ": " << r.error.message;
    EXPECT_EQ(r.target->uri, "tel:+27115550199");
    EXPECT_EQ(r.target->name, "+27115550199");
    EXPECT_EQ(r.target->via_trunk, "carrier");
    EXPECT_EQ(r.target->caller_id, "+27115550100");  // the trunk's first caller ID
    EXPECT_EQ(r.target->kind, TargetKind::number);
  }
  EXPECT_TRUE(resolve("+441234567890").ok());  // an exact pattern
}

TEST_F(TargetsTest, DefaultForwardIsDialableWithoutAPattern) {
  TargetResult r = resolve("+27215550000");
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.target->uri, "tel:+27215550000");
}

TEST_F(TargetsTest, NumberOutsideTheAllowPatternsIsRefused) {
  for (std::string_view requested : {"+27215550001", "+441234567891", "tel:+4420555501"}) {
    TargetResult r = resolve(requested);
    ASSERT_FALSE(r.ok()) << requested;
    EXPECT_EQ(r.error.api_code(), "number_not_allowed");
    EXPECT_THAT(r.error.message, HasSubstr("agent demo's allow_patterns"));
  }
  // An agent without patterns dials no numbers at all.
  TargetResult r = resolve("+27115550199", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.api_code(), "number_not_allowed");
}

TEST_F(TargetsTest, MalformedNumberIsRefused) {
  for (std::string_view requested : {"0115550199", "+2711", "tel:+0115550199"}) {
    TargetResult r = resolve(requested);
    ASSERT_FALSE(r.ok()) << requested;
    EXPECT_EQ(r.error.api_code(), "invalid_number") << requested;
  }
}

TEST_F(TargetsTest, UnknownTargetIsRefused) {
  TargetResult r = resolve("Craig", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.api_code(), "unknown_target");
  EXPECT_EQ(r.error.message, "'Craig' is not one of agent strict's targets or a PBX extension");
  // A SIP URI the config does not name is refused too (toll-fraud rule).
  r = resolve("sip:anyone@evil.example");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.api_code(), "unknown_target");
  EXPECT_EQ(resolve("").error.api_code(), "unknown_target");
}

TEST_F(TargetsTest, NumberPatterns) {
  EXPECT_TRUE(number_matches_pattern("+27115550100", "+2711*"));
  EXPECT_FALSE(number_matches_pattern("+27125550100", "+2711*"));
  EXPECT_TRUE(number_matches_pattern("+27115550100", "+27115550100"));
  EXPECT_FALSE(number_matches_pattern("+271155501001", "+27115550100"));
}

TEST_F(TargetsTest, SourceAclV4AndV6) {
  const TrunkConfig& carrier = config_.trunks[0];
  EXPECT_TRUE(source_allowed(carrier, "198.51.100.1"));
  EXPECT_TRUE(source_allowed(carrier, "198.51.100.255"));
  EXPECT_FALSE(source_allowed(carrier, "198.51.101.1"));
  EXPECT_TRUE(source_allowed(carrier, "2001:db8:10:ffff::1"));
  EXPECT_TRUE(source_allowed(carrier, "[2001:db8:10::5]"));
  EXPECT_FALSE(source_allowed(carrier, "2001:db8:11::1"));
  EXPECT_TRUE(source_allowed(carrier, "::ffff:198.51.100.7"));  // dual-stack socket view of IPv4
  EXPECT_FALSE(source_allowed(carrier, "not an address"));

  const TrunkConfig& pbx = config_.trunks[1];
  EXPECT_TRUE(source_allowed(pbx, "fd00::1"));  // a bare address is a /128
  EXPECT_FALSE(source_allowed(pbx, "fd00::2"));
  EXPECT_FALSE(source_allowed(pbx, "::ffff:11.0.0.1"));

  EXPECT_EQ(find_trunk_by_source(config_, *parse_ip_address("10.1.2.3")), &config_.trunks[1]);
  EXPECT_EQ(find_trunk_by_source(config_, IpAddress::from_v4({198, 51, 100, 9})), &config_.trunks[0]);
  EXPECT_EQ(find_trunk_by_source(config_, *parse_ip_address("127.0.0.1")), nullptr);
}

TEST(CidrTest, PrefixLengthsNotOnByteBoundaries) {
  Cidr c{*parse_ip_address("192.168.4.0"), 22, "192.168.4.0/22"};
  EXPECT_TRUE(cidr_contains(c, *parse_ip_address("192.168.7.255")));
  EXPECT_FALSE(cidr_contains(c, *parse_ip_address("192.168.8.0")));
  EXPECT_FALSE(cidr_contains(c, *parse_ip_address("192.168.3.255")));
  Cidr all{*parse_ip_address("::"), 0, "::/0"};
  EXPECT_TRUE(cidr_contains(all, *parse_ip_address("2001:db8::1")));
  EXPECT_FALSE(cidr_contains(all, *parse_ip_address("10.0.0.1")));  // a v6 CIDR never admits v4
}

TEST_F(TargetsTest, AgentForNumber) {
  EXPECT_EQ(find_agent_for_number(config_, "demo"), &config_.agents[0]);
  EXPECT_EQ(find_agent_for_number(config_, "+27115550100"), &config_.agents[1]);
  EXPECT_EQ(find_agent_for_number(config_, "Demo"), nullptr);  // RFC 3261 §19.1.4: user is case-sensitive
}

// A REFER received (transfer/refer_in.hpp): its Refer-To resolves by the same rules, and only a trunk
// with accepts_refer_from_peer may make us dial.

ReferCheck TargetsTest::refer(std::vector<std::string> refer_to, std::string_view trunk, std::string_view refer_sub) {
  sip::Message m;
  m.method = "REFER";
  for (const auto& value : refer_to) m.add_header("Refer-To", value);
  if (!refer_sub.empty()) m.add_header("Refer-Sub", refer_sub);
  return check_refer(config_.agents.at(0), config_, find_trunk(config_, trunk), m);
}

TEST_F(TargetsTest, ReferToAConfiguredTargetByItsExactUri) {
  ReferCheck c = refer({"<sip:support@127.0.0.1:5062>"});
  ASSERT_TRUE(c.ok()) << c.reason << " " << c.detail;
  EXPECT_EQ(c.target->name, "Support");
  EXPECT_EQ(c.target->uri, "sip:support@127.0.0.1:5062");
  EXPECT_TRUE(c.subscription);
}

TEST_F(TargetsTest, ReferToAUserPartThatNamesATargetDialsTheConfiguredUriNotTheHostGiven) {
  ReferCheck c = refer({"\"Help\" <sip:Human@elsewhere.example:5099;transport=udp>"});
  ASSERT_TRUE(c.ok()) << c.reason << " " << c.detail;
  EXPECT_EQ(c.requested, "Human");
  EXPECT_EQ(c.target->uri, "sip:support@127.0.0.1:5062");
}

TEST_F(TargetsTest, ReferToAnExtensionOrAnAllowedNumberResolvesAsForAnyTransfer) {
  ReferCheck ext = refer({"sip:600@pbx.example.com"});  // an addr-spec without <> is fine too
  ASSERT_TRUE(ext.ok()) << ext.detail;
  EXPECT_EQ(ext.target->uri, "sip:600@pbx.example.com");
  EXPECT_EQ(ext.target->via_trunk, "office-pbx");
  ReferCheck tel = refer({"<tel:+27115550142>"});
  ASSERT_TRUE(tel.ok()) << tel.detail;
  EXPECT_EQ(tel.target->uri, "tel:+27115550142");
  ReferCheck user = refer({"<sip:+27119990000@carrier.example;user=phone>"});
  ASSERT_TRUE(user.ok()) << user.detail;
  EXPECT_EQ(user.target->uri, "tel:+27119990000");
  EXPECT_EQ(user.target->via_trunk, "carrier");
}

TEST_F(TargetsTest, ReferToAnythingUnconfiguredIs403) {
  for (std::string_view to : {"<sip:+44207946000@carrier.example>", "<tel:+44207946000>", "<sip:nobody@127.0.0.1:5062>",
                              "<sip:127.0.0.1:5099>", "<mailto:a@b.example>"}) {
    ReferCheck c = refer({std::string(to)});
    EXPECT_EQ(c.status, 403) << to;
    EXPECT_EQ(c.reason, "Forbidden - Refer-To Not Configured") << to;
    EXPECT_FALSE(c.target) << to;
  }
  EXPECT_THAT(refer({"<tel:+44207946000>"}).detail, HasSubstr("allow_patterns"));
}

TEST_F(TargetsTest, ReferThroughATrunkWithoutTheFlagOrNoTrunkIs403WhateverTheReferTo) {
  EXPECT_FALSE(find_trunk(config_, "office-pbx")->accepts_refer_from_peer) << "off by default";
  ReferCheck c = refer({"<sip:support@127.0.0.1:5062>"}, "office-pbx");
  EXPECT_EQ(c.status, 403);
  EXPECT_EQ(c.reason, "Forbidden - REFER not accepted");
  EXPECT_THAT(c.detail, HasSubstr("accepts_refer_from_peer"));
  EXPECT_EQ(refer({"<sip:support@127.0.0.1:5062>"}, "no such trunk").status, 403);
}

TEST_F(TargetsTest, ReferWithAMissingDuplicatedOrMalformedReferToIs400) {
  EXPECT_EQ(refer({}).status, 400);
  EXPECT_EQ(refer({"<sip:support@127.0.0.1:5062>", "<sip:support@127.0.0.1:5062>"}).status, 400);
  EXPECT_EQ(refer({"<sip:support@127.0.0.1:5062>, <sip:600@pbx.example.com>"}).status, 400);
  for (std::string_view bad : {"", "<sip:support@127.0.0.1:5062", "sip:", "<>", "\"unterminated <sip:a@b>"}) {
    ReferCheck c = refer({std::string(bad)});
    EXPECT_EQ(c.status, 400) << bad;
    EXPECT_EQ(c.reason, "Bad Request - Malformed Refer-To") << bad;
  }
}

TEST_F(TargetsTest, ReferToWithEmbeddedHeadersIsNeverTakenReplacesIs501) {
  EXPECT_EQ(refer({"<sip:support@127.0.0.1:5062?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>"}).status, 501);
  ReferCheck other = refer({"<sip:support@127.0.0.1:5062?X-Evil=1>"});
  EXPECT_EQ(other.status, 403);
  EXPECT_FALSE(other.target);
}

TEST_F(TargetsTest, ReferSubFalseDropsTheSubscription) {
  EXPECT_FALSE(refer({"<sip:support@127.0.0.1:5062>"}, "carrier", "false").subscription);
  EXPECT_TRUE(refer({"<sip:support@127.0.0.1:5062>"}, "carrier", "true").subscription);
}


TEST_F(TargetsTest, ReferModeIsTheAgentsReferInModeUnlessTheHeaderSaysOtherwise) {
  ReferCheck plain = refer_mode({});
  ASSERT_TRUE(plain.ok()) << plain.detail;
  EXPECT_FALSE(plain.warm) << "refer_in_mode defaults to cold";
  ReferCheck warm = refer_mode({"warm"});
  ASSERT_TRUE(warm.ok()) << warm.detail;
  EXPECT_TRUE(warm.warm);
  EXPECT_EQ(warm.hold, ai::HoldAudio::kMusic);
  EXPECT_TRUE(warm.consult) << "the referrer consults the target unless briefing=none";
  EXPECT_EQ(warm.screening, ai::Screening::kNone);
  ReferCheck full = refer_mode({" WARM ; hold=Ringback;briefing=none ; screening=dtmf"});
  ASSERT_TRUE(full.ok()) << full.detail;
  EXPECT_TRUE(full.warm);
  EXPECT_EQ(full.hold, ai::HoldAudio::kRingback);
  EXPECT_FALSE(full.consult);
  EXPECT_EQ(full.screening, ai::Screening::kDtmf);
  EXPECT_EQ(refer_mode({"warm;screening=agent"}).screening, ai::Screening::kAgent);

  config_.agents.at(0).refer_in_mode = ReferInMode::warm;
  EXPECT_TRUE(refer_mode({}).warm);
  ReferCheck cold = refer_mode({"cold"});
  ASSERT_TRUE(cold.ok()) << cold.detail;
  EXPECT_FALSE(cold.warm) << "the REFER's header wins over the agent's default";
}

TEST_F(TargetsTest, AMalformedModeHeaderIs400AndNamesWhatIsWrong) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"semi"}, "the mode must be cold or warm, not 'semi'"},
      {{""}, "the mode must be cold or warm, not ''"},
      {{"warm;hold=jazz"}, "'hold=jazz' is not a valid value"},
      {{"warm;screening=voice"}, "'screening=voice' is not a valid value"},
      {{"warm;briefing=Hello there"}, "'briefing=Hello there' is not a valid value"},
      {{"warm;hold"}, "'hold' is not a valid value"},
      {{"warm;volume=11"}, "unknown parameter 'volume'"},
      {{"warm;hold=music;hold=silence"}, "parameter 'hold' given twice"},
      {{"cold;hold=music"}, "a cold transfer takes no parameters ('hold=music')"},
      {{"warm", "cold"}, "the header is given twice"},
  };
  for (const auto& [values, why] : cases) {
    ReferCheck c = refer_mode(values);
    EXPECT_EQ(c.status, 400) << values.front();
    EXPECT_EQ(c.reason, "Bad Request - Malformed X-Warmline-Transfer") << values.front();
    EXPECT_EQ(c.detail, why) << values.front();
    EXPECT_FALSE(c.target) << "nothing is resolved, so nothing is dialled";
  }
}

ReferCheck TargetsTest::refer_mode(std::vector<std::string> modes) {
  sip::Message m;
  m.method = "REFER";
  m.add_header("Refer-To", "<sip:support@127.0.0.1:5062>");
  for (const auto& value : modes) m.add_header("x-warmline-transfer", value);  // any case
  return check_refer(config_.agents.at(0), config_, find_trunk(config_, "carrier"), m);
}

}  // namespace
}  // namespace warmline::server
