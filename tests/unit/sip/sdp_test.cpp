#include "sip/sdp.hpp"

#include <gtest/gtest.h>

#include <string>

namespace warmline::sip {
namespace {

// A typical carrier offer: PCMU, PCMA, G729, telephone-event, session-level c=.
constexpr std::string_view kCarrierOffer =
    "v=0\r\n"
    "o=Sonus_UAC 12345 67890 IN IP4 203.0.113.5\r\n"
    "s=SIP Media Capabilities\r\n"
    "c=IN IP4 203.0.113.10\r\n"
    "t=0 0\r\n"
    "m=audio 30000 RTP/AVP 0 8 18 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=maxptime:20\r\n"
    "a=ptime:20\r\n";

SessionDescription parse_ok(std::string_view text) {
  SdpParseResult r = parse_sdp(text);
  EXPECT_TRUE(r.sdp.has_value()) << r.error;
  return r.sdp.value_or(SessionDescription{});
}

LocalMediaCaps local_caps() {
  LocalMediaCaps caps;
  caps.local_ip = "192.0.2.1";
  caps.local_rtp_port = 40000;
  caps.session_id = 42;
  caps.session_version = 1;
  return caps;
}

// Session-level lines shared by the small offers below, with and without a session-level c=.
constexpr std::string_view kHeader = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n";
constexpr std::string_view kHeaderNoC = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n";

AnswerResult answer(std::string_view header, std::string_view media,
                    const LocalMediaCaps& caps = local_caps()) {
  return negotiate_answer(parse_ok(std::string(header) + std::string(media)), caps);
}

TEST(SdpParse, CarrierOfferFields) {
  SessionDescription sdp = parse_ok(kCarrierOffer);
  EXPECT_EQ(sdp.origin.username, "Sonus_UAC");
  EXPECT_EQ(sdp.origin.session_id, 12345u);
  EXPECT_EQ(sdp.origin.session_version, 67890u);
  EXPECT_EQ(sdp.origin.address, "203.0.113.5");
  EXPECT_EQ(sdp.session_name, "SIP Media Capabilities");
  ASSERT_TRUE(sdp.connection);
  EXPECT_EQ(sdp.connection->address, "203.0.113.10");
  ASSERT_EQ(sdp.media.size(), 1u);
  const MediaDescription& m = sdp.media[0];
  EXPECT_EQ(m.media, "audio");
  EXPECT_EQ(m.port, 30000);
  EXPECT_EQ(m.proto, "RTP/AVP");
  EXPECT_EQ(m.formats, (std::vector<std::string>{"0", "8", "18", "101"}));
  ASSERT_EQ(m.rtpmaps.size(), 4u);
  EXPECT_EQ(m.rtpmaps[3].encoding, "telephone-event");
  EXPECT_EQ(m.rtpmaps[3].clock_rate, 8000u);
  ASSERT_NE(m.find_fmtp(101), nullptr);
  EXPECT_EQ(m.find_fmtp(101)->params, "0-15");
  EXPECT_EQ(m.direction, MediaDirection::kSendRecv);
  EXPECT_EQ(m.ptime, 20u);
  ASSERT_EQ(m.attributes.size(), 1u);  // maxptime kept as an unknown attribute
  EXPECT_EQ(m.attributes[0].name, "maxptime");
  EXPECT_EQ(m.attributes[0].value, "20");
}

TEST(SdpParse, LineFeedOnlyAndBlankLinesAndUnknownLines) {
  SessionDescription sdp = parse_ok(
      "v=0\n"
      "o=- 1 1 IN IP4 10.0.0.1\n"
      "s=-\n"
      "x=vendor extension\n"
      "c=IN IP4 10.0.0.1/127\n"
      "b=AS:64\n"
      "t=0 0\n"
      "a=tool:something\n"
      "m=audio 5004/2 RTP/AVP 0\n"
      "b=TIAS:64000\n"
      "a=rtpmap:96 opus/48000/2\n"
      "a=rtpmap:bogus\n"
      "\n\n");
  EXPECT_EQ(sdp.connection->address, "10.0.0.1");  // multicast TTL stripped
  EXPECT_EQ(sdp.other_lines, (std::vector<std::string>{"x=vendor extension", "b=AS:64"}));
  ASSERT_EQ(sdp.attributes.size(), 1u);
  EXPECT_EQ(sdp.attributes[0].name, "tool");
  ASSERT_EQ(sdp.media.size(), 1u);
  EXPECT_EQ(sdp.media[0].port_count, 2);
  EXPECT_EQ(sdp.media[0].other_lines, (std::vector<std::string>{"b=TIAS:64000"}));
  ASSERT_EQ(sdp.media[0].rtpmaps.size(), 1u);
  EXPECT_EQ(sdp.media[0].rtpmaps[0].channels, 2u);
  ASSERT_EQ(sdp.media[0].attributes.size(), 1u);  // the unparsable rtpmap is kept, not fatal
  EXPECT_EQ(sdp.media[0].attributes[0].value, "bogus");
}

TEST(SdpParse, RejectsMalformedDescriptions) {
  const char* bad[] = {
      "",
      "o=- 1 1 IN IP4 1.2.3.4\r\n",                                 // no v= first
      "v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n",                          // wrong version
      "v=0\r\ns=-\r\n",                                              // no o=
      "v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n",                          // non-numeric session id
      "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4\r\n",              // short c=
      "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio\r\n",               // short m=
      "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n",  // port out of range
      "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 5/0 RTP/AVP 0\r\n",  // zero port count
      "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ngarbage\r\n",               // not type=value
  };
  for (const char* text : bad) {
    SdpParseResult r = parse_sdp(text);
    EXPECT_FALSE(r.sdp.has_value()) << text;
    EXPECT_FALSE(r.error.empty()) << text;
  }
}

TEST(SdpParse, ArbitraryBytesNeverCrash) {
  std::string text(kCarrierOffer);
  // Every prefix and a few byte flips of a real offer: parse must return, with or without a result.
  for (size_t len = 0; len <= text.size(); ++len) (void)parse_sdp(std::string_view(text).substr(0, len));
  for (size_t i = 0; i < text.size(); i += 7) {
    std::string mutated = text;
    mutated[i] = static_cast<char>(mutated[i] ^ 0x5a);
    (void)parse_sdp(mutated);
  }
  SUCCEED();
}

// Found by the sip_sdp fuzz target (corpus/sip_sdp/crash-sdp-cr-inside-line): a CR inside a line was
// kept in the value, then cut off as line-end whitespace when the description was written and read
// again, so the two differed. RFC 4566 §9's byte-string has neither CR nor NUL: such lines are refused.
TEST(SdpParse, RejectsCrOrNulInsideALine) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n";
  for (const std::string& line : {std::string("c=IN IP4 0.0.0.0\r/x\r\n"), std::string("s=a\rb\r\n"),
                                  std::string("a=recvonly\0x\r\n", 14)}) {
    const SdpParseResult r = parse_sdp(head + line);
    EXPECT_FALSE(r.sdp.has_value()) << line;
    EXPECT_NE(r.error.find("CR or NUL"), std::string::npos) << r.error;
  }
  EXPECT_TRUE(parse_sdp(head + "c=IN IP4 0.0.0.0\r\r\n").sdp.has_value());  // line-end CRs stay tolerated
}

// Also found by sip_sdp fuzzing (corpus/sip_sdp/crash-sdp-tab-in-address): "c=IN IP4 1.2.3.4\t/127" kept
// the tab in the address, which the next read trimmed. A connection address has no whitespace.
TEST(SdpParse, RejectsWhitespaceInsideTheConnectionAddress) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n";
  EXPECT_FALSE(parse_sdp(head + "c=IN IP4 198.51.100.7\t/127\r\n").sdp.has_value());
  EXPECT_FALSE(parse_sdp(head + "c=IN IP4 198.51\t100.7\r\n").sdp.has_value());
  const auto ok = parse_sdp(head + "c=IN IP4 224.2.1.1/127\r\n");
  ASSERT_TRUE(ok.sdp.has_value());
  EXPECT_EQ(ok.sdp->connection->address, "224.2.1.1");
}

