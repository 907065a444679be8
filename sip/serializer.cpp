#include "sip/serializer.hpp"

#include <charconv>

#include "sip/uri.hpp"

namespace warmline::sip {
namespace {

void append_number(std::string& out, uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

void append_start_line(std::string& out, const Message& m) {
  if (m.is_request) {
    out += m.method;
    out += ' ';
    append_uri(out, m.request_uri);
    out += " SIP/2.0\r\n";
    return;
  }
  out += "SIP/2.0 ";
  append_number(out, static_cast<uint64_t>(m.status_code));
  out += ' ';
  out += m.reason;
  out += "\r\n";
}

void append_addr_lines(std::string& out, std::string_view name, const std::vector<NameAddr>& list) {
  for (const auto& a : list) {
    out += name;
    out += ": ";
    append_name_addr(out, a);
    out += "\r\n";
  }
}

void append_addr(std::string& out, std::string_view name, const NameAddr& addr) {
  if (addr.uri.scheme.empty()) return;
  out += name;
  out += ": ";
  append_name_addr(out, addr);
  out += "\r\n";
}

void append_dialog_headers(std::string& out, const Message& m) {
  append_addr(out, "From", m.from);
  append_addr(out, "To", m.to);
  if (!m.call_id.empty()) {
    out += "Call-ID: ";
    out += m.call_id;
    out += "\r\n";
  }
  if (!m.cseq.method.empty()) {
    out += "CSeq: ";
    append_number(out, m.cseq.number);
    out += ' ';
    out += m.cseq.method;
    out += "\r\n";
  }
}

}  // namespace

void serialize_to(const Message& m, std::string& out) {
  append_start_line(out, m);
  for (const auto& via : m.vias) {
    out += "Via: ";
    append_via(out, via);
    out += "\r\n";
  }
  if (m.max_forwards) {
    out += "Max-Forwards: ";
    append_number(out, *m.max_forwards);
    out += "\r\n";
  }
  append_addr_lines(out, "Route", m.routes);
  append_addr_lines(out, "Record-Route", m.record_routes);
  append_dialog_headers(out, m);
  if (m.contact_star) out += "Contact: *\r\n";
  append_addr_lines(out, "Contact", m.contacts);
  if (!m.content_type.empty()) {
    out += "Content-Type: ";
    out += m.content_type;
    out += "\r\n";
  }
  for (const auto& h : m.headers) {
    if (iequals(h.name, "Content-Length")) continue;  // derived from body below, never trusted
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += "Content-Length: ";
  append_number(out, m.body.size());
  out += "\r\n\r\n";
  out += m.body;
}

std::string serialize(const Message& message) {
  std::string out;
  out.reserve(512 + message.body.size());
  serialize_to(message, out);
  return out;
}

}  // namespace warmline::sip
