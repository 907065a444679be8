#include "ai_bridge/twilio_frames.hpp"

#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <string>
#include <vector>

namespace warmline::ai {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string base64(std::string_view s) {
  std::string out;
  append_base64(out, bytes_of(s));
  return out;
}

// nullopt when rejected, else the decoded bytes as a string.
std::optional<std::string> unbase64(std::string_view in) {
  std::vector<std::uint8_t> out(base64_decoded_max(in.size()));
  const auto n = decode_base64(in, out);
  if (!n) return std::nullopt;
  return std::string(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(*n));
}

// --- base64 -----------------------------------------------------------------------------------------

TEST(Base64, Rfc4648TestVectors) {  // RFC 4648 §10
  const std::array<std::pair<std::string_view, std::string_view>, 7> vectors = {{
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}}};
  for (const auto& [raw, encoded] : vectors) {
    EXPECT_EQ(base64(raw), encoded);
    EXPECT_EQ(unbase64(encoded), std::string(raw)) << encoded;
    EXPECT_EQ(base64_encoded_size(raw.size()), encoded.size());
  }
}

TEST(Base64, AppendsAfterExistingText) {
  std::string out = "payload:";
  append_base64(out, bytes_of("foo"));
  EXPECT_EQ(out, "payload:Zm9v");
}

TEST(Base64, RoundTripsEveryByteValueAtEveryTailLength) {
  std::vector<std::uint8_t> all(256 + 2);
  std::iota(all.begin(), all.begin() + 256, 0);
  for (std::size_t len = 254; len <= all.size(); ++len) {
    std::string encoded;
    append_base64(encoded, std::span<const std::uint8_t>(all.data(), len));
    std::vector<std::uint8_t> back(base64_decoded_max(encoded.size()));
    const auto n = decode_base64(encoded, back);
    ASSERT_TRUE(n.has_value());
    back.resize(*n);
    EXPECT_EQ(back, std::vector<std::uint8_t>(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(len)));
  }
}

TEST(Base64, RejectsWhatOpenSslWouldAcceptLoosely) {
  for (std::string_view bad : {"A===", "====", "=AAA", "AA=A", "Zm9vYg==Zm9v", "Zm9vYg=a"}) {
    EXPECT_EQ(unbase64(bad), std::nullopt) << bad;
  }
  // Whitespace at either end, or of a whole group, is trimmed by EVP_DecodeBlock; here it is an error.
  for (std::string_view bad : {"Zm9v    ", "    Zm9v", "    ", "Zm9\n", " Zm9", "Zm9v\r\n\r\n"}) {
    EXPECT_EQ(unbase64(bad), std::nullopt) << bad;
  }
}

TEST(Base64, RejectsBadLengthsAndCharacters) {
  for (std::string_view bad : {"Z", "Zm9", "Zm9vY", "Zm-v", "Zm_v", "Zm9v\x80\x80\x80\x80", "Zm 9", "Zm\"v"}) {
    EXPECT_EQ(unbase64(bad), std::nullopt) << bad;
  }
}

TEST(Base64, RefusesAnOutputBufferTooSmall) {
  std::array<std::uint8_t, 2> out{};
  EXPECT_EQ(decode_base64("Zm8=", out), std::nullopt);  // needs base64_decoded_max(4) = 3
  std::array<std::uint8_t, 3> enough{};
  EXPECT_EQ(decode_base64("Zm8=", enough), 2u);
}

// --- encoder: exact frames --------------------------------------------------------------------------

TwilioEncoder make_encoder() {
  return TwilioEncoder({.stream_sid = "MZ1", .call_sid = "CA1", .account_sid = "AC1"});
}

TEST(TwilioEncode, ConnectedHasNoSequenceNumber) {
  auto enc = make_encoder();
  EXPECT_EQ(enc.connected(), R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  EXPECT_EQ(enc.stop(), R"({"event":"stop","sequenceNumber":"1","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}})");
}

TEST(TwilioEncode, StartCarriesIdsCustomParametersAndMulawFormat) {
  auto enc = make_encoder();
  const std::vector<std::pair<std::string, std::string>> params = {{"from", "+27115550100"}, {"to", "100"}};
  EXPECT_EQ(enc.start(params),
            R"({"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1",)"
            R"("tracks":["inbound"],"customParameters":{"from":"+27115550100","to":"100"},)"
            R"("mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"})");
}

TEST(TwilioEncode, MediaHasStringChunkAndTimestampAndBase64Payload) {
  auto enc = make_encoder();
  const std::array<std::uint8_t, 3> mulaw = {'f', 'o', 'o'};
  EXPECT_EQ(enc.media(mulaw, 0),
            R"({"event":"media","sequenceNumber":"1","media":{"track":"inbound","chunk":"1","timestamp":"0",)"
            R"("payload":"Zm9v"},"streamSid":"MZ1"})");
  EXPECT_EQ(enc.media(mulaw, 20),
            R"({"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"2","timestamp":"20",)"
            R"("payload":"Zm9v"},"streamSid":"MZ1"})");
}

