// The Plivo audio stream codec (ai_bridge/plivo_dialect.cpp): every frame warmline writes compared with
// the shapes of https://plivo.com/docs/voice-agents/audio-streaming/concepts/audio-streaming-reference,
// the agent frames that page documents, and untrusted input.
#include <gtest/gtest.h>

#include <chrono>
#include <numeric>

#include "ai_bridge/base64.hpp"
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
  s.call.id = "12345678-1234-1234-1234-123456789abc";
  s.call.from = "+14155551234";
  s.call.to = "+14155555678";
  s.stream_id = "87654321-4321-4321-4321-cba987654321";
  s.account_id = "MAXXXXXXXXXXXXXXXXXX";
  s.custom_parameters = {{"userId", "12345"}, {"sessionId", "abc-xyz"}};
  s.encoding = WireEncoding::kAlaw;  // Plivo has no choice: ignored
  return s;
}

std::unique_ptr<DialectCodec> make_codec(DialectStart start = start_of()) {
  auto codec = make_dialect_codec(Dialect::kPlivo, std::move(start));
  EXPECT_NE(codec, nullptr);
  return codec;
}

std::uint64_t unix_ms_now() {
  return static_cast<std::uint64_t>(
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

constexpr std::string_view kExtraHeaders = R"("extra_headers":"from=+14155551234;to=+14155555678;userId=12345;sessionId=abc-xyz")";

// --- warmline → agent: exact frames ---------------------------------------------------------------

TEST(PlivoEncode, FactoryMakesAPlivoCodecSpeakingMulaw8k) {
  auto codec = make_codec();
  EXPECT_EQ(codec->dialect(), Dialect::kPlivo);
  EXPECT_EQ(test::describe(codec->audio()), "mulaw/8000/text");
}

TEST(PlivoEncode, OpeningIsOneStartWithNumericSequenceIdsAndExtraHeaders) {
  auto codec = make_codec();
  const auto frames = codec->opening();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0],
            R"({"event":"start","sequenceNumber":1,"start":{"callId":"12345678-1234-1234-1234-123456789abc",)"
            R"("streamId":"87654321-4321-4321-4321-cba987654321","accountId":"MAXXXXXXXXXXXXXXXXXX",)"
            R"("tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000}},)" +
                std::string(kExtraHeaders) + "}");
}

TEST(PlivoEncode, MediaTimestampIsUnixMillisecondsFromTheStreamStartAndChunkANumber) {
  auto codec = make_codec();
  const auto before = unix_ms_now();
  codec->opening();
  const auto after = unix_ms_now();
  const std::string first(codec->media(bytes_of("foo"), 0).bytes);
  const auto start_ms = std::stoull(test::json_string_at(first, {"media", "timestamp"}));
  EXPECT_GE(start_ms, before);
  EXPECT_LE(start_ms, after);
  EXPECT_EQ(first, R"({"event":"media","sequenceNumber":2,"streamId":"87654321-4321-4321-4321-cba987654321",)"
                   R"("media":{"track":"inbound","timestamp":")" +
                       std::to_string(start_ms) + R"(","chunk":1,"payload":"Zm9v"},)" + std::string(kExtraHeaders) +
                       "}");
  const auto second = codec->media(bytes_of("\xff"), 20);
  EXPECT_FALSE(second.binary);
  EXPECT_EQ(second.bytes, R"({"event":"media","sequenceNumber":3,"streamId":"87654321-4321-4321-4321-cba987654321",)"
                          R"("media":{"track":"inbound","timestamp":")" +
                              std::to_string(start_ms + 20) + R"(","chunk":2,"payload":"/w=="},)" +
                              std::string(kExtraHeaders) + "}");
}

TEST(PlivoEncode, PlayedCheckpointIsPlayedStreamAndAClearIsAcknowledgedOnceWithClearedAudio) {
  auto codec = make_codec();
  EXPECT_EQ(codec->mark("greeting-complete", MarkEvent::kPlayed).bytes,
            R"({"event":"playedStream","sequenceNumber":1,"streamId":"87654321-4321-4321-4321-cba987654321",)"
            R"("name":"greeting-complete"})");
  EXPECT_TRUE(codec->mark("utt-2", MarkEvent::kCleared).empty());
  EXPECT_TRUE(codec->mark("utt-3", MarkEvent::kCleared).empty());
  EXPECT_EQ(codec->cleared().bytes,
            R"({"event":"clearedAudio","sequenceNumber":2,"streamId":"87654321-4321-4321-4321-cba987654321"})");
}

