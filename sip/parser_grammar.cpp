#include "sip/parser_grammar.hpp"

namespace warmline::sip::grammar {

std::optional<size_t> quoted_string_length(std::string_view s) {
  if (s.empty() || s[0] != '"') return std::nullopt;
  for (size_t i = 1; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') return i + 1;
    if (c == '\\') {
      // quoted-pair may escape any octet but CR and LF, NUL included (RFC 4475 intmeth).
      if (i + 1 >= s.size() || s[i + 1] == '\r' || s[i + 1] == '\n') return std::nullopt;
      ++i;
      continue;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;  // raw controls are not qdtext
  }
  return std::nullopt;
}

std::string unquote(std::string_view quoted) {
  std::string out;
  if (quoted.size() < 2) return out;
  quoted = quoted.substr(1, quoted.size() - 2);
  out.reserve(quoted.size());
  for (size_t i = 0; i < quoted.size(); ++i) {
    if (quoted[i] == '\\' && i + 1 < quoted.size()) ++i;
    out.push_back(quoted[i]);
  }
  return out;
}

bool split_commas(std::string_view value, std::vector<std::string_view>& out) {
  size_t start = 0;
  bool in_angle = false;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '"' && !in_angle) {
      auto len = quoted_string_length(value.substr(i));
      if (!len) return false;
      i += *len - 1;
    } else if (c == '<') {
      if (in_angle) return false;
      in_angle = true;
    } else if (c == '>') {
      if (!in_angle) return false;
      in_angle = false;
    } else if (c == ',' && !in_angle) {
      out.push_back(trim(value.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (in_angle) return false;
  out.push_back(trim(value.substr(start)));
  return true;
}

namespace {

// gen-value = token / host / quoted-string (RFC 3261 §25.1); ':' admits bare IPv6 in received=.
std::string_view take_param_value(std::string_view& s) {
  size_t len = 0;
  if (s.empty()) return {};
  if (s[0] == '"') {
    len = quoted_string_length(s).value_or(0);
  } else if (s[0] == '[') {
    size_t close = s.find(']');
    len = close == std::string_view::npos ? 0 : close + 1;
  } else {
    while (len < s.size() && (is_token_char(s[len]) || s[len] == ':')) ++len;
  }
  std::string_view value = s.substr(0, len);
  s.remove_prefix(len);
  return value;
}

}  // namespace

bool parse_header_params(std::string_view s, std::vector<Param>& out) {
  for (;;) {
    skip_lws(s);
    if (s.empty()) return true;
    if (s[0] != ';') return false;
    s.remove_prefix(1);
    skip_lws(s);
    size_t n = 0;
    while (n < s.size() && is_token_char(s[n])) ++n;
    if (n == 0) return false;  // ";;" or ";=" (RFC 4475 badinv01)
    Param p{std::string(s.substr(0, n)), {}, false};
    s.remove_prefix(n);
    skip_lws(s);
    if (!s.empty() && s[0] == '=') {
      s.remove_prefix(1);
      skip_lws(s);
      std::string_view v = take_param_value(s);
      if (v.empty()) return false;
      p.value = v;
      p.has_value = true;
    }
    out.push_back(std::move(p));
  }
}

// Replaces each line fold (CRLF or LF followed by WSP) with one SP (§7.3.1).
std::string_view unfold(std::string_view raw, std::string& scratch) {
  if (raw.find('\n') == std::string_view::npos) return raw;
  scratch.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') continue;
    if (raw[i] != '\n') {
      scratch.push_back(raw[i]);
      continue;
    }
    while (!scratch.empty() && is_wsp(scratch.back())) scratch.pop_back();
    scratch.push_back(' ');
    while (i + 1 < raw.size() && is_wsp(raw[i + 1])) ++i;
  }
  return scratch;
}

void append_params(std::string& out, const std::vector<Param>& params) {
  for (const auto& p : params) {
    out += ';';
    out += p.name;
    if (p.has_value) {
      out += '=';
      out += p.value;
    }
  }
}

}  // namespace warmline::sip::grammar
