// A REFER on the caller's own dialog (server/call_caller_refer.cpp): the caller of agent `dialer`
// comes in through trunk `norefer` (given accepts_refer_from_peer here), talks to the agent, and its
// side REFERs the call to Desk, a configured SIP target (sip:desk@203.0.113.60:5080).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include "bridged_dial_fixture.hpp"
#include "server/recording/recording_writer.hpp"
#include "server/webhook/webhook_sink.hpp"

namespace warmline::server {
namespace {

constexpr std::string_view kDeskReferTo = "Refer-To: <sip:desk@203.0.113.60:5080>";

// transfer.updated events, as the webhook sender would get them.
struct TransferUpdates final : WebhookSink {
  bool wants(WebhookEventType type) const override { return type == WebhookEventType::kTransferUpdated; }
  void submit(WebhookEvent&& event) override { bodies.push_back(std::move(event.body)); }
  std::vector<std::string> bodies;
};

struct CallerReferTest : BridgedDialTest {
  CallerReferTest() { trunk("norefer").accepts_refer_from_peer = true; }

  TrunkConfig& trunk(std::string_view name) {
    for (auto& t : config.trunks)
      if (t.name == name) return t;
    throw std::runtime_error("no such trunk in the test config");
  }
  // The caller's side REFERs; warmline's answer's status.
  int refer(Caller& c, std::string_view refer_to = kDeskReferTo, std::vector<std::string> more = {}) {
    InDialog o;
    o.header(std::string(refer_to));
    for (auto& h : more) o.header(std::move(h));
    send(c, "REFER", std::move(o));
    const sip::Message* r = last_response(c, "REFER");
    return r ? r->status_code : 0;
  }
  std::vector<std::string> notify_bodies(const Caller& c) const {
    std::vector<std::string> out;
    for (const auto* n : requests(c, "NOTIFY")) out.push_back(n->body);
    return out;
  }
  // Answers every NOTIFY warmline sent the caller's side that is not answered yet (one is in flight
  // at a time), until none is left.
  void answer_notifies(Caller& c, size_t& answered) {
    for (int i = 0; i < 8; ++i) {
      auto notifies = requests(c, "NOTIFY");
      if (answered >= notifies.size()) return;
      reply(c, *notifies[answered++], 200);
    }
  }
  // The caller's side REFERs to Desk and Desk answers: the agent now talks to Desk.
  Target referred_to_desk(Caller& c, size_t& answered) {
    EXPECT_EQ(refer(c), 202);
    auto d = dialled(kDeskServer);
    EXPECT_TRUE(d);
    if (!d) return Target{};
    ring(*d);
    answer_notifies(c, answered);
    pick_up(*d);
    return *d;
  }
};

TEST_F(CallerReferTest, TheReferIsAcceptedTheTargetDialledAndOnceItAnswersTheAgentTalksToIt) {
  Caller c = dialer_call();
  ASSERT_EQ(refer(c), 202);
  const uint32_t refer_cseq = c.cseq;
  EXPECT_EQ(last_response(c, "REFER")->to.tag(), c.to_tag) << "in the caller's dialog";
  auto notifies = requests(c, "NOTIFY");
  ASSERT_EQ(notifies.size(), 1u);
  EXPECT_EQ(notifies[0]->header("Event"), "refer;id=" + std::to_string(refer_cseq));
  EXPECT_EQ(notifies[0]->body, "SIP/2.0 100 Trying\r\n");
  EXPECT_THAT(transfer_frames(c), ::testing::ElementsAre("transfer caller-refer-1 dialing"));

  // While it is dialled, the agent and the caller go on talking.
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d) << "Desk's configured URI is dialled";
  EXPECT_FALSE(d->invite.header("P-Asserted-Identity").empty()) << "the original caller, as for any dial";
  EXPECT_FALSE(c.media->ringback);
  const size_t caller_before = c.media->queued_samples;
  c.agent->audio(160);
  EXPECT_EQ(c.media->queued_samples, caller_before + 160);
  ring(*d);
  reply(c, *notifies[0], 200);
  EXPECT_THAT(notify_bodies(c), ::testing::ElementsAre("SIP/2.0 100 Trying\r\n", "SIP/2.0 180 Ringing\r\n"));
  EXPECT_THAT(transfer_frames(c), ::testing::ElementsAre("transfer caller-refer-1 dialing",
                                                         "transfer caller-refer-1 ringing"));
  reply(c, *requests(c, "NOTIFY")[1], 200);

