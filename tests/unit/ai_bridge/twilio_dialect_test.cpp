// The Twilio Media Streams codec (ai_bridge/twilio_dialect.cpp): every frame warmline writes compared
// byte for byte with the shapes of https://www.twilio.com/docs/voice/media-streams/websocket-messages,
// the frames a bot sends back (media, mark, clear), and untrusted input. Ported from the tests of the
// retired TwilioEncoder/TwilioDecoder (ai_bridge/twilio_frames), whose expectations all still hold.
#include <gtest/gtest.h>

#include <array>
#include <numeric>

#include "ai_bridge/dialect.hpp"
#include "dialect_test_util.hpp"

namespace warmline::ai {
namespace {

using test::audio_of;
using test::bytes_of;
using test::command_as;
using test::error_code_of;

DialectStart start_of() {
  DialectStart s;
  s.call.id = "CA1";
  s.call.from = "+27115550100";
  s.call.to = "100";
  s.stream_id = "MZ1";
  s.account_id = "AC1";
  s.encoding = WireEncoding::kAlaw;  // Twilio has no choice: ignored
  return s;
}

std::unique_ptr<DialectCodec> make_codec(DialectStart start = start_of()) {
  auto codec = make_dialect_codec(Dialect::kTwilio, std::move(start));
  EXPECT_NE(codec, nullptr);
  return codec;
}

// --- warmline → agent: exact frames ---------------------------------------------------------------

TEST(TwilioEncode, FactoryMakesATwilioCodecSpeakingMulaw8kText) {
  auto codec = make_codec();
  EXPECT_EQ(codec->dialect(), Dialect::kTwilio);
  EXPECT_EQ(test::describe(codec->audio()), "mulaw/8000/text");
}

TEST(TwilioEncode, OpeningIsConnectedWithoutSequenceNumberThenStart) {
  auto codec = make_codec();
  const auto frames = codec->opening();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  // "connected" took no sequence number, "start" took 1: the stop that follows is 2.
  EXPECT_EQ(codec->stop("caller_hangup").bytes,
            R"({"event":"stop","sequenceNumber":"2","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}})");
}

TEST(TwilioEncode, StopAloneIsSequenceNumberOne) {
  auto codec = make_codec();
  EXPECT_EQ(codec->stop("agent_hangup").bytes,
            R"({"event":"stop","sequenceNumber":"1","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}})");
}

TEST(TwilioEncode, StartCarriesIdsFromToCustomParametersAndMulawFormat) {
  auto codec = make_codec();
  EXPECT_EQ(codec->opening()[1],
            R"({"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1",)"
            R"("tracks":["inbound"],"customParameters":{"from":"+27115550100","to":"100"},)"
            R"("mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"})");
}

TEST(TwilioEncode, ConfiguredParametersFollowFromAndToInOrder) {
  DialectStart s = start_of();
  s.custom_parameters = {{"FirstName", "Jane"}, {"LastName", "Doe"}};
  auto codec = make_codec(std::move(s));
  const std::string start = codec->opening()[1];
  EXPECT_NE(start.find(R"("customParameters":{"from":"+27115550100","to":"100","FirstName":"Jane","LastName":"Doe"})"),
            std::string::npos)
      << start;
  EXPECT_EQ(test::json_string_at(start, {"start", "customParameters", "LastName"}), "Doe");
}

TEST(TwilioEncode, MediaHasStringChunkAndTimestampAndBase64Payload) {
  auto codec = make_codec();
  const auto first = codec->media(bytes_of("foo"), 0);
  EXPECT_FALSE(first.binary);
  EXPECT_EQ(first.bytes,
            R"({"event":"media","sequenceNumber":"1","media":{"track":"inbound","chunk":"1","timestamp":"0",)"
            R"("payload":"Zm9v"},"streamSid":"MZ1"})");
  EXPECT_EQ(codec->media(bytes_of("foo"), 20).bytes,
            R"({"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"2","timestamp":"20",)"
            R"("payload":"Zm9v"},"streamSid":"MZ1"})");
}

