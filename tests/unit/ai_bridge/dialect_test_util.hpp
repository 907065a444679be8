#pragma once
// Helpers shared by the dialect codec tests (tests/unit/ai_bridge/*_dialect_test.cpp): reading a
// DialectCommand, and reading fields back out of a frame a codec wrote.

#include <simdjson.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ai_bridge/dialect.hpp"

namespace warmline::ai::test {

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The command inside `c`, or nullptr when it is another command or audio.
template <class T>
const T* command_as(const DialectCommand& c) {
  const auto* command = std::get_if<Command>(&c);
  return command == nullptr ? nullptr : std::get_if<T>(command);
}

// The audio of a WireMedia as a string ("no audio" when `c` is not one).
inline std::string audio_of(const DialectCommand& c) {
  const auto* media = std::get_if<WireMedia>(&c);
  if (media == nullptr) return "no audio";
  return std::string(media->audio.begin(), media->audio.end());
}

// The error code of a ProtocolError ("no error" otherwise); `message` receives its message.
inline std::string error_code_of(const DialectCommand& c, std::string* message = nullptr) {
  const auto* e = command_as<ProtocolError>(c);
  if (e == nullptr) return "no error";
  if (message != nullptr) *message = e->message;
  return e->code;
}

// The string at `path` (keys from the root) in the JSON `frame`; "<not a string>" when there is none.
// Fails the test when the frame is not valid JSON: every frame a codec writes must parse.
inline std::string json_string_at(std::string_view frame, std::vector<std::string_view> path) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(frame.data(), frame.size()).get(e) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << frame;
    return "<not JSON>";
  }
  for (std::string_view key : path) {
    if (e[key].get(e) != simdjson::SUCCESS) return "<not a string>";
  }
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return "<not a string>";
  return std::string(s);
}

// `frame` with the value of the first "key":"..." replaced by `placeholder`, for comparing a frame
// that carries a clock reading with a literal.
inline std::string with_value_replaced(std::string frame, std::string_view key, std::string_view placeholder) {
  const std::string needle = "\"" + std::string(key) + "\":\"";
  const auto at = frame.find(needle);
  if (at == std::string::npos) return frame;
  const auto begin = at + needle.size();
  const auto end = frame.find('"', begin);
  if (end == std::string::npos) return frame;
  return frame.replace(begin, end - begin, placeholder);
}

// "mulaw/8000/text", "l16/16000/binary": a WireAudio in one comparable string.
inline std::string describe(const WireAudio& audio) {
  const char* encoding = audio.encoding == WireEncoding::kMulaw ? "mulaw"
                         : audio.encoding == WireEncoding::kAlaw ? "alaw"
                                                                 : "l16";
  return std::string(encoding) + "/" + std::to_string(audio.sample_rate) + (audio.binary ? "/binary" : "/text");
}

// Steady state allocates nothing: 100 media frames of 20 ms, with a played mark every tenth, are all
// written into the buffer the first one used.
inline void expect_frames_share_one_buffer(DialectCodec& codec) {
  const std::vector<std::uint8_t> packet(codec.audio().bytes_per_20ms(), 0x7f);
  const char* first = codec.media(packet, 0).bytes.data();
  for (std::uint64_t i = 1; i <= 100; ++i) {
    ASSERT_EQ(codec.media(packet, i * 20).bytes.data(), first) << "frame " << i;
    if (i % 10 == 0) {
      ASSERT_EQ(codec.mark("m", MarkEvent::kPlayed).bytes.data(), first) << "mark after frame " << i;
    }
  }
}

// Decoding the agent's audio frame `frame` 60 times hands out audio in one buffer, never a new one.
inline void expect_decoded_audio_shares_one_buffer(DialectCodec& codec, const std::string& frame) {
  const auto decoded = codec.decode_text(frame);
  ASSERT_TRUE(std::holds_alternative<WireMedia>(decoded)) << frame.substr(0, 80);
  const std::uint8_t* first = std::get<WireMedia>(decoded).audio.data();
  for (int i = 0; i < 60; ++i) {
    const auto c = codec.decode_text(frame);
    ASSERT_TRUE(std::holds_alternative<WireMedia>(c));
    ASSERT_EQ(std::get<WireMedia>(c).audio.data(), first) << "frame " << i;
  }
}

// An audio frame (built by `frame_with_payload` around a base64 payload) over kMaxDialectFrameBytes is
// refused as too large, not truncated; one just under the limit decodes whole.
template <class MakeFrame>
void expect_oversized_audio_refused(DialectCodec& codec, MakeFrame frame_with_payload) {
  EXPECT_EQ(error_code_of(codec.decode_text(frame_with_payload(std::string(kMaxDialectFrameBytes, 'A')))),
            kErrorTooLarge);
  const std::string fits(kMaxDialectFrameBytes - 128, 'A');
  const auto c = codec.decode_text(frame_with_payload(fits));
  ASSERT_TRUE(std::holds_alternative<WireMedia>(c));
  EXPECT_EQ(std::get<WireMedia>(c).audio.size(), fits.size() / 4 * 3);
}

// A text frame's bytes (a binary frame fails the test).
inline std::string text_of(WireFrame frame) {
  EXPECT_FALSE(frame.binary);
  return std::string(frame.bytes);
}

inline std::string error_message_of(const DialectCommand& c) {
  std::string message = "no error";
  error_code_of(c, &message);
  return message;
}

}  // namespace warmline::ai::test
