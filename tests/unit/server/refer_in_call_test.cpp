// A REFER from the bridged target (server/call_refer.cpp): the caller of agent `dialer` is bridged to
// Craig, a number behind trunk `provider` (leg b); Craig's side then REFERs the caller to Desk, a
// configured SIP target (sip:desk@203.0.113.60:5080).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bridged_dial_fixture.hpp"
#include "server/targets.hpp"

namespace warmline::server {
namespace {

constexpr std::string_view kDeskUri = "<sip:desk@203.0.113.60:5080>";

struct ReferInCallTest : BridgedDialTest {
  ReferInCallTest() { provider().accepts_refer_from_peer = true; }

  TrunkConfig& provider() {
    for (auto& t : config.trunks)
      if (t.name == "provider") return t;
    throw std::runtime_error("no trunk provider in the test config");
  }
  // A dialer call bridged to Craig through `provider`.
  Target bridged(Caller& c) {
    agent_transfers(c, {"Craig"});
    auto t = dialled(kProvider);
    EXPECT_TRUE(t);
    if (!t) return Target{};
    ring(*t);
    pick_up(*t);
    EXPECT_EQ(call(c)->state(), CallState::kBridged);
    return *t;
  }
  // Desk, dialled by the REFER, answers.
  std::optional<Target> desk_answers() {
    auto d = dialled(kDeskServer);
    if (d) pick_up(*d);
    return d;
  }
  void refer(Target& t, std::string_view refer_to, std::vector<std::string> more = {}) {
    more.insert(more.begin(), "Refer-To: " + std::string(refer_to));
    target_request(t, "REFER", {}, std::nullopt, std::move(more));
  }
  // warmline's last answer to the target's request with CSeq `cseq`.
  const sip::Message* answer_to(const Target& t, uint32_t cseq) const {
    const sip::Message* found = nullptr;
    for (const auto& s : transport.sent())
      if (!s.message.is_request && s.message.call_id == t.call_id() && s.message.cseq.number == cseq &&
          s.message.cseq.method == "REFER")
        found = &s.message;
    return found;
  }
  int status_of(const Target& t, uint32_t cseq) const {
    const sip::Message* r = answer_to(t, cseq);
    return r ? r->status_code : 0;
  }
  std::vector<std::string> notify_bodies(const Target& t) const {
    std::vector<std::string> out;
    for (const auto* n : requests(t, "NOTIFY")) out.push_back(n->body);
    return out;
  }
};

TEST_F(ReferInCallTest, AnAcceptedReferDialsTheTargetNotifiesInOrderThenReleasesTheReferrer) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri);
  const uint32_t refer_cseq = t.cseq;
  ASSERT_EQ(status_of(t, refer_cseq), 202);
  EXPECT_EQ(answer_to(t, refer_cseq)->to.tag(), t.invite.from.tag()) << "in leg b's dialog";

  auto notifies = requests(t, "NOTIFY");
  ASSERT_EQ(notifies.size(), 1u);
  EXPECT_EQ(notifies[0]->header("Event"), "refer;id=" + std::to_string(refer_cseq));
  EXPECT_EQ(notifies[0]->header("Subscription-State"), "active;expires=60");
  EXPECT_EQ(notifies[0]->content_type, "message/sipfrag;version=2.0");
  EXPECT_EQ(notifies[0]->body, "SIP/2.0 100 Trying\r\n");
  EXPECT_TRUE(c.media->ringback) << "the caller hears ringback while the new target is dialled";
  EXPECT_EQ(c.media->bridged_to, nullptr);

  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->invite.request_uri.to_string(), "sip:desk@203.0.113.60:5080");
  EXPECT_FALSE(d->invite.header("P-Asserted-Identity").empty()) << "the original caller, as for any dial";
  ring(*d);
  EXPECT_EQ(requests(t, "NOTIFY").size(), 1u) << "the next NOTIFY waits for the answer to the first";
  reply(t, *notifies[0], 200);
  EXPECT_THAT(notify_bodies(t), ::testing::ElementsAre("SIP/2.0 100 Trying\r\n", "SIP/2.0 180 Ringing\r\n"));
  reply(t, *requests(t, "NOTIFY")[1], 200);

  pick_up(*d);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  ASSERT_TRUE(d->media);
  EXPECT_EQ(c.media->bridged_to, d->media->session) << "the caller now talks to Desk";
  notifies = requests(t, "NOTIFY");
  ASSERT_EQ(notifies.size(), 3u);
  EXPECT_EQ(notifies[2]->body, "SIP/2.0 200 OK\r\n");
  EXPECT_EQ(notifies[2]->header("Subscription-State"), "terminated;reason=noresource");
  EXPECT_TRUE(requests(t, "BYE").empty()) << "the referrer hears the final NOTIFY first";
  reply(t, *notifies[2], 200);
  EXPECT_EQ(requests(t, "BYE").size(), 1u);
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the caller stays";

  auto snap = call(c)->snapshot();
  ASSERT_TRUE(snap.transfer);
  EXPECT_EQ(snap.transfer->mode, "refer_in");
  EXPECT_EQ(snap.transfer->target, "Desk");
  EXPECT_EQ(snap.transfer->result, "completed");

  send(c, "BYE");  // the caller hangs up: Desk gets BYE
  EXPECT_EQ(requests(*d, "BYE").size(), 1u);
}

