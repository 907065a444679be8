// The Telnyx media streaming codec (ai_bridge/telnyx_dialect.cpp): every frame warmline writes compared
// with the shapes of https://developers.telnyx.com/docs/voice/programmable-voice/media-streaming, the
// agent frames that guide documents, and untrusted input.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <numeric>
#include <regex>

#include "ai_bridge/base64.hpp"
#include "ai_bridge/dialect.hpp"
#include "dialect_test_util.hpp"

namespace warmline::ai {
namespace {

using test::audio_of;
using test::bytes_of;
using test::command_as;
using test::error_code_of;

constexpr std::string_view kStream = "32DE0DEA-53CB-4B21-89A4-9E1819C043BC";
constexpr std::string_view kCall = "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ";

DialectStart start_of(WireEncoding encoding = WireEncoding::kMulaw) {
  DialectStart s;
  s.call.id = kCall;
  s.call.from = "+13122010094";
  s.call.to = "+13122123456";
  s.stream_id = kStream;
  s.account_id = "3E6F995F-85F7-4705-9741-53B116D28237";
  s.custom_parameters = {{"customer_id", "customer_123"}, {"lang", "en"}};
  s.encoding = encoding;
  return s;
}

std::unique_ptr<DialectCodec> make_codec(DialectStart start = start_of()) {
  auto codec = make_dialect_codec(Dialect::kTelnyx, std::move(start));
  EXPECT_NE(codec, nullptr);
  return codec;
}

// --- warmline → agent: exact frames ---------------------------------------------------------------

TEST(TelnyxEncode, FactoryMakesATelnyxCodecSpeakingPcmuByDefault) {
  auto codec = make_codec();
  EXPECT_EQ(codec->dialect(), Dialect::kTelnyx);
  EXPECT_EQ(test::describe(codec->audio()), "mulaw/8000/text");
}

TEST(TelnyxEncode, OpeningIsConnectedThenStartWithCallIdsFromToCustomParametersAndPcmu) {
  auto codec = make_codec();
  const auto frames = codec->opening();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], R"({"event":"connected","version":"1.0.0"})");
  EXPECT_EQ(frames[1],
            R"({"event":"start","sequence_number":"1","start":{"user_id":"3E6F995F-85F7-4705-9741-53B116D28237",)"
            R"("call_control_id":"v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ",)"
            R"("call_session_id":"v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ",)"
            R"("from":"+13122010094","to":"+13122123456",)"
            R"("custom_parameters":{"customer_id":"customer_123","lang":"en"},)"
            R"("media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1}},)"
            R"("stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC"})");
}

TEST(TelnyxEncode, ALawStreamSaysPcmaAndOtherEncodingsFallBackToPcmu) {
  auto alaw = make_codec(start_of(WireEncoding::kAlaw));
  EXPECT_EQ(test::describe(alaw->audio()), "alaw/8000/text");
  EXPECT_EQ(test::json_string_at(alaw->opening()[1], {"start", "media_format", "encoding"}), "PCMA");

  auto l16 = make_codec(start_of(WireEncoding::kL16));
  EXPECT_EQ(test::describe(l16->audio()), "mulaw/8000/text");
  EXPECT_EQ(test::json_string_at(l16->opening()[1], {"start", "media_format", "encoding"}), "PCMU");
}

TEST(TelnyxEncode, StartWithoutConfiguredValuesHasNoCustomParametersAndAnEmptyUserId) {
  DialectStart s = start_of();
  s.custom_parameters.clear();
  s.account_id.clear();
  auto codec = make_codec(std::move(s));
  EXPECT_EQ(codec->opening()[1],
            R"({"event":"start","sequence_number":"1","start":{"user_id":"",)"
            R"("call_control_id":"v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ",)"
            R"("call_session_id":"v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ",)"
            R"("from":"+13122010094","to":"+13122123456",)"
            R"("media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1}},)"
            R"("stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC"})");
}

