// URI grammar (RFC 3261 §19.1.1, §25.1) and comparison (§19.1.4).
#include "sip/uri.hpp"

#include "sip/parser_grammar.hpp"

namespace warmline::sip {
namespace {

using namespace grammar;

// Each URI part admits unreserved, escaped ("%" HEX HEX) and a part-specific set of reserved marks.
bool valid_part(std::string_view s, std::string_view extra) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!is_unreserved(c) && extra.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

constexpr std::string_view kUserExtra = "&=+$,;?/";   // user-unreserved
constexpr std::string_view kPasswordExtra = "&=+$,";
constexpr std::string_view kParamExtra = "[]/:&+$";   // param-unreserved
constexpr std::string_view kHeaderExtra = "[]/?:+$";  // hnv-unreserved

bool valid_host(std::string_view h) {
  if (h.empty()) return false;
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    for (char c : h.substr(1, h.size() - 2))
      if (!is_hex(c) && c != ':' && c != '.') return false;
    return true;
  }
  for (char c : h)
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return false;
  return true;
}

bool valid_scheme(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '+' && c != '-' && c != '.') return false;
  return true;
}

// Splits `s` at `sep` into name[=value] pairs, each checked against `extra`.
bool parse_uri_pairs(std::string_view s, char sep, std::string_view extra, std::vector<Param>& out) {
  for (;;) {
    size_t end = s.find(sep);
    std::string_view item = s.substr(0, end);
    size_t eq = item.find('=');
    std::string_view name = item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    if (name.empty() || !valid_part(name, extra) || !valid_part(value, extra)) return false;
    out.push_back(Param{std::string(name), std::string(value), eq != std::string_view::npos});
    if (end == std::string_view::npos) return true;
    s.remove_prefix(end + 1);
  }
}

bool parse_userinfo(std::string_view info, Uri& uri) {
  size_t colon = info.find(':');
  std::string_view user = info.substr(0, colon);
  if (user.empty() || !valid_part(user, kUserExtra)) return false;
  uri.user = user;
  if (colon != std::string_view::npos) {
    std::string_view password = info.substr(colon + 1);
    if (!valid_part(password, kPasswordExtra)) return false;
    uri.password = password;
  }
  return true;
}

bool parse_hostport(std::string_view hp, Uri& uri) {
  size_t host_end = 0;
  if (!hp.empty() && hp[0] == '[') {
    host_end = hp.find(']');
    if (host_end == std::string_view::npos) return false;
    ++host_end;
  } else {
    host_end = hp.find(':');
    if (host_end == std::string_view::npos) host_end = hp.size();
  }
  if (!valid_host(hp.substr(0, host_end))) return false;
  uri.host = hp.substr(0, host_end);
  std::string_view rest = hp.substr(host_end);
  if (rest.empty()) return true;
  if (rest[0] != ':') return false;
  auto port = parse_uint(rest.substr(1), 65535);
  if (!port || *port == 0) return false;
  uri.port = static_cast<uint16_t>(*port);
  return true;
}

bool parse_sip_parts(std::string_view rest, Uri& uri) {
  // '@' cannot appear unescaped in host, params or headers, so the first one ends the userinfo, which
  // itself may hold ';' '?' ',' (RFC 4475 semiuri, intmeth).
  size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    if (!parse_userinfo(rest.substr(0, at), uri)) return false;
    rest.remove_prefix(at + 1);
  }
  size_t q = rest.find('?');
  std::string_view headers = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  rest = rest.substr(0, q);
  size_t semi = rest.find(';');
  if (!parse_hostport(rest.substr(0, semi), uri)) return false;
  if (semi != std::string_view::npos &&
      !parse_uri_pairs(rest.substr(semi + 1), ';', kParamExtra, uri.params))
    return false;
  // A header without '=' is kept as a name (RFC 3515 §2.1's "Call-ID%3D..." example) rather than
  // failing the whole Refer-To.
  if (q != std::string_view::npos && !parse_uri_pairs(headers, '&', kHeaderExtra, uri.headers))
    return false;
  return true;
}

bool equal_unescaped(std::string_view a, std::string_view b) { return uri_unescape(a) == uri_unescape(b); }

// The n-th (from 0) parameter called `name`, or nullptr.
const Param* nth_param(const std::vector<Param>& params, std::string_view name, size_t n) {
  for (const auto& p : params) {
    if (iequals(p.name, name) && n-- == 0) return &p;
  }
  return nullptr;
}

