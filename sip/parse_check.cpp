#include "sip/parse_check.hpp"

#include <array>
#include <cstdint>

#include "sip/parser_grammar.hpp"

namespace warmline::sip {
namespace {

using namespace grammar;

// Methods defined by RFC 3261 and its extensions: unsupported ones get 405, anything else 501 (§21.4.6,
// §21.5.2; RFC 4475 intmeth, esc02).
constexpr std::array<std::string_view, 14> kKnownMethods{
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK",
    "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"};

bool contains_ci(const std::vector<std::string>& list, std::string_view value) {
  for (const auto& item : list)
    if (iequals(item, value)) return true;
  return false;
}

std::string join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string_view media_type(std::string_view value) { return trim(value.substr(0, value.find(';'))); }

// Every comma-separated element of every `name` header, trimmed, empties skipped.
std::vector<std::string_view> list_values(const Message& m, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& h : m.headers) {
    if (!iequals(h.name, name)) continue;
    std::vector<std::string_view> parts;
    if (!split_commas(h.value, parts)) continue;
    for (auto p : parts)
      if (!p.empty()) out.push_back(p);
  }
  return out;
}

std::optional<Rejection> check_method(const Message& m, const UasCapabilities& caps) {
  for (const auto& method : caps.methods)
    if (method == m.method) return std::nullopt;  // methods are case-sensitive (§7.1)
  for (std::string_view known : kKnownMethods)
    if (known == m.method) return Rejection{405, "Method Not Allowed", {{"Allow", join(caps.methods)}}};
  return Rejection{501, "Not Implemented", {}};
}

std::optional<Rejection> check_require(const Message& m, const UasCapabilities& caps) {
  std::vector<std::string> unknown;
  for (auto tag : list_values(m, "Require"))
    if (!contains_ci(caps.option_tags, tag)) unknown.emplace_back(tag);
  if (unknown.empty()) return std::nullopt;
  return Rejection{420, "Bad Extension", {{"Unsupported", join(unknown)}}};
}

bool accept_matches(std::string_view range, std::string_view type) {
  range = media_type(range);
  if (range == "*/*") return true;
  if (range.ends_with("/*")) {
    std::string_view prefix = range.substr(0, range.size() - 1);  // "application/"
    return type.size() > prefix.size() && iequals(type.substr(0, prefix.size()), prefix);
  }
  return iequals(range, type);
}

// §8.2.3 / §21.4.7: an INVITE whose Accept lists none of the body types we answer with.
std::optional<Rejection> check_accept(const Message& m, const UasCapabilities& caps) {
  if (m.method != "INVITE" || !m.find_header("Accept")) return std::nullopt;
  for (auto range : list_values(m, "Accept"))
    for (const auto& type : caps.content_types)
      if (accept_matches(range, type)) return std::nullopt;
  return Rejection{406, "Not Acceptable", {}};
}

// The header lines a stateless response copies from its request (§8.2.6.2).
struct CopiedHeaders {
  std::vector<std::string> vias;
  std::string from, to, call_id, cseq;
  bool complete() const { return !vias.empty() && !from.empty() && !to.empty() && !call_id.empty() && !cseq.empty(); }
};

void keep(CopiedHeaders& h, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  if (iequals(name, "Via")) h.vias.emplace_back(value);
  else if (iequals(name, "From") && h.from.empty()) h.from = value;
  else if (iequals(name, "To") && h.to.empty()) h.to = value;
  else if (iequals(name, "Call-ID") && h.call_id.empty()) h.call_id = value;
  else if (iequals(name, "CSeq") && h.cseq.empty()) h.cseq = value;
}

// Scans header lines (LF or CRLF, folds joined) up to the first empty line.
CopiedHeaders scan_headers(std::string_view raw) {
  CopiedHeaders h;
  std::string scratch;
  size_t pos = raw.find('\n');
  while (pos != std::string_view::npos && pos + 1 < raw.size()) {
    size_t start = pos + 1;
    if (raw[start] == '\n' || raw.substr(start).starts_with("\r\n")) break;
    size_t end = raw.find('\n', start);
    while (end != std::string_view::npos && end + 1 < raw.size() && is_wsp(raw[end + 1]))
      end = raw.find('\n', end + 1);
    std::string_view line = raw.substr(start, end == std::string_view::npos ? end : end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos)
      keep(h, canonical_header_name(trim(line.substr(0, colon))), trim(unfold(line.substr(colon + 1), scratch)));
    pos = end;
  }
  return h;
}

bool has_tag(std::string_view to) {
  for (size_t i = to.find(';'); i != std::string_view::npos; i = to.find(';', i + 1)) {
    std::string_view rest = trim(to.substr(i + 1));
    if (rest.size() > 3 && iequals(rest.substr(0, 3), "tag")) return true;
  }
  return false;
}

// Same request, same tag: a retransmitted broken request gets an identical answer (FNV-1a of Call-ID).
std::string stateless_tag(std::string_view call_id) {
  uint64_t hash = 1469598103934665603ULL;
  for (char c : call_id) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "wl";
  for (int i = 0; i < 16; ++i) tag.push_back(kHex[(hash >> (i * 4)) & 0xf]);
  return tag;
}

void append_line(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

}  // namespace

std::string build_stateless_response(std::string_view raw, int status, std::string_view reason) {
  while (!raw.empty() && (raw.front() == '\r' || raw.front() == '\n')) raw.remove_prefix(1);
  if (raw.starts_with("SIP/") || status < 100 || status > 699) return {};
  CopiedHeaders h = scan_headers(raw);
  if (!h.complete()) return {};
  std::string out = "SIP/2.0 " + std::to_string(status) + " ";
  out.append(reason.data(), reason.size()).append("\r\n");
  for (const auto& via : h.vias) append_line(out, "Via", via);
  append_line(out, "From", h.from);
  append_line(out, "To", has_tag(h.to) || status == 100 ? h.to : h.to + ";tag=" + stateless_tag(h.call_id));
  append_line(out, "Call-ID", h.call_id);
  append_line(out, "CSeq", h.cseq);
  out += "Content-Length: 0\r\n\r\n";
  return out;
}

std::optional<Rejection> check_request_for_uas(const Message& m, const UasCapabilities& caps) {
  if (m.method == "ACK") return std::nullopt;  // an ACK is never answered (§17.2.1)
  if (auto r = check_method(m, caps)) return r;
  if (!contains_ci(caps.schemes, m.request_uri.scheme)) return Rejection{416, "Unsupported URI Scheme", {}};
  if (m.method != "CANCEL")
    if (auto r = check_require(m, caps)) return r;
  if (!m.body.empty() && !contains_ci(caps.content_types, media_type(m.content_type)))
    return Rejection{415, "Unsupported Media Type", {{"Accept", join(caps.content_types)}}};
  return check_accept(m, caps);
}

}  // namespace warmline::sip
