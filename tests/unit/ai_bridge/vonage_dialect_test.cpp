// The Vonage Voice API WebSocket codec (ai_bridge/vonage_dialect.cpp): text frames compared byte for byte
// with https://developer.vonage.com/en/voice/voice-api/concepts/websockets, binary audio passed through
// whole samples, notify payloads echoed verbatim, malformed input refused, buffers reused.
#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "ai_bridge/dialect.hpp"
#include "dialect_test_util.hpp"

namespace warmline::ai {
namespace {

using namespace test;

std::unique_ptr<DialectCodec> make_codec(std::vector<std::pair<std::string, std::string>> params = {}) {
  DialectStart start;
  start.call = {.id = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", .from = "447700900000", .to = "447700900001"};
  start.stream_id = "S1";
  start.account_id = "AC1";
  start.custom_parameters = std::move(params);
  auto codec = make_dialect_codec(Dialect::kVonage, std::move(start));
  EXPECT_NE(codec, nullptr);
  return codec;
}

// The mark name a notify frame decodes to, or "not a mark".
std::string notify_name(DialectCodec& codec, std::string_view text) {
  const auto c = codec.decode_text(text);
  const auto* mark = command_as<Mark>(c);
  return mark ? mark->name : "not a mark: " + error_message_of(c);
}

// --- warmline → agent ------------------------------------------------------------------------------

TEST(VonageEncode, SpeaksBinaryL16At16kHz) {
  auto codec = make_codec();
  EXPECT_EQ(codec->dialect(), Dialect::kVonage);
  const WireAudio audio = codec->audio();
  EXPECT_EQ(audio.encoding, WireEncoding::kL16);
  EXPECT_EQ(audio.sample_rate, 16000u);
  EXPECT_TRUE(audio.binary);
  EXPECT_EQ(audio.bytes_per_20ms(), 640u);
}

TEST(VonageEncode, OpeningIsWebsocketConnectedWithTheHeadersAtTopLevel) {
  auto codec = make_codec({{"app", "demo"}, {"lang", "en-GB"}});
  const auto frames = codec->opening();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], R"({"event":"websocket:connected","content-type":"audio/l16;rate=16000",)"
                       R"("uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","from":"447700900000","to":"447700900001",)"
                       R"("app":"demo","lang":"en-GB"})");
}

TEST(VonageEncode, ConfiguredValuesCannotDuplicateTheFramesOwnKeys) {
  auto codec = make_codec({{"content-type", "x"}, {"event", "x"}, {"from", "x"}, {"tier", "gold"}, {"to", "x"},
                           {"uuid", "x"}});
  const auto frames = codec->opening();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], R"({"event":"websocket:connected","content-type":"audio/l16;rate=16000",)"
                       R"("uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","from":"447700900000","to":"447700900001",)"
                       R"("tier":"gold"})");
}

TEST(VonageEncode, EscapesUntrustedStringsInTheOpening) {
  DialectStart start;
  start.call = {.id = "u\\1", .from = "\"Eve\"\n<sip:e@x>", .to = "100"};
  start.custom_parameters = {{"k\"", "v\x01"}};
  auto codec = make_dialect_codec(Dialect::kVonage, std::move(start));
  const auto frames = codec->opening();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], R"({"event":"websocket:connected","content-type":"audio/l16;rate=16000",)"
                       R"("uuid":"u\\1","from":"\"Eve\"\n<sip:e@x>","to":"100","k\"":"v\u0001"})");
}

TEST(VonageEncode, MediaIsABinaryFrameOfExactlyTheAudio) {
  auto codec = make_codec();
  std::vector<std::uint8_t> pcm(640);
  std::iota(pcm.begin(), pcm.end(), 3);
  const WireFrame frame = codec->media(pcm, 20);
  EXPECT_TRUE(frame.binary);
  EXPECT_EQ(std::vector<std::uint8_t>(frame.bytes.begin(), frame.bytes.end()), pcm);
  EXPECT_NE(static_cast<const void*>(frame.bytes.data()), static_cast<const void*>(pcm.data()));  // a copy it keeps
}

