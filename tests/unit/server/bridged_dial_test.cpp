// Bridged dials (DESIGN.md "Transfers", "Caller ID", "Reaching a target"), end to end through the call:
// a cold transfer from a trunk that refuses REFER makes warmline call the target itself (leg b) and,
// once it answers, bridge caller and target; the agent leaves. The test plays the caller (call_fixture)
// and the target (Target). Here: what leg b's INVITE carries, digest, the answer and the bridge, either
// side's BYE afterwards, the call record. Outcomes other than an answer: bridged_dial_outcome_test.cpp;
// REFER first: refer_fallback_test.cpp; leg b itself: outbound_leg_test.cpp. Scenarios that end check
// that nothing is left half-open: no call, no dialog registration, nothing on the media clock.
#include "bridged_dial_fixture.hpp"
#include "digest_check.hpp"
#include "sip/auth/digest_challenge.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------------------
// What leg b's INVITE carries

TEST_F(BridgedDialTest, ANumberGoesToItsTrunkWithTheTrunksNumberFormCallerIdAndTheCallersIdentity) {
  Caller c = dialer_call(kNoReferPeer, InviteOptions()
                                           .offer(sdp("100.64.0.5", 40000, "sendrecv", "8 0 101"))
                                           .header("Privacy: id"));
  agent_transfers(c, {"Craig"});
  EXPECT_TRUE(requests(c, "REFER").empty()) << "a REFER went to a trunk that refuses it";
  EXPECT_EQ(invites_to(kProvider).size(), 1u);
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  const sip::Message& inv = t->invite;
  // tech_prefix 1010, number_format no_plus, the trunk's address and port.
  EXPECT_EQ(inv.request_uri.to_string(), "sip:101027115550142@203.0.113.50:5070");
  EXPECT_EQ(inv.to.uri.to_string(), inv.request_uri.to_string());
  EXPECT_TRUE(inv.to.tag().empty());
  EXPECT_EQ(inv.from.uri.user, "+27115550180") << "the trunk's caller ID (the target and agent set none)";
  EXPECT_EQ(inv.from.uri.host, kLocal.host);
  EXPECT_FALSE(inv.from.tag().empty());
  EXPECT_EQ(inv.header("P-Asserted-Identity"), "<sip:+27115550123@" + kLocal.host + ">") << "the original caller";
  EXPECT_EQ(inv.header("Privacy"), "id") << "the caller's Privacy is passed on";
  EXPECT_NE(inv.call_id, c.call_id);
  ASSERT_EQ(inv.contacts.size(), 1u);
  EXPECT_EQ(inv.contacts[0].uri.host, kLocal.host);
  // The caller's codec (PCMA here) is offered first, so that the bridge can relay without decoding.
  const sip::MediaDescription offer = audio_of(inv);
  ASSERT_FALSE(offer.rtpmaps.empty());
  EXPECT_EQ(offer.rtpmaps[0].encoding, "PCMA");
  ASSERT_FALSE(offer.formats.empty());
  EXPECT_EQ(offer.formats[0], "8");
  ASSERT_TRUE(t->media) << "leg b's media session is the one its offer names";
  EXPECT_NE(t->media, c.media);

  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing"));
  EXPECT_TRUE(c.media->ringback) << "the caller hears ringback while the target is dialled";
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(BridgedDialTest, ACallerWithoutPrivacyGetsNoPrivacyHeaderAndTheTargetsOwnCallerIdIsPresented) {
  Caller c = dialer_call();
  agent_transfers(c, {"Lisa"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->invite.request_uri.user, "101027115550144");
  EXPECT_EQ(t->invite.from.uri.user, "+27115550181");
  EXPECT_TRUE(t->invite.header("Privacy").empty());
  EXPECT_FALSE(t->invite.header("P-Asserted-Identity").empty());
  EXPECT_EQ(audio_of(t->invite).rtpmaps.at(0).encoding, "PCMU") << "the caller's codec, first";
}

// RFC 3325: an anonymous caller's identity is the one their network asserted; it goes on (with their
// Privacy, so the next network withholds it in turn), not the "anonymous" of their From.
TEST_F(BridgedDialTest, AnAnonymousCallersAssertedIdentityIsPassedOn) {
  Caller c = dialer_call(kNoReferPeer, InviteOptions()
                                           .from_party("\"Anonymous\" <sip:anonymous@anonymous.invalid>")
                                           .header("P-Asserted-Identity: <sip:+27115550123@carrier.example>")
                                           .header("Privacy: id"));
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->invite.header("P-Asserted-Identity"), "<sip:+27115550123@" + kLocal.host + ">");
  EXPECT_EQ(t->invite.header("Privacy"), "id");
  EXPECT_EQ(t->invite.from.uri.user, "+27115550180") << "From stays the caller ID we may present";
}

TEST_F(BridgedDialTest, ATelAssertedIdentityIsPassedOnToo) {
  Caller c = dialer_call(kNoReferPeer, InviteOptions()
                                           .from_party("<sip:anonymous@anonymous.invalid>")
                                           .header("P-Asserted-Identity: <tel:+27115550123;cpc=ordinary>"));
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->invite.header("P-Asserted-Identity"), "<sip:+27115550123@" + kLocal.host + ">");
}

