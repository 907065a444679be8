#pragma once
// Helpers for the dialect codec tests (ai_bridge/dialect.hpp): what a decoded DialectCommand holds, and
// a WireFrame's text.

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "ai_bridge/dialect.hpp"

namespace warmline::ai::test {

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A text frame's bytes (a binary frame fails the test).
inline std::string text_of(WireFrame frame) {
  EXPECT_FALSE(frame.binary);
  return std::string(frame.bytes);
}

// The command of type T, or nullptr when `c` is audio or another command.
template <class T>
const T* command_as(const DialectCommand& c) {
  const auto* command = std::get_if<Command>(&c);
  return command ? std::get_if<T>(command) : nullptr;
}

inline std::string error_code_of(const DialectCommand& c) {
  const auto* e = command_as<ProtocolError>(c);
  return e ? e->code : "no error";
}

inline std::string error_message_of(const DialectCommand& c) {
  const auto* e = command_as<ProtocolError>(c);
  return e ? e->message : "no error";
}

// The audio bytes as a string, or "not media".
inline std::string audio_of(const DialectCommand& c) {
  const auto* m = std::get_if<WireMedia>(&c);
  return m ? std::string(m->audio.begin(), m->audio.end()) : "not media";
}

}  // namespace warmline::ai::test