TEST(VonageEncode, SteadyStateReusesOneBuffer) {
  auto codec = make_codec();
  std::vector<std::uint8_t> pcm(640, 0);
  const char* first = codec->media(pcm, 0).bytes.data();
  for (std::uint8_t i = 1; i < 100; ++i) {
    std::fill(pcm.begin(), pcm.end(), i);
    const WireFrame frame = codec->media(pcm, i * 20u);
    EXPECT_EQ(frame.bytes.data(), first);
    ASSERT_EQ(frame.bytes.size(), pcm.size());
    EXPECT_EQ(static_cast<std::uint8_t>(frame.bytes.back()), i);
  }
  EXPECT_EQ(codec->dtmf('1', 80).bytes.data(), first);
  EXPECT_EQ(codec->mark("{}", MarkEvent::kPlayed).bytes.data(), first);
}

TEST(VonageEncode, DtmfHasTheDigitAndANumericDuration) {
  auto codec = make_codec();
  EXPECT_EQ(text_of(codec->dtmf('5', 260)), R"({"event":"websocket:dtmf","digit":"5","duration":260})");
  EXPECT_EQ(text_of(codec->dtmf('#', 0)), R"({"event":"websocket:dtmf","digit":"#","duration":0})");
  EXPECT_EQ(text_of(codec->dtmf('"', 40)), R"({"event":"websocket:dtmf","digit":"\"","duration":40})");
}

TEST(VonageEncode, PlayedMarkIsNotifyWithThePayloadVerbatimClearedOnesOnlyTheClearedAck) {
  auto codec = make_codec();
  EXPECT_EQ(text_of(codec->mark(R"({"utterance": 1, "text":"h\u00e9"})", MarkEvent::kPlayed)),
            R"({"event":"websocket:notify","payload":{"utterance": 1, "text":"h\u00e9"}})");
  EXPECT_TRUE(codec->mark("{}", MarkEvent::kCleared).empty());
  EXPECT_EQ(text_of(codec->cleared()), R"({"event":"websocket:cleared"})");
}

TEST(VonageEncode, AMarkNameThatIsNotJsonGoesAsAString) {
  auto codec = make_codec();
  EXPECT_EQ(text_of(codec->mark("m1", MarkEvent::kPlayed)), R"({"event":"websocket:notify","payload":"m1"})");
  EXPECT_EQ(text_of(codec->mark("", MarkEvent::kPlayed)), R"({"event":"websocket:notify","payload":""})");
  EXPECT_EQ(text_of(codec->mark(R"({"a":1} {"b":2})", MarkEvent::kPlayed)),
            R"({"event":"websocket:notify","payload":"{\"a\":1} {\"b\":2}"})");
  EXPECT_EQ(text_of(codec->mark("{\"a\":", MarkEvent::kPlayed)),
            R"({"event":"websocket:notify","payload":"{\"a\":"})");
}

TEST(VonageEncode, NoStopFrameTheSocketJustCloses) {
  auto codec = make_codec();
  EXPECT_TRUE(codec->stop("caller_hangup").empty());
  EXPECT_TRUE(codec->stop("transferred").empty());
}

TEST(VonageEncode, TransferAndErrorExtensionFramesHaveNoStreamId) {
  auto codec = make_codec();
  const TransferEvent bridged{.id = "t1", .state = TransferState::kBridged, .channels = 2};
  EXPECT_EQ(text_of(codec->transfer_event(bridged)),
            R"({"event":"transfer","transfer":{"id":"t1","state":"bridged","channels":2}})");
  EXPECT_EQ(text_of(codec->error(kErrorMissingField, "notify: \"payload\" is missing")),
            R"({"event":"error","error":{"code":"missing_field","message":"notify: \"payload\" is missing"}})");
}

// --- agent → warmline: text ------------------------------------------------------------------------

TEST(VonageDecode, ClearAction) {
  auto codec = make_codec();
  EXPECT_NE(command_as<Clear>(codec->decode_text(R"({"action":"clear"})")), nullptr);
}