TEST_F(BridgedDialTest, ASipUriAtAnIpLiteralIsDialledDirectly) {
  Caller c = dialer_call();
  agent_transfers(c, {"Desk"});
  auto t = dialled(kDeskServer);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->invite.request_uri.to_string(), "sip:desk@203.0.113.60:5080");
  EXPECT_TRUE(invites_to(kProvider).empty());
  EXPECT_TRUE(t->invite.header("Privacy").empty());
}

TEST_F(BridgedDialTest, TheRequestsExtraHeadersGoOnLegB) {
  Caller c = dialer_call();
  ai::TransferRequest r = transfer({"Craig"});
  r.headers = {{"X-Case", "42"}};
  c.agent->command(r);
  settle();
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->invite.header("X-Case"), "42");
}

// DESIGN.md "Caller ID": a number dialled through a trunk needs a caller ID the trunk allows. The
// configuration accepts a tel: target through a trunk that lists none (only a caller ID that is set is
// checked against the trunk), so the transfer refuses it before anything is sent.
TEST_F(BridgedDialTest, ANumberThroughATrunkWithoutCallerIdsIsRejectedBeforeAnythingIsSent) {
  Caller c = dialer_call();
  const size_t before = sent_count();
  agent_transfers(c, {"Night"});
  EXPECT_TRUE(invites_to(kCarrierOut).empty());
  size_t invites = 0;
  for (size_t i = before; i < transport.sent().size(); ++i)
    invites += transport.sent()[i].message.is_request && transport.sent()[i].message.method == "INVITE";
  EXPECT_EQ(invites, 0u) << "an INVITE went out without a caller ID";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kRejected);
  EXPECT_THAT(ended[0].reason, HasSubstr("caller ID"));
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_FALSE(c.media->ringback);
  send(c, "BYE");
  expect_nothing_left();
}

// ---------------------------------------------------------------------------------------------------
// Digest (RFC 3261 §22.2): one answer per leg with the trunk's credentials

TEST_F(BridgedDialTest, A407IsAnsweredOnceWithTheTrunksCredentialsInTheSameCall) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto first = dialled(kProvider);
  ASSERT_TRUE(first);
  challenge(*first, 407);
  auto invites = invites_to(kProvider);
  ASSERT_EQ(invites.size(), 2u) << "no retry with credentials";
  const sip::Message retry = *invites[1];
  EXPECT_EQ(retry.call_id, first->invite.call_id);
  EXPECT_EQ(retry.from.tag(), first->invite.from.tag());
  EXPECT_TRUE(retry.to.tag().empty());
  EXPECT_EQ(retry.cseq.number, first->invite.cseq.number + 1);
  EXPECT_EQ(retry.request_uri.to_string(), first->invite.request_uri.to_string());
  EXPECT_NE(retry.vias.front().branch(), first->invite.vias.front().branch()) << "a new transaction";
  EXPECT_TRUE(first->invite.header("Proxy-Authorization").empty());
  expect_valid_digest(retry.header("Proxy-Authorization"), retry,
                      {.username = "acct-7", .password = "s3cret", .realm = "provider.example", .nonce = "nonce-1"});
  EXPECT_EQ(retry.header("P-Asserted-Identity"), first->invite.header("P-Asserted-Identity"));
  EXPECT_EQ(retry.body, first->invite.body) << "the same offer";
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing")) << "a challenge is not an outcome";

  auto t = dialled(kProvider);  // the target answers the retry
  ASSERT_TRUE(t);
  EXPECT_EQ(t->media, first->media);
  ring(*t);
  pick_up(*t);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
}

