// Leg b (server/leg/outbound_leg) inside a bridged dial, through the call: its offer and its media, the
// answers it can and cannot use, a 183 without SDP, the target's requests once answered (re-INVITE,
// BYE from elsewhere), a fresh Call-ID per attempt, and an agent lost while the target rings.
#include "bridged_dial_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;

struct OutboundLegTest : BridgedDialTest {};

TEST_F(OutboundLegTest, TheOfferNamesLegBsOwnMediaAndEveryCodecOfTheCallersRate) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->media);
  const sip::MediaDescription offer = audio_of(t->invite);
  EXPECT_EQ(offer.port, t->media->port);
  EXPECT_THAT(offer.formats, ElementsAre("0", "8", "101")) << "PCMU (the caller's) first, then PCMA, DTMF";
  EXPECT_EQ(t->invite.content_type, "application/sdp");
  EXPECT_FALSE(t->invite.header("Allow").empty());
  EXPECT_EQ(t->media->options.codec_name, "PCMU");
  EXPECT_FALSE(t->media->started) << "no media before the target sends SDP";
}

TEST_F(OutboundLegTest, AnOpusCallerIsDialledWithTheConfiguredStaticCodecsAndTheBridgeTranscodes) {
  // Opus has no static payload type, so leg b cannot lead with the caller's codec: it offers the
  // configured codecs that can be offered, at one PCM rate (the first such codec's).
  config.media.codecs = {"opus", "PCMU", "PCMA"};
  Caller c = dialer_call(kNoReferPeer, InviteOptions().offer("v=0\no=- 1 1 IN IP4 203.0.113.5\ns=-\n"
                                                             "c=IN IP4 203.0.113.5\nt=0 0\n"
                                                             "m=audio 40000 RTP/AVP 111 101\n"
                                                             "a=rtpmap:111 opus/48000/2\n"
                                                             "a=rtpmap:101 telephone-event/8000\n"));
  ASSERT_TRUE(c.agent);
  ASSERT_TRUE(c.media);
  EXPECT_EQ(c.media->options.codec_name, "opus") << "the caller's leg runs the caller's codec";
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->media);
  EXPECT_THAT(audio_of(t->invite).formats, ElementsAre("0", "8", "101"));
  EXPECT_EQ(t->media->options.codec_name, "PCMU");
  pick_up(*t, "0 101");
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.media->bridged_to, t->media->session) << "opus <-> PCMU through the bridge's transcoding";
}

TEST_F(OutboundLegTest, AnAnswerWithTheOtherCodecSwitchesLegBAndTheBridgeTranscodes) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  pick_up(*t, "8 101");  // the target takes PCMA
  EXPECT_THAT(t->media->codec_switches, ElementsAre("PCMA/8000 pt 8"));
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.media->bridged_to, t->media->session);
}

TEST_F(OutboundLegTest, A2xxWithoutAnyAnswerIsAckedHungUpAndRejected) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  respond(*t, 200);  // no SDP, and no early media gave one
  EXPECT_EQ(requests(*t, "ACK").size(), 1u);
  auto byes = requests(*t, "BYE");
  ASSERT_EQ(byes.size(), 1u) << "an answered leg we cannot use is hung up";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kRejected);
  EXPECT_EQ(ended[0].sip_status, 488);
  expect_back_with_agent(c);
  reply(*t, *byes[0], 200);
  send(c, "BYE");
  expect_nothing_left();
}

TEST_F(OutboundLegTest, AnAnswerWithNoCodecWeOfferedIsHungUpAndRejected) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  pick_up(*t, "9");  // G722: never offered
  EXPECT_EQ(requests(*t, "BYE").size(), 1u);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kRejected);
  EXPECT_NE(call(c)->state(), CallState::kBridged);
}

TEST_F(OutboundLegTest, A183WithoutSdpIsRingingWithoutMedia) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  respond(*t, 183);
  ring(*t);
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing", "transfer t1 ringing")) << "ringing once";
  EXPECT_EQ(c.agent->transfers.back().sip_status, 183);
  EXPECT_EQ(c.media->bridged_to, nullptr);
  EXPECT_TRUE(c.media->ringback);
  EXPECT_FALSE(t->media->started);
}

TEST_F(OutboundLegTest, AnEarlyAnswerCarriesOverToA2xxWithoutSdp) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  early_media(*t);
  respond(*t, 200);  // RFC 3261 §13.2.1: the answer was in the 183
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_TRUE(requests(*t, "BYE").empty());
}

TEST_F(OutboundLegTest, TheInviteSupports100relAndAReliable183IsPrackedThenBridged) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->invite.header("Supported"), "100rel, norefersub, timer");
  respond(*t, 183, TargetReply().with_sdp(target_sdp(*t)).header("Require: 100rel").header("RSeq: 4"));
  auto pracks = requests(*t, "PRACK");
  ASSERT_EQ(pracks.size(), 1u);
  EXPECT_EQ(pracks[0]->header("RAck"), "4 " + std::to_string(t->invite.cseq.number) + " INVITE");
  EXPECT_EQ(pracks[0]->to.tag(), t->tag);
  EXPECT_EQ(*destination_of(pracks[0]), kProvider);
  EXPECT_TRUE(t->media->started) << "the reliable 183's SDP is early media as before";
  reply(*t, *pracks[0], 200);
  pick_up(*t);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
}

