// The Exotel AgentStream codec (ai_bridge/exotel_dialect.cpp): frames compared byte for byte with the
// shapes of https://developer.exotel.com/docs/agentstream/websocket-protocol, the agent's frames decoded,
// malformed input refused with the field named, and buffers reused from frame to frame.
#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <string>
#include <vector>

#include "ai_bridge/base64.hpp"
#include "ai_bridge/dialect.hpp"
#include "dialect_test_util.hpp"

namespace warmline::ai {
namespace {

using namespace test;

std::unique_ptr<DialectCodec> make_codec(std::vector<std::pair<std::string, std::string>> params = {}) {
  DialectStart start;
  start.call = {.id = "CA1", .from = "+919876543210", .to = "+918047491899"};
  start.stream_id = "MZ1";
  start.account_id = "AC1";
  start.custom_parameters = std::move(params);
  auto codec = make_dialect_codec(Dialect::kExotel, std::move(start));
  EXPECT_NE(codec, nullptr);
  return codec;
}

// --- warmline → agent ------------------------------------------------------------------------------

TEST(ExotelEncode, SpeaksBase64L16At8kHzInTextFrames) {
  auto codec = make_codec();
  EXPECT_EQ(codec->dialect(), Dialect::kExotel);
  const WireAudio audio = codec->audio();
  EXPECT_EQ(audio.encoding, WireEncoding::kL16);
  EXPECT_EQ(audio.sample_rate, 8000u);
  EXPECT_FALSE(audio.binary);
  EXPECT_EQ(audio.bytes_per_20ms(), 320u);
}

TEST(ExotelEncode, OpeningIsConnectedThenStartWithSnakeCaseIdsAndRawFormat) {
  auto codec = make_codec({{"lang", "hi"}, {"tier", "gold"}});
  const auto frames = codec->opening();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], R"({"event":"connected"})");
  EXPECT_EQ(frames[1],
            R"({"event":"start","sequence_number":"1","stream_sid":"MZ1","start":{"stream_sid":"MZ1",)"
            R"("call_sid":"CA1","account_sid":"AC1","from":"+919876543210","to":"+918047491899",)"
            R"("custom_parameters":{"lang":"hi","tier":"gold"},)"
            R"("media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"}}})");
}

TEST(ExotelEncode, StartWithoutParametersHasAnEmptyObject) {
  auto codec = make_codec();
  const auto frames = codec->opening();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_NE(frames[1].find(R"("custom_parameters":{},)"), std::string::npos) << frames[1];
}

TEST(ExotelEncode, MediaHasStringChunkTimestampAndSequence) {
  auto codec = make_codec();
  codec->opening();
  const std::array<std::uint8_t, 4> pcm = {'f', 'o', 'o', 'b'};
  EXPECT_EQ(text_of(codec->media(pcm, 0)),
            R"({"event":"media","sequence_number":"2","stream_sid":"MZ1","media":{"chunk":"1","timestamp":"0",)"
            R"("payload":"Zm9vYg=="}})");
  EXPECT_EQ(text_of(codec->media(pcm, 20)),
            R"({"event":"media","sequence_number":"3","stream_sid":"MZ1","media":{"chunk":"2","timestamp":"20",)"
            R"("payload":"Zm9vYg=="}})");
}

TEST(ExotelEncode, SequenceCountsEveryFrameAndChunkOnlyMedia) {
  auto codec = make_codec();
  const std::array<std::uint8_t, 2> pcm = {0xff, 0x7f};
  codec->opening();
  codec->media(pcm, 0);
  EXPECT_EQ(text_of(codec->mark("m1", MarkEvent::kPlayed)),
            R"({"event":"mark","sequence_number":"3","stream_sid":"MZ1","mark":{"name":"m1"}})");
  EXPECT_EQ(text_of(codec->dtmf('5', 100)),
            R"({"event":"dtmf","sequence_number":"4","stream_sid":"MZ1","dtmf":{"digit":"5","duration":"100"}})");
  EXPECT_EQ(text_of(codec->media(pcm, 18446744073709551615ull)),
            R"({"event":"media","sequence_number":"5","stream_sid":"MZ1","media":{"chunk":"2",)"
            R"("timestamp":"18446744073709551615","payload":"/38="}})");
}

