// Cold transfers by REFER on the caller's dialog, end to end through the call: every outcome the caller's
// side can report, chains, default_forward, the REFER that waits for the agent's audio, and a transfer
// interrupted by the agent, the caller or the API.
#include "call_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::StartsWith;

struct ColdTransferTest : CallFixture {
  // The agent asks for a transfer; the REFER it caused, if one went out (a copy: the transport's log
  // grows under pointers).
  std::optional<sip::Message> agent_transfers(Caller& c, std::vector<std::string> targets, std::string id = "t1") {
    c.agent->command(transfer(std::move(targets), std::move(id)));
    settle();
    return latest_refer(c);
  }
  std::optional<sip::Message> latest_refer(const Caller& c) const {
    const sip::Message* r = last_request(c, "REFER");
    return r ? std::optional<sip::Message>(*r) : std::nullopt;
  }
  // The caller's side reports the target's final answer: 202 to the REFER, then a final NOTIFY.
  void refer_ends(Caller& c, const sip::Message& refer, int status, std::string_view reason) {
    reply(c, refer, 202, "Accepted");
    notify(c, refer.cseq.number, status, reason, true);
  }
  static std::vector<std::string> transfer_frames(const Caller& c) {
    std::vector<std::string> out;
    for (const auto& f : c.agent->frames)
      if (f.starts_with("transfer ")) out.push_back(f);
    return out;
  }
  // An answered and ACKed call from `at`.
  Caller active_call_from(std::string_view number, const sip::Endpoint& at) {
    Caller c = make_caller(number, at);
    invite(c);
    c.agent->open();
    ack(c);
    return c;
  }
  uint64_t transfers_ended(TransferResult r) const {
    return metrics.transfers_by_result[static_cast<size_t>(r)].load();
  }
};

// ---------------------------------------------------------------------------------------------------
// Outcomes of one REFER

TEST_F(ColdTransferTest, AFinal2xxSipfragCompletesTheTransferAndEndsTheCall) {
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  EXPECT_EQ(refer->header("Refer-To"), "<" + std::string(kSupportUri) + ">");
  EXPECT_FALSE(refer->header("Referred-By").empty());
  EXPECT_EQ(refer->from.tag(), c.to_tag);
  EXPECT_EQ(refer->to.tag(), c.from_tag);
  EXPECT_EQ(*destination_of(last_request(c, "REFER")), kTrunkPeer);
  EXPECT_TRUE(c.media->ringback) << "ringback while the transfer runs";
  auto snap = call(c)->snapshot();
  ASSERT_TRUE(snap.transfer);
  EXPECT_EQ(snap.transfer->target, "Support");
  EXPECT_EQ(snap.transfer->state, "dialing");

  reply(c, *refer, 202, "Accepted");
  notify(c, refer->cseq.number, 100, "Trying", false);
  notify(c, refer->cseq.number, 180, "Ringing", false);
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the 202 alone is not success";
  notify(c, refer->cseq.number, 200, "OK", true);

  EXPECT_THAT(statuses(c, "NOTIFY"), ElementsAre(200, 200, 200));
  EXPECT_THAT(transfer_frames(c),
              ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 ended completed 200"));
  EXPECT_EQ(c.agent->transfers[1].sip_status, 180);
  EXPECT_EQ(c.agent->transfers[1].target, "Support");
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_EQ(c.agent->frames.back(), "stop transferred");
  EXPECT_EQ(metrics.transfers_started.load(), 1u);
  EXPECT_EQ(transfers_ended(TransferResult::kCompleted), 1u);
  EXPECT_EQ(router->active_calls(), 0u);
}

struct RefusedRefer : ColdTransferTest, ::testing::WithParamInterface<int> {};

TEST_P(RefusedRefer, IsRejectedAndTheCallerStaysWithTheAgent) {
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  reply(c, *refer, GetParam());
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kRejected);
  EXPECT_EQ(ended[0].sip_status, GetParam());
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(requests(c, "REFER").size(), 1u);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_FALSE(c.media->ringback) << "back to the agent";
  c.agent->audio(160);
  EXPECT_EQ(c.media->queued_samples, 160u) << "the agent is heard again";
}

INSTANTIATE_TEST_SUITE_P(Statuses, RefusedRefer, ::testing::Values(403, 405, 481, 501, 503, 603));