TEST_F(ReferInCallTest, AFailedTransferBringsTheCallerBackToTheReferrerWithTheFailureInTheFinalNotify) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, "<sip:Desk@somewhere.example>");  // the user part names the configured target
  ASSERT_EQ(status_of(t, t.cseq), 202);
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d) << "Desk's configured URI is dialled, not the host the Refer-To gave";
  respond(*d, 486);
  reply(t, *requests(t, "NOTIFY")[0], 200);
  auto notifies = requests(t, "NOTIFY");
  ASSERT_EQ(notifies.size(), 2u);
  EXPECT_EQ(notifies[1]->body, "SIP/2.0 486 Busy Here\r\n");
  EXPECT_EQ(notifies[1]->header("Subscription-State"), "terminated;reason=noresource");
  reply(t, *notifies[1], 200);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  ASSERT_TRUE(t.media);
  EXPECT_EQ(c.media->bridged_to, t.media->session) << "back with the referrer";
  EXPECT_TRUE(requests(t, "BYE").empty());
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(call(c)->snapshot().transfer->result, "busy");

  // It may try again: the next REFER is acted on the same way.
  refer(t, kDeskUri);
  EXPECT_EQ(status_of(t, t.cseq), 202);
  EXPECT_EQ(invites_to(kDeskServer).size(), 2u);
}

TEST_F(ReferInCallTest, TheReferrerMayHangUpBeforeTheTargetAnswers) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri);
  target_bye(t);
  EXPECT_EQ(call(c)->state(), CallState::kBridged) << "the caller is not dropped";
  EXPECT_TRUE(requests(c, "BYE").empty());
  auto d = desk_answers();
  ASSERT_TRUE(d && d->media);
  EXPECT_EQ(c.media->bridged_to, d->media->session);
  EXPECT_TRUE(requests(t, "BYE").empty()) << "its own BYE ended leg b";
  EXPECT_TRUE(requests(c, "BYE").empty());
  send(c, "BYE");
  EXPECT_EQ(requests(*d, "BYE").size(), 1u);
}

TEST_F(ReferInCallTest, TheCallerHangingUpEndsTheNewDialAndTheReferrer) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri);
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  ring(*d);
  send(c, "BYE");
  EXPECT_EQ(requests(*d, "CANCEL").size(), 1u);
  EXPECT_EQ(requests(t, "BYE").size(), 1u);
  EXPECT_EQ(call(c), nullptr);
}

TEST_F(ReferInCallTest, ReferSubFalseGets202WithoutNotifiesAndTheReferrerIsReleasedOnAnswer) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri, {"Refer-Sub: false"});
  const sip::Message* accepted = answer_to(t, t.cseq);
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status_code, 202);
  EXPECT_EQ(accepted->header("Refer-Sub"), "false");
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  ring(*d);
  pick_up(*d);
  EXPECT_TRUE(requests(t, "NOTIFY").empty());
  EXPECT_EQ(requests(t, "BYE").size(), 1u);
}