// A name given more than once (`;tag=a;tag=b`, which the grammar allows) compares occurrence by
// occurrence, so a URI always equals itself.
bool param_matches(const std::vector<Param>& a, const std::vector<Param>& b, bool must_exist) {
  for (size_t i = 0; i < a.size(); ++i) {
    const auto& p = a[i];
    size_t earlier = 0;
    for (size_t j = 0; j < i; ++j) earlier += iequals(a[j].name, p.name) ? 1 : 0;
    const Param* q = nth_param(b, p.name, earlier);
    if (!q) {
      if (must_exist) return false;
      continue;
    }
    if (!iequals(uri_unescape(p.value), uri_unescape(q->value))) return false;
  }
  return true;
}

bool params_equal(const Uri& a, const Uri& b) {
  // §19.1.4: these must appear in both or neither; any other param only compares when in both.
  for (std::string_view name : {"user", "ttl", "method", "maddr", "transport"})
    if ((find_param(a.params, name) == nullptr) != (find_param(b.params, name) == nullptr)) return false;
  return param_matches(a.params, b.params, false);
}

bool headers_equal(const Uri& a, const Uri& b) {
  if (a.headers.size() != b.headers.size()) return false;
  for (size_t i = 0; i < a.headers.size(); ++i) {
    const std::string name = uri_unescape(a.headers[i].name);
    size_t earlier = 0;  // a repeated name compares occurrence by occurrence, as params do
    for (size_t j = 0; j < i; ++j) earlier += iequals(uri_unescape(a.headers[j].name), name) ? 1 : 0;
    const Param* o = nullptr;
    for (const auto& h : b.headers) {
      if (iequals(uri_unescape(h.name), name) && earlier-- == 0) {
        o = &h;
        break;
      }
    }
    if (!o || uri_unescape(a.headers[i].value) != uri_unescape(o->value)) return false;
  }
  return true;
}

}  // namespace

std::optional<Uri> parse_uri(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '<' || c == '>' || c == '"') return std::nullopt;
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || !valid_scheme(text.substr(0, colon))) return std::nullopt;
  Uri uri;
  uri.scheme.reserve(colon);
  for (char c : text.substr(0, colon)) uri.scheme.push_back(to_lower(c));
  std::string_view rest = text.substr(colon + 1);
  if (rest.empty()) return std::nullopt;
  if (uri.is_sip()) {
    if (!parse_sip_parts(rest, uri)) return std::nullopt;
  } else {
    uri.opaque = rest;
  }
  return uri;
}

std::string uri_unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && is_hex(text[i + 1]) && is_hex(text[i + 2])) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool uri_equal(const Uri& a, const Uri& b) {
  if (a.scheme != b.scheme) return false;
  if (!a.is_sip()) return equal_unescaped(a.opaque, b.opaque);
  return equal_unescaped(a.user, b.user) && equal_unescaped(a.password, b.password) &&
         iequals(a.host, b.host) && a.port == b.port && params_equal(a, b) && params_equal(b, a) &&
         headers_equal(a, b);
}

void append_uri(std::string& out, const Uri& uri) {
  out += uri.scheme;
  out += ':';
  if (!uri.is_sip()) {
    out += uri.opaque;
    return;
  }
  if (!uri.user.empty()) {
    out += uri.user;
    if (!uri.password.empty()) {
      out += ':';
      out += uri.password;
    }
    out += '@';
  }
  out += uri.host;
  if (uri.port != 0) {
    out += ':';
    out += std::to_string(uri.port);
  }
  append_params(out, uri.params);
  char sep = '?';
  for (const auto& h : uri.headers) {
    out += sep;
    out += h.name;
    if (h.has_value) {
      out += '=';
      out += h.value;
    }
    sep = '&';
  }
}

std::string Uri::to_string() const {
  std::string out;
  append_uri(out, *this);
  return out;
}

Protocol uri_protocol(const Uri& uri) {
  if (uri.scheme == "sips") return Protocol::tls;
  const Param* transport = find_param(uri.params, "transport");
  if (!transport) return Protocol::udp;
  std::string value = transport->value;
  for (char& c : value) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (value == "tls") return Protocol::tls;
  if (value == "tcp") return Protocol::tcp;
  return Protocol::udp;
}

}  // namespace warmline::sip