TEST_F(ColdTransferTest, AReferThatIsNeverAnsweredTimesOutOnce) {
  Caller c = active_call();
  ASSERT_TRUE(agent_transfers(c, {"Support"}));
  advance(29s);
  EXPECT_TRUE(c.agent->ended_transfers().empty());
  advance(2s);  // refer_timeout_s = 30
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kTimeout);
  advance(10s);  // the REFER's own transaction gives up (408) at 32 s: no second outcome
  EXPECT_EQ(c.agent->ended_transfers().size(), 1u);
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(ColdTransferTest, AReferWhoseTransactionGivesUpFirstIsATimeoutToo) {
  config.agents[0].refer_timeout_s = 60;  // longer than the REFER's own 64*T1 = 32 s
  Caller c = active_call();
  ASSERT_TRUE(agent_transfers(c, {"Support"}));
  advance(33s);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kTimeout);
  EXPECT_EQ(ended[0].sip_status, 408);
  advance(30s);
  EXPECT_EQ(c.agent->ended_transfers().size(), 1u) << "the cancelled refer timer fired anyway";
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(ColdTransferTest, AnAcceptedReferWithoutAFinalNotifyTimesOut) {
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  reply(c, *refer, 202, "Accepted");
  notify(c, refer->cseq.number, 180, "Ringing", false);
  advance(31s);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kTimeout);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_FALSE(c.media->ringback);
}

struct FinalSipfrag {
  int status;
  const char* reason;
  TransferResult result;
};

void PrintTo(const FinalSipfrag& p, std::ostream* os) { *os << p.status << ' ' << p.reason; }

struct FinalSipfragOutcome : ColdTransferTest, ::testing::WithParamInterface<FinalSipfrag> {};

TEST_P(FinalSipfragOutcome, ReachesTheAgentAsAStructuredReasonAndTheCallerStays) {
  const FinalSipfrag& p = GetParam();
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  refer_ends(c, *refer, p.status, p.reason);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, p.result);
  EXPECT_EQ(ended[0].sip_status, p.status);
  EXPECT_EQ(ended[0].reason, p.reason);
  EXPECT_EQ(ended[0].target, "Support");
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(requests(c, "REFER").size(), 1u) << "agent demo: after a failure the caller stays with the AI";
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_FALSE(c.media->ringback);
  EXPECT_EQ(transfers_ended(p.result), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Statuses, FinalSipfragOutcome,
    ::testing::Values(FinalSipfrag{486, "Busy Here", TransferResult::kBusy},
                      FinalSipfrag{603, "Decline", TransferResult::kDeclined},
                      FinalSipfrag{480, "Temporarily Unavailable", TransferResult::kNoAnswer},
                      FinalSipfrag{408, "Request Timeout", TransferResult::kNoAnswer},
                      FinalSipfrag{503, "Service Unavailable", TransferResult::kUnreachable},
                      FinalSipfrag{404, "Not Found", TransferResult::kUnreachable}));