TEST_F(OutboundLegTest, TheTargetsReInviteIsAnsweredFromLegBsMedia) {
  Caller c = dialer_call();
  Target t = bridged(c);
  const size_t before = sent_count();
  target_request(t, "INVITE", sdp("203.0.113.77", 52000, "sendrecv", "0 101"));
  EXPECT_THAT(sent_since(t, before), ElementsAre("200 INVITE"));
  const sip::Message* ok = nullptr;
  for (const auto& s : transport.sent())
    if (!s.message.is_request && s.message.call_id == t.call_id() && s.message.cseq.method == "INVITE" &&
        s.message.status_code == 200)
      ok = &s.message;
  ASSERT_TRUE(ok);
  const sip::MediaDescription answer = audio_of(*ok);
  EXPECT_EQ(answer.port, t.media->port);
  ASSERT_FALSE(answer.formats.empty());
  EXPECT_EQ(answer.formats[0], "0");
  ASSERT_FALSE(t.media->remotes.empty());
  EXPECT_EQ(t.media->remotes.back().address().to_string(), "203.0.113.77");
  EXPECT_EQ(t.media->remotes.back().port(), 52000);
  target_request(t, "ACK");
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.media->bridged_to, t.media->session);
}

TEST_F(OutboundLegTest, AByeInLegBsDialogFromElsewhereIsRefused) {
  Caller c = dialer_call();
  Target t = bridged(c);
  const size_t before = sent_count();
  target_request(t, "BYE", {}, kStranger);
  EXPECT_THAT(sent_since(t, before), ElementsAre("403 BYE"));
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  target_bye(t);  // the target itself
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(OutboundLegTest, EachAttemptOfAChainIsANewCallOnItsOwnMedia) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig", "Lisa"});
  auto craig = dialled(kProvider);
  ASSERT_TRUE(craig);
  respond(*craig, 486);
  auto invites = invites_to(kProvider);
  ASSERT_EQ(invites.size(), 2u);
  auto lisa = dialled(kProvider);
  EXPECT_NE(lisa->call_id(), craig->call_id());
  EXPECT_NE(lisa->invite.from.tag(), craig->invite.from.tag());
  EXPECT_EQ(lisa->invite.cseq.number, 1u);
  EXPECT_NE(lisa->media, craig->media);
  EXPECT_TRUE(craig->media->closed) << "the failed leg's media was not closed";
  pick_up(*lisa);
  EXPECT_EQ(c.media->bridged_to, lisa->media->session);
}

TEST_F(OutboundLegTest, AnAgentLostWhileTheTargetRingsStillGetsTheCallerBridged) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ring(*t);
  c.agent->drop();
  EXPECT_TRUE(requests(*t, "CANCEL").empty()) << "the running transfer finishes first";
  pick_up(*t);
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_EQ(c.media->bridged_to, t->media->session);
  target_bye(*t);
  caller_answers_bye(c);
  expect_nothing_left();
}

}  // namespace
}  // namespace warmline::server

namespace warmline::server {
namespace {

// SRTP through a trunk with srtp = "required": leg b offers RTP/SAVP with a fresh key per suite and
// runs SRTP on the key the answer names; a plain answer to that offer is unusable.
struct OutboundLegSrtpTest : BridgedDialTest {
  OutboundLegSrtpTest() {
    for (auto& trunk : config.trunks)
      if (trunk.name == "provider") trunk.srtp = SrtpPolicy::required;
  }
  static std::string savp_answer(const Target& t) {
    std::string s = target_sdp(t);
    s.replace(s.find("RTP/AVP"), 7, "RTP/SAVP");
    return s + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CB\r\n";
  }
};

TEST_F(OutboundLegSrtpTest, OffersSavpAndRunsSrtpOnTheAnsweredKey) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  EXPECT_EQ(audio_of(t->invite).proto, "RTP/SAVP");
  EXPECT_NE(t->invite.body.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"), std::string::npos);
  respond(*t, 200, TargetReply().with_sdp(savp_answer(*t)));
  EXPECT_THAT(t->media->srtp_sets, ElementsAre(true));
  EXPECT_EQ(call(c)->state(), CallState::kBridged);
  EXPECT_TRUE(c.media->srtp_sets.empty() || !c.media->srtp_sets.back()) << "the caller's leg stays plain";
}

TEST_F(OutboundLegSrtpTest, APlainAnswerToTheSavpOfferIsNotBridged) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  pick_up(*t);  // RTP/AVP
  EXPECT_TRUE(t->media->srtp_sets.empty());
  EXPECT_NE(call(c)->state(), CallState::kBridged);
}

}  // namespace
}  // namespace warmline::server