TEST_F(BridgedDialTest, ASecond407IsRejectedWithoutAThirdInvite) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  challenge(*t, 407);
  t = dialled(kProvider);
  challenge(*t, 407, "nonce-2");
  EXPECT_EQ(invites_to(kProvider).size(), 2u);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kRejected);
  EXPECT_EQ(ended[0].sip_status, 407);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_FALSE(c.media->ringback) << "back with the agent";
  send(c, "BYE");
  expect_nothing_left();
}

TEST_F(BridgedDialTest, AChallengeWithoutCredentialsToAnswerItIsRejected) {
  Caller c = dialer_call();
  agent_transfers(c, {"Desk"});  // dialled directly: no trunk, no credentials
  auto t = dialled(kDeskServer);
  ASSERT_TRUE(t);
  challenge(*t, 401);
  EXPECT_EQ(invites_to(kDeskServer).size(), 1u);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kRejected);
  EXPECT_EQ(ended[0].sip_status, 401);
}

// ---------------------------------------------------------------------------------------------------
// Answered: caller and target bridged, the agent leaves

TEST_F(BridgedDialTest, AnAnsweredTargetIsBridgedToTheCallerAndTheAgentLeaves) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ring(*t);
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing"));
  EXPECT_EQ(c.agent->transfers.back().sip_status, 180);
  EXPECT_EQ(c.agent->transfers.back().target, "Craig");
  EXPECT_TRUE(c.media->ringback);
  EXPECT_EQ(c.media->bridged_to, nullptr) << "a 180 without SDP has no media to hear";

  pick_up(*t);
  auto acks = requests(*t, "ACK");
  ASSERT_EQ(acks.size(), 1u) << "the 200 is ACKed";
  EXPECT_EQ(acks[0]->to.tag(), t->tag);
  EXPECT_EQ(acks[0]->cseq.number, t->invite.cseq.number);
  EXPECT_EQ(*destination_of(acks[0]), kProvider) << "to the target's Contact";
  EXPECT_THAT(transfer_frames(c),
              ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 ended completed 200"));
  EXPECT_EQ(c.agent->frames.back(), "stop transferred");
  EXPECT_TRUE(c.agent->close_requested);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(call(c)->snapshot().state, "bridged");
  ASSERT_TRUE(t->media);
  EXPECT_EQ(c.media->bridged_to, t->media->session) << "the caller's media is joined to the target's";
  EXPECT_FALSE(c.media->ringback);
  EXPECT_TRUE(t->media->started);
  ASSERT_FALSE(t->media->remotes.empty());
  EXPECT_EQ(t->media->remotes.back().port(), 50000) << "leg b sends to the target's SDP address";
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the caller stays";
  EXPECT_TRUE(requests(*t, "BYE").empty());
  c.agent->audio(160);
  EXPECT_EQ(c.media->queued_samples, 0u) << "the agent is not heard any more";
  EXPECT_EQ(metrics.transfers_by_result[static_cast<size_t>(TransferResult::kCompleted)].load(), 1u);
  EXPECT_EQ(c.agent->state, AgentChannel::State::kClosed);
  EXPECT_EQ(metrics.agent_failures.load(), 0u) << "the agent was told to leave; it did not fail";
  EXPECT_EQ(router->active_calls(), 1u);
}

TEST_F(BridgedDialTest, TheTargetsByeEndsTheCall) {
  Caller c = dialer_call();
  Target t = bridged(c);
  const size_t before = sent_count();
  target_bye(t);
  EXPECT_THAT(sent_since(t, before), ElementsAre("200 BYE"));
  EXPECT_THAT(sent_since(c, before), ElementsAre("BYE")) << "the caller is hung up";
  EXPECT_EQ(c.media->bridged_to, nullptr);
  EXPECT_TRUE(t.media->closed) << "leg b's media is closed";
  EXPECT_EQ(clock.stats().participants, 0u) << "a leg's media still ticks";
  caller_answers_bye(c);
  expect_nothing_left();
  ASSERT_EQ(record_sink.records.size(), 1u);
  EXPECT_EQ(record_sink.records[0].end_reason, "target_hangup");
}