TEST_F(ColdTransferTest, ASubscriptionEndedWithoutAFinalStatusFails) {
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  refer_ends(c, *refer, 100, "Trying");
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kFailed);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(ColdTransferTest, ANotifyForAnotherReferIs481AndChangesNothing) {
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  reply(c, *refer, 202, "Accepted");
  notify(c, refer->cseq.number + 7, 200, "OK", true);
  EXPECT_THAT(statuses(c, "NOTIFY"), ElementsAre(481));
  EXPECT_TRUE(c.agent->ended_transfers().empty());
  EXPECT_TRUE(requests(c, "BYE").empty());
  notify(c, refer->cseq.number, 200, "OK", true);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

// ---------------------------------------------------------------------------------------------------
// Chains and refusals

TEST_F(ColdTransferTest, AChainTriesItsTargetsInOrderAndReportsOnce) {
  Caller c = active_call();
  auto first = agent_transfers(c, {"Support", "Sales", "Billing"});
  ASSERT_TRUE(first);
  refer_ends(c, *first, 486, "Busy Here");
  auto second = latest_refer(c);
  ASSERT_TRUE(second);
  ASSERT_NE(second->cseq.number, first->cseq.number);
  reply(c, *second, 403, "Forbidden");  // the caller's side refuses this one: move on as well
  auto third = latest_refer(c);
  ASSERT_TRUE(third);
  refer_ends(c, *third, 200, "OK");

  EXPECT_THAT(refer_targets(c), ElementsAre("<" + std::string(kSupportUri) + ">", "<" + std::string(kSalesUri) + ">",
                                            "<" + std::string(kBillingUri) + ">"));
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 dialing", "transfer t1 dialing",
                                              "transfer t1 ended completed 200"));
  EXPECT_EQ(c.agent->ended_transfers().at(0).target, "Billing");
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(ColdTransferTest, ADeclineEndsTheChain) {
  Caller c = active_call();
  auto first = agent_transfers(c, {"Support", "Sales"});
  ASSERT_TRUE(first);
  refer_ends(c, *first, 603, "Decline");
  EXPECT_EQ(requests(c, "REFER").size(), 1u);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kDeclined);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(ColdTransferTest, AChainThatFailsEverywhereReportsTheLastTargetsResult) {
  Caller c = active_call();
  auto first = agent_transfers(c, {"Support", "Sales"});
  ASSERT_TRUE(first);
  refer_ends(c, *first, 486, "Busy Here");
  auto second = latest_refer(c);
  ASSERT_TRUE(second);
  refer_ends(c, *second, 480, "Temporarily Unavailable");
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kNoAnswer);
  EXPECT_EQ(ended[0].sip_status, 480);
  EXPECT_EQ(ended[0].target, "Sales");
  EXPECT_EQ(requests(c, "REFER").size(), 2u);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(ColdTransferTest, AnUnknownTargetAnywhereInTheChainIsRefusedBeforeAnythingIsSent) {
  Caller c = active_call();
  EXPECT_FALSE(agent_transfers(c, {"Support", "Nobody"}));
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kFailed);
  EXPECT_THAT(ended[0].reason, StartsWith("unknown_target: "));

  auto started = call(c)->request_transfer(transfer({"Nobody"}, "api1"));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.refusal->code, TransferRefusal::Code::kUnknownTarget);
  EXPECT_EQ(started.refusal->http_status(), 422);
  EXPECT_TRUE(requests(c, "REFER").empty());
  EXPECT_EQ(metrics.transfers_started.load(), 0u);
}

TEST_F(ColdTransferTest, OneTransferAtATime) {
  Caller c = active_call();
  ASSERT_TRUE(agent_transfers(c, {"Support"}));
  auto started = call(c)->request_transfer(transfer({"Sales"}, "api1"));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.refusal->code, TransferRefusal::Code::kTransferInProgress);
  EXPECT_EQ(started.refusal->http_status(), 409);
  EXPECT_EQ(requests(c, "REFER").size(), 1u);
}

// Without REFER the target is dialled instead (a bridged dial); this fixture has no DNS, so the
// target's host name cannot be reached, and the caller stays with the agent.
TEST_F(ColdTransferTest, ACallFromATrunkThatRefusesReferIsDialledNotReferred) {
  Caller c = active_call_from(kDemoNumber, kNoReferPeer);
  ASSERT_TRUE(call(c));
  EXPECT_FALSE(agent_transfers(c, {"Support"}));
  EXPECT_TRUE(requests(c, "REFER").empty()) << "a REFER went to a trunk that refuses it";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kUnreachable);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

// Expected behaviour 4: nothing to transfer before the call is answered.
TEST_F(ColdTransferTest, ATransferWhileTheCallStillRingsIsRefusedNotActive) {
  Caller c = make_caller();
  invite(c);
  auto started = call(c)->request_transfer(transfer({"Support"}, "api1"));
  ASSERT_FALSE(started.ok()) << "a REFER went out in an unanswered dialog";
  EXPECT_EQ(started.refusal->code, TransferRefusal::Code::kNotActive);
  EXPECT_EQ(started.refusal->http_status(), 409);
  EXPECT_TRUE(requests(c, "REFER").empty());
  c.agent->open();
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180, 200)) << "the call itself goes on";
}

// ---------------------------------------------------------------------------------------------------
// The agent's audio before the REFER