TEST(PlivoEncode, DtmfCarriesTrackDigitWallClockAndExtraHeaders) {
  auto codec = make_codec();
  const auto before = unix_ms_now();
  const std::string frame(codec->dtmf('5', 100).bytes);
  const auto after = unix_ms_now();
  const auto at = std::stoull(test::json_string_at(frame, {"dtmf", "timestamp"}));
  EXPECT_GE(at, before);
  EXPECT_LE(at, after);
  EXPECT_EQ(test::with_value_replaced(frame, "timestamp", "T"),
            R"({"event":"dtmf","sequenceNumber":1,"streamId":"87654321-4321-4321-4321-cba987654321",)"
            R"("dtmf":{"track":"inbound","digit":"5","timestamp":"T"},)" +
                std::string(kExtraHeaders) + "}");
}

TEST(PlivoEncode, PlivoSendsNoStopFrame) {
  auto codec = make_codec();
  EXPECT_TRUE(codec->stop("caller_hangup").empty());
  // ... and nothing was counted for it.
  EXPECT_EQ(codec->cleared().bytes,
            R"({"event":"clearedAudio","sequenceNumber":1,"streamId":"87654321-4321-4321-4321-cba987654321"})");
}

TEST(PlivoEncode, TransferAndErrorAreTheExtensionFramesWithTheStreamId) {
  auto codec = make_codec();
  const TransferEvent event{.id = "t1", .state = TransferState::kBridged, .channels = 2};
  EXPECT_EQ(codec->transfer_event(event).bytes,
            R"({"event":"transfer","sequenceNumber":1,"streamId":"87654321-4321-4321-4321-cba987654321",)"
            R"("transfer":{"id":"t1","state":"bridged","channels":2}})");
  EXPECT_EQ(codec->error(kErrorInvalidField, "playAudio: \"media.contentType\" is wrong").bytes,
            R"({"event":"error","sequenceNumber":2,"streamId":"87654321-4321-4321-4321-cba987654321",)"
            R"("error":{"code":"invalid_field","message":"playAudio: \"media.contentType\" is wrong"}})");
}

TEST(PlivoEncode, EscapesUntrustedStringsEverywhere) {
  DialectStart s = start_of();
  s.call.id = "c\"1";
  s.call.from = "\"Eve\" <sip:eve@x>\n";
  s.call.to = "a\\b\x01";
  s.custom_parameters = {{"k\"ey", "v\talue"}};
  auto codec = make_codec(std::move(s));
  const std::string start = codec->opening()[0];
  EXPECT_NE(start.find(R"("extra_headers":"from=\"Eve\" <sip:eve@x>\n;to=a\\b\u0001;k\"ey=v\talue")"),
            std::string::npos)
      << start;
  EXPECT_EQ(test::json_string_at(start, {"start", "callId"}), "c\"1");
  EXPECT_EQ(test::json_string_at(codec->media(bytes_of("x"), 0).bytes, {"extra_headers"}),
            "from=\"Eve\" <sip:eve@x>\n;to=a\\b\x01;k\"ey=v\talue");
  EXPECT_EQ(test::json_string_at(codec->mark("a\"b", MarkEvent::kPlayed).bytes, {"name"}), "a\"b");
  EXPECT_EQ(test::json_string_at(codec->error("x", "bad \"\r\n").bytes, {"error", "message"}), "bad \"\r\n");
}

TEST(PlivoEncode, SteadyStateReusesOneBuffer) {
  auto codec = make_codec();
  codec->opening();
  test::expect_frames_share_one_buffer(*codec);
}

// --- agent → warmline -------------------------------------------------------------------------------

std::string play_audio(std::string_view payload, std::string_view content_type = R"("audio/x-mulaw")",
                       std::string_view sample_rate = "8000") {
  return R"({"event":"playAudio","media":{"contentType":)" + std::string(content_type) +
         R"(,"sampleRate":)" + std::string(sample_rate) + R"(,"payload":")" + std::string(payload) + "\"}}";
}