TEST(VonageDecode, NotifyPayloadIsTheMarkNameByteForByte) {
  auto codec = make_codec();
  EXPECT_EQ(notify_name(*codec, R"({"action":"notify","payload":{"customKey":"customValue"}})"),
            R"({"customKey":"customValue"})");
  // Inner whitespace, escapes, nesting and number spellings stay as the agent wrote them.
  const std::string spelled = R"({ "id": 1.50, "t":"a\u0022\/b", "n":[1, {}] })";
  EXPECT_EQ(notify_name(*codec, "{ \"payload\" :\n " + spelled + " ,\"action\":\"notify\"}"), spelled);
  EXPECT_EQ(notify_name(*codec, R"({"action":"notify","payload":[1,2]})"), "[1,2]");
  EXPECT_EQ(notify_name(*codec, R"({"action":"notify","payload":"reply-7"  })"), R"("reply-7")");
  EXPECT_EQ(notify_name(*codec, R"({"action":"notify","payload":  1e3 })"), "1e3");
  EXPECT_EQ(notify_name(*codec, R"({"action":"notify","payload":null})"), "null");
}

TEST(VonageDecode, NotifyRoundTripsThroughTheMark) {
  auto codec = make_codec();
  const std::string payload = R"({"reply_id": "r-1", "n": 1.50})";
  const std::string name = notify_name(*codec, R"({"action":"notify","payload":)" + payload + "}");
  ASSERT_EQ(name, payload);
  EXPECT_EQ(text_of(codec->mark(name, MarkEvent::kPlayed)),
            R"({"event":"websocket:notify","payload":)" + payload + "}");
}

TEST(VonageDecode, NotifyPayloadLimitsAndShapes) {
  auto codec = make_codec();
  // At most kMaxNameBytes of JSON text: {"k":"xxx..."} is 8 bytes plus the x's.
  const std::string fits = R"({"k":")" + std::string(kMaxNameBytes - 8, 'x') + "\"}";
  ASSERT_EQ(fits.size(), kMaxNameBytes);
  EXPECT_EQ(notify_name(*codec, R"({"action":"notify","payload":)" + fits + "}"), fits);
  const std::string over = R"({"k":")" + std::string(kMaxNameBytes - 7, 'x') + "\"}";
  auto c = codec->decode_text(R"({"action":"notify","payload":)" + over + "}");
  EXPECT_EQ(error_code_of(c), kErrorTooLarge);
  EXPECT_NE(error_message_of(c).find("\"payload\""), std::string::npos) << error_message_of(c);
  c = codec->decode_text(R"({"action":"notify"})");
  EXPECT_EQ(error_code_of(c), kErrorMissingField);
  EXPECT_NE(error_message_of(c).find("\"payload\""), std::string::npos) << error_message_of(c);
  // A key spelled with an escape is the same key to JSON, but its text cannot be located: refused.
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"action":"notify","pay\u006coad":{}})")), kErrorInvalidField);
}

TEST(VonageDecode, FramesWithoutActionAreReadByEventForTheExtensions) {
  auto codec = make_codec();
  const auto c = codec->decode_text(R"({"event":"transfer","mode":"cold","targets":["Craig"]})");
  ASSERT_NE(command_as<TransferRequest>(c), nullptr);
  EXPECT_EQ(command_as<TransferRequest>(c)->targets, std::vector<std::string>{"Craig"});
  const auto cancel = codec->decode_text(R"({"event":"transfer.cancel","id":"t2"})");
  ASSERT_NE(command_as<TransferCancel>(cancel), nullptr);
  EXPECT_EQ(command_as<TransferCancel>(cancel)->id, "t2");
  EXPECT_NE(command_as<Hangup>(codec->decode_text(R"({"event":"hangup"})")), nullptr);
  EXPECT_EQ(error_code_of(codec->decode_text(R"({"event":"transfer"})")), kErrorMissingField);
  // "action" wins over "event".
  EXPECT_NE(command_as<Clear>(codec->decode_text(R"({"event":"hangup","action":"clear"})")), nullptr);
}

TEST(VonageDecode, UnknownActionsAndEventsAreUnknown) {
  auto codec = make_codec();
  auto c = codec->decode_text(R"({"action":"talk","text":"hi"})");
  ASSERT_NE(command_as<Unknown>(c), nullptr);
  EXPECT_EQ(command_as<Unknown>(c)->type, "talk");
  c = codec->decode_text(R"({"event":"websocket:notify","payload":{}})");
  ASSERT_NE(command_as<Unknown>(c), nullptr);
  EXPECT_EQ(command_as<Unknown>(c)->type, "websocket:notify");
}