TEST_F(ColdTransferTest, TheReferWaitsUntilTheAgentsQueuedAudioHasPlayed) {
  Caller c = active_call();
  c.agent->audio(3200);  // "transferring you now"
  EXPECT_FALSE(agent_transfers(c, {"Support"}));
  EXPECT_TRUE(transfer_frames(c).empty());
  c.media->play_out();
  settle();
  ASSERT_TRUE(latest_refer(c));
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing"));
  c.agent->audio(800);
  EXPECT_EQ(c.media->queued_samples, 0u) << "once the REFER is out the agent is not played";
}

TEST_F(ColdTransferTest, TheReferWaitsForSpeechStillBeingSynthesised) {
  Caller c = active_call();
  c.agent->command(ai::Say{"One moment please"});
  ASSERT_EQ(speech.requests.size(), 1u);
  EXPECT_FALSE(agent_transfers(c, {"Support"}));
  speech.finish(0, 1600);
  settle();
  EXPECT_FALSE(latest_refer(c)) << "the speech has arrived, not played";
  c.media->play_out();
  settle();
  EXPECT_TRUE(latest_refer(c));
}

TEST_F(ColdTransferTest, AnAgentThatKeepsStreamingDelaysTheReferOnlyByWhatWasQueued) {
  // Found with warmline-load's echo agent: audio that keeps coming never let the queue drain, so the
  // transfer waited for as long as the agent talked.
  Caller c = active_call();
  c.agent->audio(3200);  // 400 ms queued when the transfer comes
  EXPECT_FALSE(agent_transfers(c, {"Support"}));
  for (int i = 0; i < 24; ++i) {  // 480 ms of an agent streaming in real time: never empty
    advance(std::chrono::milliseconds(20));
    c.agent->audio(160);
  }
  EXPECT_FALSE(latest_refer(c)) << "what was queued (400 ms) plus the margin has not passed";
  advance(std::chrono::milliseconds(40));
  EXPECT_TRUE(latest_refer(c)) << "the REFER goes once what was queued at the request has had time to play";
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing"));
}

TEST_F(ColdTransferTest, TheBoundWaitsForSpeechInSynthesisBeforeItCounts) {
  Caller c = active_call();
  c.agent->command(ai::Say{"One moment please"});
  EXPECT_FALSE(agent_transfers(c, {"Support"}));
  advance(std::chrono::milliseconds(1000));
  EXPECT_FALSE(latest_refer(c)) << "the speech is still being synthesised";
  speech.finish(0, 1600);  // 200 ms of speech arrives
  c.agent->audio(8000);    // and the agent streams on
  advance(std::chrono::milliseconds(100));
  EXPECT_FALSE(latest_refer(c)) << "the speech and what came with it have not played";
  // The bound measured while the speech was pending (the 1 s streamed, +100 ms) is measured once
  // more when it runs out, now with the speech queued (this fake never plays: 1.2 s, +100 ms).
  advance(std::chrono::milliseconds(1500));
  EXPECT_FALSE(latest_refer(c)) << "the speech queued after the first measure has not had time to play";
  advance(std::chrono::milliseconds(1000));
  EXPECT_TRUE(latest_refer(c)) << "and the wait is still bounded";
}

TEST_F(ColdTransferTest, SpeechSynthesisedBetweenTwoMeasuresIsStillWaitedFor) {
  // Found by the Twilio REST e2e test (<Say> then <Dial>): synthesis that finished between two
  // checks of the bound let the REFER go the moment the clip was queued, cutting it off.
  Caller c = active_call();
  c.agent->command(ai::Say{"Transferring you to support now"});
  EXPECT_FALSE(agent_transfers(c, {"Support"}));
  advance(std::chrono::milliseconds(150));  // the bound has run out once, measured while synthesising
  speech.finish(0, 16000);                  // 2 s of speech is queued between two checks
  advance(std::chrono::milliseconds(100));
  EXPECT_FALSE(latest_refer(c)) << "the bound measured during synthesis must measure the clip again";
  advance(std::chrono::milliseconds(1900));
  EXPECT_FALSE(latest_refer(c)) << "the clip has not had time to play";
  advance(std::chrono::milliseconds(300));
  EXPECT_TRUE(latest_refer(c)) << "still bounded: the clip plus the margin";
}

// ---------------------------------------------------------------------------------------------------
// default_forward

