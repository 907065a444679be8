#include "sip/usage/register_messages.hpp"

#include <limits>
#include <string_view>

#include "sip/uri.hpp"

namespace warmline::sip {

namespace {

// delta-seconds (§25.1: 1*DIGIT), surrounding spaces allowed; too large clamps to 2^32-1 (§20.19).
std::optional<uint32_t> parse_delta_seconds(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > kMax) v = kMax;  // keeps reading the digits (all must be digits) without overflowing
  }
  return static_cast<uint32_t>(v);
}

}  // namespace

Message make_register(const RegisterRequestFields& f) {
  Message m;
  m.method = "REGISTER";
  m.request_uri = f.registrar;
  m.to = f.aor;
  m.to.params.clear();  // §10.2: no To tag
  m.from = f.aor;
  m.from.params.clear();
  m.from.set_tag(f.from_tag);
  m.call_id = f.call_id;
  m.cseq = CSeq{f.cseq, "REGISTER"};
  m.max_forwards = 70;
  m.contacts.push_back(f.contact);
  m.add_header("Expires", std::to_string(f.expires));
  return m;
}

std::optional<uint32_t> granted_expires(const Message& response, const NameAddr& contact) {
  for (const NameAddr& c : response.contacts) {
    if (!uri_equal(c.uri, contact.uri)) continue;
    if (const Param* p = find_param(c.params, "expires"); p && p->has_value)
      if (auto v = parse_delta_seconds(p->value)) return v;
    break;  // our Contact without a usable expires: the Expires header applies (§10.2.4)
  }
  // A registrar that rewrote our Contact (a NAT helper adding received=, a host it prefers) lists one
  // binding that does not compare equal to ours: with only one listed, it is ours.
  if (response.contacts.size() == 1 && !uri_equal(response.contacts.front().uri, contact.uri))
    if (const Param* p = find_param(response.contacts.front().params, "expires"); p && p->has_value)
      if (auto v = parse_delta_seconds(p->value)) return v;
  if (const Header* h = response.find_header("Expires")) return parse_delta_seconds(h->value);
  return std::nullopt;
}

std::optional<uint32_t> min_expires(const Message& response) {
  const Header* h = response.find_header("Min-Expires");
  return h ? parse_delta_seconds(h->value) : std::nullopt;
}

}  // namespace warmline::sip
