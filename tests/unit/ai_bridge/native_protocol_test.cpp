#include "ai_bridge/native_protocol.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace warmline::ai {
namespace {

// --- encoders: exact JSON -------------------------------------------------------------------------

TEST(NativeEncode, StartCarriesCallAndAudioFormat) {
  const CallInfo call{.id = "c1", .from = "+27115550100", .to = "100", .headers = {{"X-Case", "42"}, {"X-B", ""}}};
  EXPECT_EQ(encode_start(call, 16000),
            R"({"type":"start","call":{"id":"c1","from":"+27115550100","to":"100","headers":{"X-Case":"42","X-B":""}},)"
            R"("audio":{"encoding":"L16","sample_rate":16000}})");
}

TEST(NativeEncode, StartWithoutHeadersHasEmptyObject) {
  EXPECT_EQ(encode_start({.id = "c", .from = "a", .to = "b", .headers = {}}, 8000),
            R"({"type":"start","call":{"id":"c","from":"a","to":"b","headers":{}},"audio":{"encoding":"L16","sample_rate":8000}})");
}

TEST(NativeEncode, DtmfMarkStopError) {
  EXPECT_EQ(encode_dtmf('#', 120), R"({"type":"dtmf","digit":"#","duration_ms":120})");
  EXPECT_EQ(encode_mark("m1", MarkEvent::kPlayed), R"({"type":"mark","name":"m1","event":"played"})");
  EXPECT_EQ(encode_mark("m2", MarkEvent::kCleared), R"({"type":"mark","name":"m2","event":"cleared"})");
  EXPECT_EQ(encode_stop("caller_hangup"), R"({"type":"stop","reason":"caller_hangup"})");
  EXPECT_EQ(encode_error("invalid_json", "bad"), R"({"type":"error","code":"invalid_json","message":"bad"})");
}

TEST(NativeEncode, TransferEndedHasResultStatusAndReason) {
  EXPECT_EQ(encode_transfer_event({.id = "t1", .state = TransferState::kEnded, .target = "Support",
                                   .result = TransferResult::kBusy, .sip_status = 486, .reason = "Busy Here"}),
            R"({"type":"transfer","id":"t1","state":"ended","target":"Support","result":"busy","sip_status":486,"reason":"Busy Here"})");
}

TEST(NativeEncode, AReplacesTransfersEndSaysItsStrategy) {
  EXPECT_EQ(encode_transfer_event({.id = "t1", .state = TransferState::kEnded, .target = "Bob",
                                   .result = TransferResult::kCompleted, .sip_status = 200, .reason = "OK",
                                   .strategy = "refer"}),
            R"({"type":"transfer","id":"t1","state":"ended","target":"Bob","result":"completed","sip_status":200,"reason":"OK","strategy":"refer"})");
}

TEST(NativeEncode, TransferProgressOmitsEmptyFieldsAndResult) {
  EXPECT_EQ(encode_transfer_event({.id = "t1", .state = TransferState::kRinging, .target = "",
                                   .result = TransferResult::kBusy, .sip_status = 0, .reason = ""}),
            R"({"type":"transfer","id":"t1","state":"ringing"})");
}

TEST(NativeEncode, BridgedAndConsultingEvents) {
  EXPECT_EQ(encode_transfer_event({.id = "t1", .state = TransferState::kBridged, .target = "Bob", .channels = 2}),
            R"({"type":"transfer","id":"t1","state":"bridged","target":"Bob","channels":2})");
  EXPECT_EQ(encode_transfer_event({.id = "t1", .state = TransferState::kConsulting, .target = "Bob"}),
            R"({"type":"transfer","id":"t1","state":"consulting","target":"Bob"})");
}

TEST(NativeEncode, EveryResultHasItsWireName) {
  EXPECT_EQ(to_string(TransferResult::kNoAnswer), "no_answer");
  EXPECT_EQ(to_string(TransferResult::kCallerHungUp), "caller_hung_up");
  EXPECT_EQ(to_string(TransferResult::kUnreachable), "unreachable");
  EXPECT_EQ(to_string(TransferState::kBridged), "bridged");
}

TEST(NativeEncode, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(encode_stop("a\"b\\c\nd\te\x01"), R"({"type":"stop","reason":"a\"b\\c\nd\te\u0001"})");
}

TEST(NativeEncode, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(encode_stop("Zoë €"), "{\"type\":\"stop\",\"reason\":\"Zoë €\"}");
  // A lone continuation byte, a truncated sequence and an overlong '/' each become U+FFFD.
  EXPECT_EQ(encode_stop("a\x80" "b\xE2\x82" "c\xC0\xAF"),
            "{\"type\":\"stop\",\"reason\":\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\"}");
}

TEST(NativeEncode, HostileHeaderValuesStillGiveValidJson) {
  const CallInfo call{.id = "\"}", .from = "\xFF\xFE", .to = "\\", .headers = {{"X-\"", "\r\n\x7f"}}};
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(encode_start(call, 24000)).get(root), simdjson::SUCCESS);
  std::string_view to;
  ASSERT_EQ(root["call"]["to"].get(to), simdjson::SUCCESS);
  EXPECT_EQ(to, "\\");
  std::string_view header;
  ASSERT_EQ(root["call"]["headers"]["X-\""].get(header), simdjson::SUCCESS);
  EXPECT_EQ(header, "\r\n\x7f");
}

