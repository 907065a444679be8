// A SIP agent (server/call_sip_agent.cpp, docs/sip.md "SIP agents"): agent `dialer` made one, its url
// sip:bot@203.0.113.50:5070 dialled through its trunk `provider`. The caller rings until the agent
// answers, is then bridged to it; the agent's failure, BYE and REFER and the caller's CANCEL and BYE.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "bridged_dial_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::HasSubstr;

struct SipAgentCallTest : BridgedDialTest {
  SipAgentCallTest() {
    dialer().url = "sip:bot@203.0.113.50:5070";
    for (auto& t : config.trunks)
      if (t.name == "provider") t.accepts_refer_from_peer = true;
  }
  // An INVITE for the SIP agent from the trunk that refuses REFER; the agent's leg as the test plays it.
  Target calls_agent(Caller& c) {
    const size_t media_before = media_logs.size();
    invite(c);
    // The INVITE also dialled the agent: the caller's media is the first session it made, not the last.
    if (media_logs.size() > media_before) c.media = media_logs[media_before];
    auto calls = router->snapshots();  // no agent channel tells the fixture the call's id
    EXPECT_EQ(calls.size(), 1u);
    if (calls.size() == 1) c.id = calls[0].id;
    auto t = dialled(kProvider);
    EXPECT_TRUE(t) << "the SIP agent was not called";
    return t ? *t : Target{};
  }
  static bool has(const std::vector<int>& statuses, int status) {
    return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
  }
};

TEST_F(SipAgentCallTest, TheCallerRingsUntilTheAgentAnswersThenTheyAreBridged) {
  Caller c = make_caller(kDialerNumber, kNoReferPeer);
  Target t = calls_agent(c);
  EXPECT_FALSE(c.agent) << "no WebSocket is opened for a SIP agent";
  EXPECT_EQ(t.invite.request_uri.to_string(), "sip:bot@203.0.113.50:5070");
  EXPECT_THAT(t.invite.header("P-Asserted-Identity"), HasSubstr("<sip:+27115550123@")) << "the caller, asserted";
  ring(t);
  EXPECT_FALSE(has(statuses(c, "INVITE"), 200)) << "the caller is answered only once the agent answers";
  EXPECT_EQ(call(c)->state(), CallState::kRinging);
  pick_up(t);
  EXPECT_TRUE(has(statuses(c, "INVITE"), 200));
  ack(c);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.media->bridged_to, t.media->session) << "the caller's media is joined to the agent's leg";
  EXPECT_EQ(call(c)->snapshot().agent, "dialer");

  target_bye(t);  // the agent hangs up: the caller gets BYE
  ASSERT_NE(last_request(c, "BYE"), nullptr);
  caller_answers_bye(c);
  expect_nothing_left();
}

TEST_F(SipAgentCallTest, TheCallersByeEndsTheAgentsLeg) {
  Caller c = make_caller(kDialerNumber, kNoReferPeer);
  Target t = calls_agent(c);
  pick_up(t);
  ack(c);
  send(c, "BYE");
  auto byes = requests(t, "BYE");
  ASSERT_EQ(byes.size(), 1u);
  reply(t, *byes[0], 200);
  expect_nothing_left();
}

TEST_F(SipAgentCallTest, TheCallersCancelCancelsTheRingingAgent) {
  Caller c = make_caller(kDialerNumber, kNoReferPeer);
  Target t = calls_agent(c);
  ring(t);
  cancel(c);
  ASSERT_EQ(requests(t, "CANCEL").size(), 1u);
  answer_cancel(t);
  expect_nothing_left();
}

TEST_F(SipAgentCallTest, ABusyAgentIsAnAgentFailureAndTheCallerIsAnsweredNotDropped) {
  Caller c = make_caller(kDialerNumber, kNoReferPeer);
  Target t = calls_agent(c);
  respond(t, 486);
  EXPECT_EQ(metrics.agent_failures.load(), 1u);
  EXPECT_TRUE(has(statuses(c, "INVITE"), 200)) << "answered for the fallback message";
  EXPECT_NE(call(c), nullptr) << "the call goes on: the fallback message plays before the BYE";
}

TEST_F(SipAgentCallTest, TheAgentsReferMovesTheCallerToAConfiguredTarget) {
  Caller c = make_caller(kDialerNumber, kNoReferPeer);
  Target t = calls_agent(c);
  pick_up(t);
  ack(c);
  target_request(t, "REFER", {}, std::nullopt, {"Refer-To: <sip:desk@203.0.113.60:5080>"});
  auto notifies = requests(t, "NOTIFY");
  ASSERT_EQ(notifies.size(), 1u) << "202, then NOTIFY 100 Trying";
  EXPECT_EQ(notifies[0]->body, "SIP/2.0 100 Trying\r\n");
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d) << "Desk was not called";
  EXPECT_EQ(d->invite.request_uri.to_string(), "sip:desk@203.0.113.60:5080");
  reply(t, *notifies[0], 200);
  pick_up(*d);
  EXPECT_EQ(c.media->bridged_to, d->media->session) << "the caller is bridged to Desk";
  notifies = requests(t, "NOTIFY");
  ASSERT_EQ(notifies.size(), 2u);
  EXPECT_EQ(notifies[1]->body, "SIP/2.0 200 OK\r\n");
  reply(t, *notifies[1], 200);
  ASSERT_EQ(requests(t, "BYE").size(), 1u) << "the agent's leg is released after the final NOTIFY";
}

}  // namespace
}  // namespace warmline::server
