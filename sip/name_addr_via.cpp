// name-addr / addr-spec (RFC 3261 §20.10, §25.1) and Via (§20.42) parsing and serialization.
#include "sip/parser_grammar.hpp"
#include "sip/uri.hpp"

namespace warmline::sip {
namespace {

using namespace grammar;
constexpr auto npos = std::string_view::npos;

// An unquoted display name is *(token LWS) (RFC 4475 baddn: a comma makes it invalid).
bool valid_token_display(std::string_view s) {
  for (char c : s)
    if (!is_token_char(c) && !is_wsp(c)) return false;
  return true;
}

// addr-spec: every ';' after the URI starts a header parameter (§20.10). The user part may hold ';'
// (RFC 4475 semiuri), so the search for ';' starts after the '@' when there is one.
std::optional<std::string_view> take_addr_spec(std::string_view& s) {
  size_t at = s.find('@');
  size_t stop = s.find_first_of("\" \t");
  size_t from = (at != npos && at < stop) ? at : 0;
  size_t end = s.find(';', from);
  std::string_view spec = trim(s.substr(0, end));
  // A URI holding ',' '?' or ';' must be in <> (§20); ';' is already a param boundary here.
  if (spec.find_first_of(",?") != npos) return std::nullopt;
  s = end == npos ? std::string_view() : s.substr(end);
  return spec;
}

bool needs_quotes(std::string_view display) {
  if (display.empty() || is_wsp(display.front()) || is_wsp(display.back())) return true;
  for (char c : display)
    if (!is_token_char(c) && c != ' ') return true;
  return false;
}

void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    // CR and LF cannot be carried even by a quoted-pair (§25.1); they are dropped, not sent raw.
    if (c == '\r' || c == '\n') continue;
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || (u < 0x20 && c != '\t') || u == 0x7f) out += '\\';
    out += c;
  }
  out += '"';
}

std::optional<std::string_view> take_token(std::string_view& s) {
  skip_lws(s);
  size_t n = 0;
  while (n < s.size() && is_token_char(s[n])) ++n;
  if (n == 0) return std::nullopt;
  std::string_view t = s.substr(0, n);
  s.remove_prefix(n);
  skip_lws(s);
  return t;
}

bool expect(std::string_view& s, char c) {
  skip_lws(s);
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

// sent-protocol = "SIP" LWS? "/" LWS? "2.0" LWS? "/" LWS? transport (LWS allowed: RFC 4475 wsinv).
bool parse_sent_protocol(std::string_view& s, Via& via) {
  auto name = take_token(s);
  if (!name || !iequals(*name, "SIP") || !expect(s, '/')) return false;
  auto version = take_token(s);
  if (!version || *version != "2.0" || !expect(s, '/')) return false;
  size_t before = s.size();
  auto transport = take_token(s);
  if (!transport || s.size() == before - transport->size()) return false;  // no LWS before host
  via.transport.clear();
  for (char c : *transport) via.transport.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  return true;
}

bool parse_one_via(std::string_view s, Via& via) {
  if (!parse_sent_protocol(s, via)) return false;
  size_t n = 0;
  if (!s.empty() && s[0] == '[') {
    n = s.find(']');
    if (n == npos) return false;
    ++n;
  } else {
    while (n < s.size() && (is_alnum(s[n]) || s[n] == '-' || s[n] == '.' || s[n] == '_')) ++n;
  }
  if (n == 0) return false;
  via.host = s.substr(0, n);
  s.remove_prefix(n);
  skip_lws(s);
  if (!s.empty() && s[0] == ':') {
    s.remove_prefix(1);
    skip_lws(s);
    size_t d = 0;
    while (d < s.size() && is_digit(s[d])) ++d;
    auto port = parse_uint(s.substr(0, d), 65535);
    if (!port || *port == 0) return false;
    via.port = static_cast<uint16_t>(*port);
    s.remove_prefix(d);
  }
  return parse_header_params(s, via.params);
}

}  // namespace

std::optional<NameAddr> parse_name_addr(std::string_view text) {
  std::string_view s = trim(text);
  NameAddr na;
  if (!s.empty() && s[0] == '"') {
    auto len = quoted_string_length(s);
    if (!len) return std::nullopt;  // RFC 4475 quotbal
    na.display = unquote(s.substr(0, *len));
    s.remove_prefix(*len);
    skip_lws(s);
    if (s.empty() || s[0] != '<') return std::nullopt;
  } else {
    size_t lt = s.find('<');
    if (lt != npos && lt < s.find('"')) {
      std::string_view display = trim(s.substr(0, lt));
      if (!valid_token_display(display)) return std::nullopt;
      na.display = display;
      s.remove_prefix(lt);
    }
  }
  std::optional<Uri> uri;
  if (!s.empty() && s[0] == '<') {
    size_t gt = s.find('>');
    if (gt == npos) return std::nullopt;
    uri = parse_uri(s.substr(1, gt - 1));  // no LWS inside <> (RFC 4475 badaspec)
    s.remove_prefix(gt + 1);
  } else {
    auto spec = take_addr_spec(s);
    if (spec) uri = parse_uri(*spec);
  }
  if (!uri || !parse_header_params(s, na.params)) return std::nullopt;
  na.uri = std::move(*uri);
  return na;
}

std::optional<std::vector<NameAddr>> parse_name_addr_list(std::string_view text) {
  std::vector<std::string_view> parts;
  if (!split_commas(text, parts)) return std::nullopt;
  std::vector<NameAddr> out;
  out.reserve(parts.size());
  for (std::string_view p : parts) {
    auto na = parse_name_addr(p);  // an empty element fails here
    if (!na) return std::nullopt;
    out.push_back(std::move(*na));
  }
  return out;
}

bool parse_via_list(std::string_view text, std::vector<Via>& out) {
  std::vector<std::string_view> parts;
  if (!split_commas(text, parts)) return false;
  for (std::string_view p : parts) {
    Via via;
    if (p.empty() || !parse_one_via(p, via)) return false;
    out.push_back(std::move(via));
  }
  return true;
}

void append_name_addr(std::string& out, const NameAddr& addr) {
  if (!addr.display.empty()) {
    if (needs_quotes(addr.display))
      append_quoted(out, addr.display);
    else
      out += addr.display;
    out += ' ';
  }
  out += '<';
  append_uri(out, addr.uri);
  out += '>';
  append_params(out, addr.params);
}

void append_via(std::string& out, const Via& via) {
  out += "SIP/2.0/";
  out += via.transport;
  out += ' ';
  out += via.host;
  if (via.port != 0) {
    out += ':';
    out += std::to_string(via.port);
  }
  append_params(out, via.params);
}

std::string NameAddr::to_string() const {
  std::string out;
  append_name_addr(out, *this);
  return out;
}

std::string Via::to_string() const {
  std::string out;
  append_via(out, *this);
  return out;
}

}  // namespace warmline::sip