  pick_up(*d);
  ASSERT_TRUE(d->media);
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  ASSERT_EQ(c.agent->transfers.size(), 3u);
  EXPECT_EQ(transfer_frames(c).back(), "transfer caller-refer-1 ended completed 200");
  EXPECT_EQ(c.media->bridged_to, nullptr) << "the caller is not bridged to Desk: the agent talks to it";
  EXPECT_FALSE(c.media->tap) << "the caller's audio no longer goes to the agent";
  EXPECT_TRUE(d->media->tap);
  const size_t caller_now = c.media->queued_samples;
  c.agent->audio(320);
  EXPECT_EQ(d->media->queued_samples, 320u) << "what the agent says goes to Desk";
  EXPECT_EQ(c.media->queued_samples, caller_now);
  const size_t frames = c.agent->audio_frames;
  std::array<int16_t, 160> pcm{};
  d->media->incoming_audio(pcm);
  EXPECT_EQ(c.agent->audio_frames, frames + 1) << "Desk's audio goes to the agent";
  d->media->caller_dtmf('5', 120);
  EXPECT_EQ(c.agent->frames.back(), "dtmf 5 120") << "Desk's keys go to the agent";

  notifies = requests(c, "NOTIFY");
  ASSERT_EQ(notifies.size(), 3u);
  EXPECT_EQ(notifies[2]->body, "SIP/2.0 200 OK\r\n");
  EXPECT_EQ(notifies[2]->header("Subscription-State"), "terminated;reason=noresource");
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the caller's side hears the final NOTIFY first";
  reply(c, *notifies[2], 200);
  ASSERT_EQ(requests(c, "BYE").size(), 1u) << "then the caller's side is let go";
  reply(c, *requests(c, "BYE")[0], 200);
  EXPECT_EQ(call(c)->state(), CallState::kActive) << "the call goes on between the agent and Desk";
  EXPECT_FALSE(c.agent->stop_reason());
  EXPECT_TRUE(requests(*d, "BYE").empty());

