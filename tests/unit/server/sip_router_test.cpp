// The shard's SIP router: who may start a call (trunk ACL, draining, max_calls, loops), routing inside a
// dialog by the full dialog id, the dialog's own source check (hijack attempts change nothing), CANCEL,
// and a retransmitted 2xx to an INVITE we sent reaching its usage.
#include "call_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

struct SipRouterTest : CallFixture {};

// ---------------------------------------------------------------------------------------------------
// New calls

TEST_F(SipRouterTest, InviteFromOutsideEveryTrunkIs403AndStartsNothing) {
  Caller c = make_caller(kDemoNumber, kStranger);
  invite(c);
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(403)) << "no 100 Trying: answered without a transaction";
  EXPECT_FALSE(c.agent);
  EXPECT_FALSE(c.media);
  EXPECT_EQ(router->active_calls(), 0u);
  EXPECT_EQ(metrics.sip_unknown_source.load(), 1u);
  EXPECT_EQ(metrics.calls_rejected.load(), 0u) << "it never got as far as a call";
}

TEST_F(SipRouterTest, AnyNewRequestFromAnUnknownSourceIsAStateless403WithAStableTag) {
  // A scanner's OPTIONS, retransmitted: each copy gets the same answer (RFC 3261 §8.2.6.2), and the
  // layer keeps nothing for it (no transaction that would absorb the retransmission).
  Caller probe = make_caller(kDemoNumber, kStranger);
  const sip::Message options = in_dialog(probe, "OPTIONS", InDialog().our_tag(""));
  deliver(options, kStranger);
  deliver(options, kStranger);
  std::vector<sip::Message> answers;
  for (const auto& sent : transport.sent())
    if (!sent.message.is_request && sent.message.call_id == probe.call_id) answers.push_back(sent.message);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].status_code, 403);
  EXPECT_EQ(answers[1].status_code, 403);
  EXPECT_FALSE(answers[0].to.tag().empty());
  EXPECT_EQ(answers[0].to.tag(), answers[1].to.tag());
  EXPECT_EQ(metrics.sip_unknown_source.load(), 2u);
  // The same OPTIONS from the trunk is let in (200).
  deliver(in_dialog(probe, "OPTIONS", InDialog().our_tag("")), kTrunkPeer);
  EXPECT_EQ(last_response(probe, "OPTIONS")->status_code, 200);
}