TEST(TelnyxEncode, MediaHasStringCountersInboundTrackAndBase64Payload) {
  auto codec = make_codec();
  codec->opening();
  EXPECT_EQ(codec->media(bytes_of("foo"), 0).bytes,
            R"({"event":"media","sequence_number":"2","media":{"track":"inbound","chunk":"1","timestamp":"0",)"
            R"("payload":"Zm9v"},"stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC"})");
  const auto second = codec->media(bytes_of("\xff"), 18446744073709551615ull);
  EXPECT_FALSE(second.binary);
  EXPECT_EQ(second.bytes,
            R"({"event":"media","sequence_number":"3","media":{"track":"inbound","chunk":"2",)"
            R"("timestamp":"18446744073709551615","payload":"/w=="},"stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC"})");
}

TEST(TelnyxEncode, PlayedAndClearedMarksAreTheSameMarkFrameAndClearHasNoAcknowledgement) {
  auto codec = make_codec();
  EXPECT_EQ(codec->mark("greeting-end", MarkEvent::kPlayed).bytes,
            R"({"event":"mark","stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC","sequence_number":"1",)"
            R"("mark":{"name":"greeting-end"}})");
  EXPECT_EQ(codec->mark("utt-2", MarkEvent::kCleared).bytes,
            R"({"event":"mark","stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC","sequence_number":"2",)"
            R"("mark":{"name":"utt-2"}})");
  EXPECT_TRUE(codec->cleared().empty());
}

// Reads Telnyx's occurred_at ("2025-06-05T08:54:19.698408Z") back into a time point.
std::optional<std::chrono::system_clock::time_point> parse_occurred_at(const std::string& text) {
  static const std::regex kFormat(R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z)");
  std::smatch m;
  if (!std::regex_match(text, m, kFormat)) return std::nullopt;
  std::tm utc{};
  utc.tm_year = std::stoi(m[1]) - 1900;
  utc.tm_mon = std::stoi(m[2]) - 1;
  utc.tm_mday = std::stoi(m[3]);
  utc.tm_hour = std::stoi(m[4]);
  utc.tm_min = std::stoi(m[5]);
  utc.tm_sec = std::stoi(m[6]);
  return std::chrono::system_clock::from_time_t(timegm(&utc)) + std::chrono::microseconds(std::stoi(m[7]));
}

TEST(TelnyxEncode, DtmfCarriesTheDigitAndWhenItOccurred) {
  auto codec = make_codec();
  const auto before = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
  const std::string frame(codec->dtmf('#', 120).bytes);
  const auto after = std::chrono::system_clock::now();

  const auto occurred = parse_occurred_at(test::json_string_at(frame, {"occurred_at"}));
  ASSERT_TRUE(occurred.has_value()) << frame;
  EXPECT_GE(*occurred, before);
  EXPECT_LE(*occurred, after);
  EXPECT_EQ(test::with_value_replaced(frame, "occurred_at", "T"),
            R"({"event":"dtmf","stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC","occurred_at":"T",)"
            R"("sequence_number":"1","dtmf":{"digit":"#"}})");
}

TEST(TelnyxEncode, StopNamesTheAccountAndTheCall) {
  auto codec = make_codec();
  EXPECT_EQ(codec->stop("caller_hangup").bytes,
            R"({"event":"stop","sequence_number":"1","stop":{"user_id":"3E6F995F-85F7-4705-9741-53B116D28237",)"
            R"("call_control_id":"v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ"},)"
            R"("stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC"})");
}

TEST(TelnyxEncode, TransferEventIsTheExtensionFrameWithTheStreamId) {
  auto codec = make_codec();
  const TransferEvent event{.id = "t1", .state = TransferState::kEnded, .target = "sales",
                            .result = TransferResult::kBusy, .sip_status = 486};
  EXPECT_EQ(codec->transfer_event(event).bytes,
            R"({"event":"transfer","sequence_number":"1","stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC",)"
            R"("transfer":{"id":"t1","state":"ended","target":"sales","result":"busy","sip_status":486}})");
}

TEST(TelnyxEncode, ErrorIsTelnyxsErrorFrameWithWarmlinesCodeBeside) {
  auto codec = make_codec();
  EXPECT_EQ(codec->error(kErrorInvalidField, "\"media.payload\" is not base64").bytes,
            R"({"event":"error","payload":{"code":100003,"title":"malformed_frame",)"
            R"("detail":"\"media.payload\" is not base64"},"stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC",)"
            R"("error":{"code":"invalid_field","message":"\"media.payload\" is not base64"}})");
  EXPECT_EQ(codec->error("transfer_in_progress", "a transfer is running").bytes,
            R"({"event":"error","payload":{"code":100002,"title":"unknown_error","detail":"a transfer is running"},)"
            R"("stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC",)"
            R"("error":{"code":"transfer_in_progress","message":"a transfer is running"}})");
  // Neither error frame took a sequence number (Telnyx's carry none).
  EXPECT_EQ(test::json_string_at(codec->mark("m", MarkEvent::kPlayed).bytes, {"sequence_number"}), "1");
}

