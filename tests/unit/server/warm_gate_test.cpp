// The warm transfer's briefing and accept gate as a pure state machine (server/transfer/warm_gate).
#include "server/transfer/warm_gate.hpp"

#include <gtest/gtest.h>

namespace warmline::server {
namespace {

using Kind = WarmGateAction::Kind;

TEST(WarmGateTest, WithoutBriefingOrScreeningTheAnswerIsTheAccept) {
  WarmGate g("", ai::Screening::kNone);
  EXPECT_EQ(g.on_answered().kind, Kind::kAccept);
  EXPECT_EQ(g.state(), WarmGate::State::kAccepted);
  EXPECT_EQ(g.on_answered().kind, Kind::kNone) << "once";
}

TEST(WarmGateTest, TheBriefingIsSpokenFirstThenTheScreeningStarts) {
  WarmGate g("Caller asks about invoice 42", ai::Screening::kNone);
  auto a = g.on_answered();
  EXPECT_EQ(a.kind, Kind::kSpeak);
  EXPECT_EQ(a.text, "Caller asks about invoice 42");
  EXPECT_EQ(g.on_dtmf('1').kind, Kind::kNone) << "no key counts during a briefing without dtmf screening";
  EXPECT_EQ(g.on_spoken().kind, Kind::kAccept);
}

TEST(WarmGateTest, DtmfScreeningPromptsThenOneAcceptsAndOtherKeysAreIgnored) {
  WarmGate g("Briefing", ai::Screening::kDtmf);
  EXPECT_EQ(g.on_answered().kind, Kind::kSpeak);
  auto prompt = g.on_spoken();
  EXPECT_EQ(prompt.kind, Kind::kSpeak);
  EXPECT_EQ(prompt.text, WarmGate::kPrompt);
  EXPECT_EQ(g.on_spoken().kind, Kind::kAwaitKey);
  EXPECT_EQ(g.on_dtmf('5').kind, Kind::kNone);
  EXPECT_EQ(g.on_dtmf('1').kind, Kind::kAccept);
  EXPECT_EQ(g.on_key_timeout().kind, Kind::kNone) << "a late timer changes nothing";
}

TEST(WarmGateTest, DtmfScreeningTwoOrNoKeyDeclines) {
  WarmGate two("", ai::Screening::kDtmf);
  EXPECT_EQ(two.on_answered().kind, Kind::kSpeak);
  auto d = two.on_dtmf('2');  // pressed while the prompt still plays
  EXPECT_EQ(d.kind, Kind::kDecline);
  EXPECT_NE(d.reason.find("pressed 2"), std::string::npos);

  WarmGate none("", ai::Screening::kDtmf);
  none.on_answered();
  EXPECT_EQ(none.on_key_timeout().kind, Kind::kNone) << "the timeout runs from the end of the prompt";
  none.on_spoken();
  auto t = none.on_key_timeout();
  EXPECT_EQ(t.kind, Kind::kDecline);
  EXPECT_NE(t.reason.find("no key"), std::string::npos);
}

TEST(WarmGateTest, AgentScreeningWaitsForTheAgentsAcceptOrCancel) {
  WarmGate g("", ai::Screening::kAgent);
  EXPECT_EQ(g.on_answered().kind, Kind::kAwaitAgent);
  EXPECT_EQ(g.on_dtmf('1').kind, Kind::kNone) << "the target's keys do not decide for the agent";
  EXPECT_EQ(g.on_agent_accept().kind, Kind::kAccept);

  WarmGate c("", ai::Screening::kAgent);
  c.on_answered();
  EXPECT_EQ(c.on_agent_cancel().kind, Kind::kCancel);
  EXPECT_EQ(c.on_agent_accept().kind, Kind::kNone);
}

TEST(WarmGateTest, AnAgentsAcceptDuringTheBriefingAppliesWhenTheBriefingHasPlayed) {
  // Found end to end: an accept sent on the `answered` event was refused while the briefing played.
  WarmGate g("Briefing", ai::Screening::kAgent);
  EXPECT_EQ(g.on_agent_accept().kind, Kind::kNone) << "not before the target answered";
  EXPECT_EQ(g.on_answered().kind, Kind::kSpeak);
  EXPECT_EQ(g.on_agent_accept().kind, Kind::kNoted);
  EXPECT_EQ(g.on_spoken().kind, Kind::kAccept);

  WarmGate dtmf("Briefing", ai::Screening::kDtmf);
  dtmf.on_answered();
  EXPECT_EQ(dtmf.on_agent_accept().kind, Kind::kNone) << "the target decides by its keys";
}

TEST(WarmGateTest, AnAgentLostDeclinesOnlyWhereTheAgentHadToDecide) {
  WarmGate agent("", ai::Screening::kAgent);
  agent.on_answered();
  EXPECT_EQ(agent.on_agent_lost().kind, Kind::kDecline);

  WarmGate dtmf("Briefing", ai::Screening::kDtmf);
  dtmf.on_answered();
  EXPECT_EQ(dtmf.on_agent_lost().kind, Kind::kNone) << "the target decides with its keys";
  EXPECT_EQ(dtmf.state(), WarmGate::State::kBriefing);
}

// A consult: the agent talks to the target; its accept ends the consult.
TEST(WarmGateTest, AConsultLastsUntilTheAgentsAcceptWhichPutsTheCallerThrough) {
  for (auto screening : {ai::Screening::kNone, ai::Screening::kAgent}) {
    WarmGate g(std::string(ai::kConsultBriefing), screening);
    EXPECT_EQ(g.on_answered().kind, Kind::kConsult);
    EXPECT_TRUE(g.consulting());
    EXPECT_EQ(g.on_spoken().kind, Kind::kNone) << "nothing of the gateway's plays in a consult";
    EXPECT_EQ(g.on_dtmf('1').kind, Kind::kNone) << "the target's keys do not decide during a consult";
    EXPECT_EQ(g.on_agent_accept().kind, Kind::kAccept);
    EXPECT_FALSE(g.consulting());
  }
}

TEST(WarmGateTest, AConsultWithDtmfScreeningAsksTheTargetAfterTheAgentsAccept) {
  WarmGate g(std::string(ai::kConsultBriefing), ai::Screening::kDtmf);
  g.on_answered();
  auto prompt = g.on_agent_accept();
  EXPECT_EQ(prompt.kind, Kind::kSpeak);
  EXPECT_EQ(prompt.text, WarmGate::kPrompt);
  EXPECT_FALSE(g.consulting());
  EXPECT_EQ(g.on_dtmf('2').kind, Kind::kDecline);
}

TEST(WarmGateTest, AConsultCanBeCancelledAndAnAgentLostInItGoesOnAsItsScreeningSays) {
  WarmGate cancelled(std::string(ai::kConsultBriefing), ai::Screening::kAgent);
  cancelled.on_answered();
  EXPECT_EQ(cancelled.on_agent_cancel().kind, Kind::kCancel);

  WarmGate none(std::string(ai::kConsultBriefing), ai::Screening::kNone);
  none.on_answered();
  EXPECT_EQ(none.on_agent_lost().kind, Kind::kAccept) << "the target answered and needs no accept";
  WarmGate dtmf(std::string(ai::kConsultBriefing), ai::Screening::kDtmf);
  dtmf.on_answered();
  EXPECT_EQ(dtmf.on_agent_lost().kind, Kind::kSpeak) << "the target is asked";
  WarmGate agent(std::string(ai::kConsultBriefing), ai::Screening::kAgent);
  agent.on_answered();
  EXPECT_EQ(agent.on_agent_lost().kind, Kind::kDecline) << "nobody is left to accept";
}

}  // namespace
}  // namespace warmline::server