TEST_F(SipRouterTest, AShardWhoseMediaClockJustOverranAnswers503WithRetryAfter) {
  // The clock's pass started half a second late: the shard is behind on the calls it has.
  clock.tick(media::MediaClock::Clock::now() + std::chrono::milliseconds(500));
  ASSERT_EQ(clock.stats().overruns, 1u);
  Caller c = make_caller();
  invite(c);
  const sip::Message* r = last_response(c, "INVITE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 503);
  EXPECT_EQ(r->reason, "Service Unavailable - media overloaded");
  EXPECT_EQ(r->header("Retry-After"), "7");
  EXPECT_FALSE(c.agent);
  EXPECT_EQ(metrics.calls_rejected.load(), 1u);
}

TEST_F(SipRouterTest, OneLateTickFollowedByOnTimeOnesIsNotOverload) {
  const auto late = media::MediaClock::Clock::now() + std::chrono::milliseconds(500);
  clock.tick(late);                   // overran (a hiccup)...
  clock.tick(clock.next_deadline());  // ...and the next pass is on time again
  ASSERT_EQ(clock.stats().overruns, 1u);
  Caller c = make_caller();
  invite(c);
  EXPECT_TRUE(c.agent) << "the call is taken";
}

TEST_F(SipRouterTest, InvitesBeyondTheSourcesRateAre503UntilItsBucketRefills) {
  config.server.invite_rate_per_source = 2;
  std::vector<Caller> callers;
  for (int i = 0; i < 3; ++i) {
    callers.push_back(make_caller());
    invite(callers.back());
  }
  EXPECT_TRUE(callers[0].agent && callers[1].agent) << "a burst up to the rate is taken";
  const sip::Message* r = last_response(callers[2], "INVITE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 503);
  EXPECT_EQ(r->reason, "Service Unavailable - call rate limit");
  EXPECT_EQ(r->header("Retry-After"), "7");
  advance(std::chrono::milliseconds(500));  // one token back
  Caller later = make_caller();
  invite(later);
  EXPECT_TRUE(later.agent);
}

TEST_F(SipRouterTest, TheSourcesRateIsNodeWideTokensTakenOnAnotherShardCount) {
  // A source's INVITEs land on the shards owning their Call-IDs: another shard has just taken the
  // source's whole burst from the node's buckets, so this shard refuses the next one.
  config.server.invite_rate_per_source = 2;
  Caller c = make_caller();
  ASSERT_TRUE(node_rate.allow(c.at.host, timers.now(), 2));
  ASSERT_TRUE(node_rate.allow(c.at.host, timers.now(), 2));
  invite(c);
  const sip::Message* r = last_response(c, "INVITE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 503);
  EXPECT_EQ(r->reason, "Service Unavailable - call rate limit");
  EXPECT_FALSE(c.agent);
}

TEST_F(SipRouterTest, InviteForANumberNoAgentHasIs404) {
  Caller c = make_caller("+27115550999");
  invite(c);
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(404));
  EXPECT_FALSE(c.agent);
}

TEST_F(SipRouterTest, AnInviteWithNoHopsLeftIs483AndStartsNothing) {
  // warmline places calls of its own for the ones it takes: an INVITE that has run out of hops (a
  // routing loop through us) goes no further. One hop left is still a call.
  Caller looped = make_caller(kDemoNumber);
  invite(looped, InviteOptions{}.hops("0"));
  const sip::Message* r = last_response(looped, "INVITE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 483);
  EXPECT_EQ(r->reason, "Too Many Hops");
  EXPECT_FALSE(looped.agent);
  EXPECT_EQ(router->active_calls(), 0u);
  EXPECT_EQ(metrics.calls_rejected.load(), 1u);
  Caller last_hop = make_caller(kDemoNumber);
  invite(last_hop, InviteOptions{}.hops("1"));
  EXPECT_TRUE(last_hop.agent);
}

TEST_F(SipRouterTest, DrainingAnswersInvitesAndOptions503WithRetryAfter) {
  draining = true;
  Caller c = make_caller();
  invite(c);
  const sip::Message* r = last_response(c, "INVITE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 503);
  EXPECT_EQ(r->header("Retry-After"), "7");
  EXPECT_FALSE(c.agent);

  Caller probe = make_caller();
  deliver(in_dialog(probe, "OPTIONS", InDialog().our_tag("")), kTrunkPeer);
  r = last_response(probe, "OPTIONS");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 503);
  EXPECT_EQ(r->header("Retry-After"), "7");
}

TEST_F(SipRouterTest, OptionsOutsideACallIs200WithAllowAndSupported) {
  Caller probe = make_caller();
  deliver(in_dialog(probe, "OPTIONS", InDialog().our_tag("")), kTrunkPeer);
  const sip::Message* r = last_response(probe, "OPTIONS");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 200);
  EXPECT_EQ(r->header("Allow"), allow_header_value());
  EXPECT_EQ(allow_header_value(), "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, REFER, NOTIFY, PRACK");
  EXPECT_EQ(r->header("Supported"), "100rel, norefersub, timer");
}

TEST_F(SipRouterTest, MaxCallsAnswers503WithRetryAfterUntilACallEnds) {
  config.server.max_calls = 1;
  Caller first = active_call();
  Caller second = make_caller();
  invite(second);
  const sip::Message* r = last_response(second, "INVITE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 503);
  EXPECT_EQ(r->header("Retry-After"), "7");
  EXPECT_FALSE(second.agent);

  send(first, "BYE");
  EXPECT_EQ(node_calls.load(), 0);
  Caller third = make_caller();
  invite(third);
  EXPECT_THAT(statuses(third, "INVITE"), ElementsAre(180));
}

TEST_F(SipRouterTest, ASecondInviteOfTheSameCallIdAndFromTagIs482) {
  Caller c = make_caller();
  invite(c);
  Caller again = c;  // the same Call-ID and From tag, a new branch: a loop or a fork coming back
  again.to_tag.clear();
  invite(again);
  const sip::Message* r = last_response(c, "INVITE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 482);
  EXPECT_EQ(router->active_calls(), 1u);
}

TEST_F(SipRouterTest, ReferAndByeOutsideACallAreRefused) {
  Caller c = make_caller();
  deliver(in_dialog(c, "REFER", InDialog().our_tag("").header("Refer-To: <sip:+27115550999@x.example>")), kTrunkPeer);
  deliver(in_dialog(c, "BYE", InDialog().our_tag("")), kTrunkPeer);
  EXPECT_THAT(statuses(c, "REFER"), ElementsAre(403));
  EXPECT_THAT(statuses(c, "BYE"), ElementsAre(481));
}

// ---------------------------------------------------------------------------------------------------
// Inside a dialog: the full dialog id (RFC 3261 §12.2.2)

TEST_F(SipRouterTest, AWrongToTagOrFromTagReachesNoDialog481AndCounts) {
  Caller c = active_call();
  send(c, "BYE", InDialog().our_tag("made-up"));
  send(c, "BYE", InDialog().their_tag("made-up"));
  EXPECT_THAT(statuses(c, "BYE"), ElementsAre(481, 481));
  EXPECT_EQ(metrics.sip_dialog_rejected.load(), 2u);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_FALSE(c.agent->stop_reason());
}

// ---------------------------------------------------------------------------------------------------
// Inside a dialog: only from the trunk the call came in on (docs/sip.md "Dialog security")

TEST_F(SipRouterTest, ReInviteFromOutsideTheTrunkIs403AndLeavesTheMediaAlone) {
  Caller c = active_call();
  for (const sip::Endpoint& attacker : {kStranger, kOtherTrunk}) {
    send(c, "INVITE", InDialog().source(attacker).seq(50).with_sdp(sdp("192.0.2.200", 50000)));
    EXPECT_EQ(last_response(c, "INVITE")->status_code, 403) << attacker.to_string();
  }
  EXPECT_TRUE(c.media->remotes.empty()) << "RTP was re-pointed at the attacker";
  EXPECT_EQ(metrics.sip_dialog_rejected.load(), 2u);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(SipRouterTest, ByeFromOutsideTheTrunkIs403AndTheCallGoesOn) {
  Caller c = active_call();
  send(c, "BYE", InDialog().source(kOtherTrunk));
  EXPECT_THAT(statuses(c, "BYE"), ElementsAre(403));
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_FALSE(c.agent->stop_reason());
  EXPECT_FALSE(c.media->closed);
}

TEST_F(SipRouterTest, AHighCSeqFromOutsideTheTrunkDoesNotBlockTheCallersNextRequest) {
  Caller c = active_call();
  send(c, "INFO", InDialog().source(kStranger).seq(100000));
  send(c, "INFO");  // the caller's own next CSeq (2)
  EXPECT_THAT(statuses(c, "INFO"), ElementsAre(403, 200));
  send(c, "BYE");
  EXPECT_THAT(statuses(c, "BYE"), ElementsAre(200));
  EXPECT_THAT(c.agent->stop_reason(), Optional(std::string("caller_hangup")));
}

// Expected behaviour 3: the ACK is not answered, but a foreign one must not count as the caller's.
TEST_F(SipRouterTest, AnAckFromOutsideTheTrunkDoesNotStopThe2xxRetransmission) {
  Caller c = make_caller();
  invite(c);
  c.agent->open();
  ack(c, {}, kStranger);
  EXPECT_EQ(call(c)->state(), CallState::kAnswered);
  const size_t oks = statuses(c, "INVITE").size();
  advance(2s);
  EXPECT_GT(statuses(c, "INVITE").size(), oks) << "the hijacker's ACK stopped our 200's retransmission";
  ack(c);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_TRUE(requests(c, "BYE").empty());
}

TEST_F(SipRouterTest, WithOnlyAForeignAckTheCallEndsAtTheAckTimeout) {
  Caller c = make_caller();
  invite(c);
  c.agent->open();
  ack(c, {}, kOtherTrunk);
  advance(33s);
  EXPECT_EQ(requests(c, "BYE").size(), 1u) << "no ACK from the caller: the session ends (§13.3.1.4)";
  EXPECT_THAT(c.agent->stop_reason(), Optional(std::string("no_ack")));
}

TEST_F(SipRouterTest, AForeignAckCarryingAnAnswerDoesNotMoveALateOffersMedia) {
  Caller c = make_caller();
  invite(c, InviteOptions().no_sdp());
  c.agent->open();
  ack(c, sdp("192.0.2.200", 50000), kStranger);
  EXPECT_TRUE(c.media->remotes.empty());
  EXPECT_FALSE(c.media->started);
  ack(c, sdp("203.0.113.5", 40002));
  ASSERT_EQ(c.media->remotes.size(), 1u);
  EXPECT_EQ(c.media->remotes[0].address().to_string(), "203.0.113.5");
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

// ---------------------------------------------------------------------------------------------------
// CANCEL

TEST_F(SipRouterTest, CancelWhileRingingAnswers200And487AndEndsTheCall) {
  Caller c = make_caller();
  invite(c);
  cancel(c);
  EXPECT_THAT(statuses(c, "CANCEL"), ElementsAre(200));
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180, 487));
  EXPECT_THAT(c.agent->stop_reason(), Optional(std::string("caller_cancelled")));
  EXPECT_EQ(router->active_calls(), 0u);
  EXPECT_TRUE(requests(c, "BYE").empty());
}

// docs/sip.md: "A CANCEL from outside the trunk does not cancel the call."
TEST_F(SipRouterTest, CancelFromOutsideTheTrunkDoesNotEndTheCall) {
  Caller c = make_caller();
  invite(c);
  cancel(c, kStranger);
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180)) << "the INVITE was cancelled by a stranger";
  ASSERT_TRUE(call(c));
  EXPECT_EQ(call(c)->state(), CallState::kRinging);
  c.agent->open();
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180, 200));
}