TEST(ExotelEncode, ClearedMarksAreReportedLikePlayedOnesAndClearHasNoAck) {
  auto codec = make_codec();
  const std::string played = text_of(codec->mark("m1", MarkEvent::kPlayed));
  EXPECT_EQ(played, R"({"event":"mark","sequence_number":"1","stream_sid":"MZ1","mark":{"name":"m1"}})");
  EXPECT_EQ(text_of(codec->mark("m1", MarkEvent::kCleared)),
            R"({"event":"mark","sequence_number":"2","stream_sid":"MZ1","mark":{"name":"m1"}})");
  EXPECT_TRUE(codec->cleared().empty());
}

TEST(ExotelEncode, StopSaysCallendedUnlessTheCallWentOnWithoutTheBot) {
  auto codec = make_codec();
  EXPECT_EQ(text_of(codec->stop("caller_hangup")),
            R"({"event":"stop","sequence_number":"1","stream_sid":"MZ1",)"
            R"("stop":{"call_sid":"CA1","account_sid":"AC1","reason":"callended"}})");
  EXPECT_EQ(text_of(make_codec()->stop("agent_hangup")),
            R"({"event":"stop","sequence_number":"1","stream_sid":"MZ1",)"
            R"("stop":{"call_sid":"CA1","account_sid":"AC1","reason":"callended"}})");
  EXPECT_EQ(text_of(make_codec()->stop("transferred")),
            R"({"event":"stop","sequence_number":"1","stream_sid":"MZ1",)"
            R"("stop":{"call_sid":"CA1","account_sid":"AC1","reason":"stopped"}})");
}

TEST(ExotelEncode, TransferAndErrorExtensionFramesCarryTheStreamSid) {
  auto codec = make_codec();
  const TransferEvent ended{.id = "t1", .state = TransferState::kEnded, .target = "Craig",
                            .result = TransferResult::kBusy, .sip_status = 486};
  EXPECT_EQ(text_of(codec->transfer_event(ended)),
            R"({"event":"transfer","sequence_number":"1","stream_sid":"MZ1","transfer":{"id":"t1","state":"ended",)"
            R"("target":"Craig","result":"busy","sip_status":486}})");
  EXPECT_EQ(text_of(codec->error(kErrorInvalidField, "media: \"media.payload\" is not base64")),
            R"({"event":"error","sequence_number":"2","stream_sid":"MZ1","error":{"code":"invalid_field",)"
            R"("message":"media: \"media.payload\" is not base64"}})");
}

TEST(ExotelEncode, EscapesUntrustedStrings) {
  DialectStart start;
  start.call = {.id = "CA\\1", .from = "\"Eve\"\n<sip:e@x>", .to = "100"};
  start.stream_id = "MZ\"1";
  start.custom_parameters = {{"k\"", "v\x01"}};
  auto codec = make_dialect_codec(Dialect::kExotel, std::move(start));
  const auto frames = codec->opening();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_NE(frames[1].find(R"("from":"\"Eve\"\n<sip:e@x>")"), std::string::npos) << frames[1];
  EXPECT_NE(frames[1].find(R"("call_sid":"CA\\1")"), std::string::npos) << frames[1];
  EXPECT_NE(frames[1].find(R"("custom_parameters":{"k\"":"v\u0001"})"), std::string::npos) << frames[1];
  EXPECT_EQ(text_of(codec->mark("a\"b", MarkEvent::kPlayed)),
            R"({"event":"mark","sequence_number":"2","stream_sid":"MZ\"1","mark":{"name":"a\"b"}})");
  EXPECT_EQ(text_of(codec->dtmf('"', 40)),
            R"({"event":"dtmf","sequence_number":"3","stream_sid":"MZ\"1","dtmf":{"digit":"\"","duration":"40"}})");
}

TEST(ExotelEncode, SteadyStateReusesOneBuffer) {
  auto codec = make_codec();
  codec->opening();
  const std::vector<std::uint8_t> chunk(1600, 0x11);  // 100 ms, the chunk Exotel itself sends
  const char* first = codec->media(chunk, 0).bytes.data();
  for (std::uint64_t i = 1; i < 100; ++i) EXPECT_EQ(codec->media(chunk, i * 100).bytes.data(), first);
  EXPECT_EQ(codec->mark("m", MarkEvent::kPlayed).bytes.data(), first);
  EXPECT_EQ(codec->dtmf('1', 80).bytes.data(), first);
}