TEST_F(ReferInCallTest, RefusedRefersDialNothingAndTheCallGoesOn) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, "<sip:desk@203.0.113.60:5080");  // malformed
  EXPECT_EQ(status_of(t, t.cseq), 400);
  refer(t, "<sip:+442079460000@203.0.113.60:5080>");  // a number outside dialer's rules
  EXPECT_EQ(status_of(t, t.cseq), 403);
  refer(t, "<sip:intruder@203.0.113.60:5080>");
  EXPECT_EQ(status_of(t, t.cseq), 403);
  refer(t, "<sip:desk@203.0.113.60:5080?Replaces=x%40y%3Bto-tag%3D1%3Bfrom-tag%3D2>");
  EXPECT_EQ(status_of(t, t.cseq), 501);
  target_request(t, "REFER");  // no Refer-To
  EXPECT_EQ(status_of(t, t.cseq), 400);
  EXPECT_TRUE(invites_to(kDeskServer).empty());
  EXPECT_EQ(invites_to(kProvider).size(), 1u) << "only Craig's";
  EXPECT_TRUE(requests(t, "NOTIFY").empty());
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  ASSERT_TRUE(t.media);
  EXPECT_EQ(c.media->bridged_to, t.media->session);
}

TEST_F(ReferInCallTest, ATrunkWithoutTheFlagGets403AndNothingIsDialled) {
  provider().accepts_refer_from_peer = false;
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri);
  const sip::Message* r = answer_to(t, t.cseq);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 403);
  EXPECT_EQ(r->reason, "Forbidden - REFER not accepted");
  EXPECT_TRUE(invites_to(kDeskServer).empty());
  EXPECT_EQ(c.media->bridged_to, t.media->session);
}

TEST_F(ReferInCallTest, AReferFromElsewhereThanTheTargetIs403) {
  Caller c = dialer_call();
  Target t = bridged(c);
  target_request(t, "REFER", {}, kStranger, {"Refer-To: " + std::string(kDeskUri)});
  EXPECT_EQ(status_of(t, t.cseq), 403);
  EXPECT_TRUE(invites_to(kDeskServer).empty());
}

// A REFER on the caller's own dialog: caller_refer_test.cpp.

// Warm transfers a REFER asks for (X-Warmline-Transfer, docs/sip.md): the referrer takes the agent's part.
std::vector<std::string> phase_names(const CallSnapshot& snap) {
  std::vector<std::string> out;
  if (snap.transfer)
    for (const auto& p : snap.transfer->phases) out.push_back(p.phase);
  return out;
}

TEST_F(ReferInCallTest, AWarmReferHoldsTheCallerTheReferrerConsultsTheTargetAndItsHashPutsTheCallerThrough) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri, {"X-Warmline-Transfer: warm"});
  ASSERT_EQ(status_of(t, t.cseq), 202);
  EXPECT_EQ(c.media->hold, HoldAudio::kMusic) << "the caller is held with music, not ringback";
  EXPECT_FALSE(c.media->ringback);
  EXPECT_EQ(c.media->bridged_to, nullptr);
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  ring(*d);
  reply(t, *requests(t, "NOTIFY")[0], 200);
  reply(t, *requests(t, "NOTIFY")[1], 200);
  t.media->caller_dtmf('#', 100);  // before the answer a key decides nothing: the dial goes on
  EXPECT_TRUE(requests(*d, "CANCEL").empty());
  pick_up(*d);

  // The consult: referrer and target talk, the caller stays on hold and hears neither.
  ASSERT_TRUE(d->media);
  EXPECT_EQ(t.media->bridged_to, d->media->session);
  EXPECT_EQ(c.media->bridged_to, nullptr);
  EXPECT_EQ(c.media->hold, HoldAudio::kMusic);
  EXPECT_EQ(requests(t, "NOTIFY").size(), 2u) << "no final NOTIFY before the referrer accepts";
  EXPECT_EQ(call(c)->snapshot().transfer->result, "");
  t.media->caller_dtmf('5', 100);  // other keys do nothing
  EXPECT_EQ(t.media->bridged_to, d->media->session);

  t.media->caller_dtmf('#', 100);
  EXPECT_EQ(c.media->bridged_to, d->media->session) << "the caller now talks to Desk";
  EXPECT_EQ(c.media->hold, std::nullopt);
  EXPECT_EQ(t.media->bridged_to, nullptr) << "the consult is over";
  auto notifies = requests(t, "NOTIFY");
  ASSERT_EQ(notifies.size(), 3u);
  EXPECT_EQ(notifies[2]->body, "SIP/2.0 200 OK\r\n");
  reply(t, *notifies[2], 200);
  EXPECT_EQ(requests(t, "BYE").size(), 1u) << "the referrer is released after its final NOTIFY";
  EXPECT_TRUE(requests(*d, "BYE").empty());
  EXPECT_TRUE(requests(c, "BYE").empty());
  auto snap = call(c)->snapshot();
  EXPECT_EQ(snap.transfer->mode, "refer_in");
  EXPECT_EQ(snap.transfer->result, "completed");
  EXPECT_THAT(phase_names(snap), ::testing::IsSupersetOf({"answered", "consulting", "bridged"}));
}

