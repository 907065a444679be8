// A REFER received (server/transfer/refer_in.hpp): what is acted on, what it resolves to, and the
// NOTIFYs of its implicit subscription.
#include "server/transfer/refer_in.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace warmline::server {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kConfig = R"(
[[trunk]]
name = "carrier"
address = "sip.carrier.example"
source_cidrs = ["198.51.100.0/24"]
caller_ids = ["+27115550100"]
accepts_refer_from_peer = true

[[trunk]]
name = "plain"
address = "10.0.0.9"
source_cidrs = ["10.0.0.9"]

[[trunk]]
name = "office-pbx"
address = "10.0.0.5"
source_cidrs = ["10.0.0.5"]

[[pbx]]
name = "office"
domain = "pbx.example.com"
trunk = "office-pbx"
[[pbx.extension]]
number = "101"
name = "Reception"

[[agent]]
name = "demo"
numbers = ["demo"]
url = "ws://127.0.0.1:8765"
trunk = "carrier"
allow_patterns = ["+2711*"]
[[agent.target]]
name = "Support"
uri = "sip:support@127.0.0.1:5062"
)";

class ReferInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadResult r = load_config_text(kConfig, "refer_in.toml", {});
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : format_config_error(r.errors[0]));
    config_ = *r.config;
  }
  const TrunkConfig* trunk(std::string_view name) const { return find_trunk(config_, name); }
  ReferCheck check(std::vector<std::string> refer_to, std::string_view trunk_name = "carrier",
                   std::string_view refer_sub = "") {
    sip::Message refer;
    refer.method = "REFER";
    for (const auto& value : refer_to) refer.add_header("Refer-To", value);
    if (!refer_sub.empty()) refer.add_header("Refer-Sub", refer_sub);
    return check_refer(config_.agents.at(0), config_, trunk(trunk_name), refer);
  }
  Config config_;
};

TEST_F(ReferInTest, TheFlagIsOffByDefaultAndItsKeyIsRead) {
  EXPECT_TRUE(trunk("carrier")->accepts_refer_from_peer);
  EXPECT_FALSE(trunk("plain")->accepts_refer_from_peer);
}

TEST_F(ReferInTest, AConfiguredTargetByItsExactUri) {
  ReferCheck c = check({"<sip:support@127.0.0.1:5062>"});
  ASSERT_TRUE(c.ok()) << c.reason << " " << c.detail;
  EXPECT_EQ(c.target->name, "Support");
  EXPECT_EQ(c.target->uri, "sip:support@127.0.0.1:5062");
  EXPECT_TRUE(c.subscription);
}

TEST_F(ReferInTest, AUserPartThatNamesATargetDialsTheConfiguredUriNotTheHostGiven) {
  ReferCheck c = check({"\"Help\" <sip:Support@elsewhere.example:5099;transport=udp>"});
  ASSERT_TRUE(c.ok()) << c.reason << " " << c.detail;
  EXPECT_EQ(c.requested, "Support");
  EXPECT_EQ(c.target->uri, "sip:support@127.0.0.1:5062");
}

TEST_F(ReferInTest, AnExtensionAndAnAllowedNumberResolveAsForAnyTransfer) {
  ReferCheck ext = check({"sip:101@pbx.example.com"});  // an addr-spec without <> is fine too
  ASSERT_TRUE(ext.ok()) << ext.detail;
  EXPECT_EQ(ext.target->uri, "sip:101@pbx.example.com");
  EXPECT_EQ(ext.target->via_trunk, "office-pbx");
  ReferCheck tel = check({"<tel:+27115550142>"});
  ASSERT_TRUE(tel.ok()) << tel.detail;
  EXPECT_EQ(tel.target->uri, "tel:+27115550142");
  EXPECT_EQ(tel.target->via_trunk, "carrier");
  ReferCheck user = check({"<sip:+27115550142@carrier.example;user=phone>"});
  ASSERT_TRUE(user.ok()) << user.detail;
  EXPECT_EQ(user.target->uri, "tel:+27115550142");
}

