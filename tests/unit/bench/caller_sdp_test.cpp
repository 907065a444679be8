// warmline-load's SRTP callers (--srtp): the offer they make, and a round trip between a caller's session
// and the gateway's, both keyed from one offer/answer exchange (the gateway answers as a trunk with
// srtp = "optional" does, and builds its session as its legs do, through create_stream).
#include "bench/load/caller_sdp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "bench/load/stamp.hpp"
#include "rtp/packet.hpp"

namespace warmline::load {
namespace {

std::vector<std::string> crypto_lines(const sip::SessionDescription& sdp) {
  std::vector<std::string> out;
  for (const auto& a : sdp.media.at(0).attributes)
    if (a.name == "crypto") out.push_back(a.value);
  return out;
}

sip::LocalMediaCaps gateway_caps(sip::SrtpMode mode) {
  sip::LocalMediaCaps caps;
  caps.local_ip = "127.0.0.1";
  caps.local_rtp_port = 20000;
  caps.srtp = mode;
  return caps;
}

// The gateway's side: its session from the keys its answer agreed on (as server/leg/leg_srtp.cpp does).
std::unique_ptr<rtp::SrtpSession> gateway_session(const sip::SrtpKeying& k) {
  std::string error;
  auto s = rtp::SrtpSession::create_stream({.suite = sip::to_string(k.suite), .local_key_salt = k.local.bytes(),
                                            .remote_key_salt = k.remote.bytes()},
                                           error);
  EXPECT_TRUE(s) << error;
  return s;
}

// A stamped PCMU packet as the caller sends it, in a buffer with room for the SRTP trailer.
struct Packet {
  std::array<uint8_t, 12 + 160 + rtp::SrtpSession::kMaxOverhead> buf{};
  size_t len = 12 + 160;
};

Packet stamped(uint16_t sequence, uint32_t ssrc, Stamp stamp) {
  Packet p;
  rtp::write_rtp_header(p.buf, {.payload_type = 0, .sequence = sequence, .timestamp = sequence * 160u, .ssrc = ssrc});
  write_stamp(std::span<uint8_t>(p.buf.data() + 12, 160), stamp);
  return p;
}

std::optional<Stamp> stamp_of(const Packet& p) {
  rtp::RtpPacketView v;
  if (rtp::parse_rtp(std::span<const uint8_t>(p.buf.data(), p.len), v) != rtp::RtpParseStatus::kOk) return std::nullopt;
  return read_stamp(v.payload);
}

TEST(CallerSdp, PlainOfferIsRtpAvpWithoutCrypto) {
  const auto offer = sip::make_offer(caller_media_caps("127.0.0.1", 4000, 1, false));
  ASSERT_EQ(offer.media.size(), 1u);
  EXPECT_EQ(offer.media[0].proto, "RTP/AVP");
  EXPECT_TRUE(crypto_lines(offer).empty());
}

TEST(CallerSdp, SrtpOfferHasOneAesCm80CryptoLine) {
  const auto offer = sip::make_offer(caller_media_caps("127.0.0.1", 4000, 1, true));
  ASSERT_EQ(offer.media.size(), 1u);
  EXPECT_EQ(offer.media[0].proto, "RTP/SAVP");
  EXPECT_EQ(offer.media[0].port, 4000);
  const auto lines = crypto_lines(offer);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("1 AES_CM_128_HMAC_SHA1_80 inline:", 0), 0u) << lines[0];
}

TEST(CallerSdp, CallerAndGatewaySessionsRoundTripBothWays) {
  const auto offer = sip::make_offer(caller_media_caps("127.0.0.1", 4000, 1, true));
  const sip::AnswerResult answer = sip::negotiate_answer(offer, gateway_caps(sip::SrtpMode::kOptional));
  ASSERT_TRUE(answer.ok) << answer.failure_reason;
  ASSERT_TRUE(answer.srtp);
  std::string error;
  auto caller = caller_srtp_session(offer, answer.answer.serialize(), error);
  ASSERT_TRUE(caller) << error;
  auto gateway = gateway_session(*answer.srtp);
  ASSERT_TRUE(gateway);

  for (uint16_t seq = 100; seq < 105; ++seq) {
    // Caller -> gateway: protected in place (the 80-bit tag added), unprotected to the same packet.
    Packet up = stamped(seq, 0x10000001, {7, seq});
    const Packet plain = up;
    ASSERT_EQ(caller->protect(up.buf, up.len), rtp::SrtpResult::kOk);
    EXPECT_EQ(up.len, plain.len + 10);
    EXPECT_NE(std::vector<uint8_t>(up.buf.begin() + 12, up.buf.begin() + 172),
              std::vector<uint8_t>(plain.buf.begin() + 12, plain.buf.begin() + 172));  // the payload is encrypted
    ASSERT_EQ(gateway->unprotect(up.buf, up.len), rtp::SrtpResult::kOk);
    ASSERT_EQ(up.len, plain.len);
    EXPECT_TRUE(std::equal(plain.buf.begin(), plain.buf.begin() + plain.len, up.buf.begin()));

    // Gateway -> caller: the echo comes back under the gateway's key, and the stamp reads again.
    Packet down = stamped(seq, 0x30000001, {7, seq});
    ASSERT_EQ(gateway->protect(down.buf, down.len), rtp::SrtpResult::kOk);
    EXPECT_FALSE(stamp_of(down));
    ASSERT_EQ(caller->unprotect(down.buf, down.len), rtp::SrtpResult::kOk);
    const auto s = stamp_of(down);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->call, 7);
    EXPECT_EQ(s->seq, seq);
  }
}