TEST(TelnyxEncode, EscapesUntrustedStringsEverywhere) {
  DialectStart s = start_of();
  s.call.from = "\"Eve\" <sip:eve@x>\n";
  s.call.to = "a\\b\x01";
  s.stream_id = "S\"1";
  s.custom_parameters = {{"k\"ey", "v\talue"}};
  auto codec = make_codec(std::move(s));
  const std::string start = codec->opening()[1];
  EXPECT_NE(start.find(R"("from":"\"Eve\" <sip:eve@x>\n","to":"a\\b\u0001")"), std::string::npos) << start;
  EXPECT_NE(start.find(R"("custom_parameters":{"k\"ey":"v\talue"})"), std::string::npos) << start;
  EXPECT_EQ(test::json_string_at(start, {"stream_id"}), "S\"1");
  EXPECT_EQ(test::json_string_at(start, {"start", "from"}), "\"Eve\" <sip:eve@x>\n");
  EXPECT_EQ(test::json_string_at(codec->mark("a\"b\x7f", MarkEvent::kPlayed).bytes, {"mark", "name"}), "a\"b\x7f");
  EXPECT_EQ(test::json_string_at(codec->error("x", "bad \"\r\n").bytes, {"payload", "detail"}), "bad \"\r\n");
}

TEST(TelnyxEncode, SteadyStateReusesOneBuffer) {
  auto codec = make_codec();
  codec->opening();
  test::expect_frames_share_one_buffer(*codec);
}

// --- agent → warmline -------------------------------------------------------------------------------

TEST(TelnyxDecode, MediaFromTheGuideIsDecodedAudio) {
  auto codec = make_codec();
  const auto c = codec->decode_text(R"({"event":"media","media":{"payload":"Zm9vYmE="}})");
  EXPECT_EQ(audio_of(c), "fooba");
}

TEST(TelnyxDecode, ReadsBackWhatTheEncoderWrites) {
  auto codec = make_codec();
  std::vector<std::uint8_t> packet(160);
  std::iota(packet.begin(), packet.end(), 40);
  const std::string frame(codec->media(packet, 20).bytes);
  const auto c = codec->decode_text(frame);
  ASSERT_TRUE(std::holds_alternative<WireMedia>(c));
  const auto audio = std::get<WireMedia>(c).audio;
  EXPECT_EQ(std::vector<std::uint8_t>(audio.begin(), audio.end()), packet);
}

TEST(TelnyxDecode, SteadyStateReusesOneAudioBuffer) {
  auto codec = make_codec();
  const std::string frame(codec->media(std::vector<std::uint8_t>(160, 0x55), 0).bytes);
  test::expect_decoded_audio_shares_one_buffer(*codec, frame);
}

TEST(TelnyxDecode, MarkWithAndWithoutNameAndClear) {
  auto codec = make_codec();
  const auto named = codec->decode_text(R"({"event":"mark","mark":{"name":"some_mark_name"}})");
  ASSERT_NE(command_as<Mark>(named), nullptr);
  EXPECT_EQ(command_as<Mark>(named)->name, "some_mark_name");
  const auto unnamed = codec->decode_text(R"({"event":"mark"})");
  ASSERT_NE(command_as<Mark>(unnamed), nullptr);
  EXPECT_EQ(command_as<Mark>(unnamed)->name, "");
  EXPECT_NE(command_as<Clear>(codec->decode_text(R"({"event":"clear"})")), nullptr);
}

TEST(TelnyxDecode, TelnyxsOwnEventsAndOthersAreUnknown) {
  auto codec = make_codec();
  for (std::string_view event : {"connected", "start", "stop", "dtmf", "playAudio", "clearAudio"}) {
    const auto c = codec->decode_text(R"({"event":")" + std::string(event) + "\"}");
    ASSERT_NE(command_as<Unknown>(c), nullptr) << event;
    EXPECT_EQ(command_as<Unknown>(c)->type, event);
  }
}