// --- decoder: every command -----------------------------------------------------------------------

class NativeDecode : public ::testing::Test {
 protected:
  template <class T>
  T expect(std::string_view json) {
    Command c = decoder_.decode(json);
    if (auto* e = std::get_if<ProtocolError>(&c)) ADD_FAILURE() << json << " -> " << e->code << ": " << e->message;
    EXPECT_TRUE(std::holds_alternative<T>(c)) << json;
    return std::holds_alternative<T>(c) ? std::get<T>(std::move(c)) : T{};
  }
  ProtocolError expect_error(std::string_view json, std::string_view code) {
    Command c = decoder_.decode(json);
    EXPECT_TRUE(std::holds_alternative<ProtocolError>(c)) << json << " decoded, index " << c.index();
    if (!std::holds_alternative<ProtocolError>(c)) return {};
    auto e = std::get<ProtocolError>(std::move(c));
    EXPECT_EQ(e.code, code) << json << ": " << e.message;
    return e;
  }
  CommandDecoder decoder_;
};

TEST_F(NativeDecode, SimpleCommands) {
  expect<Clear>(R"({"type":"clear"})");
  expect<Hangup>(R"({"type":"hangup"})");
  EXPECT_EQ(expect<Mark>(R"({"type":"mark","name":"m1"})").name, "m1");
  EXPECT_EQ(expect<Say>(R"({"type":"say","text":"Hello \"you\" \u00e9"})").text, "Hello \"you\" é");
  EXPECT_EQ(expect<TransferAccept>(R"({"type":"transfer.accept","id":"t1"})").id, "t1");
  EXPECT_EQ(expect<TransferCancel>(R"({"type":"transfer.cancel","id":"t9"})").id, "t9");
  EXPECT_EQ(expect<TransferComplete>(R"({"type":"transfer.complete","id":"t2"})").id, "t2");
  // Without an id, a control names the transfer running now.
  EXPECT_TRUE(expect<TransferAccept>(R"({"type":"transfer.accept"})").id.empty());
  EXPECT_TRUE(expect<TransferComplete>(R"({"type":"transfer.complete"})").id.empty());
}