// --- agent → warmline ------------------------------------------------------------------------------

TEST(ExotelDecode, DocumentedMediaFrameIsDecodedPcm) {
  auto codec = make_codec();
  EXPECT_EQ(audio_of(codec->decode_text(R"({"event":"media","stream_sid":"MZ1","media":{"payload":"Zm9vYg=="}})")),
            "foob");
  // Pipecat's ExotelFrameSerializer writes the stream id as "streamSid": not checked either way.
  EXPECT_EQ(audio_of(codec->decode_text(R"({"event":"media","streamSid":"MZ1","media":{"payload":"\/38="}})")),
            "\xff\x7f");
}

TEST(ExotelDecode, ReadsBackWhatTheEncoderWrites) {
  auto codec = make_codec();
  std::vector<std::uint8_t> pcm(320);
  std::iota(pcm.begin(), pcm.end(), 7);
  const std::string frame = text_of(codec->media(pcm, 20));
  const auto c = codec->decode_text(frame);
  ASSERT_TRUE(std::holds_alternative<WireMedia>(c));
  const auto audio = std::get<WireMedia>(c).audio;
  EXPECT_EQ(std::vector<std::uint8_t>(audio.begin(), audio.end()), pcm);
}

TEST(ExotelDecode, SteadyStateReusesOneAudioBuffer) {
  auto codec = make_codec();
  const std::vector<std::uint8_t> pcm(1600, 0x55);
  const std::string frame = text_of(codec->media(pcm, 0));
  const auto first = codec->decode_text(frame);
  ASSERT_TRUE(std::holds_alternative<WireMedia>(first));
  const std::uint8_t* data = std::get<WireMedia>(first).audio.data();
  for (int i = 0; i < 60; ++i) {
    const auto c = codec->decode_text(frame);
    ASSERT_TRUE(std::holds_alternative<WireMedia>(c));
    EXPECT_EQ(std::get<WireMedia>(c).audio.data(), data);
    EXPECT_EQ(std::get<WireMedia>(c).audio.size(), pcm.size());
  }
}

TEST(ExotelDecode, MarkWithAndWithoutNameAndClear) {
  auto codec = make_codec();
  auto c = codec->decode_text(R"({"event":"mark","stream_sid":"MZ1","mark":{"name":"utterance-1"}})");
  ASSERT_NE(command_as<Mark>(c), nullptr);
  EXPECT_EQ(command_as<Mark>(c)->name, "utterance-1");
  c = codec->decode_text(R"({"event":"mark","stream_sid":"MZ1","mark":{}})");
  ASSERT_NE(command_as<Mark>(c), nullptr);
  EXPECT_EQ(command_as<Mark>(c)->name, "");
  c = codec->decode_text(R"({"event":"mark","stream_sid":"MZ1"})");
  ASSERT_NE(command_as<Mark>(c), nullptr);
  EXPECT_EQ(command_as<Mark>(c)->name, "");
  EXPECT_NE(command_as<Clear>(codec->decode_text(R"({"event":"clear","stream_sid":"MZ1"})")), nullptr);
}

TEST(ExotelDecode, UnknownEventsAreUnknownNotErrors) {
  auto codec = make_codec();
  const auto c = codec->decode_text(R"({"event":"dtmf","stream_sid":"MZ1","dtmf":{"digit":"1"}})");
  ASSERT_NE(command_as<Unknown>(c), nullptr);
  EXPECT_EQ(command_as<Unknown>(c)->type, "dtmf");
  const auto long_event = codec->decode_text(R"({"event":")" + std::string(1000, 'e') + "\"}");
  ASSERT_NE(command_as<Unknown>(long_event), nullptr);
  EXPECT_EQ(command_as<Unknown>(long_event)->type.size(), kMaxNameBytes);
}

