// RTP/SAVP offer/answer with SDES keys (RFC 4568 §7) under the srtp modes off, optional, required.
#include <gtest/gtest.h>

#include <string>

#include "sip/sdp.hpp"

namespace warmline::sip {
namespace {

const std::string kOfferHead =
    "v=0\r\n"
    "o=- 1 1 IN IP4 203.0.113.5\r\n"
    "s=-\r\n"
    "c=IN IP4 203.0.113.10\r\n"
    "t=0 0\r\n";
// The offer lines of tests/data/srtp/sdes-crypto-vectors.txt (RFC 4568's example keys).
const std::string kCrypto80 = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32";
const std::string kCrypto32 = "2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32";

std::string savp_stream(uint16_t port, const std::vector<std::string>& crypto) {
  std::string m = "m=audio " + std::to_string(port) + " RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
  for (const auto& c : crypto) m += "a=crypto:" + c + "\r\n";
  return m;
}
std::string avp_stream(uint16_t port) { return "m=audio " + std::to_string(port) + " RTP/AVP 0\r\n"; }

SessionDescription parse_ok(const std::string& text) {
  SdpParseResult r = parse_sdp(text);
  EXPECT_TRUE(r.sdp) << r.error;
  return r.sdp.value_or(SessionDescription{});
}

LocalMediaCaps caps(SrtpMode mode) {
  LocalMediaCaps c;
  c.local_ip = "192.0.2.1";
  c.local_rtp_port = 40000;
  c.srtp = mode;
  return c;
}

SdesCrypto crypto_of(const MediaDescription& m) {
  for (const auto& a : m.attributes) {
    if (a.name == "crypto") {
      auto r = parse_crypto(a.value);
      EXPECT_TRUE(r.crypto) << r.error;
      if (r.crypto) return *r.crypto;
    }
  }
  ADD_FAILURE() << "no a=crypto";
  return {};
}

TEST(SdpSrtp, OptionalAnswersAnSavpOfferWithTheFirstCryptoAndOurOwnKey) {
  auto offer = parse_ok(kOfferHead + savp_stream(30000, {kCrypto80, kCrypto32}));
  AnswerResult r = negotiate_answer(offer, caps(SrtpMode::kOptional));
  ASSERT_TRUE(r.ok) << r.failure_reason;
  ASSERT_TRUE(r.srtp);
  // What goes on the wire: RTP/SAVP with exactly our one a=crypto line.
  auto answer = parse_ok(r.answer.serialize());
  ASSERT_EQ(answer.media.size(), 1u);
  EXPECT_EQ(answer.media[0].proto, "RTP/SAVP");
  SdesCrypto ours = crypto_of(answer.media[0]);
  EXPECT_EQ(ours.tag, 1u);
  EXPECT_EQ(ours.suite, SrtpSuite::kAesCm128HmacSha1_80);
  EXPECT_EQ(r.srtp->tag, 1u);
  EXPECT_EQ(r.srtp->suite, SrtpSuite::kAesCm128HmacSha1_80);
  EXPECT_EQ(r.srtp->local, ours.key_salt);
  EXPECT_EQ(r.srtp->remote, parse_crypto(kCrypto80).crypto->key_salt);
  EXPECT_FALSE(r.srtp->local == r.srtp->remote);
  EXPECT_EQ(r.srtp->remote_lifetime, uint64_t{1} << 20);
  EXPECT_EQ(r.srtp->remote_mki, (SdesMki{1, 32}));
}

TEST(SdpSrtp, ModeOffRefusesSavpAndRequiredRefusesPlainRtp) {
  auto savp = parse_ok(kOfferHead + savp_stream(30000, {kCrypto80}));
  AnswerResult r = negotiate_answer(savp, caps(SrtpMode::kOff));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status_code, 488);
  EXPECT_EQ(r.failure_reason, "SRTP (RTP/SAVP) audio is not supported");

  auto avp = parse_ok(kOfferHead + avp_stream(30000));
  r = negotiate_answer(avp, caps(SrtpMode::kRequired));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status_code, 488);
  EXPECT_NE(r.failure_reason.find("SRTP is required"), std::string::npos) << r.failure_reason;

  r = negotiate_answer(avp, caps(SrtpMode::kOptional));
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_FALSE(r.srtp);
  EXPECT_EQ(r.answer.media[0].proto, "RTP/AVP");
  EXPECT_TRUE(r.answer.media[0].attributes.empty());
}

TEST(SdpSrtp, RequiredWithoutAUsableCryptoLineIs488WithTheReason) {
  auto offer = parse_ok(kOfferHead + savp_stream(30000, {"3 AES_CM_128_HMAC_SHA1_80 "
                                                         "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR "
                                                         "UNENCRYPTED_SRTCP"}));
  AnswerResult r = negotiate_answer(offer, caps(SrtpMode::kRequired));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status_code, 488);
  EXPECT_NE(r.failure_reason.find("UNENCRYPTED_SRTCP"), std::string::npos) << r.failure_reason;
  EXPECT_EQ(r.failure_reason.find("PS1uQCVe"), std::string::npos) << "key material in the reason";
}