TEST_F(NativeDecode, DtmfDigitsAreValidatedAndUpperCased) {
  EXPECT_EQ(expect<SendDtmf>(R"({"type":"dtmf","digits":"12#*abcdD0"})").digits, "12#*ABCDD0");
  const auto e = expect_error(R"({"type":"dtmf","digits":"12x"})", kErrorInvalidField);
  EXPECT_NE(e.message.find("'x'"), std::string::npos) << e.message;
  expect_error(R"({"type":"dtmf","digits":""})", kErrorInvalidField);
  expect_error(R"({"type":"dtmf"})", kErrorMissingField);
  expect_error(R"({"type":"dtmf","digits":12})", kErrorInvalidField);
  expect_error(R"({"type":"dtmf","digits":")" + std::string(kMaxDtmfDigits + 1, '1') + "\"}", kErrorTooLarge);
}

TEST_F(NativeDecode, FullTransferRequest) {
  const auto t = expect<TransferRequest>(
      R"({"type":"transfer","id":"t1","mode":"warm","targets":["Craig","101","tel:+27115550100"],)"
      R"("briefing":"Caller wants a refund","screening":"dtmf","hold":"ringback","ring_timeout_s":15,)"
      R"("introduce":true,"after_bridge":"listen",)"
      R"("headers":{"X-Case":"42","User-to-User":"abc"},"future_field":[1,2]})");
  EXPECT_EQ(t.id, "t1");
  EXPECT_EQ(t.mode, TransferMode::kWarm);
  EXPECT_EQ(t.targets, (std::vector<std::string>{"Craig", "101", "tel:+27115550100"}));
  EXPECT_EQ(t.briefing, "Caller wants a refund");
  EXPECT_EQ(t.screening, Screening::kDtmf);
  EXPECT_EQ(t.hold, HoldAudio::kRingback);
  EXPECT_EQ(t.ring_timeout_s, 15);
  EXPECT_TRUE(t.introduce);
  EXPECT_EQ(t.after_bridge, AfterBridge::kListen);
  EXPECT_EQ(t.headers, (std::map<std::string, std::string>{{"User-to-User", "abc"}, {"X-Case", "42"}}));
}

TEST_F(NativeDecode, TransferDefaults) {
  const auto t = expect<TransferRequest>(R"({"type":"transfer","targets":["Support"]})");
  EXPECT_TRUE(t.id.empty());
  EXPECT_EQ(t.mode, TransferMode::kCold);
  EXPECT_EQ(t.screening, Screening::kNone);
  EXPECT_EQ(t.hold, HoldAudio::kMusic);
  EXPECT_EQ(t.ring_timeout_s, 0);  // not given: the target's or the agent's ring time applies
  EXPECT_TRUE(t.briefing.empty());
  EXPECT_TRUE(t.headers.empty());
  EXPECT_FALSE(t.introduce);
  EXPECT_EQ(t.after_bridge, AfterBridge::kLeave);
}

TEST_F(NativeDecode, TransferIntroduceAndAfterBridgeAreChecked) {
  EXPECT_EQ(expect_error(R"({"type":"transfer","targets":["a"],"introduce":"yes"})", kErrorInvalidField).message,
            "transfer: \"introduce\" must be true or false");
  expect_error(R"({"type":"transfer","targets":["a"],"after_bridge":"stay"})", kErrorInvalidField);
  EXPECT_EQ(expect<TransferRequest>(R"({"type":"transfer","targets":["a"],"briefing":"agent"})").briefing,
            kConsultBriefing);
}

TEST_F(NativeDecode, UnknownTypeIsReportedNotAnError) {
  EXPECT_EQ(expect<Unknown>(R"({"type":"dance","style":"tango"})").type, "dance");
}

// --- decoder: every malformed case gives a ProtocolError naming the problem -----------------------

TEST_F(NativeDecode, NotJsonOrNotAnObject) {
  expect_error("hello", kErrorInvalidJson);
  expect_error(R"({"type":"say","text":"unterminated)", kErrorInvalidJson);
  expect_error("", kErrorInvalidJson);
  expect_error(R"(["type","clear"])", kErrorInvalidJson);
  expect_error("42", kErrorInvalidJson);
  expect_error("{\"type\":\"say\",\"text\":\"\xFF\"}", kErrorInvalidJson);  // invalid UTF-8
}

TEST_F(NativeDecode, MissingOrWrongType) {
  EXPECT_NE(expect_error(R"({"text":"hi"})", kErrorMissingField).message.find("type"), std::string::npos);
  expect_error(R"({"type":7})", kErrorInvalidField);
  expect_error(R"({"type":null})", kErrorInvalidField);
}

TEST_F(NativeDecode, WrongFieldTypesNameTheField) {
  const auto e = expect_error(R"({"type":"say","text":["a"]})", kErrorInvalidField);
  EXPECT_EQ(e.message, "say: \"text\" must be a string");
  expect_error(R"({"type":"say"})", kErrorMissingField);
  expect_error(R"({"type":"mark","name":""})", kErrorInvalidField);
  expect_error(R"({"type":"mark","name":{}})", kErrorInvalidField);
  expect_error(R"({"type":"transfer.complete","id":["t1"]})", kErrorInvalidField);
  expect_error(R"({"type":"transfer.cancel","id":3})", kErrorInvalidField);
}

TEST_F(NativeDecode, OversizedInputIsRefusedNotTruncated) {
  expect_error(R"({"type":"say","text":")" + std::string(kMaxSayBytes + 1, 'a') + "\"}", kErrorTooLarge);
  expect_error(R"({"type":"mark","name":")" + std::string(kMaxNameBytes + 1, 'a') + "\"}", kErrorTooLarge);
  expect_error(std::string(kMaxTextFrameBytes + 1, ' '), kErrorTooLarge);
}

TEST_F(NativeDecode, TransferWithoutTargets) {
  const auto e = expect_error(R"({"type":"transfer","mode":"cold"})", kErrorMissingField);
  EXPECT_NE(e.message.find("targets"), std::string::npos) << e.message;
  expect_error(R"({"type":"transfer","targets":[]})", kErrorMissingField);
  expect_error(R"({"type":"transfer","targets":"Support"})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":["ok",""]})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":[1]})", kErrorInvalidField);
}