TEST_F(ColdTransferTest, OnFailureDefaultForwardTransfersToTheDefaultForward) {
  Caller c = active_call_from(kForwardingNumber, kTrunkPeer);
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  refer_ends(c, *refer, 486, "Busy Here");
  auto forward = latest_refer(c);
  ASSERT_TRUE(forward);
  EXPECT_EQ(forward->header("Refer-To"), "<" + std::string(kOperatorUri) + ">");
  refer_ends(c, *forward, 200, "OK");
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ended busy 486",
                                              "transfer default_forward dialing",
                                              "transfer default_forward ended completed 200"));
  EXPECT_EQ(c.agent->frames.back(), "stop transferred");
}

TEST_F(ColdTransferTest, AnAgentLostDuringTheCallSendsTheCallerToTheDefaultForward) {
  Caller c = active_call();
  c.agent->drop();
  auto forward = latest_refer(c);
  ASSERT_TRUE(forward);
  EXPECT_EQ(forward->header("Refer-To"), "<" + std::string(kOperatorUri) + ">");
  EXPECT_TRUE(speech.requests.empty());
  refer_ends(c, *forward, 200, "OK");
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_EQ(metrics.agent_failures.load(), 1u);
  EXPECT_EQ(c.agent->sent_while_closed, 0);
}