TEST_F(ReferInTest, AnythingUnconfiguredIs403) {
  for (std::string_view to : {"<sip:+44207946000@carrier.example>", "<tel:+44207946000>", "<sip:nobody@127.0.0.1:5062>",
                              "<sip:127.0.0.1:5099>", "<mailto:a@b.example>"}) {
    ReferCheck c = check({std::string(to)});
    EXPECT_EQ(c.status, 403) << to;
    EXPECT_EQ(c.reason, "Forbidden - Refer-To Not Configured") << to;
    EXPECT_FALSE(c.target) << to;
  }
  EXPECT_THAT(check({"<tel:+44207946000>"}).detail, HasSubstr("allow_patterns"));
}

TEST_F(ReferInTest, ATrunkWithoutTheFlagOrNoTrunkIs403WhateverTheReferTo) {
  ReferCheck c = check({"<sip:support@127.0.0.1:5062>"}, "plain");
  EXPECT_EQ(c.status, 403);
  EXPECT_EQ(c.reason, "Forbidden - REFER not accepted");
  EXPECT_THAT(c.detail, HasSubstr("accepts_refer_from_peer"));
  sip::Message refer;
  refer.method = "REFER";
  refer.add_header("Refer-To", "<sip:support@127.0.0.1:5062>");
  EXPECT_EQ(check_refer(config_.agents.at(0), config_, nullptr, refer).status, 403);
}

TEST_F(ReferInTest, AMissingDuplicatedOrMalformedReferToIs400) {
  EXPECT_EQ(check({}).status, 400);
  EXPECT_EQ(check({"<sip:support@127.0.0.1:5062>", "<sip:support@127.0.0.1:5062>"}).status, 400);
  EXPECT_EQ(check({"<sip:support@127.0.0.1:5062>, <sip:101@pbx.example.com>"}).status, 400);
  for (std::string_view bad : {"", "<sip:support@127.0.0.1:5062", "sip:", "<>", "\"unterminated <sip:a@b>"}) {
    ReferCheck c = check({std::string(bad)});
    EXPECT_EQ(c.status, 400) << bad;
    EXPECT_EQ(c.reason, "Bad Request - Malformed Refer-To") << bad;
  }
}

TEST_F(ReferInTest, EmbeddedHeadersAreNeverTakenReplacesIs501) {
  ReferCheck replaces = check({"<sip:support@127.0.0.1:5062?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>"});
  EXPECT_EQ(replaces.status, 501);
  ReferCheck other = check({"<sip:support@127.0.0.1:5062?X-Evil=1>"});
  EXPECT_EQ(other.status, 403);
  EXPECT_FALSE(other.target);
}

TEST_F(ReferInTest, ReferSubFalseDropsTheSubscription) {
  EXPECT_FALSE(check({"<sip:support@127.0.0.1:5062>"}, "carrier", "false").subscription);
  EXPECT_TRUE(check({"<sip:support@127.0.0.1:5062>"}, "carrier", "true").subscription);
}

TEST(ReferSipfrag, FinalStatusLines) {
  EXPECT_EQ(sipfrag_final(TransferResult::kCompleted, 200, "answered"), "SIP/2.0 200 OK\r\n");
  EXPECT_EQ(sipfrag_final(TransferResult::kBusy, 486, "Busy Here"), "SIP/2.0 486 Busy Here\r\n");
  EXPECT_EQ(sipfrag_final(TransferResult::kDeclined, 603, "Decline"), "SIP/2.0 603 Decline\r\n");
  // No final status of the target's own: the one that says the same, with its standard phrase.
  EXPECT_EQ(sipfrag_final(TransferResult::kNoAnswer, 0, "no answer within the ring timeout"),
            "SIP/2.0 480 Temporarily Unavailable\r\n");
  EXPECT_EQ(sipfrag_final(TransferResult::kUnreachable, 0, "DNS"), "SIP/2.0 404 Not Found\r\n");
  EXPECT_EQ(sipfrag_final(TransferResult::kCallerHungUp, 0, "caller hung up"), "SIP/2.0 487 Request Terminated\r\n");
  // A reason that would break the status line is not copied.
  EXPECT_EQ(sipfrag_final(TransferResult::kBusy, 486, "Busy\r\nX: y"), "SIP/2.0 486 Busy Here\r\n");
}

