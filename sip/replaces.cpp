#include "sip/replaces.hpp"

namespace warmline::sip {

namespace {

bool hvalue_plain(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '_': case '.': case '!': case '~': case '*': case '\'': case '(': case ')':  // mark
    case '[': case ']': case '/': case '?': case ':': case '+': case '$':                    // hnv-unreserved
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string replaces_value(std::string_view call_id, std::string_view to_tag, std::string_view from_tag) {
  std::string out;
  out.reserve(call_id.size() + to_tag.size() + from_tag.size() + 18);
  out.append(call_id).append(";to-tag=").append(to_tag).append(";from-tag=").append(from_tag);
  return out;
}

std::string escape_header_value(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (char c : value) {
    if (hvalue_plain(c)) {
      out += c;
      continue;
    }
    const auto octet = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[octet >> 4];
    out += kHex[octet & 0x0F];
  }
  return out;
}

Uri replaces_target(const Uri& target, const DialogId& dialog) {
  Uri out = target;
  out.headers.clear();
  out.headers.push_back(Param{
      "Replaces", escape_header_value(replaces_value(dialog.call_id, dialog.remote_tag, dialog.local_tag)), true});
  return out;
}

std::optional<DialogId> parse_replaces(std::string_view value) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  const size_t semi = value.find(';');
  std::string_view call_id = trim(value.substr(0, semi));
  if (call_id.empty() || call_id.find_first_of(" \t,") != std::string_view::npos) return std::nullopt;
  DialogId id;
  id.call_id = std::string(call_id);
  bool to_seen = false, from_seen = false;
  std::string_view rest = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
  while (semi != std::string_view::npos) {
    const size_t next = rest.find(';');
    const std::string_view param = trim(rest.substr(0, next));
    const size_t eq = param.find('=');
    const std::string_view name = trim(param.substr(0, eq));
    const std::string_view val = eq == std::string_view::npos ? std::string_view() : trim(param.substr(eq + 1));
    if (name.empty()) return std::nullopt;
    if (iequals(name, "to-tag") || iequals(name, "from-tag")) {
      bool& seen = iequals(name, "to-tag") ? to_seen : from_seen;
      if (seen || val.empty() || val.find_first_of(" \t,\"") != std::string_view::npos) return std::nullopt;
      seen = true;
      (iequals(name, "to-tag") ? id.local_tag : id.remote_tag) = std::string(val);
    }
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 1);
  }
  if (!to_seen || !from_seen) return std::nullopt;
  return id;
}

}  // namespace warmline::sip
