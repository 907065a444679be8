#include "sip/event.hpp"

#include <charconv>

#include "sip/message.hpp"

namespace warmline::sip {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<uint32_t> refer_event_id(std::string_view event) {
  auto semi = event.find(';');
  if (!iequals(trim(event.substr(0, semi)), "refer")) return std::nullopt;
  // RFC 6665 §8.2.1: event parameters are `;name=value`; only `id` matters here.
  while (semi != std::string_view::npos) {
    std::string_view rest = event.substr(semi + 1);
    auto next = rest.find(';');
    std::string_view param = trim(rest.substr(0, next));
    auto eq = param.find('=');
    if (eq != std::string_view::npos && iequals(trim(param.substr(0, eq)), "id")) {
      std::string_view value = trim(param.substr(eq + 1));
      uint32_t id = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
      if (ec != std::errc{} || ptr != value.data() + value.size() || value.empty()) return std::nullopt;
      return id;
    }
    semi = next == std::string_view::npos ? next : semi + 1 + next;
  }
  return 0;
}

std::string sipfrag_reason(std::string_view body) {
  std::string_view line = body.substr(0, body.find_first_of("\r\n"));
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return {};
  auto sp2 = line.find(' ', sp1 + 1);
  return sp2 == std::string_view::npos ? std::string() : std::string(trim(line.substr(sp2 + 1)));
}

}  // namespace warmline::sip