TEST(ExotelDecode, ExtensionFramesUseTheNativeFields) {
  auto codec = make_codec();
  const auto c = codec->decode_text(R"({"event":"transfer","stream_sid":"MZ1","mode":"warm","targets":["Craig"]})");
  ASSERT_NE(command_as<TransferRequest>(c), nullptr);
  EXPECT_EQ(command_as<TransferRequest>(c)->mode, TransferMode::kWarm);
  EXPECT_EQ(command_as<TransferRequest>(c)->targets, std::vector<std::string>{"Craig"});
  const auto accept = codec->decode_text(R"({"event":"transfer.accept","id":"t1"})");
  ASSERT_NE(command_as<TransferAccept>(accept), nullptr);
  EXPECT_EQ(command_as<TransferAccept>(accept)->id, "t1");
  EXPECT_NE(command_as<Hangup>(codec->decode_text(R"({"event":"hangup"})")), nullptr);
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"transfer","stream_sid":"MZ1"})")), kErrorMissingField);
}

TEST(ExotelDecode, MalformedFramesAreProtocolErrorsNamingTheField) {
  auto codec = make_codec();
  struct Case {
    std::string text;
    std::string_view code;
    std::string_view names;  // what the message must mention
  };
  const std::vector<Case> cases = {
      {"{\"event\":", kErrorInvalidJson, "JSON"},
      {R"(["media"])", kErrorInvalidJson, "object"},
      {R"({"stream_sid":"MZ1"})", kErrorMissingField, "\"event\""},
      {R"({"event":7})", kErrorInvalidField, "\"event\""},
      {R"({"event":"media"})", kErrorMissingField, "\"media\""},
      {R"({"event":"media","media":"Zm9v"})", kErrorInvalidField, "\"media\""},
      {R"({"event":"media","media":{}})", kErrorMissingField, "media.payload"},
      {R"({"event":"media","media":{"payload":12}})", kErrorInvalidField, "media.payload"},
      {R"({"event":"media","media":{"payload":"Zm9"}})", kErrorInvalidField, "media.payload"},
      {R"({"event":"media","media":{"payload":"Zm 9v"}})", kErrorInvalidField, "media.payload"},
      {R"({"event":"media","media":{"payload":"Zm9v"}})", kErrorInvalidField, "16-bit samples"},  // 3 bytes
      {R"({"event":"mark","mark":"m1"})", kErrorInvalidField, "\"mark\""},
      {R"({"event":"mark","mark":{"name":1}})", kErrorInvalidField, "mark.name"},
      {R"({"event":"mark","mark":{"name":")" + std::string(kMaxNameBytes + 1, 'x') + "\"}}", kErrorTooLarge,
       "mark.name"},
  };
  for (const auto& [text, code, names] : cases) {
    const auto c = codec->decode_text(text);
    EXPECT_EQ(error_code_of(c), code) << text;
    EXPECT_NE(error_message_of(c).find(names), std::string::npos) << text << " → " << error_message_of(c);
  }
}

TEST(ExotelDecode, OversizedFrameIsRefusedNotTruncated) {
  auto codec = make_codec();
  const std::string payload(kMaxDialectFrameBytes, 'A');
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"media","media":{"payload":")" + payload + "\"}}")),
            kErrorTooLarge);
  const std::string fits(kMaxDialectFrameBytes - 64, 'A');  // a multiple of 4 chars: 3/4 as many bytes, even
  const auto c = codec->decode_text(R"({"event":"media","media":{"payload":")" + fits + "\"}}");
  ASSERT_TRUE(std::holds_alternative<WireMedia>(c)) << error_message_of(c);
  EXPECT_EQ(std::get<WireMedia>(c).audio.size(), fits.size() / 4 * 3);
}

TEST(ExotelDecode, BadMediaAfterGoodMediaIsAnErrorNotStaleAudio) {
  auto codec = make_codec();
  ASSERT_EQ(audio_of(codec->decode_text(R"({"event":"media","media":{"payload":"Zm9vYg=="}})")), "foob");
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"media","media":{"payload":"Zm9"}})")), kErrorInvalidField);
}

TEST(ExotelDecode, BinaryFramesAreNotPartOfTheProtocol) {
  auto codec = make_codec();
  const auto c = codec->decode_binary(bytes_of("\x01\x02"));
  EXPECT_EQ(error_code_of(c), kErrorInvalidField);
  EXPECT_NE(error_message_of(c).find("exotel"), std::string::npos) << error_message_of(c);
}

}  // namespace
}  // namespace warmline::ai
