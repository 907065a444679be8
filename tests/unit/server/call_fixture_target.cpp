// The target's side of the call fixture (call_fixture.hpp, Target): the far end of a leg warmline
// dials. Its messages are handed to the transaction layer as if they came from the server the INVITE
// went to, like the caller's are.
#include <algorithm>
#include <stdexcept>

#include "call_fixture.hpp"
#include "sip/builders.hpp"

namespace warmline::server {

namespace {

// The RTP port an SDP offer names on its first m= line, 0 when there is none.
uint16_t offered_port(std::string_view sdp) {
  const auto at = sdp.find("m=audio ");
  if (at == std::string_view::npos) return 0;
  return static_cast<uint16_t>(std::strtoul(std::string(sdp.substr(at + 8, 6)).c_str(), nullptr, 10));
}

}  // namespace

std::vector<const sip::Message*> CallFixture::invites_to(const sip::Endpoint& at) const {
  std::vector<const sip::Message*> out;
  for (const auto& s : transport.sent()) {
    const sip::Message& m = s.message;
    if (!m.is_request || m.method != "INVITE" || !(s.to == at)) continue;
    const bool again = std::any_of(out.begin(), out.end(), [&](const sip::Message* o) {
      return !o->vias.empty() && !m.vias.empty() && o->vias.front().branch() == m.vias.front().branch();
    });
    if (!again) out.push_back(&m);
  }
  return out;
}

std::optional<Target> CallFixture::dialled(const sip::Endpoint& at) {
  auto invites = invites_to(at);
  if (invites.empty()) return std::nullopt;
  Target t;
  t.at = at;
  t.invite = *invites.back();
  // One tag per leg: a retried INVITE (digest) reaches the same target.
  t.tag = "target-tag-" + t.invite.call_id.substr(0, t.invite.call_id.find('@'));
  const uint16_t port = offered_port(t.invite.body);
  for (const auto& log : media_logs)
    if (port != 0 && log->port == port) t.media = log;
  return t;
}

std::string CallFixture::target_sdp(const Target& t, std::string_view formats) {
  return sdp(t.at.host, 50000, "sendrecv", formats);
}

void CallFixture::respond(Target& t, int status, TargetReply reply) {
  sip::Message r = sip::make_response(t.invite, status, sip::reason_phrase(status));
  if (status != 100) r.to.set_tag(t.tag);
  if (status > 100 && status < 300) {
    sip::NameAddr contact;
    contact.uri.scheme = "sip";
    contact.uri.user = "target";
    contact.uri.host = t.at.host;
    contact.uri.port = t.at.port;
    r.contacts.push_back(contact);
  }
  for (const auto& h : reply.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos) throw std::runtime_error("a header without ':': " + h);
    std::string_view value = std::string_view(h).substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.add_header(h.substr(0, colon), value);
  }
  if (!reply.sdp.empty()) {
    r.content_type = "application/sdp";
    r.body = reply.sdp;
  }
  deliver(std::move(r), t.at);
}

void CallFixture::challenge(Target& t, int status, std::string_view nonce, std::string_view realm) {
  const std::string name = status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate";
  respond(t, status,
          TargetReply().header(name + ": Digest realm=\"" + std::string(realm) + "\", nonce=\"" + std::string(nonce) +
                               "\", algorithm=MD5, qop=\"auth\""));
}

void CallFixture::reply(const Target& t, const sip::Message& our_request, int status) {
  sip::Message r = sip::make_response(our_request, status, sip::reason_phrase(status));
  if (r.to.tag().empty()) r.to.set_tag(t.tag);
  deliver(std::move(r), t.at);
}

void CallFixture::challenge(const Target& t, const sip::Message& our_request, int status, std::string_view nonce,
                            std::string_view realm, bool stale) {
  sip::Message r = digest_challenge(our_request, status, nonce, realm, stale);
  if (r.to.tag().empty()) r.to.set_tag(t.tag);
  deliver(std::move(r), t.at);
}

void CallFixture::answer_cancel(Target& t) {
  auto cancels = requests(t, "CANCEL");
  ASSERT_FALSE(cancels.empty()) << "no CANCEL was sent to the target";
  const sip::Message cancel = *cancels.back();
  reply(t, cancel, 200);
  respond(t, 487);
}

void CallFixture::target_request(Target& t, std::string_view method, std::string_view sdp,
                                 std::optional<sip::Endpoint> from, std::vector<std::string> headers) {
  ASSERT_FALSE(t.invite.contacts.empty()) << "the INVITE has no Contact";
  const sip::Endpoint src = from.value_or(t.at);
  sip::Message m;
  m.is_request = true;
  m.method = std::string(method);
  m.request_uri = t.invite.contacts.front().uri;  // our Contact: the remote target of the target's requests
  sip::Via via;
  via.host = src.host;
  via.port = src.port;
  sip::set_param(via.params, "branch", "z9hG4bK-tgt" + std::to_string(next_branch_++));
  m.vias.push_back(via);
  m.max_forwards = 70;
  m.from = t.invite.to;
  m.from.set_tag(t.tag);
  m.to = t.invite.from;
  m.call_id = t.invite.call_id;
  m.cseq = sip::CSeq{method == "ACK" ? t.cseq : ++t.cseq, std::string(method)};
  sip::NameAddr contact;
  contact.uri.scheme = "sip";
  contact.uri.user = "target";
  contact.uri.host = t.at.host;
  contact.uri.port = t.at.port;
  if (method != "BYE" && method != "ACK") m.contacts.push_back(contact);
  if (!sdp.empty()) {
    m.content_type = "application/sdp";
    m.body = std::string(sdp);
  }
  for (const auto& h : headers) {
    const auto colon = h.find(':');
    m.add_header(h.substr(0, colon), colon == std::string::npos ? "" : std::string_view(h).substr(colon + 2));
  }
  deliver(std::move(m), src);
}

std::vector<const sip::Message*> CallFixture::requests(const Target& t, std::string_view method) const {
  return requests_in(t.call_id(), method);
}

std::vector<std::string> CallFixture::sent_since(const Target& t, size_t from) const {
  return sent_since(t.call_id(), from);
}

}  // namespace warmline::server