TEST(TwilioEncode, SequenceCountsEveryFrameAndChunkOnlyMedia) {
  auto enc = make_encoder();
  const std::array<std::uint8_t, 1> mulaw = {0xff};
  enc.start({});
  enc.media(mulaw, 0);
  EXPECT_EQ(enc.mark("m1"), R"({"event":"mark","sequenceNumber":"3","streamSid":"MZ1","mark":{"name":"m1"}})");
  EXPECT_EQ(enc.dtmf('#'),
            R"({"event":"dtmf","sequenceNumber":"4","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"#"}})");
  EXPECT_EQ(enc.media(mulaw, 18446744073709551615ull),
            R"({"event":"media","sequenceNumber":"5","media":{"track":"inbound","chunk":"2",)"
            R"("timestamp":"18446744073709551615","payload":"/w=="},"streamSid":"MZ1"})");
}

TEST(TwilioEncode, EscapesUntrustedStrings) {
  TwilioEncoder enc({.stream_sid = "MZ\"1", .call_sid = "CA\\1", .account_sid = ""});
  const std::vector<std::pair<std::string, std::string>> params = {{"from", "\"Eve\"\n<sip:e@x>"}};
  const std::string start(enc.start(params));
  EXPECT_NE(start.find(R"("customParameters":{"from":"\"Eve\"\n<sip:e@x>"})"), std::string::npos) << start;
  EXPECT_NE(start.find(R"("callSid":"CA\\1")"), std::string::npos) << start;
  EXPECT_EQ(enc.mark("a\"b"), R"({"event":"mark","sequenceNumber":"2","streamSid":"MZ\"1","mark":{"name":"a\"b"}})");
}

TEST(TwilioEncode, SteadyStateReusesOneBuffer) {
  auto enc = make_encoder();
  const std::vector<std::uint8_t> packet(160, 0x7f);
  const char* first = enc.media(packet, 0).data();
  for (std::uint64_t i = 1; i < 100; ++i) EXPECT_EQ(enc.media(packet, i * 20).data(), first);
}

// --- decoder ----------------------------------------------------------------------------------------

TEST(TwilioDecode, MediaPayloadIsDecodedMulaw) {
  TwilioDecoder dec;
  const auto c = dec.decode(R"({"event":"media","streamSid":"MZ1","media":{"payload":"Zm9vYmE="}})");
  ASSERT_TRUE(std::holds_alternative<TwilioMedia>(c));
  const auto mulaw = std::get<TwilioMedia>(c).mulaw;
  EXPECT_EQ(std::string(mulaw.begin(), mulaw.end()), "fooba");
}

TEST(TwilioDecode, MediaWithEscapedSlashDecodes) {
  TwilioDecoder dec;
  const auto c = dec.decode(R"({"event":"media","media":{"payload":"\/w=="}})");  // JSON may escape '/'
  ASSERT_TRUE(std::holds_alternative<TwilioMedia>(c));
  ASSERT_EQ(std::get<TwilioMedia>(c).mulaw.size(), 1u);
  EXPECT_EQ(std::get<TwilioMedia>(c).mulaw[0], 0xff);
}

TEST(TwilioDecode, ReadsBackWhatTheEncoderWrites) {
  auto enc = make_encoder();
  std::vector<std::uint8_t> packet(160);
  std::iota(packet.begin(), packet.end(), 40);
  TwilioDecoder dec;
  const auto c = dec.decode(enc.media(packet, 20));
  ASSERT_TRUE(std::holds_alternative<TwilioMedia>(c));
  const auto mulaw = std::get<TwilioMedia>(c).mulaw;
  EXPECT_EQ(std::vector<std::uint8_t>(mulaw.begin(), mulaw.end()), packet);
}

TEST(TwilioDecode, SteadyStateReusesOneAudioBuffer) {
  auto enc = make_encoder();
  const std::vector<std::uint8_t> packet(160, 0x55);
  TwilioDecoder dec;
  const std::uint8_t* first = std::get<TwilioMedia>(dec.decode(enc.media(packet, 0))).mulaw.data();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(std::get<TwilioMedia>(dec.decode(enc.media(packet, 20))).mulaw.data(), first);
  }
}

TEST(TwilioDecode, MarkWithAndWithoutName) {
  TwilioDecoder dec;
  auto c = dec.decode(R"({"event":"mark","streamSid":"MZ1","mark":{"name":"utterance-1"}})");
  ASSERT_TRUE(std::holds_alternative<TwilioMark>(c));
  EXPECT_EQ(std::get<TwilioMark>(c).name, "utterance-1");
  c = dec.decode(R"({"event":"mark","streamSid":"MZ1","mark":{}})");
  ASSERT_TRUE(std::holds_alternative<TwilioMark>(c));
  EXPECT_EQ(std::get<TwilioMark>(c).name, "");
  c = dec.decode(R"({"event":"mark","streamSid":"MZ1"})");
  ASSERT_TRUE(std::holds_alternative<TwilioMark>(c));
  EXPECT_EQ(std::get<TwilioMark>(c).name, "");
}

