#include "sip/dialog.hpp"

#include <functional>

#include "sip/uri.hpp"

namespace warmline::sip {

DialogId DialogId::of_incoming(const Message& m) {
  if (m.is_request) return {m.call_id, std::string(m.to.tag()), std::string(m.from.tag())};
  return {m.call_id, std::string(m.from.tag()), std::string(m.to.tag())};
}

DialogId DialogId::of_outgoing(const Message& m) {
  if (m.is_request) return {m.call_id, std::string(m.from.tag()), std::string(m.to.tag())};
  return {m.call_id, std::string(m.to.tag()), std::string(m.from.tag())};
}

size_t DialogIdHash::operator()(const DialogId& id) const noexcept {
  std::hash<std::string> h;
  size_t seed = h(id.call_id);
  seed ^= h(id.local_tag) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  seed ^= h(id.remote_tag) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  return seed;
}

Dialog Dialog::from_uas(const Message& invite, std::string local_tag, const NameAddr& local_contact) {
  Dialog d;
  // §12.1.1: "The route set MUST be set to the list of URIs in the Record-Route header field from the
  // request, taken in order ... The remote target MUST be set to the URI from the Contact header field
  // of the request." The remote sequence number is the request's CSeq; the local one is empty.
  d.call_id = invite.call_id;
  d.local_tag = std::move(local_tag);
  d.remote_tag = std::string(invite.from.tag());
  d.local_uri = invite.to.uri;
  d.remote_uri = invite.from.uri;
  if (!invite.contacts.empty()) d.remote_target = invite.contacts.front().uri;
  d.local_contact = local_contact;
  d.route_set = invite.record_routes;
  d.remote_cseq = invite.cseq.number;
  // "If the request arrived over TLS, and the Request-URI contained a SIPS URI, the "secure" flag is
  // set to TRUE." (The transport check belongs to the caller; a sips Request-URI implies TLS here.)
  d.secure = invite.request_uri.scheme == "sips";
  return d;
}

Dialog Dialog::from_uac(const Message& request, const Message& response) {
  Dialog d;
  // §12.1.2: "The route set MUST be set to the list of URIs in the Record-Route header field from the
  // response, taken in reverse order ... The remote target MUST be set to the URI from the Contact
  // header field of the response." The local sequence number is the request's CSeq; the remote one
  // is empty.
  d.call_id = request.call_id;
  d.local_tag = std::string(request.from.tag());
  d.remote_tag = std::string(response.to.tag());
  d.local_uri = request.from.uri;
  d.remote_uri = request.to.uri;
  if (!response.contacts.empty()) d.remote_target = response.contacts.front().uri;
  if (!request.contacts.empty()) d.local_contact = request.contacts.front();
  d.route_set.assign(response.record_routes.rbegin(), response.record_routes.rend());
  d.local_cseq = request.cseq.number;
  d.secure = request.request_uri.scheme == "sips";
  return d;
}

void Dialog::fill_request_uri_and_routes(Message& request) const {
  // §12.2.1.1: "If the route set is empty, the UAC MUST place the remote target URI into the
  // Request-URI." "If the route set is not empty, and the first URI in the route set contains the lr
  // parameter, the UAC MUST place the remote target URI into the Request-URI and MUST include a Route
  // header field containing the route set values in order."
  if (route_set.empty() || find_param(route_set.front().uri.params, "lr")) {
    request.request_uri = remote_target;
    request.routes = route_set;
    return;
  }
  // Strict routing: "the UAC MUST place the first URI from the route set into the Request-URI,
  // stripping any parameters that are not allowed in a Request-URI ... [and] place the remote target
  // URI into the Route header field as the last value."
  request.request_uri = route_set.front().uri;
  // §19.1.1 Table 1: the method parameter and URI headers are not allowed in a Request-URI.
  std::erase_if(request.request_uri.params, [](const Param& p) { return iequals(p.name, "method"); });
  request.request_uri.headers.clear();
  request.routes.assign(route_set.begin() + 1, route_set.end());
  NameAddr target;
  target.uri = remote_target;
  request.routes.push_back(std::move(target));
}

Message Dialog::base_request(std::string_view method, uint32_t cseq) const {
  Message m;
  m.method = std::string(method);
  fill_request_uri_and_routes(m);
  m.from.uri = local_uri;
  m.from.set_tag(local_tag);
  m.to.uri = remote_uri;
  if (!remote_tag.empty()) m.to.set_tag(remote_tag);
  m.call_id = call_id;
  m.cseq = CSeq{cseq, std::string(method)};
  m.max_forwards = 70;
  return m;
}

Message Dialog::make_request(std::string_view method) {
  // §12.2.1.1: "The CSeq number MUST be ... the local sequence number incremented by one" (an empty
  // local sequence number starts here at 1).
  local_cseq = local_cseq ? *local_cseq + 1 : 1;
  Message m = base_request(method, *local_cseq);
  if (!local_contact.uri.scheme.empty()) m.contacts.push_back(local_contact);
  return m;
}

Message Dialog::make_ack(uint32_t invite_cseq) const {
  // §13.2.2.4: "The sequence number of the CSeq header field MUST be the same as the INVITE being
  // acknowledged, but the CSeq method MUST be ACK."
  return base_request("ACK", invite_cseq);
}

bool Dialog::matches(const Message& message) const { return DialogId::of_incoming(message) == id(); }

bool Dialog::accept_remote_cseq(uint32_t cseq) {
  // §12.2.2: "If the remote sequence number is empty, it MUST be set to the value of the sequence
  // number in the CSeq header field value in the request. If the remote sequence number was not empty,
  // but the sequence number of the request is lower than the remote sequence number, the request is
  // out of order and MUST be rejected with a 500 (Server Internal Error) response."
  if (remote_cseq && cseq < *remote_cseq) return false;
  remote_cseq = cseq;
  return true;
}

Endpoint Dialog::next_hop() const {
  if (flow) return *flow;
  const Uri& uri = route_set.empty() ? remote_target : route_set.front().uri;
  Endpoint hop;
  hop.host = uri.host;
  if (hop.host.size() > 2 && hop.host.front() == '[' && hop.host.back() == ']')
    hop.host = hop.host.substr(1, hop.host.size() - 2);
  // §19.1.2 / RFC 3263: a maddr parameter overrides the host; no port means the scheme's default.
  if (const Param* maddr = find_param(uri.params, "maddr"); maddr && !maddr->value.empty()) hop.host = maddr->value;
  hop.port = uri.port ? uri.port : (uri.scheme == "sips" ? 5061 : 5060);
  hop.protocol = uri_protocol(uri);
  return hop;
}

void Dialog::refresh_target(const Message& message) {
  if (!message.contacts.empty()) remote_target = message.contacts.front().uri;
}

}  // namespace warmline::sip
