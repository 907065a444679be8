#include "sip/sip_trace.hpp"

#include "sip/message.hpp"

namespace warmline::sip {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view raw_call_id(std::string_view message) {
  // Header lines from the second line to the empty one; a bounded number of them.
  size_t pos = message.find('\n');
  for (int line = 0; line < 256 && pos != std::string_view::npos; ++line) {
    const size_t start = pos + 1;
    const size_t end = message.find('\n', start);
    std::string_view text = message.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (trim(text).empty()) return {};  // the end of the headers
    const size_t colon = text.find(':');
    if (colon != std::string_view::npos) {
      std::string_view name = trim(text.substr(0, colon));
      if (iequals(name, "call-id") || iequals(name, "i")) return trim(text.substr(colon + 1));
    }
    pos = end;
  }
  return {};
}

}  // namespace warmline::sip