TEST_F(SipRouterTest, CancelAfterThe200ChangesNothing) {
  Caller c = make_caller();
  invite(c);
  c.agent->open();
  cancel(c);
  ack(c);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180, 200));
}

// ---------------------------------------------------------------------------------------------------
// A retransmitted 2xx to an INVITE we sent (RFC 6026 §8.4) reaches the usage that owns the dialog.
// No real outbound usage exists yet (no legs b): a recording one stands in.

struct RecordingUsage final : sip::DialogUsage {
  void on_request(sip::ServerTransaction&, const sip::Message&) override {}
  bool on_ack(const sip::Message&, const sip::Endpoint&) override { return true; }
  void on_cancel(sip::ServerTransaction&, const sip::Message&, const sip::Endpoint&) override {}
  void on_ack_timeout() override {}
  void on_2xx_retransmission(const sip::Message& response, const sip::Endpoint& from) override {
    retransmissions.push_back(response.status_code);
    sources.push_back(from);
  }
  std::vector<int> retransmissions;
  std::vector<sip::Endpoint> sources;
};

TEST_F(SipRouterTest, ARetransmitted2xxToOurInviteReachesTheOwningUsage) {
  sip::Message inv = parse(
      "INVITE sip:101@203.0.113.5:5060 SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-ours1\n"
      "Max-Forwards: 70\n"
      "From: <sip:warmline@192.0.2.10>;tag=our-tag\n"
      "To: <sip:101@203.0.113.5>\n"
      "Call-ID: out-1@192.0.2.10\n"
      "CSeq: 1 INVITE\n"
      "Contact: <sip:192.0.2.10:5060>",
      "application/sdp", sdp("192.0.2.10", 40100));
  std::vector<int> finals;
  layer.send_request(inv, kTrunkPeer, [&](const sip::Message& r) { finals.push_back(r.status_code); });
  RecordingUsage usage;
  ASSERT_TRUE(dialogs.add(sip::DialogId{"out-1@192.0.2.10", "our-tag", "their-tag"}, &usage));

  sip::Message ok = sip::make_response(transport.last().message, 200, "OK");
  ok.to.set_tag("their-tag");
  deliver(ok, kTrunkPeer);
  EXPECT_THAT(finals, ElementsAre(200)) << "the first 2xx goes to the transaction's handler";
  EXPECT_TRUE(usage.retransmissions.empty());

  deliver(ok, kTrunkPeer);  // inside Timer M: through the transaction (RFC 6026 Accepted state)
  EXPECT_THAT(usage.retransmissions, ElementsAre(200));
  advance(33s);
  deliver(ok, kTrunkPeer);  // after Timer M: a stray response
  EXPECT_THAT(usage.retransmissions, ElementsAre(200, 200));
  ASSERT_FALSE(usage.sources.empty());
  EXPECT_EQ(usage.sources.back(), kTrunkPeer);
  EXPECT_THAT(finals, ElementsAre(200));
  dialogs.remove(sip::DialogId{"out-1@192.0.2.10", "our-tag", "their-tag"}, &usage);
}