TEST(PlivoDecode, PlayAudioAsPipecatSendsItIsDecodedAudio) {
  auto codec = make_codec();
  const auto c = codec->decode_text(
      R"({"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":8000,"payload":"Zm9vYmE="},)"
      R"("streamId":"87654321-4321-4321-4321-cba987654321"})");
  EXPECT_EQ(audio_of(c), "fooba");
  // One of Plivo's examples writes the rate as a string.
  EXPECT_EQ(audio_of(codec->decode_text(play_audio("Zm9v", R"("audio/x-mulaw")", R"("8000")"))), "foo");
}

TEST(PlivoDecode, OtherContentTypesAndRatesAreRefusedNamingTheField) {
  auto codec = make_codec();
  std::string message;
  EXPECT_EQ(error_code_of(codec->decode_text(play_audio("Zm9v", R"("audio/x-l16")", "8000")), &message),
            kErrorInvalidField);
  EXPECT_NE(message.find("media.contentType"), std::string::npos) << message;
  EXPECT_NE(message.find("audio/x-l16"), std::string::npos) << message;
  for (std::string_view rate : {"16000", R"("16000")", R"("8000x")", "8000.5", "true", "null", R"("")"}) {
    EXPECT_EQ(error_code_of(codec->decode_text(play_audio("Zm9v", R"("audio/x-mulaw")", rate)), &message),
              kErrorInvalidField)
        << rate;
    EXPECT_NE(message.find("media.sampleRate"), std::string::npos) << message;
  }
  EXPECT_EQ(error_code_of(codec->decode_text(play_audio("Zm9v", "7", "8000")), &message), kErrorInvalidField);
  EXPECT_NE(message.find("media.contentType"), std::string::npos) << message;
}

TEST(PlivoDecode, PlayAudioWithoutItsDocumentedFieldsIsRefused) {
  auto codec = make_codec();
  std::string message;
  const auto code = [&](std::string_view text) { return error_code_of(codec->decode_text(text), &message); };
  EXPECT_EQ(code(R"({"event":"playAudio"})"), kErrorMissingField);
  EXPECT_EQ(code(R"({"event":"playAudio","media":"Zm9v"})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"playAudio","media":{"sampleRate":8000,"payload":"Zm9v"}})"), kErrorMissingField);
  EXPECT_NE(message.find("media.contentType"), std::string::npos) << message;
  EXPECT_EQ(code(R"({"event":"playAudio","media":{"contentType":"audio/x-mulaw","payload":"Zm9v"}})"),
            kErrorMissingField);
  EXPECT_NE(message.find("media.sampleRate"), std::string::npos) << message;
  EXPECT_EQ(code(R"({"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":8000}})"),
            kErrorMissingField);
  EXPECT_NE(message.find("media.payload"), std::string::npos) << message;
  EXPECT_EQ(code(play_audio("Zm9")), kErrorInvalidField);
  EXPECT_NE(message.find("media.payload"), std::string::npos) << message;
}

TEST(PlivoDecode, ReadsBackWhatTheEncoderSends) {
  auto codec = make_codec();
  std::vector<std::uint8_t> packet(160);
  std::iota(packet.begin(), packet.end(), 40);
  const std::string payload = test::json_string_at(codec->media(packet, 0).bytes, {"media", "payload"});
  const auto c = codec->decode_text(play_audio(payload));
  ASSERT_TRUE(std::holds_alternative<WireMedia>(c));
  const auto audio = std::get<WireMedia>(c).audio;
  EXPECT_EQ(std::vector<std::uint8_t>(audio.begin(), audio.end()), packet);
}

TEST(PlivoDecode, SteadyStateReusesOneAudioBuffer) {
  auto codec = make_codec();
  std::string payload;
  append_base64(payload, std::vector<std::uint8_t>(160, 0x55));
  test::expect_decoded_audio_shares_one_buffer(*codec, play_audio(payload));
}