TEST(SdpSrtp, OptionalFallsBackToAPlainStreamOfferedAfterAnUnusableSecureOne) {
  auto offer = parse_ok(kOfferHead + savp_stream(30000, {"1 AES_CM_128_HMAC_SHA1_80 inline:tooShort"}) +
                        avp_stream(30002));
  AnswerResult r = negotiate_answer(offer, caps(SrtpMode::kOptional));
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.media_index, 1u);
  EXPECT_EQ(r.remote_port, 30002);
  EXPECT_FALSE(r.srtp);
  ASSERT_EQ(r.answer.media.size(), 2u);
  EXPECT_EQ(r.answer.media[0].port, 0);
  EXPECT_EQ(r.answer.media[1].proto, "RTP/AVP");
}

TEST(SdpSrtp, OnlyEnabledSuitesAreTaken) {
  auto offer = parse_ok(kOfferHead + savp_stream(30000, {kCrypto80, kCrypto32}));
  LocalMediaCaps c = caps(SrtpMode::kRequired);
  c.srtp_suites = {SrtpSuite::kAesCm128HmacSha1_32};
  AnswerResult r = negotiate_answer(offer, c);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  ASSERT_TRUE(r.srtp);
  EXPECT_EQ(r.srtp->tag, 2u);
  EXPECT_EQ(r.srtp->suite, SrtpSuite::kAesCm128HmacSha1_32);
}

TEST(SdpSrtp, OurRequiredOfferAndThePeersAnswerAgreeOnKeysBothWays) {
  LocalMediaCaps ours = caps(SrtpMode::kRequired);
  SessionDescription offer = make_offer(ours);
  ASSERT_EQ(offer.media.size(), 1u);
  EXPECT_EQ(offer.media[0].proto, "RTP/SAVP");
  auto offered = parse_ok(offer.serialize());
  size_t crypto_lines = 0;
  for (const auto& a : offered.media[0].attributes) crypto_lines += a.name == "crypto";
  EXPECT_EQ(crypto_lines, 3u);

  LocalMediaCaps peer = caps(SrtpMode::kRequired);
  peer.srtp_suites = {SrtpSuite::kAeadAes128Gcm};  // the peer takes our third line
  AnswerResult answered = negotiate_answer(offered, peer);
  ASSERT_TRUE(answered.ok) << answered.failure_reason;
  ASSERT_TRUE(answered.srtp);
  EXPECT_EQ(answered.srtp->tag, 3u);

  AnswerResult accepted = accept_answer(offer, parse_ok(answered.answer.serialize()), ours);
  ASSERT_TRUE(accepted.ok) << accepted.failure_reason;
  ASSERT_TRUE(accepted.srtp);
  EXPECT_EQ(accepted.srtp->suite, SrtpSuite::kAeadAes128Gcm);
  EXPECT_EQ(accepted.srtp->local, answered.srtp->remote);
  EXPECT_EQ(accepted.srtp->remote, answered.srtp->local);
  EXPECT_EQ(accepted.srtp->local.size(), 28u);
}

TEST(SdpSrtp, AnswersThatDoNotMatchOurSecureOfferAre488) {
  LocalMediaCaps ours = caps(SrtpMode::kRequired);
  SessionDescription offer = make_offer(ours);
  const std::string head = kOfferHead;
  // A tag we offered with another suite, a tag we never offered, two lines, none, and plain RTP.
  const std::string wrong_suite = "1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj";
  const std::string unknown_tag = "7 AES_CM_128_HMAC_SHA1_80 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj";
  const std::string good = "1 AES_CM_128_HMAC_SHA1_80 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {head + savp_stream(30000, {wrong_suite}), "does not match"},
      {head + savp_stream(30000, {unknown_tag}), "does not match"},
      {head + savp_stream(30000, {good, good}), "exactly one"},
      {head + savp_stream(30000, {}), "exactly one"},
      {head + avp_stream(30000), "refused or changed"},
  };
  for (const auto& [text, reason] : cases) {
    SCOPED_TRACE(text);
    AnswerResult r = accept_answer(offer, parse_ok(text), ours);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.failure_reason.find(reason), std::string::npos) << r.failure_reason;
  }
  AnswerResult r = accept_answer(offer, parse_ok(head + savp_stream(30000, {good})), ours);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.srtp->remote, parse_crypto(good).crypto->key_salt);
}

TEST(SdpSrtp, PlainOffersStayPlainUnlessRequired) {
  EXPECT_EQ(make_offer(caps(SrtpMode::kOff)).media[0].proto, "RTP/AVP");
  EXPECT_EQ(make_offer(caps(SrtpMode::kOptional)).media[0].proto, "RTP/AVP");
  auto plain = make_offer(caps(SrtpMode::kOff));
  EXPECT_TRUE(plain.media[0].attributes.empty());
  // A secure offer to a plain answerer is refused by it (our required offer is SAVP only).
  auto peer_answer = negotiate_answer(parse_ok(make_offer(caps(SrtpMode::kRequired)).serialize()),
                                      caps(SrtpMode::kOff));
  EXPECT_FALSE(peer_answer.ok);
}

}  // namespace
}  // namespace warmline::sip