TEST_F(ColdTransferTest, AnAgentUnreachableWhileRingingGetsTheCallAnsweredAndForwarded) {
  Caller c = make_caller();
  invite(c);
  c.agent->drop();
  EXPECT_THAT(statuses(c, "INVITE"), ElementsAre(180, 200)) << "answered so that the caller hears something";
  ack(c);
  auto forward = latest_refer(c);
  ASSERT_TRUE(forward);
  EXPECT_EQ(forward->header("Refer-To"), "<" + std::string(kOperatorUri) + ">");
  refer_ends(c, *forward, 200, "OK");
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(ColdTransferTest, AFailedDefaultForwardPlaysTheFallbackAndHangsUp) {
  Caller c = active_call();
  c.agent->drop();
  auto forward = latest_refer(c);
  ASSERT_TRUE(forward);
  refer_ends(c, *forward, 486, "Busy Here");
  EXPECT_EQ(requests(c, "REFER").size(), 1u) << "default_forward is not tried twice";
  ASSERT_EQ(speech.requests.size(), 1u);
  EXPECT_EQ(speech.requests[0].text, config.agents[0].fallback_message);
  speech.finish(0, 8000);
  settle();
  c.media->play_out();
  settle();
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

// ---------------------------------------------------------------------------------------------------
// The agent lost during a transfer

TEST_F(ColdTransferTest, AgentLostDuringATransferThatCompletes) {
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  c.agent->drop();
  EXPECT_EQ(requests(c, "REFER").size(), 1u) << "the running transfer finishes first";
  refer_ends(c, *refer, 200, "OK");
  EXPECT_EQ(requests(c, "REFER").size(), 1u);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_TRUE(speech.requests.empty());
}

TEST_F(ColdTransferTest, AgentLostDuringATransferThatFailsGoesToTheDefaultForward) {
  Caller c = active_call();
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  c.agent->drop();
  refer_ends(c, *refer, 486, "Busy Here");
  auto forward = latest_refer(c);
  ASSERT_TRUE(forward);
  EXPECT_EQ(forward->header("Refer-To"), "<" + std::string(kOperatorUri) + ">");
  refer_ends(c, *forward, 200, "OK");
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(ColdTransferTest, AgentLostDuringATransferThatFailsWithoutDefaultForwardPlaysTheFallback) {
  Caller c = active_call_from(kPlainNumber, kTrunkPeer);
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  c.agent->drop();
  refer_ends(c, *refer, 486, "Busy Here");
  EXPECT_EQ(requests(c, "REFER").size(), 1u);
  ASSERT_EQ(speech.requests.size(), 1u);
  speech.finish(0, 8000);
  settle();
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the fallback message plays first";
  c.media->play_out();
  settle();
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

// ---------------------------------------------------------------------------------------------------
// The caller or the API ends the call during a transfer (expected behaviour 2): the dialog is dead,
// nothing more is sent in it, and the transfer is over without an after-failure policy.

TEST_F(ColdTransferTest, CallersByeBeforeTheReferIsAcceptedEndsEverything) {
  Caller c = active_call_from(kForwardingNumber, kTrunkPeer);  // on_failure = default_forward
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  const size_t before = sent_count();
  send(c, "BYE");
  EXPECT_THAT(sent_since(c, before), ElementsAre("200 BYE")) << "something was sent in the dead dialog";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCallerHungUp);
  EXPECT_LT(c.agent->frame_index("transfer t1 ended"), c.agent->frame_index("stop"));
  EXPECT_EQ(c.agent->frames.back(), "stop caller_hangup");
  EXPECT_TRUE(speech.requests.empty()) << "no fallback prompt for a caller who is gone";
  EXPECT_EQ(metrics.transfers_started.load(), 1u) << "a default_forward was started for a caller who is gone";

  reply(c, *refer, 202, "Accepted");  // late answers from the caller's side change nothing
  notify(c, refer->cseq.number, 486, "Busy Here", true);
  EXPECT_EQ(requests(c, "REFER").size(), 1u);
  EXPECT_TRUE(requests(c, "BYE").empty());
}

TEST_F(ColdTransferTest, CallersByeEndsAChainWithoutTryingTheRest) {
  Caller c = active_call();
  ASSERT_TRUE(agent_transfers(c, {"Support", "Sales"}));
  send(c, "BYE");
  EXPECT_EQ(requests(c, "REFER").size(), 1u);
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(c.agent->frames.back(), "stop caller_hangup");
}

TEST_F(ColdTransferTest, CallersByeAfterTheReferWasAcceptedIsAnUnconfirmedCompletion) {
  Caller c = active_call_from(kForwardingNumber, kTrunkPeer);
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  reply(c, *refer, 202, "Accepted");
  const size_t before = sent_count();
  send(c, "BYE");  // many carriers hang up on us once they have the call, without a final NOTIFY
  EXPECT_THAT(sent_since(c, before), ElementsAre("200 BYE"));
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCompleted);
  EXPECT_THAT(ended[0].reason, HasSubstr("unconfirmed"));
  EXPECT_EQ(c.agent->frames.back(), "stop transferred");
}

TEST_F(ColdTransferTest, CallersByeWhileTheReferWaitsForTheAgentsAudio) {
  Caller c = active_call_from(kForwardingNumber, kTrunkPeer);
  c.agent->audio(3200);
  EXPECT_FALSE(agent_transfers(c, {"Support"}));
  const size_t before = sent_count();
  send(c, "BYE");
  EXPECT_THAT(sent_since(c, before), ElementsAre("200 BYE"));
  EXPECT_TRUE(requests(c, "REFER").empty());
  EXPECT_EQ(c.agent->frames.back(), "stop caller_hangup");
  EXPECT_TRUE(speech.requests.empty());
  EXPECT_EQ(metrics.transfers_started.load(), 1u) << "a default_forward was started for a caller who is gone";
}

TEST_F(ColdTransferTest, ApiHangupDuringAnAcceptedTransferCancelsIt) {
  Caller c = active_call_from(kForwardingNumber, kTrunkPeer);
  auto refer = agent_transfers(c, {"Support"});
  ASSERT_TRUE(refer);
  reply(c, *refer, 202, "Accepted");
  call(c)->hangup("api_hangup");
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_EQ(requests(c, "REFER").size(), 1u);
  EXPECT_EQ(c.agent->frames.back(), "stop api_hangup") << "we hung up: not 'transferred'";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCancelled);
  EXPECT_EQ(transfers_ended(TransferResult::kCompleted), 0u);
  notify(c, refer->cseq.number, 200, "OK", true);  // too late: the call is over
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(ColdTransferTest, ApiHangupBeforeTheReferIsAcceptedCancelsIt) {
  Caller c = active_call_from(kForwardingNumber, kTrunkPeer);
  ASSERT_TRUE(agent_transfers(c, {"Support"}));
  call(c)->hangup("api_hangup");
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_EQ(requests(c, "REFER").size(), 1u) << "no default_forward after our own hang-up";
  EXPECT_EQ(c.agent->frames.back(), "stop api_hangup");
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCancelled);
  EXPECT_TRUE(speech.requests.empty());
}

}  // namespace
}  // namespace warmline::server