TEST(TwilioEncode, SequenceCountsEveryFrameAndChunkOnlyMedia) {
  auto codec = make_codec();
  const std::array<std::uint8_t, 1> mulaw = {0xff};
  codec->opening();
  codec->media(mulaw, 0);
  EXPECT_EQ(codec->mark("m1", MarkEvent::kPlayed).bytes,
            R"({"event":"mark","sequenceNumber":"3","streamSid":"MZ1","mark":{"name":"m1"}})");
  EXPECT_EQ(codec->dtmf('#', 120).bytes,
            R"({"event":"dtmf","sequenceNumber":"4","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"#"}})");
  EXPECT_EQ(codec->media(mulaw, 18446744073709551615ull).bytes,
            R"({"event":"media","sequenceNumber":"5","media":{"track":"inbound","chunk":"2",)"
            R"("timestamp":"18446744073709551615","payload":"/w=="},"streamSid":"MZ1"})");
}

TEST(TwilioEncode, ClearedMarksAreReportedAsMarksAndClearHasNoAcknowledgement) {
  // Twilio answers a clear with a mark message for each mark it discarded.
  auto codec = make_codec();
  EXPECT_EQ(codec->mark("utt-2", MarkEvent::kCleared).bytes,
            R"({"event":"mark","sequenceNumber":"1","streamSid":"MZ1","mark":{"name":"utt-2"}})");
  EXPECT_TRUE(codec->cleared().empty());
}

TEST(TwilioEncode, TransferAndErrorFramesCarryTheStreamSid) {
  auto codec = make_codec();
  const TransferEvent event{.id = "t1", .state = TransferState::kEnded, .target = "sales",
                            .result = TransferResult::kBusy, .sip_status = 486};
  EXPECT_EQ(codec->transfer_event(event).bytes,
            R"({"event":"transfer","sequenceNumber":"1","streamSid":"MZ1",)"
            R"("transfer":{"id":"t1","state":"ended","target":"sales","result":"busy","sip_status":486}})");
  EXPECT_EQ(codec->error(kErrorInvalidField, "bad").bytes,
            R"({"event":"error","sequenceNumber":"2","streamSid":"MZ1","error":{"code":"invalid_field","message":"bad"}})");
}

TEST(TwilioEncode, EscapesUntrustedStrings) {
  DialectStart s = start_of();
  s.stream_id = "MZ\"1";
  s.call.id = "CA\\1";
  s.account_id = "";
  s.call.from = "\"Eve\"\n<sip:e@x>";
  auto codec = make_codec(std::move(s));
  const std::string start = codec->opening()[1];
  EXPECT_NE(start.find(R"("customParameters":{"from":"\"Eve\"\n<sip:e@x>")"), std::string::npos) << start;
  EXPECT_NE(start.find(R"("callSid":"CA\\1")"), std::string::npos) << start;
  EXPECT_EQ(test::json_string_at(start, {"start", "accountSid"}), "");
  EXPECT_EQ(codec->mark("a\"b", MarkEvent::kPlayed).bytes,
            R"({"event":"mark","sequenceNumber":"2","streamSid":"MZ\"1","mark":{"name":"a\"b"}})");
}

TEST(TwilioEncode, SteadyStateReusesOneBuffer) {
  auto codec = make_codec();
  codec->opening();
  test::expect_frames_share_one_buffer(*codec);
}

// --- agent → warmline -------------------------------------------------------------------------------

TEST(TwilioDecode, MediaPayloadIsDecodedMulaw) {
  auto codec = make_codec();
  EXPECT_EQ(audio_of(codec->decode_text(R"({"event":"media","streamSid":"MZ1","media":{"payload":"Zm9vYmE="}})")),
            "fooba");
}

TEST(TwilioDecode, MediaWithEscapedSlashDecodes) {
  auto codec = make_codec();
  // JSON may escape '/'.
  EXPECT_EQ(audio_of(codec->decode_text(R"({"event":"media","media":{"payload":"\/w=="}})")), "\xff");
}

TEST(TwilioDecode, ReadsBackWhatTheEncoderWrites) {
  auto codec = make_codec();
  std::vector<std::uint8_t> packet(160);
  std::iota(packet.begin(), packet.end(), 40);
  const std::string frame(codec->media(packet, 20).bytes);
  const auto c = codec->decode_text(frame);
  ASSERT_TRUE(std::holds_alternative<WireMedia>(c));
  const auto audio = std::get<WireMedia>(c).audio;
  EXPECT_EQ(std::vector<std::uint8_t>(audio.begin(), audio.end()), packet);
}

TEST(TwilioDecode, SteadyStateReusesOneAudioBuffer) {
  auto codec = make_codec();
  const std::string frame(codec->media(std::vector<std::uint8_t>(160, 0x55), 0).bytes);
  test::expect_decoded_audio_shares_one_buffer(*codec, frame);
}