TEST_F(NativeDecode, TransferUnknownEnumsListTheAllowedValues) {
  const auto e = expect_error(R"({"type":"transfer","mode":"lukewarm","targets":["a"]})", kErrorInvalidField);
  EXPECT_EQ(e.message, "transfer: \"mode\" must be one of cold, warm, semi, replaces, not \"lukewarm\"");
  expect_error(R"({"type":"transfer","screening":"maybe","targets":["a"]})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","hold":"jazz","targets":["a"]})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","mode":1,"targets":["a"]})", kErrorInvalidField);
}

TEST_F(NativeDecode, TransferRingTimeoutMustBeAnIntegerInRange) {
  expect_error(R"({"type":"transfer","targets":["a"],"ring_timeout_s":0})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":["a"],"ring_timeout_s":601})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":["a"],"ring_timeout_s":2.5})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":["a"],"ring_timeout_s":"20"})", kErrorInvalidField);
  EXPECT_EQ(expect<TransferRequest>(R"({"type":"transfer","targets":["a"],"ring_timeout_s":600})").ring_timeout_s, 600);
}

TEST_F(NativeDecode, TransferHeadersCannotInjectOrOverrideSip) {
  expect_error(R"({"type":"transfer","targets":["a"],"headers":{"X-A":"1\r\nVia: evil"}})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":["a"],"headers":{"X A":"1"}})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":["a"],"headers":{"Call-ID":"1"}})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":["a"],"headers":{"via":"1"}})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":["a"],"headers":{"f":"1"}})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":["a"],"headers":{"X-A":5}})", kErrorInvalidField);
  expect_error(R"({"type":"transfer","targets":["a"],"headers":["X-A"]})", kErrorInvalidField);
  std::string many = R"({"type":"transfer","targets":["a"],"headers":{)";
  for (std::size_t i = 0; i <= kMaxTransferHeaders; ++i) many += (i ? "," : "") + ("\"X-" + std::to_string(i) + "\":\"v\"");
  expect_error(many + "}}", kErrorTooLarge);
}

TEST_F(NativeDecode, DecoderIsReusableAfterErrors) {
  expect_error("{", kErrorInvalidJson);
  EXPECT_EQ(expect<Say>(R"({"type":"say","text":"short"})").text, "short");
  expect<Say>(R"({"type":"say","text":")" + std::string(4000, 'x') + "\"}");
  EXPECT_EQ(expect<Mark>(R"({"type":"mark","name":"after"})").name, "after");
}

// --- the HTTP API body ----------------------------------------------------------------------------

TEST(ParseTransferRequest, AcceptsBodyWithOrWithoutType) {
  auto a = parse_transfer_request(R"({"targets":["Support"],"mode":"semi"})");
  ASSERT_TRUE(std::holds_alternative<TransferRequest>(a));
  EXPECT_EQ(std::get<TransferRequest>(a).mode, TransferMode::kSemi);
  auto b = parse_transfer_request(R"({"type":"transfer","targets":["Support"]})");
  ASSERT_TRUE(std::holds_alternative<TransferRequest>(b));
  EXPECT_EQ(std::get<TransferRequest>(b).targets.front(), "Support");
}

TEST(TransferOptionNames, RoundTripThroughTheDecoder) {
  EXPECT_EQ(to_string(TransferMode::kReplaces), "replaces");
  EXPECT_EQ(to_string(Screening::kAgent), "agent");
  EXPECT_EQ(to_string(HoldAudio::kSilence), "silence");
  auto t = parse_transfer_request(std::string(R"({"targets":["a"],"mode":")") +
                                  std::string(to_string(TransferMode::kSemi)) + R"(","hold":")" +
                                  std::string(to_string(HoldAudio::kRingback)) + R"("})");
  ASSERT_TRUE(std::holds_alternative<TransferRequest>(t));
  EXPECT_EQ(std::get<TransferRequest>(t).mode, TransferMode::kSemi);
  EXPECT_EQ(std::get<TransferRequest>(t).hold, HoldAudio::kRingback);
}

TEST(ParseTransferRequest, RejectsOtherTypesAndBadBodies) {
  auto wrong_type = parse_transfer_request(R"({"type":"say","targets":["Support"]})");
  ASSERT_TRUE(std::holds_alternative<ProtocolError>(wrong_type));
  EXPECT_EQ(std::get<ProtocolError>(wrong_type).code, kErrorInvalidField);
  auto no_targets = parse_transfer_request(R"({"mode":"cold"})");
  ASSERT_TRUE(std::holds_alternative<ProtocolError>(no_targets));
  EXPECT_EQ(std::get<ProtocolError>(no_targets).code, kErrorMissingField);
  auto not_json = parse_transfer_request("mode=cold");
  ASSERT_TRUE(std::holds_alternative<ProtocolError>(not_json));
  EXPECT_EQ(std::get<ProtocolError>(not_json).code, kErrorInvalidJson);
}

}  // namespace
}  // namespace warmline::ai
