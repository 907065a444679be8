// SRTP on the caller's leg (trunk srtp, SDES RFC 4568): what a required trunk accepts and refuses,
// the contexts handed to the media session, and re-INVITEs inside an SRTP session (fresh keys, no
// downgrade to plain RTP).
#include "call_fixture.hpp"
#include "sip/sdp.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kKey1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";  // 30 bytes: key || salt
constexpr std::string_view kKey2 = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CB";

// The a=crypto value of the first audio stream of `body`, "" when none.
std::string crypto_of(std::string_view body) {
  auto parsed = sip::parse_sdp(body);
  if (!parsed.sdp) return "";
  for (const auto& m : parsed.sdp->media)
    for (const auto& a : m.attributes)
      if (a.name == "crypto") return a.value;
  return "";
}

struct LegSrtpTest : CallFixture {
  LegSrtpTest() { config.trunks[0].srtp = SrtpPolicy::required; }  // "carrier", where calls come from

  // An RTP/SAVP offer of PCMU + telephone-event with one AES_CM_128_HMAC_SHA1_80 key.
  static std::string savp(std::string_view key) {
    std::string s = sdp();
    s.replace(s.find("RTP/AVP"), 7, "RTP/SAVP");
    return s + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(key) + "\r\n";
  }

  Caller secure_call() {
    Caller c = make_caller();
    invite(c, InviteOptions().offer(savp(kKey1)));
    EXPECT_TRUE(c.agent) << "no agent channel was opened for the call";
    if (!c.agent) return c;
    c.agent->open();
    settle();
    ack(c);
    return c;
  }
};

TEST_F(LegSrtpTest, PlainOfferToARequiredTrunkIs488) {
  Caller c = make_caller();
  invite(c);  // RTP/AVP
  EXPECT_THAT(statuses(c, "INVITE"), ::testing::Contains(488));
  EXPECT_FALSE(c.agent) << "a refused offer must not start the agent";
  EXPECT_TRUE(media_logs.empty() || media_logs.back()->srtp_sets.empty());
}

TEST_F(LegSrtpTest, SavpOfferIsAnsweredWithOurKeyAndTheMediaGetsContexts) {
  Caller c = secure_call();
  const sip::Message* ok = last_response(c, "INVITE");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status_code, 200);
  EXPECT_THAT(ok->body, HasSubstr("RTP/SAVP"));
  const std::string ours = crypto_of(ok->body);
  EXPECT_THAT(ours, HasSubstr("1 AES_CM_128_HMAC_SHA1_80 inline:"));
  EXPECT_THAT(ours, Not(HasSubstr(kKey1))) << "our answer carries our own key, not the caller's";
  ASSERT_TRUE(c.media);
  EXPECT_THAT(c.media->srtp_sets, ElementsAre(true));
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(LegSrtpTest, OptionalTrunkTakesAPlainOfferAsPlainRtp) {
  config.trunks[0].srtp = SrtpPolicy::optional;
  Caller c = active_call();
  const sip::Message* ok = last_response(c, "INVITE");
  ASSERT_TRUE(ok);
  EXPECT_THAT(ok->body, HasSubstr("RTP/AVP"));
  EXPECT_EQ(crypto_of(ok->body), "");
  EXPECT_THAT(c.media->srtp_sets, ElementsAre(false)) << "plain RTP";
}

TEST_F(LegSrtpTest, ReInviteInAnSrtpSessionRekeysAndAPlainOneIs488) {
  Caller c = secure_call();
  const std::string first = crypto_of(last_response(c, "INVITE")->body);

  const sip::Message* plain = reinvite(c, sdp("203.0.113.77", 41000));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status_code, 488) << "no downgrade from SRTP to plain RTP";
  EXPECT_TRUE(c.media->remotes.empty());
  EXPECT_THAT(c.media->srtp_sets, ElementsAre(true));

  const sip::Message* rekey = reinvite(c, savp(kKey2));
  ASSERT_TRUE(rekey);
  EXPECT_EQ(rekey->status_code, 200);
  const std::string second = crypto_of(rekey->body);
  EXPECT_THAT(second, HasSubstr("AES_CM_128_HMAC_SHA1_80 inline:"));
  EXPECT_NE(second, first) << "a new answer carries a fresh key";
  EXPECT_THAT(c.media->srtp_sets, ElementsAre(true, true));
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(LegSrtpTest, OfferlessReInviteGetsAnSavpOfferAndItsAnswerRekeys) {
  Caller c = secure_call();
  send(c, "INVITE");
  const sip::Message* offer = last_response(c, "INVITE");
  ASSERT_TRUE(offer);
  ASSERT_EQ(offer->status_code, 200);
  EXPECT_THAT(offer->body, HasSubstr("RTP/SAVP"));
  const std::string ours = crypto_of(offer->body);
  ASSERT_THAT(ours, HasSubstr("1 AES_CM_128_HMAC_SHA1_80 inline:"));
  // The caller answers in the ACK with tag 1 and its own key.
  ack(c, savp(kKey2), std::nullopt, c.cseq);
  EXPECT_THAT(c.media->srtp_sets, ElementsAre(true, true));
}

TEST_F(LegSrtpTest, PlainAnswerInTheAckKeepsTheSrtpSession) {
  Caller c = secure_call();
  send(c, "INVITE");
  ASSERT_TRUE(last_response(c, "INVITE"));
  ack(c, sdp("203.0.113.77", 41000), std::nullopt, c.cseq);
  EXPECT_THAT(c.media->srtp_sets, ElementsAre(true)) << "the plain answer must not turn SRTP off";
  EXPECT_TRUE(c.media->remotes.empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

}  // namespace
}  // namespace warmline::server
