// Opus in warmline's own offers (RFC 7587): a dynamic payload type, "opus/48000/2", only in an offer of
// its own (one RTP clock per offer: telephone-event then runs at 48 kHz, RFC 4733 §2.1), and left out
// of an offer that holds a static codec, as before. An Opus-only answerer (an AI platform reached over
// SIP) can answer it, and accept_answer takes its answer with the 48 kHz telephone-event.
#include <gtest/gtest.h>

#include "sip/sdp.hpp"

namespace warmline::sip {
namespace {

LocalMediaCaps caps_with(std::vector<std::string> codecs) {
  LocalMediaCaps caps;
  caps.local_ip = "192.0.2.1";
  caps.local_rtp_port = 40000;
  caps.session_id = 42;
  caps.session_version = 1;
  caps.codecs = std::move(codecs);
  return caps;
}

SessionDescription parse_ok(std::string_view text) {
  auto parsed = parse_sdp(text);
  EXPECT_TRUE(parsed.sdp) << parsed.error << "\n" << text;
  return parsed.sdp ? *parsed.sdp : SessionDescription{};
}

TEST(SdpOpusOffer, AnOpusOnlyOfferUsesTheDynamicPayloadTypeAndA48kHzTelephoneEvent) {
  const std::string text = make_offer(caps_with({"opus"})).serialize();
  EXPECT_NE(text.find("m=audio 40000 RTP/AVP 111 101\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=rtpmap:111 opus/48000/2\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=fmtp:111 minptime=20;useinbandfec=1\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=rtpmap:101 telephone-event/48000\r\n"), std::string::npos) << text;
}

TEST(SdpOpusOffer, OpusIsLeftOutBesideAStaticCodec) {
  const std::string text = make_offer(caps_with({"PCMU", "opus"})).serialize();
  EXPECT_NE(text.find("m=audio 40000 RTP/AVP 0 101\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("opus"), std::string::npos) << text;
  EXPECT_NE(text.find("a=rtpmap:101 telephone-event/8000\r\n"), std::string::npos) << text;
}

TEST(SdpOpusOffer, AnOpusOnlyPeerAnswersItAndTheAnswerIsTaken) {
  const LocalMediaCaps ours = caps_with({"opus"});
  const SessionDescription offer = make_offer(ours);
  // The peer (Opus only, telephone-event at 48 kHz) answers by the same rules warmline answers with.
  LocalMediaCaps peer = caps_with({"opus"});
  peer.local_ip = "198.51.100.7";
  peer.local_rtp_port = 30000;
  AnswerResult answered = negotiate_answer(parse_ok(offer.serialize()), peer);
  ASSERT_TRUE(answered.ok);
  EXPECT_EQ(answered.codec.name, "opus");
  EXPECT_EQ(answered.codec.payload_type, 111);

  AnswerResult taken = accept_answer(offer, parse_ok(answered.answer.serialize()), ours);
  ASSERT_TRUE(taken.ok);
  EXPECT_EQ(taken.codec.name, "opus");
  EXPECT_EQ(taken.codec.clock_rate, 48000u);
  EXPECT_EQ(taken.codec.channels, 2u);
  EXPECT_EQ(taken.codec.payload_type, 111);
  ASSERT_TRUE(taken.telephone_event_pt.has_value());
  EXPECT_EQ(*taken.telephone_event_pt, 101);
}

TEST(SdpOpusOffer, ThePayloadTypeIsTheCapsOne) {
  LocalMediaCaps caps = caps_with({"opus"});
  caps.opus_pt = 96;
  const std::string text = make_offer(caps).serialize();
  EXPECT_NE(text.find("m=audio 40000 RTP/AVP 96 101\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=rtpmap:96 opus/48000/2\r\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace warmline::sip
