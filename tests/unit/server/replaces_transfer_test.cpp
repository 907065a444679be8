// Attended transfers with Replaces through the call (server/transfer/transfer_replaces.cpp): warm up to
// the accept, then a REFER on the caller's dialog naming leg b in a Replaces when the target was dialled
// through the caller's own trunk and that trunk accepts REFER; warmline's own bridge otherwise, and
// whenever the REFER does not end in a 2xx.
#include <functional>

#include "warm_transfer_fixture.hpp"
#include "sip/replaces.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

inline const sip::Endpoint kCarrier{"203.0.113.1", 5060};  // trunk "carrier"'s address: Front is dialled there

struct ReplacesTransferTest : WarmTransferTest {
  ai::TransferRequest replaces(std::string target, std::string briefing = "",
                               ai::Screening screening = ai::Screening::kNone) {
    ai::TransferRequest r = warm_request(std::move(briefing), screening, {std::move(target)});
    r.mode = ai::TransferMode::kReplaces;
    return r;
  }
  // A caller from trunk "carrier" (accepts REFER); its agent's replaces transfer to `target` at `at`
  // is answered (screening none: accepted at once).
  Target accepted(Caller& c, std::string target, const sip::Endpoint& at) {
    c.agent->command(replaces(std::move(target)));
    settle();
    auto t = dialled(at);
    EXPECT_TRUE(t) << "no INVITE to " << at.to_string();
    if (!t) return Target{};
    ring(*t);
    pick_up(*t);
    return *t;
  }
  // The Refer-To that names leg b `t` for the PBX: the target's Contact, its tag as to-tag, ours as from-tag.
  static std::string refer_to_joining(const Target& t) {
    return "<sip:target@" + t.at.host + ":" + std::to_string(t.at.port) + "?Replaces=" +
           sip::escape_header_value(t.call_id() + ";to-tag=" + t.tag + ";from-tag=" + std::string(t.invite.from.tag())) +
           ">";
  }
  // The PBX accepted the REFER (202) and then `outcome` (a final NOTIFY, the refer timeout) came:
  // warmline bridges caller and target itself, and the agent's `ended` says why (`why`).
  void expect_bridged_after(std::function<void(Caller&, uint32_t refer_cseq)> outcome, std::string_view why) {
    Caller c = dialer_call(kTrunkPeer);
    Target t = accepted(c, "Front", kCarrier);
    const sip::Message* refer = last_request(c, "REFER");
    ASSERT_TRUE(refer);
    reply(c, *refer, 202);
    outcome(c, refer->cseq.number);
    settle();
    expect_bridged(c, t);
    EXPECT_THAT(c.agent->ended_transfers().at(0).reason, HasSubstr(why));
  }
  const TransferRecord& only_transfer_record() {
    EXPECT_EQ(record_sink.records.size(), 1u);
    EXPECT_EQ(record_sink.records.at(0).transfers.size(), 1u);
    return record_sink.records.at(0).transfers.at(0);
  }
};

TEST_F(ReplacesTransferTest, ATargetOnTheCallersTrunkIsJoinedByItsReferWithReplacesAndWarmlineLeavesBoth) {
  Caller c = dialer_call(kTrunkPeer);
  Target t = accepted(c, "Front", kCarrier);
  EXPECT_NE(call(c)->state(), CallState::kBridged) << "no bridge of ours: the PBX is asked to join them";
  EXPECT_EQ(c.media->hold, ai::HoldAudio::kMusic) << "the caller holds while the REFER runs";
  EXPECT_THAT(refer_targets(c), ElementsAre(refer_to_joining(t)));
  const sip::Message* refer = last_request(c, "REFER");
  ASSERT_TRUE(refer);
  EXPECT_FALSE(refer->header("Referred-By").empty());
  reply(c, *refer, 202);
  notify(c, refer->cseq.number, 100, "Trying", false);
  EXPECT_TRUE(requests(t, "BYE").empty()) << "leg b stays until the PBX reports the join";
  notify(c, refer->cseq.number, 200, "OK", true);
  settle();
  EXPECT_EQ(requests(t, "BYE").size(), 1u) << "warmline leaves leg b";
  EXPECT_EQ(requests(c, "BYE").size(), 1u) << "and the caller's dialog";
  EXPECT_EQ(c.agent->stop_reason(), "transferred");
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 answered",
                                              "transfer t1 ended completed 200 refer"));
  reply(t, *requests(t, "BYE").front(), 200);
  caller_answers_bye(c);
  expect_nothing_left();
  const TransferRecord& tr = only_transfer_record();
  EXPECT_EQ(tr.mode, ai::TransferMode::kReplaces);
  EXPECT_EQ(tr.strategy, TransferStrategy::kRefer);
  EXPECT_EQ(tr.result, TransferResult::kCompleted);
  ASSERT_EQ(tr.attempts.size(), 1u);
  EXPECT_EQ(tr.attempts[0].strategy, TransferStrategy::kRefer);
  EXPECT_EQ(tr.attempts[0].sip_status, 200);
}

