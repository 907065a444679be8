// Character classes and small scanners of the RFC 3261 §25 grammar, shared by the message parser and the
// URI / name-addr / Via parsers. Internal to sip/: everything works on string_views into the datagram, so
// nothing here allocates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"

namespace warmline::sip::grammar {

constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
constexpr bool is_wsp(char c) { return c == ' ' || c == '\t'; }
constexpr bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
constexpr bool is_token_char(char c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`': case '\'': case '~':
      return true;
    default:
      return false;
  }
}

// unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
constexpr bool is_unreserved(char c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '-': case '_': case '.': case '!': case '~': case '*': case '\'': case '(': case ')':
      return true;
    default:
      return false;
  }
}

inline bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

inline void skip_lws(std::string_view& s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
}

// Parses 1*DIGIT that fits in `max`; leading zeros are allowed (RFC 4475 wsinv: "CSeq: 0009").
inline std::optional<uint64_t> parse_uint(std::string_view s, uint64_t max) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > max) return std::nullopt;  // checked per digit, so it never overflows uint64_t
  }
  return v;
}

// Length of the quoted-string at the start of `s` (which starts with '"'), including both quotes;
// nullopt when it is not terminated. quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F).
std::optional<size_t> quoted_string_length(std::string_view s);

// Removes the quotes and quoted-pair backslashes: "a \"b\"" -> a "b".
std::string unquote(std::string_view quoted);

// Splits a header value at commas that are outside quoted strings and <...> (RFC 3261 §7.3.1).
// Returns false when quotes or brackets are unbalanced. Elements are trimmed, and may be empty (the
// caller decides whether an empty element is an error: RFC 4475 badinv01).
bool split_commas(std::string_view value, std::vector<std::string_view>& out);

// Parses `*( LWS ";" LWS name [ LWS "=" LWS value ] )` header/Via parameters. Values are tokens, hosts
// (IPv6 references included) or quoted strings; a quoted value keeps its quotes so it serializes back
// unchanged. Fails on an empty name or value, or on trailing garbage.
bool parse_header_params(std::string_view s, std::vector<Param>& out);

// Replaces each line fold (CRLF or LF followed by WSP) with one SP (§7.3.1). Returns `raw` itself when
// it has no fold, else a view of `scratch`.
std::string_view unfold(std::string_view raw, std::string& scratch);

void append_params(std::string& out, const std::vector<Param>& params);

}  // namespace warmline::sip::grammar
