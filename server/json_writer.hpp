// A small streaming JSON builder for the HTTP API's responses. fmt does no JSON escaping and simdjson
// 3.0 (the packaged version) only parses, so this is the one place that escapes strings.
//
// Strings from the network (From display names, SIP reasons, AI messages) may be invalid UTF-8: each
// invalid byte becomes U+FFFD, so the output is always valid JSON and nothing is silently dropped.
#pragma once

#include "ai_bridge/json_escape.hpp"
#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace warmline::server {

// String escaping is the AI bridge's (valid JSON for any bytes: invalid UTF-8 becomes U+FFFD).
using ai::append_json_string;

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  JsonWriter& key(std::string_view k) {
    separate();
    append_json_string(out_, k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  JsonWriter& value(std::string_view s) {
    separate();
    append_json_string(out_, s);
    return *this;
  }
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b) { return raw(b ? "true" : "false"); }
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  JsonWriter& value(T n) { return raw(fmt::format("{}", n)); }
  // JSON has no NaN or infinity: they are written as null.
  JsonWriter& value(double d) { return std::isfinite(d) ? raw(fmt::format("{}", d)) : null(); }
  JsonWriter& null() { return raw("null"); }
  // A value that is JSON text already (one object written by another JsonWriter).
  JsonWriter& json(std::string_view text) { return raw(text); }

  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) { return key(k).value(v); }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  JsonWriter& raw(std::string_view text) {
    separate();
    out_ += text;
    return *this;
  }
  JsonWriter& open(char c) {
    separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& close(char c) {
    out_ += c;
    if (!first_.empty()) first_.pop_back();
    return *this;
  }
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }

  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace warmline::server