TEST(SdpSerialize, RoundTripKeepsEverything) {
  SessionDescription first = parse_ok(kCarrierOffer);
  std::string text = first.serialize();
  EXPECT_NE(text.find("a=fmtp:18 annexb=no\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=maxptime:20\r\n"), std::string::npos);
  SessionDescription second = parse_ok(text);
  EXPECT_EQ(second.serialize(), text);
  EXPECT_EQ(second.media[0].formats, first.media[0].formats);
  EXPECT_EQ(second.media[0].rtpmaps.size(), first.media[0].rtpmaps.size());
}

TEST(SdpSerialize, OrderFollowsRfc4566) {
  SessionDescription sdp = parse_ok(
      "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nb=AS:64\nt=0 0\ni=info\nc=IN IP4 1.2.3.4\nm=audio 1 RTP/AVP 0\n");
  std::string text = sdp.serialize();
  EXPECT_LT(text.find("i=info"), text.find("c=IN"));
  EXPECT_LT(text.find("c=IN"), text.find("b=AS"));
  EXPECT_LT(text.find("b=AS"), text.find("t=0 0"));
  EXPECT_LT(text.find("t=0 0"), text.find("m=audio"));
}

TEST(SdpNegotiate, CarrierOfferGetsPcmuItsFirstChoice) {
  AnswerResult r = negotiate_answer(parse_ok(kCarrierOffer), local_caps());
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.codec.payload_type, 0);
  EXPECT_EQ(r.codec.name, "PCMU");
  EXPECT_EQ(r.codec.clock_rate, 8000u);
  EXPECT_EQ(r.telephone_event_pt, 101);
  EXPECT_EQ(r.remote_address, "203.0.113.10");
  EXPECT_EQ(r.remote_port, 30000);
  EXPECT_EQ(r.direction, MediaDirection::kSendRecv);
  const std::string text = r.answer.serialize();
  EXPECT_NE(text.find("o=- 42 1 IN IP4 192.0.2.1\r\n"), std::string::npos);
  EXPECT_NE(text.find("c=IN IP4 192.0.2.1\r\n"), std::string::npos);
  EXPECT_NE(text.find("m=audio 40000 RTP/AVP 0 101\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=rtpmap:101 telephone-event/8000\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=fmtp:101 0-15\r\n"), std::string::npos);  // the offer's event range
  EXPECT_NE(text.find("a=sendrecv\r\n"), std::string::npos);
  EXPECT_EQ(text.find("G729"), std::string::npos);
}