// The NOTIFYs a notifier sends, and the answers still owed to it.
struct Sent {
  std::vector<ReferNotify> notifies;
  std::vector<std::function<void(int)>> answers;
  bool dialog_up = true;
  ReferNotifier::Send send() {
    return [this](const ReferNotify& n, std::function<void(int)> answered) {
      if (!dialog_up) return false;
      notifies.push_back(n);
      answers.push_back(std::move(answered));
      return true;
    };
  }
  void answer(size_t i, int status = 200) { answers.at(i)(status); }
};

TEST(ReferNotifier, OneAtATimeInOrderAndTheFinalTerminates) {
  Sent sent;
  ReferNotifier n(7, true, sent.send());
  bool done = false;
  n.on_done([&] { done = true; });
  n.accepted();
  n.progress(180);
  n.progress(183);  // the first 18x only
  n.finished(TransferResult::kCompleted, 200, "answered");
  ASSERT_EQ(sent.notifies.size(), 1u);  // the next waits for the answer to the one in flight
  EXPECT_EQ(sent.notifies[0].event, "refer;id=7");
  EXPECT_EQ(sent.notifies[0].subscription_state, "active;expires=60");
  EXPECT_EQ(sent.notifies[0].body, "SIP/2.0 100 Trying\r\n");
  sent.answer(0);
  ASSERT_EQ(sent.notifies.size(), 2u);
  EXPECT_EQ(sent.notifies[1].body, "SIP/2.0 180 Ringing\r\n");
  EXPECT_FALSE(done);
  sent.answer(1, 481);  // any final answer moves on
  ASSERT_EQ(sent.notifies.size(), 3u);
  EXPECT_EQ(sent.notifies[2].body, "SIP/2.0 200 OK\r\n");
  EXPECT_EQ(sent.notifies[2].subscription_state, "terminated;reason=noresource");
  EXPECT_TRUE(sent.notifies[2].final);
  EXPECT_FALSE(done);
  sent.answer(2);
  EXPECT_TRUE(done);
  EXPECT_TRUE(n.done());
  n.progress(180);  // nothing after the final
  EXPECT_EQ(sent.notifies.size(), 3u);
}

TEST(ReferNotifier, WithoutASubscriptionNothingIsSentAndItIsDoneAtOnce) {
  Sent sent;
  ReferNotifier n(3, false, sent.send());
  n.accepted();
  n.finished(TransferResult::kBusy, 486, "Busy Here");
  EXPECT_TRUE(sent.notifies.empty());
  bool done = false;
  n.on_done([&] { done = true; });
  EXPECT_TRUE(done);
}

TEST(ReferNotifier, AGoneDialogEndsIt) {
  Sent sent;
  ReferNotifier n(3, true, sent.send());
  bool done = false;
  n.on_done([&] { done = true; });
  n.accepted();
  sent.dialog_up = false;
  n.finished(TransferResult::kBusy, 486, "Busy Here");
  sent.answer(0);  // the final cannot go: the subscription is over
  EXPECT_TRUE(done);
  EXPECT_EQ(sent.notifies.size(), 1u);
}

TEST(ReferNotifier, AnAnswerAfterTheNotifierIsGoneIsIgnored) {
  Sent sent;
  {
    ReferNotifier n(3, true, sent.send());
    n.accepted();
  }
  sent.answer(0);  // must not touch the destroyed notifier (ASan would say)
  EXPECT_EQ(sent.notifies.size(), 1u);
}

TEST(ReferNotify, FillsTheRequest) {
  sip::Message notify;
  notify.method = "NOTIFY";
  fill_notify(notify, {"refer;id=2", "active;expires=60", "SIP/2.0 100 Trying\r\n", false});
  EXPECT_EQ(notify.header("Event"), "refer;id=2");
  EXPECT_EQ(notify.header("Subscription-State"), "active;expires=60");
  EXPECT_EQ(notify.content_type, "message/sipfrag;version=2.0");
  EXPECT_EQ(notify.body, "SIP/2.0 100 Trying\r\n");
}

}  // namespace
}  // namespace warmline::server