TEST(TwilioDecode, ClearAndUnknownEvents) {
  TwilioDecoder dec;
  EXPECT_TRUE(std::holds_alternative<TwilioClear>(dec.decode(R"({"event":"clear","streamSid":"MZ1"})")));
  const auto c = dec.decode(R"({"event":"connected","protocol":"Call"})");
  ASSERT_TRUE(std::holds_alternative<TwilioUnknown>(c));
  EXPECT_EQ(std::get<TwilioUnknown>(c).event, "connected");
}

TEST(TwilioDecode, TransferExtensionUsesTheNativeFields) {
  TwilioDecoder dec;
  const auto c = dec.decode(R"({"event":"transfer","streamSid":"MZ1","mode":"warm","targets":["Craig"]})");
  ASSERT_TRUE(std::holds_alternative<TransferRequest>(c));
  EXPECT_EQ(std::get<TransferRequest>(c).mode, TransferMode::kWarm);
  EXPECT_EQ(std::get<TransferRequest>(c).targets, std::vector<std::string>{"Craig"});
  const auto bad = dec.decode(R"({"event":"transfer","streamSid":"MZ1"})");
  ASSERT_TRUE(std::holds_alternative<ProtocolError>(bad));
}

std::string error_code_of(TwilioDecoder& dec, std::string_view text) {
  const auto c = dec.decode(text);
  if (const auto* e = std::get_if<ProtocolError>(&c)) return e->code;
  return "no error";
}

TEST(TwilioDecode, MalformedFramesAreProtocolErrors) {
  TwilioDecoder dec;
  EXPECT_EQ(error_code_of(dec, "{\"event\":"), kErrorInvalidJson);
  EXPECT_EQ(error_code_of(dec, R"(["media"])"), kErrorInvalidJson);
  EXPECT_EQ(error_code_of(dec, R"({"streamSid":"MZ1"})"), kErrorMissingField);
  EXPECT_EQ(error_code_of(dec, R"({"event":7})"), kErrorInvalidField);
  EXPECT_EQ(error_code_of(dec, R"({"event":"media"})"), kErrorMissingField);
  EXPECT_EQ(error_code_of(dec, R"({"event":"media","media":{}})"), kErrorMissingField);
  EXPECT_EQ(error_code_of(dec, R"({"event":"media","media":{"payload":12}})"), kErrorInvalidField);
  EXPECT_EQ(error_code_of(dec, R"({"event":"media","media":"Zm9v"})"), kErrorInvalidField);
  EXPECT_EQ(error_code_of(dec, R"({"event":"media","media":{"payload":"Zm9"}})"), kErrorInvalidField);
  EXPECT_EQ(error_code_of(dec, R"({"event":"media","media":{"payload":"Zm 9v"}})"), kErrorInvalidField);
  EXPECT_EQ(error_code_of(dec, R"({"event":"mark","mark":"m1"})"), kErrorInvalidField);
  EXPECT_EQ(error_code_of(dec, R"({"event":"mark","mark":{"name":1}})"), kErrorInvalidField);
  EXPECT_EQ(error_code_of(dec, R"({"event":"mark","mark":{"name":")" + std::string(kMaxNameBytes + 1, 'x') + "\"}}"),
            kErrorTooLarge);
}

TEST(TwilioDecode, OversizedFrameIsRefusedNotTruncated) {
  TwilioDecoder dec;
  const std::string payload(kMaxTwilioFrameBytes, 'A');
  EXPECT_EQ(error_code_of(dec, R"({"event":"media","media":{"payload":")" + payload + "\"}}"), kErrorTooLarge);
  // Just under the limit decodes whole.
  const std::string fits(kMaxTwilioFrameBytes - 64, 'A');
  const auto c = dec.decode(R"({"event":"media","media":{"payload":")" + fits + "\"}}");
  ASSERT_TRUE(std::holds_alternative<TwilioMedia>(c));
  EXPECT_EQ(std::get<TwilioMedia>(c).mulaw.size(), fits.size() / 4 * 3);
}

TEST(TwilioDecode, BadMediaAfterGoodMediaIsAnErrorNotStaleAudio) {
  // A failed frame must not leave the caller holding garbage from a previous decode: it gets an error,
  // not a stale TwilioMedia.
  TwilioDecoder dec;
  ASSERT_TRUE(std::holds_alternative<TwilioMedia>(dec.decode(R"({"event":"media","media":{"payload":"Zm9v"}})")));
  EXPECT_EQ(error_code_of(dec, R"({"event":"media","media":{"payload":"Zm9"}})"), kErrorInvalidField);
}

}  // namespace
}  // namespace warmline::ai
