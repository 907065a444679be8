#include "sip/message.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace warmline::sip {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view canonical_header_name(std::string_view name) {
  // RFC 3261 §7.3.3 plus the compact forms registered by later RFCs (IANA "Header Fields").
  static constexpr std::array<std::pair<char, std::string_view>, 20> kCompact{{
      {'a', "Accept-Contact"}, {'b', "Referred-By"}, {'c', "Content-Type"}, {'d', "Request-Disposition"},
      {'e', "Content-Encoding"}, {'f', "From"}, {'i', "Call-ID"}, {'j', "Reject-Contact"},
      {'k', "Supported"}, {'l', "Content-Length"}, {'m', "Contact"}, {'n', "Identity-Info"},
      {'o', "Event"}, {'r', "Refer-To"}, {'s', "Subject"}, {'t', "To"}, {'u', "Allow-Events"},
      {'v', "Via"}, {'x', "Session-Expires"}, {'y', "Identity"},
  }};
  if (name.size() != 1) return name;
  char c = name[0];
  if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  for (const auto& [k, v] : kCompact)
    if (k == c) return v;
  return name;
}

const Param* find_param(const std::vector<Param>& params, std::string_view name) {
  for (const auto& p : params)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

void set_param(std::vector<Param>& params, std::string_view name, std::string_view value) {
  for (auto& p : params) {
    if (iequals(p.name, name)) {
      p.value = value;
      p.has_value = true;
      return;
    }
  }
  params.push_back(Param{std::string(name), std::string(value), true});
}

std::string_view NameAddr::tag() const {
  const Param* p = find_param(params, "tag");
  return p ? std::string_view(p->value) : std::string_view();
}

std::string_view Via::branch() const {
  const Param* p = find_param(params, "branch");
  return p ? std::string_view(p->value) : std::string_view();
}

const Header* Message::find_header(std::string_view name) const {
  std::string_view canon = canonical_header_name(name);
  for (const auto& h : headers)
    if (iequals(h.name, canon)) return &h;
  return nullptr;
}

std::string_view Message::header(std::string_view name) const {
  const Header* h = find_header(name);
  return h ? std::string_view(h->value) : std::string_view();
}

void Message::add_header(std::string_view name, std::string_view value) {
  headers.push_back(Header{std::string(canonical_header_name(name)), std::string(value)});
}

void Message::set_header(std::string_view name, std::string_view value) {
  remove_header(name);
  add_header(name, value);
}

void Message::remove_header(std::string_view name) {
  std::string_view canon = canonical_header_name(name);
  std::erase_if(headers, [&](const Header& h) { return iequals(h.name, canon); });
}

}  // namespace warmline::sip