TEST(TwilioDecode, MarkWithAndWithoutName) {
  auto codec = make_codec();
  const auto named = codec->decode_text(R"({"event":"mark","streamSid":"MZ1","mark":{"name":"utterance-1"}})");
  ASSERT_NE(command_as<Mark>(named), nullptr);
  EXPECT_EQ(command_as<Mark>(named)->name, "utterance-1");
  for (std::string_view unnamed : {R"({"event":"mark","streamSid":"MZ1","mark":{}})", R"({"event":"mark","streamSid":"MZ1"})"}) {
    const auto c = codec->decode_text(unnamed);
    ASSERT_NE(command_as<Mark>(c), nullptr) << unnamed;
    EXPECT_EQ(command_as<Mark>(c)->name, "") << unnamed;
  }
}

TEST(TwilioDecode, ClearAndUnknownEvents) {
  auto codec = make_codec();
  EXPECT_NE(command_as<Clear>(codec->decode_text(R"({"event":"clear","streamSid":"MZ1"})")), nullptr);
  const auto c = codec->decode_text(R"({"event":"connected","protocol":"Call"})");
  ASSERT_NE(command_as<Unknown>(c), nullptr);
  EXPECT_EQ(command_as<Unknown>(c)->type, "connected");
  const auto long_event = codec->decode_text(R"({"event":")" + std::string(kMaxNameBytes + 10, 'e') + "\"}");
  ASSERT_NE(command_as<Unknown>(long_event), nullptr);
  EXPECT_EQ(command_as<Unknown>(long_event)->type.size(), kMaxNameBytes);
}

TEST(TwilioDecode, TransferExtensionUsesTheNativeFields) {
  auto codec = make_codec();
  const auto c = codec->decode_text(R"({"event":"transfer","streamSid":"MZ1","mode":"warm","targets":["Craig"]})");
  ASSERT_NE(command_as<TransferRequest>(c), nullptr);
  EXPECT_EQ(command_as<TransferRequest>(c)->mode, TransferMode::kWarm);
  EXPECT_EQ(command_as<TransferRequest>(c)->targets, std::vector<std::string>{"Craig"});
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"transfer","streamSid":"MZ1"})")), kErrorMissingField);
  EXPECT_NE(command_as<Hangup>(codec->decode_text(R"({"event":"hangup"})")), nullptr);
}

TEST(TwilioDecode, MalformedFramesAreProtocolErrors) {
  auto codec = make_codec();
  const auto code = [&](std::string_view text) { return error_code_of(codec->decode_text(text)); };
  EXPECT_EQ(code("{\"event\":"), kErrorInvalidJson);
  EXPECT_EQ(code(R"(["media"])"), kErrorInvalidJson);
  EXPECT_EQ(code(R"({"streamSid":"MZ1"})"), kErrorMissingField);
  EXPECT_EQ(code(R"({"event":7})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"media"})"), kErrorMissingField);
  EXPECT_EQ(code(R"({"event":"media","media":{}})"), kErrorMissingField);
  EXPECT_EQ(code(R"({"event":"media","media":{"payload":12}})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"media","media":"Zm9v"})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"media","media":{"payload":"Zm9"}})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"media","media":{"payload":"Zm 9v"}})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"mark","mark":"m1"})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"mark","mark":{"name":1}})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"mark","mark":{"name":")" + std::string(kMaxNameBytes + 1, 'x') + "\"}}"),
            kErrorTooLarge);
}

TEST(TwilioDecode, BinaryFramesAreNotTwilio) {
  auto codec = make_codec();
  std::string message;
  EXPECT_EQ(error_code_of(codec->decode_binary(bytes_of("\x01\x02")), &message), kErrorInvalidField);
  EXPECT_NE(message.find("twilio"), std::string::npos) << message;
}

TEST(TwilioDecode, OversizedFrameIsRefusedNotTruncated) {
  auto codec = make_codec();
  test::expect_oversized_audio_refused(*codec, [](const std::string& payload) {
    return R"({"event":"media","media":{"payload":")" + payload + "\"}}";
  });
}

TEST(TwilioDecode, BadMediaAfterGoodMediaIsAnErrorNotStaleAudio) {
  // A failed frame must not leave the caller holding audio from a previous decode.
  auto codec = make_codec();
  ASSERT_EQ(audio_of(codec->decode_text(R"({"event":"media","media":{"payload":"Zm9v"}})")), "foo");
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"media","media":{"payload":"Zm9"}})")), kErrorInvalidField);
}

}  // namespace
}  // namespace warmline::ai
