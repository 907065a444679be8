#include "sip/usage/invite_client_messages.hpp"

#include <boost/asio/ip/address.hpp>

#include "sip/builders.hpp"

namespace warmline::sip {

Message make_invite(const InviteRequestFields& f) {
  Message m;
  m.method = "INVITE";
  m.request_uri = f.request_uri;
  m.from = f.from;
  m.to = f.to;
  m.call_id = f.call_id;
  m.cseq = CSeq{f.cseq, "INVITE"};
  m.max_forwards = 70;
  // §8.1.1.8: "The Contact header field MUST be present and contain exactly one SIP or SIPS URI in any
  // request that can result in the establishment of a dialog."
  m.contacts.push_back(f.contact);
  if (!f.allow.empty()) m.add_header("Allow", f.allow);
  if (!f.supported.empty()) m.add_header("Supported", f.supported);
  for (const auto& h : f.extra_headers) m.add_header(h.name, h.value);
  if (!f.sdp_offer.empty()) {
    m.content_type = "application/sdp";
    m.body = f.sdp_offer;
  }
  return m;
}

Message make_2xx_ack(const Dialog& dialog, const Message& invite) {
  Message ack = dialog.make_ack(invite.cseq.number);
  for (const auto& h : invite.headers)
    if (iequals(h.name, "Authorization") || iequals(h.name, "Proxy-Authorization")) ack.add_header(h.name, h.value);
  return ack;
}

Message make_dialog_response(const Message& request, int status, std::string_view reason,
                             const NameAddr& local_contact) {
  Message r = make_response(request, status, reason);
  if (status >= 200 && status < 300 && !local_contact.uri.scheme.empty()) r.contacts.push_back(local_contact);
  return r;
}

bool has_sdp(const Message& m) {
  if (m.body.empty()) return false;
  std::string_view type = m.content_type;
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return iequals(type, "application/sdp");
}

bool is_ip_literal(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return false;
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(std::string(host), ec);
  return !ec;
}

std::optional<Endpoint> endpoint_of(const Uri& uri) {
  if (!uri.is_sip() || !is_ip_literal(uri.host)) return std::nullopt;
  Endpoint e;
  e.host = uri.host;
  if (e.host.size() > 2 && e.host.front() == '[') e.host = e.host.substr(1, e.host.size() - 2);
  e.port = uri.port ? uri.port : (uri.scheme == "sips" ? 5061 : 5060);
  return e;
}

}  // namespace warmline::sip