TEST_F(ReplacesTransferTest, AReferRefusedWith405GetsCallerAndTargetBridgedByWarmline) {
  Caller c = dialer_call(kTrunkPeer);
  Target t = accepted(c, "Front", kCarrier);
  const sip::Message* refer = last_request(c, "REFER");
  ASSERT_TRUE(refer);
  reply(c, *refer, 405, "Method Not Allowed");
  settle();
  expect_bridged(c, t);
  EXPECT_TRUE(requests(t, "BYE").empty());
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the caller is never dropped";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCompleted);
  EXPECT_THAT(ended[0].reason, HasSubstr("405 Method Not Allowed"));
  EXPECT_EQ(transfer_frames(c).back(), "transfer t1 ended completed 200 dial");
  target_bye(t);
  caller_answers_bye(c);
  expect_nothing_left();
  const TransferRecord& tr = only_transfer_record();
  EXPECT_EQ(tr.strategy, TransferStrategy::kDial);
  ASSERT_EQ(tr.attempts.size(), 2u);
  EXPECT_EQ(tr.attempts[0].strategy, TransferStrategy::kRefer);
  EXPECT_EQ(tr.attempts[0].result, TransferResult::kRejected);
  EXPECT_EQ(tr.attempts[0].sip_status, 405);
  EXPECT_EQ(tr.attempts[1].strategy, TransferStrategy::kDial);
  EXPECT_EQ(tr.attempts[1].result, TransferResult::kCompleted);
}

TEST_F(ReplacesTransferTest, AFailedFinalNotifyAlsoFallsBackToTheBridge) {
  expect_bridged_after([this](Caller& c, uint32_t cseq) { notify(c, cseq, 481, "Call Does Not Exist", true); }, "481");
}

TEST_F(ReplacesTransferTest, NoFinalNotifyWithinReferTimeoutFallsBackToTheBridge) {
  expect_bridged_after([this](Caller&, uint32_t) { timers.advance(std::chrono::seconds(dialer().refer_timeout_s)); },
                       "timeout");
}

TEST_F(ReplacesTransferTest, ATargetOnAnotherTrunkIsBridgedWithoutAnyRefer) {
  Caller c = dialer_call(kTrunkPeer);
  Target t = accepted(c, "Craig", kProvider);
  expect_bridged(c, t);
  EXPECT_TRUE(requests(c, "REFER").empty());
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_THAT(ended[0].reason, HasSubstr("not reached through the caller's trunk carrier"));
  EXPECT_EQ(transfer_frames(c).back(), "transfer t1 ended completed 200 dial");
}

TEST_F(ReplacesTransferTest, ACallerTrunkWithoutReferIsBridgedWithoutAnyRefer) {
  Caller c = dialer_call(kNoReferPeer);
  Target t = accepted(c, "Craig", kProvider);
  expect_bridged(c, t);
  EXPECT_TRUE(requests(c, "REFER").empty());
  EXPECT_THAT(c.agent->ended_transfers().at(0).reason, HasSubstr("does not accept REFER"));
}

TEST_F(ReplacesTransferTest, TheCallerHangingUpBeforeThe202ReleasesTheTarget) {
  Caller c = dialer_call(kTrunkPeer);
  Target t = accepted(c, "Front", kCarrier);
  ASSERT_TRUE(last_request(c, "REFER"));
  send(c, "BYE");
  settle();
  EXPECT_EQ(requests(t, "BYE").size(), 1u) << "the target is released";
  EXPECT_EQ(c.agent->ended_transfers().at(0).result, TransferResult::kCallerHungUp);
}

}  // namespace
}  // namespace warmline::server