// A forking proxy: a 2xx from a second fork (a To tag no dialog has) reaches the INVITE's usage through
// our From tag, so the usage can ACK and end that fork.
TEST_F(SipRouterTest, A2xxFromAnUnknownForkReachesTheInvitesUsageByOurTag) {
  sip::Message inv = parse(
      "INVITE sip:101@203.0.113.5:5060 SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-ours2\n"
      "Max-Forwards: 70\n"
      "From: <sip:warmline@192.0.2.10>;tag=our-tag\n"
      "To: <sip:101@203.0.113.5>\n"
      "Call-ID: out-2@192.0.2.10\n"
      "CSeq: 1 INVITE\n"
      "Contact: <sip:192.0.2.10:5060>",
      "application/sdp", sdp("192.0.2.10", 40100));
  layer.send_request(inv, kTrunkPeer, [](const sip::Message&) {});
  RecordingUsage usage;
  ASSERT_TRUE(dialogs.add(sip::DialogId{"out-2@192.0.2.10", "our-tag", "fork-1"}, &usage));
  sip::Message ok = sip::make_response(transport.last().message, 200, "OK");
  ok.to.set_tag("fork-1");
  deliver(ok, kTrunkPeer);
  advance(33s);  // the transaction is gone: what follows is stray
  ok.to.set_tag("fork-2");
  deliver(ok, kTrunkPeer);
  EXPECT_THAT(usage.retransmissions, ElementsAre(200)) << "the second fork's 2xx was dropped";
  sip::Message other = ok;
  other.from.set_tag("not-ours");
  deliver(other, kTrunkPeer);
  EXPECT_THAT(usage.retransmissions, ElementsAre(200)) << "a 2xx for another From tag reached this usage";
  dialogs.remove(sip::DialogId{"out-2@192.0.2.10", "our-tag", "fork-1"}, &usage);
}

}  // namespace
}  // namespace warmline::server