TEST(CallerSdp, KeysAreDirectional) {
  const auto offer = sip::make_offer(caller_media_caps("127.0.0.1", 4000, 1, true));
  const sip::AnswerResult answer = sip::negotiate_answer(offer, gateway_caps(sip::SrtpMode::kOptional));
  ASSERT_TRUE(answer.ok && answer.srtp);
  std::string error;
  auto caller = caller_srtp_session(offer, answer.answer.serialize(), error);
  ASSERT_TRUE(caller) << error;
  // The caller's own packet does not authenticate under the gateway's key (what the caller unprotects).
  Packet p = stamped(1, 0x10000001, {1, 1});
  ASSERT_EQ(caller->protect(p.buf, p.len), rtp::SrtpResult::kOk);
  EXPECT_EQ(caller->unprotect(p.buf, p.len), rtp::SrtpResult::kAuthFailed);
}

TEST(CallerSdp, AnotherOffersKeysDoNotDecrypt) {
  // Two calls' offers carry different fresh keys: a session keyed from one call's offer cannot read the
  // other call's gateway packets.
  const auto offer_a = sip::make_offer(caller_media_caps("127.0.0.1", 4000, 1, true));
  const auto offer_b = sip::make_offer(caller_media_caps("127.0.0.1", 4002, 2, true));
  EXPECT_NE(crypto_lines(offer_a), crypto_lines(offer_b));
  const auto answer_a = sip::negotiate_answer(offer_a, gateway_caps(sip::SrtpMode::kOptional));
  const auto answer_b = sip::negotiate_answer(offer_b, gateway_caps(sip::SrtpMode::kOptional));
  ASSERT_TRUE(answer_a.srtp && answer_b.srtp);
  std::string error;
  auto caller_a = caller_srtp_session(offer_a, answer_a.answer.serialize(), error);
  ASSERT_TRUE(caller_a) << error;
  auto gateway_b = gateway_session(*answer_b.srtp);
  Packet p = stamped(1, 0x30000002, {2, 1});
  ASSERT_EQ(gateway_b->protect(p.buf, p.len), rtp::SrtpResult::kOk);
  EXPECT_EQ(caller_a->unprotect(p.buf, p.len), rtp::SrtpResult::kAuthFailed);
}

TEST(CallerSdp, PlainAnswerToSrtpOfferGivesNoSession) {
  // A plain RTP/AVP answer (a gateway whose trunk has srtp = "off" would refuse instead; a peer that
  // ignores RTP/SAVP answers like this) gives no session and says why.
  const auto offer = sip::make_offer(caller_media_caps("127.0.0.1", 4000, 1, true));
  auto plain_offer = sip::make_offer(caller_media_caps("127.0.0.1", 4000, 1, false));
  const auto plain = sip::negotiate_answer(plain_offer, gateway_caps(sip::SrtpMode::kOff));
  ASSERT_TRUE(plain.ok);
  std::string error;
  EXPECT_FALSE(caller_srtp_session(offer, plain.answer.serialize(), error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(caller_srtp_session(offer, "not sdp", error));
  EXPECT_EQ(error, "unparsable SDP answer");
}

}  // namespace
}  // namespace warmline::load