// RFC 3264 §6.1: among the codecs both sides have, the offerer's order wins over ours.
TEST(SdpNegotiate, OffererOrderBeatsLocalOrder) {
  LocalMediaCaps caps = local_caps();
  caps.codecs = {"PCMA", "PCMU"};
  AnswerResult r = negotiate_answer(parse_ok(kCarrierOffer), caps);  // PCMU first in the offer
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.codec.name, "PCMU");
  EXPECT_EQ(r.codec.payload_type, 0);
  AnswerResult pcma_first = answer(kHeader, "m=audio 7000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n");
  ASSERT_TRUE(pcma_first.ok);  // local_caps() prefers PCMU, the offer PCMA
  EXPECT_EQ(pcma_first.codec.name, "PCMA");
  EXPECT_EQ(pcma_first.codec.payload_type, 8);
  EXPECT_NE(pcma_first.answer.serialize().find("m=audio 40000 RTP/AVP 8 101\r\n"), std::string::npos);
}

// A format is its name and its clock rate: PCMU at 1 Hz is not PCMU (a 488, not a broken call).
TEST(SdpNegotiate, WrongClockRateIsNotACommonCodec) {
  AnswerResult r = answer(kHeader, "m=audio 7000 RTP/AVP 0\r\na=rtpmap:0 PCMU/1\r\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status_code, 488);
  AnswerResult fallback = answer(kHeader, "m=audio 7000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/16000\r\n");
  ASSERT_TRUE(fallback.ok);
  EXPECT_EQ(fallback.codec.name, "PCMA");
  LocalMediaCaps opus = local_caps();
  opus.codecs = {"opus"};
  EXPECT_FALSE(answer(kHeader, "m=audio 7000 RTP/AVP 111\r\na=rtpmap:111 opus/8000\r\n", opus).ok);
}

TEST(SdpNegotiate, PcmaOnlyOfferWithoutTelephoneEvent) {
  AnswerResult r = answer(kHeader, "m=audio 7000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.codec.name, "PCMA");
  EXPECT_FALSE(r.telephone_event_pt);
  EXPECT_NE(r.answer.serialize().find("m=audio 40000 RTP/AVP 8\r\n"), std::string::npos);
  EXPECT_EQ(r.answer.serialize().find("telephone-event"), std::string::npos);
}

TEST(SdpNegotiate, StaticPayloadTypesWithoutRtpmap) {
  AnswerResult r = answer(kHeaderNoC, "m=audio 7000 RTP/AVP 18 0 8\r\nc=IN IP4 5.6.7.8\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.codec.name, "PCMU");  // G.729 (18) comes first, but we do not have it
  EXPECT_EQ(r.codec.payload_type, 0);
  EXPECT_EQ(r.remote_address, "5.6.7.8");  // media-level c= with no session-level one
  // The answer names the static type explicitly, which every peer accepts.
  EXPECT_NE(r.answer.serialize().find("a=rtpmap:0 PCMU/8000\r\n"), std::string::npos);
}

TEST(SdpNegotiate, DynamicPayloadTypeKeepsOfferedNumber) {
  LocalMediaCaps caps = local_caps();
  caps.codecs = {"opus", "PCMU"};
  AnswerResult r = answer(kHeader,
                          "m=audio 7000 RTP/AVP 111 0 96\r\na=rtpmap:111 OPUS/48000/2\r\n"
                          "a=rtpmap:96 telephone-event/48000\r\na=rtpmap:97 telephone-event/8000\r\n",
                          caps);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.codec.payload_type, 111);
  EXPECT_EQ(r.codec.clock_rate, 48000u);
  EXPECT_EQ(r.codec.channels, 2u);
  EXPECT_EQ(r.telephone_event_pt, 96);  // the one at the codec's clock rate
}

TEST(SdpNegotiate, NoCommonCodecIs488) {
  AnswerResult r = answer(kHeader, "m=audio 7000 RTP/AVP 18 101\r\na=rtpmap:101 telephone-event/8000\r\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status_code, 488);
  EXPECT_EQ(r.reason_phrase, "Not Acceptable Here");
  EXPECT_EQ(r.failure_reason, "no common audio codec");
}

TEST(SdpNegotiate, SrtpOnlyAndNoAudioAre488) {
  AnswerResult srtp =
      answer(kHeader, "m=audio 7000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n");
  EXPECT_EQ(srtp.status_code, 488);
  EXPECT_NE(srtp.failure_reason.find("SRTP"), std::string::npos);
  AnswerResult video = answer(kHeader, "m=video 7002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n");
  EXPECT_FALSE(video.ok);
  EXPECT_EQ(video.status_code, 488);
  AnswerResult no_conn = answer(kHeaderNoC, "m=audio 7000 RTP/AVP 0\r\n");
  EXPECT_EQ(no_conn.status_code, 488);
}

TEST(SdpNegotiate, VideoAndSecondAudioRefusedWithPortZero) {
  SessionDescription offer = parse_ok(
      std::string(kHeader) +
      "m=video 7002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
      "m=audio 7000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
      "m=audio 7004 RTP/AVP 8\r\n"
      "m=image 7006 udptl t38\r\n");
  AnswerResult r = negotiate_answer(offer, local_caps());
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.media_index, 1u);
  ASSERT_EQ(r.answer.media.size(), 4u);
  EXPECT_EQ(r.answer.media[0].media, "video");
  EXPECT_EQ(r.answer.media[0].port, 0);
  EXPECT_EQ(r.answer.media[1].port, 40000);
  EXPECT_EQ(r.answer.media[2].port, 0);
  EXPECT_EQ(r.answer.media[3].port, 0);
  EXPECT_EQ(r.answer.media[3].proto, "udptl");
  const std::string text = r.answer.serialize();
  EXPECT_NE(text.find("m=video 0 RTP/AVP 96\r\n"), std::string::npos);
  EXPECT_NE(text.find("m=image 0 udptl t38\r\n"), std::string::npos);
  // The answer parses back with the same shape.
  EXPECT_EQ(parse_ok(text).media.size(), 4u);
}

TEST(SdpNegotiate, DisabledFirstAudioStreamIsSkipped) {
  AnswerResult r = answer(kHeader, "m=audio 0 RTP/AVP 0\r\nm=audio 7004 RTP/AVP 8\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.media_index, 1u);
  EXPECT_EQ(r.remote_port, 7004);
  EXPECT_EQ(r.answer.media[0].port, 0);
}

TEST(SdpNegotiate, HoldOffersMirrorDirection) {
  struct Case {
    const char* lines;
    MediaDirection answer;
    bool hold;
  };
  const Case cases[] = {
      {"c=IN IP4 1.2.3.4\r\nm=audio 7000 RTP/AVP 0\r\na=sendonly\r\n", MediaDirection::kRecvOnly, true},
      {"c=IN IP4 1.2.3.4\r\nm=audio 7000 RTP/AVP 0\r\na=inactive\r\n", MediaDirection::kInactive, true},
      {"c=IN IP4 1.2.3.4\r\nm=audio 7000 RTP/AVP 0\r\na=recvonly\r\n", MediaDirection::kSendOnly, false},
      {"c=IN IP4 1.2.3.4\r\na=sendonly\r\nm=audio 7000 RTP/AVP 0\r\n", MediaDirection::kRecvOnly, true},
      {"c=IN IP4 0.0.0.0\r\nm=audio 7000 RTP/AVP 0\r\n", MediaDirection::kRecvOnly, true},
      {"c=IN IP4 0.0.0.0\r\nm=audio 7000 RTP/AVP 0\r\na=recvonly\r\n", MediaDirection::kInactive, true},
      {"c=IN IP4 1.2.3.4\r\nm=audio 7000 RTP/AVP 0\r\n", MediaDirection::kSendRecv, false},
  };
  for (const Case& c : cases) {
    SessionDescription offer = parse_ok(std::string(kHeaderNoC) + c.lines);
    EXPECT_EQ(is_hold(offer), c.hold) << c.lines;
    AnswerResult r = negotiate_answer(offer, local_caps());
    ASSERT_TRUE(r.ok) << c.lines;
    EXPECT_EQ(r.direction, c.answer) << c.lines;
    EXPECT_NE(r.answer.serialize().find("a=" + std::string(to_string(c.answer)) + "\r\n"), std::string::npos);
  }
}

TEST(SdpOffer, MakeOfferHasCodecsAndTelephoneEvent) {
  LocalMediaCaps caps = local_caps();
  caps.codecs = {"PCMA", "PCMU", "speex-unknown"};
  SessionDescription offer = make_offer(caps);
  const std::string text = offer.serialize();
  EXPECT_NE(text.find("m=audio 40000 RTP/AVP 8 0 101\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=fmtp:101 0-16\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=ptime:20\r\n"), std::string::npos);
  EXPECT_FALSE(is_hold(offer));
  // Our own offer answered by our own rules picks the offer's first codec.
  AnswerResult r = negotiate_answer(parse_ok(text), local_caps());
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.codec.name, "PCMA");
  EXPECT_EQ(r.telephone_event_pt, 101);
  EXPECT_EQ(r.remote_address, "192.0.2.1");
}

TEST(SdpOffer, Ipv6AddressesUseIp6) {
  LocalMediaCaps caps = local_caps();
  caps.local_ip = "2001:db8::1";
  const std::string text = make_offer(caps).serialize();
  EXPECT_NE(text.find("c=IN IP6 2001:db8::1\r\n"), std::string::npos);
  EXPECT_NE(text.find("o=- 42 1 IN IP6 2001:db8::1\r\n"), std::string::npos);
}

// RFC 6337 §5.3: an offer asked for inside a session (re-INVITE/UPDATE without SDP) is the media we
// run, sendrecv, so that a caller who held the call can resume it.
TEST(SdpOffer, CurrentMediaOfferIsSendrecvWithTheNegotiatedCodec) {
  LocalMediaCaps caps = local_caps();
  const std::string text = make_offer(caps, NegotiatedCodec{8, "PCMA", 8000, 1}, 101).serialize();
  EXPECT_NE(text.find("m=audio 40000 RTP/AVP 8 101\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=sendrecv\r\n"), std::string::npos);
  EXPECT_EQ(text.find("recvonly"), std::string::npos);
  EXPECT_EQ(text.find("PCMU"), std::string::npos);
}

TEST(SdpAnswer, AcceptsTheAnswerersChoiceAmongOurCodecs) {
  LocalMediaCaps caps = local_caps();
  SessionDescription offer = make_offer(caps);  // PCMU 0, PCMA 8, telephone-event 101
  AnswerResult r = accept_answer(offer, parse_ok(std::string(kHeader) +
      "m=audio 7000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"), caps);
  ASSERT_TRUE(r.ok) << r.failure_reason;
  EXPECT_EQ(r.codec.name, "PCMA");
  EXPECT_EQ(r.codec.payload_type, 8);
  EXPECT_EQ(r.telephone_event_pt, 101);
  EXPECT_EQ(r.remote_address, "1.2.3.4");
  EXPECT_EQ(r.remote_port, 7000);
  EXPECT_EQ(r.direction, MediaDirection::kRecvOnly);  // they only send: we only receive
}

TEST(SdpAnswer, RefusesAnswersOutsideTheOffer) {
  LocalMediaCaps caps = local_caps();
  SessionDescription offer = make_offer(caps);
  EXPECT_FALSE(accept_answer(offer, parse_ok(std::string(kHeader) + "m=audio 0 RTP/AVP 0\r\n"), caps).ok);
  EXPECT_FALSE(accept_answer(offer, parse_ok(std::string(kHeader) + "m=audio 7000 RTP/AVP 18\r\n"), caps).ok);
  EXPECT_FALSE(accept_answer(offer, parse_ok(std::string(kHeader) +
      "m=audio 7000 RTP/AVP 0\r\na=rtpmap:0 PCMU/1\r\n"), caps).ok);
  EXPECT_FALSE(accept_answer(offer, parse_ok(std::string(kHeader)), caps).ok);
}

}  // namespace
}  // namespace warmline::sip
