#include "sip/info_dtmf.hpp"

#include <charconv>

#include "sip/message.hpp"

namespace warmline::sip {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::string_view media_type(std::string_view content_type) {
  return trim(content_type.substr(0, content_type.find(';')));
}

std::optional<char> dtmf_key(std::string_view signal) {
  if (signal.size() == 1) {
    char c = signal[0];
    if ((c >= '0' && c <= '9') || c == '*' || c == '#') return c;
    if (c >= 'A' && c <= 'D') return c;
    if (c >= 'a' && c <= 'd') return static_cast<char>(c - 'a' + 'A');
    return std::nullopt;
  }
  if (signal == "10") return '*';
  if (signal == "11") return '#';
  return std::nullopt;
}

std::optional<uint32_t> number(std::string_view text) {
  uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<InfoDtmf> parse_relay(std::string_view body) {
  std::optional<char> digit;
  uint32_t duration = kDefaultInfoDtmfMs;
  while (!body.empty()) {
    auto eol = body.find('\n');
    std::string_view line = trim(body.substr(0, eol));
    body = eol == std::string_view::npos ? std::string_view() : body.substr(eol + 1);
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (iequals(name, "Signal")) {
      digit = dtmf_key(value);
      if (!digit) return std::nullopt;
    } else if (iequals(name, "Duration")) {
      auto d = number(value);
      if (!d) return std::nullopt;
      duration = *d;
    }
  }
  if (!digit) return std::nullopt;
  return InfoDtmf{*digit, duration};
}

}  // namespace

bool is_info_dtmf_type(std::string_view content_type) {
  std::string_view t = media_type(content_type);
  return iequals(t, "application/dtmf-relay") || iequals(t, "application/dtmf");
}

std::optional<InfoDtmf> parse_info_dtmf(std::string_view content_type, std::string_view body) {
  std::string_view t = media_type(content_type);
  if (iequals(t, "application/dtmf-relay")) return parse_relay(body);
  if (iequals(t, "application/dtmf")) {
    auto digit = dtmf_key(trim(body));
    if (!digit) return std::nullopt;
    return InfoDtmf{*digit, kDefaultInfoDtmfMs};
  }
  return std::nullopt;
}

}  // namespace warmline::sip