TEST_F(ReferInCallTest, TheReferrersStarCancelsTheConsultAndTheCallerGoesBackToIt) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri, {"X-Warmline-Transfer: warm;hold=silence"});
  EXPECT_EQ(c.media->hold, HoldAudio::kSilence);
  auto d = desk_answers();
  ASSERT_TRUE(d && d->media);
  EXPECT_EQ(t.media->bridged_to, d->media->session);
  t.media->caller_dtmf('*', 100);
  EXPECT_EQ(requests(*d, "BYE").size(), 1u) << "the target is released";
  EXPECT_EQ(t.media->bridged_to, nullptr);
  EXPECT_EQ(c.media->bridged_to, t.media->session) << "back with the referrer";
  EXPECT_EQ(c.media->hold, std::nullopt);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  reply(t, *requests(t, "NOTIFY")[0], 200);
  auto notifies = requests(t, "NOTIFY");
  ASSERT_EQ(notifies.size(), 2u);
  EXPECT_EQ(notifies[1]->body, "SIP/2.0 487 Request Terminated\r\n");
  EXPECT_TRUE(requests(t, "BYE").empty());
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(call(c)->snapshot().transfer->result, "cancelled");
}

TEST_F(ReferInCallTest, TheReferrerHangingUpDuringTheConsultPutsTheCallerThrough) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri, {"X-Warmline-Transfer: warm"});
  auto d = desk_answers();
  ASSERT_TRUE(d && d->media);
  EXPECT_EQ(t.media->bridged_to, d->media->session);
  target_bye(t);
  EXPECT_EQ(t.media->bridged_to, nullptr);
  EXPECT_EQ(c.media->bridged_to, d->media->session);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(call(c)->snapshot().transfer->result, "completed");
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_TRUE(requests(*d, "BYE").empty());
  send(c, "BYE");
  EXPECT_EQ(requests(*d, "BYE").size(), 1u);
}

TEST_F(ReferInCallTest, AWarmReferWithoutABriefingPutsTheCallerThroughAsTheTargetAnswers) {
  dialer().refer_in_mode = ReferInMode::warm;  // the agent's default: no header needed
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri, {"X-Warmline-Transfer: warm;briefing=none;hold=ringback"});
  EXPECT_EQ(c.media->hold, HoldAudio::kRingback);
  auto d = desk_answers();
  ASSERT_TRUE(d && d->media);
  EXPECT_EQ(t.media->bridged_to, nullptr) << "no consult";
  EXPECT_EQ(c.media->bridged_to, d->media->session);
  EXPECT_EQ(call(c)->snapshot().transfer->result, "completed");
}

TEST_F(ReferInCallTest, AColdReferIgnoresTheReferrersKeys) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri);
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  ring(*d);
  t.media->caller_dtmf('*', 100);
  EXPECT_TRUE(requests(*d, "CANCEL").empty()) << "only a warm transfer's referrer cancels by key";
  pick_up(*d);
  EXPECT_EQ(c.media->bridged_to, d->media->session);
}

TEST_F(ReferInCallTest, AMalformedModeHeaderIs400AndNothingIsDialled) {
  Caller c = dialer_call();
  Target t = bridged(c);
  refer(t, kDeskUri, {"X-Warmline-Transfer: warm;hold=jazz"});
  const sip::Message* r = answer_to(t, t.cseq);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, 400);
  EXPECT_EQ(r->reason, "Bad Request - Malformed X-Warmline-Transfer");
  EXPECT_TRUE(invites_to(kDeskServer).empty());
  EXPECT_EQ(c.media->bridged_to, t.media->session);
}

}  // namespace
}  // namespace warmline::server