TEST(PlivoDecode, CheckpointIsAMarkAndClearAudioAClear) {
  auto codec = make_codec();
  const auto c = codec->decode_text(
      R"({"event":"checkpoint","streamId":"20170ada-f610-433b-8758-c02a2aab3662","name":"customer greeting audio"})");
  ASSERT_NE(command_as<Mark>(c), nullptr);
  EXPECT_EQ(command_as<Mark>(c)->name, "customer greeting audio");
  EXPECT_NE(command_as<Clear>(codec->decode_text(R"({"event":"clearAudio","streamId":"b77e037d"})")), nullptr);

  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"checkpoint","streamId":"s"})")), kErrorMissingField);
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"checkpoint","name":{}})")), kErrorInvalidField);
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"checkpoint","name":")" +
                                             std::string(kMaxNameBytes + 1, 'x') + "\"}")),
            kErrorTooLarge);
}

TEST(PlivoDecode, SendDtmfIsSendDtmfWithCheckedDigits) {
  auto codec = make_codec();
  const auto c = codec->decode_text(R"({"event":"sendDTMF","dtmf":"1234#*abcD"})");
  ASSERT_NE(command_as<SendDtmf>(c), nullptr);
  EXPECT_EQ(command_as<SendDtmf>(c)->digits, "1234#*ABCD");
  std::string message;
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"sendDTMF","dtmf":"12x"})"), &message), kErrorInvalidField);
  EXPECT_NE(message.find("sendDTMF: \"dtmf\""), std::string::npos) << message;
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"sendDTMF","dtmf":""})")), kErrorInvalidField);
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"sendDTMF"})")), kErrorMissingField);
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"sendDTMF","dtmf":5})")), kErrorInvalidField);
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"sendDTMF","dtmf":")" + std::string(kMaxDtmfDigits + 1, '1') +
                                             "\"}")),
            kErrorTooLarge);
}

TEST(PlivoDecode, PlivosOwnEventsAndOthersAreUnknown) {
  auto codec = make_codec();
  for (std::string_view event : {"start", "media", "playedStream", "clearedAudio", "mark", "clear", "stop"}) {
    const auto c = codec->decode_text(R"({"event":")" + std::string(event) + "\"}");
    ASSERT_NE(command_as<Unknown>(c), nullptr) << event;
    EXPECT_EQ(command_as<Unknown>(c)->type, event);
  }
}

TEST(PlivoDecode, ExtensionFramesAreUnderstood) {
  auto codec = make_codec();
  const auto t = codec->decode_text(R"({"event":"transfer","streamId":"s","targets":["+27115550100","sales"]})");
  ASSERT_NE(command_as<TransferRequest>(t), nullptr);
  EXPECT_EQ(command_as<TransferRequest>(t)->targets, (std::vector<std::string>{"+27115550100", "sales"}));
  EXPECT_NE(command_as<Hangup>(codec->decode_text(R"({"event":"hangup"})")), nullptr);
  EXPECT_NE(command_as<TransferCancel>(codec->decode_text(R"({"event":"transfer.cancel"})")), nullptr);
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"transfer","targets":[]})")), kErrorMissingField);
}

TEST(PlivoDecode, MalformedFramesAreProtocolErrors) {
  auto codec = make_codec();
  const auto code = [&](std::string_view text) { return error_code_of(codec->decode_text(text)); };
  EXPECT_EQ(code("{\"event\":"), kErrorInvalidJson);
  EXPECT_EQ(code("playAudio"), kErrorInvalidJson);
  EXPECT_EQ(code(R"("playAudio")"), kErrorInvalidJson);
  EXPECT_EQ(code(R"({"streamId":"s"})"), kErrorMissingField);
  EXPECT_EQ(code(R"({"event":["playAudio"]})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":8000,"payload":7}})"),
            kErrorInvalidField);
  std::string message;
  EXPECT_EQ(error_code_of(codec->decode_binary(bytes_of("\x7f")), &message), kErrorInvalidField);
  EXPECT_NE(message.find("plivo"), std::string::npos) << message;
}

TEST(PlivoDecode, OversizedFrameIsRefusedNotTruncated) {
  auto codec = make_codec();
  test::expect_oversized_audio_refused(*codec, [](const std::string& payload) { return play_audio(payload); });
}

TEST(PlivoDecode, BadAudioAfterGoodAudioIsAnErrorNotStaleAudio) {
  auto codec = make_codec();
  ASSERT_EQ(audio_of(codec->decode_text(play_audio("Zm9v"))), "foo");
  EXPECT_EQ(error_code_of(codec->decode_text(play_audio("Zm 9"))), kErrorInvalidField);
}

}  // namespace
}  // namespace warmline::ai