  target_bye(*d);  // Desk hangs up: the call ends
  EXPECT_EQ(c.agent->stop_reason(), "caller_hangup");
  ASSERT_EQ(record_sink.records.size(), 1u);
  const CallRecord& record = record_sink.records[0];
  ASSERT_EQ(record.transfers.size(), 1u);
  EXPECT_EQ(record.transfers[0].id, "caller-refer-1");
  EXPECT_EQ(record.transfers[0].mode, ai::TransferMode::kReferIn);
  EXPECT_EQ(record.transfers[0].result, TransferResult::kCompleted);
  EXPECT_TRUE(record.transfers[0].bridged_at);
  EXPECT_EQ(record.legs.size(), 2u) << "the caller's leg and Desk's";
  expect_nothing_left();
}

TEST_F(CallerReferTest, TheApiAndTheWebhooksShowItAsTheCallsTransfer) {
  TransferUpdates updates;
  ctx.webhooks = &updates;
  Caller c = dialer_call();
  ASSERT_EQ(refer(c), 202);
  auto snap = call(c)->snapshot();
  ASSERT_TRUE(snap.transfer);
  EXPECT_EQ(snap.transfer->id, "caller-refer-1");
  EXPECT_EQ(snap.transfer->mode, "refer_in");
  EXPECT_EQ(snap.transfer->target, "Desk");
  EXPECT_EQ(snap.transfer->state, "dialing");
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  ring(*d);
  EXPECT_EQ(call(c)->snapshot().transfer->state, "ringing");
  pick_up(*d);
  snap = call(c)->snapshot();
  EXPECT_EQ(snap.transfer->state, "ended");
  EXPECT_EQ(snap.transfer->result, "completed");
  EXPECT_TRUE(snap.transfer->bridged_at);
  std::vector<std::string> phases;
  for (const auto& p : snap.transfer->phases) phases.push_back(p.phase);
  EXPECT_THAT(phases, ::testing::ElementsAre("requested", "dialing", "ringing", "answered", "ended"));
  ASSERT_EQ(updates.bodies.size(), 4u) << "dialing, ringing, answered, ended";
  EXPECT_NE(updates.bodies.back().find("\"id\":\"caller-refer-1\""), std::string::npos) << updates.bodies.back();
  EXPECT_NE(updates.bodies.back().find("\"result\":\"completed\""), std::string::npos) << updates.bodies.back();
  ctx.webhooks = nullptr;
}

TEST_F(CallerReferTest, ARecordingFollowsTheAgentToTheNewParty) {
  const auto dir = std::filesystem::temp_directory_path() / ("warmline-caller-refer-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  config.server.recording_dir = dir.string();
  RecordingMetrics recording_metrics;
  RecordingWriter writer(1, recording_metrics);
  ctx.recordings = &writer;
  Caller c = dialer_call();
  ASSERT_EQ(call(c)->start_recording(), RecordingResult::kStarted);
  ASSERT_NE(c.media->recorder, nullptr);
  ASSERT_EQ(refer(c), 202);
  EXPECT_NE(c.media->recorder, nullptr) << "the caller is recorded while the new party rings";
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  pick_up(*d);
  ASSERT_TRUE(d->media);
  EXPECT_EQ(c.media->recorder, nullptr);
  EXPECT_NE(d->media->recorder, nullptr) << "the new party (same rate) is recorded now";
  call(c)->hangup("api_hangup");
  settle();
  EXPECT_EQ(d->media->recorder, nullptr) << "no recorder is left pointed at once the recording ends";
  ctx.recordings = nullptr;
  writer.stop();
  std::filesystem::remove_all(dir);
}

TEST_F(CallerReferTest, ATrunkWithoutTheFlagGets403AndNothingIsDialled) {
  trunk("norefer").accepts_refer_from_peer = false;
  Caller c = dialer_call();
  EXPECT_EQ(refer(c), 403);
  EXPECT_TRUE(invites_to(kDeskServer).empty());
  EXPECT_TRUE(requests(c, "NOTIFY").empty());
  EXPECT_TRUE(transfer_frames(c).empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(CallerReferTest, AReferToWhatTheConfigurationDoesNotNameGets403AndNothingIsDialled) {
  Caller c = dialer_call();
  EXPECT_EQ(refer(c, "Refer-To: <sip:+27999999999@203.0.113.60:5080>"), 403);
  EXPECT_EQ(refer(c, "Refer-To: <sip:desk@203.0.113.60:5080?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>"), 501);
  EXPECT_EQ(refer(c, "Refer-To: <sip:desk@203.0.113.60:5080>", {"X-Warmline-Transfer: warm"}), 501);
  EXPECT_TRUE(invites_to(kDeskServer).empty());
  EXPECT_TRUE(transfer_frames(c).empty());
}

TEST_F(CallerReferTest, AFailedDialLeavesTheAgentWithTheCallerAndTheFinalNotifySaysWhy) {
  Caller c = dialer_call();
  ASSERT_EQ(refer(c), 202);
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  respond(*d, 486);
  size_t answered = 0;
  answer_notifies(c, answered);
  EXPECT_THAT(notify_bodies(c), ::testing::ElementsAre("SIP/2.0 100 Trying\r\n", "SIP/2.0 486 Busy Here\r\n"));
  EXPECT_EQ(transfer_frames(c).back(), "transfer caller-refer-1 ended busy 486");
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_TRUE(c.media->tap);
  const size_t before = c.media->queued_samples;
  c.agent->audio(160);
  EXPECT_EQ(c.media->queued_samples, before + 160) << "the agent still talks to the caller";

  // The caller's side may try again.
  EXPECT_EQ(refer(c), 202);
  EXPECT_EQ(invites_to(kDeskServer).size(), 2u);
  EXPECT_EQ(transfer_frames(c).back(), "transfer caller-refer-2 dialing");
}

TEST_F(CallerReferTest, TheCallerSideMayHangUpAfterThe202AndTheDialGoesOn) {
  Caller c = dialer_call();
  ASSERT_EQ(refer(c), 202);
  send(c, "BYE");  // a blind transfer: the PBX leaves at once
  EXPECT_THAT(statuses(c, "BYE"), ::testing::ElementsAre(200));
  ASSERT_TRUE(call(c));
  EXPECT_EQ(call(c)->state(), CallState::kActive);
  EXPECT_FALSE(c.agent->stop_reason());
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  EXPECT_TRUE(requests(*d, "CANCEL").empty());
  pick_up(*d);
  EXPECT_EQ(transfer_frames(c).back(), "transfer caller-refer-1 ended completed 200");
  c.agent->audio(160);
  EXPECT_EQ(d->media->queued_samples, 160u);
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the caller's dialog is over: no BYE of ours";

  // The agent says goodbye and hangs up: once it has played, Desk gets BYE.
  c.agent->command(ai::Hangup{});
  settle();
  EXPECT_TRUE(requests(*d, "BYE").empty()) << "not before the goodbye has played";
  d->media->play_out();
  settle();
  EXPECT_EQ(requests(*d, "BYE").size(), 1u);
  EXPECT_EQ(c.agent->stop_reason(), "agent_hangup");
}

TEST_F(CallerReferTest, WhenTheCallerSideHasGoneAndTheDialFailsTheCallEnds) {
  Caller c = dialer_call();
  ASSERT_EQ(refer(c), 202);
  send(c, "BYE");
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  respond(*d, 480);
  EXPECT_EQ(transfer_frames(c).back(), "transfer caller-refer-1 ended no_answer 480");
  EXPECT_EQ(c.agent->stop_reason(), "caller_hangup");
  ASSERT_EQ(record_sink.records.size(), 1u);
  ASSERT_EQ(record_sink.records[0].transfers.size(), 1u);
  EXPECT_NE(record_sink.records[0].transfers[0].result, TransferResult::kCompleted);
}

TEST_F(CallerReferTest, NotWhileATransferRunsNorBeforeTheAck) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  ASSERT_TRUE(dialled(kProvider));
  EXPECT_EQ(refer(c), 403);
  EXPECT_TRUE(invites_to(kDeskServer).empty());

  Caller early = make_caller(kDialerNumber, kNoReferPeer);
  invite(early);
  early.agent->open();  // answered, not ACKed
  EXPECT_EQ(refer(early), 403);
  EXPECT_TRUE(invites_to(kDeskServer).empty());
}

TEST_F(CallerReferTest, TheAgentCannotTransferWhileTheReferRunsNorThePartyItReached) {
  Caller c = dialer_call();
  ASSERT_EQ(refer(c), 202);
  agent_transfers(c, {"Craig"}, "t9");
  EXPECT_EQ(transfer_frames(c).back().rfind("transfer t9 ended failed", 0), 0u) << transfer_frames(c).back();
  EXPECT_TRUE(invites_to(kProvider).empty());
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  pick_up(*d);
  agent_transfers(c, {"Craig"}, "t10");
  EXPECT_EQ(transfer_frames(c).back().rfind("transfer t10 ended failed", 0), 0u) << transfer_frames(c).back();
  EXPECT_TRUE(invites_to(kProvider).empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(CallerReferTest, AHangupOfTheCallWhileTheDialRingsCancelsIt) {
  Caller c = dialer_call();
  ASSERT_EQ(refer(c), 202);
  auto d = dialled(kDeskServer);
  ASSERT_TRUE(d);
  ring(*d);
  call(c)->hangup("api_hangup");
  settle();
  EXPECT_EQ(requests(*d, "CANCEL").size(), 1u);
  answer_cancel(*d);
  ASSERT_EQ(record_sink.records.size(), 1u);
  ASSERT_EQ(record_sink.records[0].transfers.size(), 1u);
  EXPECT_EQ(record_sink.records[0].transfers[0].result, TransferResult::kCancelled);
  EXPECT_EQ(record_sink.records[0].transfers[0].attempts.back().result, TransferResult::kCancelled);
}

}  // namespace
}  // namespace warmline::server