TEST(VonageDecode, MalformedTextFramesAreProtocolErrorsNamingTheField) {
  auto codec = make_codec();
  struct Case {
    std::string text;
    std::string_view code;
    std::string_view names;
  };
  const std::vector<Case> cases = {
      {"{\"action\":", kErrorInvalidJson, "JSON"},
      {R"(["clear"])", kErrorInvalidJson, "object"},
      {R"({"payload":{}})", kErrorMissingField, "\"action\""},
      {R"({"action":1})", kErrorInvalidField, "\"action\""},
      {R"({"action":null,"event":"hangup"})", kErrorInvalidField, "\"action\""},
      {R"({"event":["transfer"]})", kErrorInvalidField, "\"event\""},
  };
  for (const auto& [text, code, names] : cases) {
    const auto c = codec->decode_text(text);
    EXPECT_EQ(error_code_of(c), code) << text;
    EXPECT_NE(error_message_of(c).find(names), std::string::npos) << text << " → " << error_message_of(c);
  }
  const std::string big = R"({"action":"notify","payload":")" + std::string(kMaxDialectFrameBytes, 'x') + "\"}";
  EXPECT_EQ(error_code_of(codec->decode_text(big)), kErrorTooLarge);
}

// --- agent → warmline: binary audio ----------------------------------------------------------------

TEST(VonageDecode, BinaryFramesAreTheAudioItself) {
  auto codec = make_codec();
  std::vector<std::uint8_t> pcm(640);
  std::iota(pcm.begin(), pcm.end(), 1);
  const auto c = codec->decode_binary(pcm);
  ASSERT_TRUE(std::holds_alternative<WireMedia>(c));
  const auto audio = std::get<WireMedia>(c).audio;
  EXPECT_EQ(std::vector<std::uint8_t>(audio.begin(), audio.end()), pcm);
  EXPECT_EQ(audio_of(codec->decode_binary({})), "");
}

TEST(VonageDecode, AnOddByteIsKeptForTheNextFrame) {
  auto codec = make_codec();
  EXPECT_EQ(audio_of(codec->decode_binary(bytes_of("abc"))), "ab");     // c kept
  EXPECT_EQ(audio_of(codec->decode_binary(bytes_of("defg"))), "cdef");  // g kept
  EXPECT_EQ(audio_of(codec->decode_binary({})), "");                    // g still kept
  EXPECT_EQ(audio_of(codec->decode_binary(bytes_of("h"))), "gh");
  EXPECT_EQ(audio_of(codec->decode_binary(bytes_of("ij"))), "ij");
  EXPECT_EQ(audio_of(codec->decode_binary(bytes_of("k"))), "");  // k kept
  EXPECT_EQ(audio_of(codec->decode_binary(bytes_of("lmn"))), "klmn");
}

TEST(VonageDecode, ClearDropsTheKeptByte) {
  auto codec = make_codec();
  EXPECT_EQ(audio_of(codec->decode_binary(bytes_of("abc"))), "ab");
  ASSERT_NE(command_as<Clear>(codec->decode_text(R"({"action":"clear"})")), nullptr);
  EXPECT_EQ(audio_of(codec->decode_binary(bytes_of("de"))), "de");
}

TEST(VonageDecode, SteadyStateOddFramesReuseOneBuffer) {
  auto codec = make_codec();
  const std::vector<std::uint8_t> odd(641, 0x33);
  ASSERT_EQ(std::get<WireMedia>(codec->decode_binary(odd)).audio.size(), 640u);  // one byte kept
  const std::vector<std::uint8_t> even(640, 0x44);
  const auto first = codec->decode_binary(even);  // kept byte + 639, one kept again
  ASSERT_TRUE(std::holds_alternative<WireMedia>(first));
  const std::uint8_t* data = std::get<WireMedia>(first).audio.data();
  EXPECT_NE(data, even.data());
  for (int i = 0; i < 60; ++i) {
    const auto c = codec->decode_binary(even);
    ASSERT_TRUE(std::holds_alternative<WireMedia>(c));
    EXPECT_EQ(std::get<WireMedia>(c).audio.data(), data);
    EXPECT_EQ(std::get<WireMedia>(c).audio.size(), 640u);
  }
}

}  // namespace
}  // namespace warmline::ai