TEST(TelnyxDecode, ExtensionFramesAreUnderstood) {
  auto codec = make_codec();
  const auto t = codec->decode_text(R"({"event":"transfer","stream_id":"x","mode":"warm","targets":["Craig"]})");
  ASSERT_NE(command_as<TransferRequest>(t), nullptr);
  EXPECT_EQ(command_as<TransferRequest>(t)->mode, TransferMode::kWarm);
  EXPECT_EQ(command_as<TransferRequest>(t)->targets, std::vector<std::string>{"Craig"});
  EXPECT_NE(command_as<Hangup>(codec->decode_text(R"({"event":"hangup"})")), nullptr);
  const auto accept = codec->decode_text(R"({"event":"transfer.accept","id":"t1"})");
  ASSERT_NE(command_as<TransferAccept>(accept), nullptr);
  EXPECT_EQ(command_as<TransferAccept>(accept)->id, "t1");
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"transfer"})")), kErrorMissingField);
}

TEST(TelnyxDecode, MalformedFramesAreProtocolErrorsNamingTheField) {
  auto codec = make_codec();
  const auto code = [&](std::string_view text) { return error_code_of(codec->decode_text(text)); };
  EXPECT_EQ(code("{\"event\":"), kErrorInvalidJson);
  EXPECT_EQ(code(""), kErrorInvalidJson);
  EXPECT_EQ(code(R"(["media"])"), kErrorInvalidJson);
  EXPECT_EQ(code(R"({"stream_id":"x"})"), kErrorMissingField);
  EXPECT_EQ(code(R"({"event":null})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":7})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"media"})"), kErrorMissingField);
  EXPECT_EQ(code(R"({"event":"media","media":"Zm9v"})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"media","media":{}})"), kErrorMissingField);
  EXPECT_EQ(code(R"({"event":"media","media":{"payload":12}})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"mark","mark":"m1"})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"mark","mark":{"name":["m"]}})"), kErrorInvalidField);
  EXPECT_EQ(code(R"({"event":"mark","mark":{"name":")" + std::string(kMaxNameBytes + 1, 'x') + "\"}}"),
            kErrorTooLarge);
  std::string message;
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"media","media":{"payload":"Zm9"}})"), &message),
            kErrorInvalidField);
  EXPECT_NE(message.find("media.payload"), std::string::npos) << message;
}

TEST(TelnyxDecode, BinaryFramesAreNotTelnyx) {
  auto codec = make_codec();
  std::string message;
  EXPECT_EQ(error_code_of(codec->decode_binary(bytes_of("\x01\x02")), &message), kErrorInvalidField);
  EXPECT_NE(message.find("telnyx"), std::string::npos) << message;
}

TEST(TelnyxDecode, OversizedFrameIsRefusedNotTruncated) {
  auto codec = make_codec();
  test::expect_oversized_audio_refused(*codec, [](const std::string& payload) {
    return R"({"event":"media","media":{"payload":")" + payload + "\"}}";
  });
}

TEST(TelnyxDecode, BadMediaAfterGoodMediaIsAnErrorNotStaleAudio) {
  auto codec = make_codec();
  ASSERT_EQ(audio_of(codec->decode_text(R"({"event":"media","media":{"payload":"Zm9v"}})")), "foo");
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"media","media":{"payload":"Zm 9"}})")), kErrorInvalidField);
}

}  // namespace
}  // namespace warmline::ai
