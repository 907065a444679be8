// A call's life on the SIP side and towards the agent: set-up (1xx, 200 with Record-Route and Allow),
// the agent's connection answering it, and every way it ends (the caller's BYE, an API or agent hang-up,
// no ACK). No sockets, no sleeps: call_fixture.hpp.
#include "call_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

struct CallTest : CallFixture {};

TEST_F(CallTest, RingsWhileTheAgentConnectsAndAnswersOnceItIsOpen) {
  Caller c = make_caller();
  invite(c);
  ASSERT_TRUE(c.agent);
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180));
  EXPECT_EQ(call(c)->state(), CallState::kRinging);
  EXPECT_EQ(c.agent->call.from, "+27115550123");
  EXPECT_EQ(c.agent->call.to, kDemoNumber);
  EXPECT_FALSE(c.to_tag.empty()) << "the 180 creates the early dialog with our tag";

  c.agent->open();
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180, 200));
  EXPECT_EQ(call(c)->state(), CallState::kAnswered);
  const sip::Message* ok = last_response(c, "INVITE");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->to.tag(), c.to_tag) << "one dialog: the 200 carries the 180's tag";
  EXPECT_EQ(ok->header("Allow"), allow_header_value());
  EXPECT_EQ(ok->content_type, "application/sdp");
  ASSERT_EQ(ok->contacts.size(), 1u);
  EXPECT_EQ(ok->contacts.front().uri.host, kLocal.host);
  EXPECT_NE(ok->body.find("m=audio " + std::to_string(c.media->port)), std::string::npos) << ok->body;
  EXPECT_TRUE(c.media->started) << "an early offer's media starts with the 200";

  ack(c);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_EQ(metrics.calls_started.load(), 1u);
  EXPECT_EQ(metrics.calls_active.load(), 1);
}

TEST_F(CallTest, WithoutProvisionalTheTransactionSends100TryingItself) {
  Caller c = make_caller(kDemoNumber, kOtherTrunk);  // trunk "other": provisional = "none"
  invite(c);
  EXPECT_TRUE(statuses(c, "INVITE").empty());
  advance(250ms);  // §17.2.1: the INVITE server transaction answers 100 after 200 ms
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(100));
  c.agent->open();
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(100, 200));
}

TEST_F(CallTest, The1xxAnd200CarryTheInvitesRecordRouteInOrderAndOurRequestsFollowIt) {
  Caller c = make_caller();
  invite(c, InviteOptions().record_route("<sip:203.0.113.50;lr>").record_route("<sip:203.0.113.51;lr>"));
  c.agent->open();
  for (int status : {180, 200}) {
    const sip::Message* r = nullptr;
    for (const auto& s : transport.sent())
      if (!s.message.is_request && s.message.call_id == c.call_id && s.message.status_code == status) r = &s.message;
    ASSERT_TRUE(r) << status;
    ASSERT_EQ(r->record_routes.size(), 2u) << status;
    EXPECT_EQ(r->record_routes[0].uri.host, "203.0.113.50");
    EXPECT_EQ(r->record_routes[1].uri.host, "203.0.113.51");
  }
  ack(c);
  call(c)->hangup("api_hangup");
  const sip::Message* bye = last_request(c, "BYE");
  ASSERT_TRUE(bye);
  ASSERT_EQ(bye->routes.size(), 2u) << "§12.2.1.1: the route set, in order";
  EXPECT_EQ(bye->routes[0].uri.host, "203.0.113.50");
  EXPECT_EQ(bye->routes[1].uri.host, "203.0.113.51");
  EXPECT_EQ(*destination_of(bye), (sip::Endpoint{"203.0.113.50", 5060})) << "loose routing: to the first route";
}

TEST_F(CallTest, CallersByeEndsTheCallWithCallerHangup) {
  Caller c = active_call();
  const size_t before = sent_count();
  send(c, "BYE");
  EXPECT_THAT(sent_since(c, before), ElementsAre("200 BYE")) << "no BYE of ours back";
  EXPECT_THAT(c.agent->stop_reason(), Optional(std::string("caller_hangup")));
  EXPECT_TRUE(c.agent->close_requested);
  EXPECT_TRUE(c.media->closed);
  EXPECT_EQ(router->active_calls(), 0u);
  EXPECT_EQ(metrics.calls_active.load(), 0);
  EXPECT_EQ(c.agent->channel, nullptr) << "released once the agent's socket closed";
  EXPECT_EQ(dialogs.size(), 0u) << "the leg left the registry";
}