TEST_F(BridgedDialTest, TheCallersByeEndsTheTargetsLeg) {
  Caller c = dialer_call();
  Target t = bridged(c);
  const size_t before = sent_count();
  send(c, "BYE");
  EXPECT_THAT(sent_since(c, before), ElementsAre("200 BYE"));
  EXPECT_THAT(sent_since(t, before), ElementsAre("BYE")) << "the target is hung up";
  auto byes = requests(t, "BYE");
  ASSERT_EQ(byes.size(), 1u);
  EXPECT_EQ(byes[0]->to.tag(), t.tag);
  EXPECT_EQ(byes[0]->from.tag(), t.invite.from.tag());
  EXPECT_EQ(*destination_of(byes[0]), kProvider);
  EXPECT_EQ(c.media->bridged_to, nullptr);
  reply(t, *byes[0], 200);
  expect_nothing_left();
  ASSERT_EQ(record_sink.records.size(), 1u);
  EXPECT_EQ(record_sink.records[0].end_reason, "caller_hangup");
}

TEST_F(BridgedDialTest, TheCallRecordOfADialledTransferSaysDialAndListsTheAttempts) {
  Caller c = dialer_call();
  agent_transfers(c, {"Desk", "Craig"});
  auto desk = dialled(kDeskServer);
  ASSERT_TRUE(desk);
  respond(*desk, 486);
  auto craig = dialled(kProvider);
  ASSERT_TRUE(craig);
  pick_up(*craig);
  target_bye(*craig);
  caller_answers_bye(c);
  expect_nothing_left();
  ASSERT_EQ(record_sink.records.size(), 1u);
  const CallRecord& r = record_sink.records[0];
  ASSERT_EQ(r.transfers.size(), 1u);
  const TransferRecord& tr = r.transfers[0];
  EXPECT_EQ(tr.strategy, TransferStrategy::kDial);
  EXPECT_THAT(tr.targets_tried, ElementsAre("Desk", "Craig"));
  ASSERT_EQ(tr.attempts.size(), 2u);
  EXPECT_EQ(tr.attempts[0].target, "sip:desk@203.0.113.60:5080");
  EXPECT_EQ(tr.attempts[0].sip_status, 486);
  EXPECT_EQ(tr.attempts[0].result, TransferResult::kBusy);
  EXPECT_EQ(tr.attempts[1].target, "tel:+27115550142");
  EXPECT_EQ(tr.attempts[1].sip_status, 200);
  EXPECT_EQ(tr.attempts[1].result, TransferResult::kCompleted);
  EXPECT_EQ(tr.result, TransferResult::kCompleted);
  EXPECT_TRUE(tr.answered_at && tr.bridged_at && tr.ended_at);

  // DESIGN.md "Records": a transfer shows as two legs (here leg a and both dialled attempts).
  ASSERT_EQ(r.legs.size(), 3u);
  EXPECT_EQ(r.legs[0].role, LegRole::kA);
  const LegRecord& busy = r.legs[1];
  EXPECT_EQ(busy.role, LegRole::kB);
  EXPECT_EQ(busy.direction, LegDirection::kOut);
  EXPECT_EQ(busy.remote_uri, "sip:desk@203.0.113.60:5080");
  EXPECT_EQ(busy.final_status, 486);
  EXPECT_FALSE(busy.answered_at);
  EXPECT_EQ(busy.hangup_side, HangupSide::kNone);
  EXPECT_EQ(busy.sip_call_id, desk->invite.call_id);
  const LegRecord& answered = r.legs[2];
  EXPECT_EQ(answered.role, LegRole::kB);
  EXPECT_EQ(answered.trunk, "provider");
  EXPECT_EQ(answered.remote_uri, "sip:101027115550142@203.0.113.50:5070");
  EXPECT_EQ(answered.final_status, 200);
  EXPECT_TRUE(answered.answered_at && answered.ended_at);
  EXPECT_EQ(answered.hangup_side, HangupSide::kRemote);
  EXPECT_FALSE(answered.codec.empty());
  EXPECT_EQ(answered.pai, craig->invite.header("P-Asserted-Identity")) << "the PAI as sent";
}

// ---------------------------------------------------------------------------------------------------
// A bridged call is no longer the agent's to transfer

TEST_F(BridgedDialTest, ABridgedCallRefusesAnotherTransfer) {
  Caller c = dialer_call();
  Target t = bridged(c);
  const size_t before = sent_count();
  auto started = call(c)->request_transfer(transfer({"Desk"}, "api1"));
  ASSERT_FALSE(started.ok()) << "a transfer was started on a call already bridged to its target";
  EXPECT_EQ(started.refusal->http_status(), 409);
  EXPECT_TRUE(invites_to(kDeskServer).empty());
  EXPECT_THAT(sent_since(c, before), ::testing::IsEmpty());
  EXPECT_EQ(c.media->bridged_to, t.media->session) << "caller and target must stay joined";
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
}

}  // namespace
}  // namespace warmline::server