TEST_F(CallTest, ApiHangupSendsByeInTheDialogAndStopsTheAgent) {
  Caller c = active_call();
  call(c)->hangup("api_hangup");
  auto byes = requests(c, "BYE");
  ASSERT_EQ(byes.size(), 1u);
  EXPECT_EQ(byes[0]->from.tag(), c.to_tag);
  EXPECT_EQ(byes[0]->to.tag(), c.from_tag);
  EXPECT_EQ(*destination_of(byes[0]), kTrunkPeer) << "the caller's Contact";
  EXPECT_THAT(c.agent->stop_reason(), Optional(std::string("api_hangup")));
  EXPECT_EQ(c.agent->frames.back(), "stop api_hangup") << "nothing after stop";
  reply(c, *byes[0], 200);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_EQ(router->active_calls(), 0u);
}

TEST_F(CallTest, AgentHangupLetsItsQueuedAudioPlayThenSendsBye) {
  Caller c = active_call();
  c.agent->audio(1600);  // "goodbye"
  c.agent->command(ai::Hangup{});
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the goodbye is still playing";
  c.media->play_out();
  settle();
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_THAT(c.agent->stop_reason(), Optional(std::string("agent_hangup")));
}

TEST_F(CallTest, HangupWhileRingingAnswersTheInvite480) {
  Caller c = make_caller();
  invite(c);
  call(c)->hangup("api_hangup");
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180, 480));
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(router->active_calls(), 0u);
}

TEST_F(CallTest, NoAckEndsTheCallAtTimerHWithByeAndNoAck) {
  Caller c = make_caller();
  invite(c);
  c.agent->open();
  advance(31s);
  EXPECT_GT(statuses(c, "INVITE").size(), 3u) << "§13.3.1.4: the 200 is retransmitted until the ACK";
  EXPECT_TRUE(requests(c, "BYE").empty());
  advance(2s);  // 64*T1 = 32 s after the 200
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_THAT(c.agent->stop_reason(), Optional(std::string("no_ack")));
  EXPECT_EQ(router->active_calls(), 0u);
}

// RFC 3261 §15: "the callee's UA MUST NOT send a BYE on a confirmed dialog until it has received an ACK
// for its 2xx response or until the server transaction times out."
TEST_F(CallTest, ApiHangupBeforeTheAckDefersTheByeUntilTheAck) {
  Caller c = make_caller();
  invite(c);
  c.agent->open();
  call(c)->hangup("api_hangup");
  advance(1s);
  EXPECT_TRUE(requests(c, "BYE").empty()) << "BYE sent before the caller's ACK";
  ack(c);
  EXPECT_EQ(requests(c, "BYE").size(), 1u) << "the ACK releases the deferred BYE";
  advance(40s);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(CallTest, ApiHangupBeforeTheAckSendsTheByeAtTheAckTimeoutWhenNoAckComes) {
  Caller c = make_caller();
  invite(c);
  c.agent->open();
  call(c)->hangup("api_hangup");
  advance(31s);
  EXPECT_TRUE(requests(c, "BYE").empty()) << "BYE sent before the caller's ACK";
  advance(2s);
  EXPECT_EQ(requests(c, "BYE").size(), 1u) << "the server transaction timed out: now the BYE";
}

TEST_F(CallTest, AgentHangupBeforeTheAckDefersTheByeUntilTheAck) {
  Caller c = make_caller();
  invite(c);
  c.agent->open();
  c.agent->command(ai::Hangup{});  // nothing queued: the call hangs up at once
  advance(1s);
  EXPECT_TRUE(requests(c, "BYE").empty()) << "BYE sent before the caller's ACK";
  ack(c);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(CallTest, CallerDtmfByRtpReachesTheAgent) {
  Caller c = active_call();
  c.media->caller_dtmf('7', 160);
  EXPECT_EQ(c.agent->frames.back(), "dtmf 7 160");
}

TEST_F(CallTest, AgentDtmfGoesToTheCallerAsRfc4733) {
  Caller c = active_call();
  c.agent->command(ai::SendDtmf{"12#"});
  EXPECT_EQ(c.media->dtmf_sent, "12#");
}

TEST_F(CallTest, AgentLostWithoutDefaultForwardSpeaksTheFallbackThenHangsUp) {
  Caller c = make_caller(kPlainNumber);
  invite(c);
  c.agent->open();
  ack(c);
  c.agent->drop();
  ASSERT_EQ(speech.requests.size(), 1u);
  EXPECT_EQ(speech.requests[0].text, "Sorry, nobody can take your call.");
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the fallback message plays first";
  speech.finish(0, 8000);
  settle();
  EXPECT_TRUE(requests(c, "BYE").empty());
  c.media->play_out();
  settle();
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_TRUE(requests(c, "REFER").empty());
  EXPECT_EQ(metrics.agent_failures.load(), 1u);
}

TEST_F(CallTest, SnapshotShowsTheCall) {
  Caller c = active_call();
  auto snaps = router->snapshots();
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].id, c.id);
  EXPECT_EQ(snaps[0].agent, "demo");
  EXPECT_EQ(snaps[0].state, "active");
  EXPECT_EQ(snaps[0].from, "+27115550123");
  EXPECT_FALSE(snaps[0].transfer);
}

}  // namespace
}  // namespace warmline::server
