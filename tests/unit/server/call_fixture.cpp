#include "call_fixture.hpp"

#include <algorithm>
#include <stdexcept>

#include "sip/builders.hpp"

namespace warmline::server {

Config load_call_test_config() {
  auto loaded = load_config_text(kCallTestConfig, "call_fixture.toml",
                                 [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  if (!loaded.ok()) {
    std::string all;
    for (const auto& e : loaded.errors) all += format_config_error(e) + "\n";
    throw std::runtime_error("the call test config does not load:\n" + all);
  }
  return *loaded.config;
}

CallFixture::CallFixture()
    : ctx{.shard = shard,
          .config = config,
          .sip = layer,
          .dialogs = dialogs,
          .timers = timers,
          .clock = clock,
          .ports = ports,
          .random = random,
          .metrics = metrics,
          .media_scratch = *scratch,
          .speech = &speech,
          .sip_host = kLocal.host,
          .sip_port = kLocal.port,
          .media_ip = kLocal.host,
          .open_media = [this](LegMediaOptions o, LegMediaHandlers h, std::error_code&) -> std::unique_ptr<MediaSession> {
            auto log = std::make_shared<fake::MediaLog>();
            log->options = o;
            log->port = static_cast<uint16_t>(40000 + 2 * media_logs.size());
            media_logs.push_back(log);
            return std::make_unique<fake::FakeMediaSession>(log, std::move(h));
          },
          .open_agent = [this](const AgentConfig&, AgentEvents events) -> std::unique_ptr<AgentChannel> {
            auto log = std::make_shared<fake::AgentLog>();
            agent_logs.push_back(log);
            return std::make_unique<fake::FakeAgentChannel>(shard, log, std::move(events));
          },
          .on_call_ended = {},
          .on_call_released = {},
          .records = &record_sink} {
  shard.adopt_current_thread();  // the test's thread is the shard's: every on_shard() assertion holds
  router = std::make_unique<SipRouter>(
      ctx, SipRouterOptions{.draining = &draining, .node_calls = &node_calls, .invite_rate = &node_rate,
                            .on_calls_changed = {}});
  routed = router->handlers();
}

// The calls go first, while the registry, the layer and the timers they unregister from still exist.
// What they posted is never run: the shard's io_context discards it when the fixture goes.
CallFixture::~CallFixture() { router.reset(); }

sip::TransactionHandlers CallFixture::forwarders() {
  // The layer exists before the router (the router's context needs the layer), as in ShardRuntime.
  return sip::TransactionHandlers::forwarding_to(routed);
}

sip::Message CallFixture::parse(std::string head, std::string_view content_type, std::string_view body) {
  std::string text;
  for (char ch : head) {
    if (ch == '\n') text += "\r\n";
    else text += ch;
  }
  if (!text.ends_with("\r\n")) text += "\r\n";
  if (!content_type.empty()) text += "Content-Type: " + std::string(content_type) + "\r\n";
  text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  text += body;
  auto parsed = sip::parse_message(text);
  if (!parsed.ok()) throw std::runtime_error("test message does not parse: " + parsed.reason + "\n" + text);
  return std::move(*parsed.message);
}

std::string CallFixture::sdp(std::string_view ip, uint16_t port, std::string_view direction, std::string_view formats) {
  std::string s = "v=0\r\no=caller 1 1 IN IP4 " + std::string(ip) + "\r\ns=-\r\nc=IN IP4 " + std::string(ip) +
                  "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " RTP/AVP " + std::string(formats) + "\r\n";
  auto has = [&](std::string_view pt) {
    std::string f = " " + std::string(formats) + " ";
    return f.find(" " + std::string(pt) + " ") != std::string::npos;
  };
  if (has("0")) s += "a=rtpmap:0 PCMU/8000\r\n";
  if (has("8")) s += "a=rtpmap:8 PCMA/8000\r\n";
  if (has("9")) s += "a=rtpmap:9 G722/8000\r\n";
  if (has("101")) s += "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n";
  s += "a=" + std::string(direction) + "\r\n";
  return s;
}

void CallFixture::deliver(sip::Message m, const sip::Endpoint& from) {
  layer.receive(std::move(m), from);
  settle();
}

void CallFixture::settle() {
  auto& io = shard.io();
  io.restart();
  for (int i = 0; i < 10'000 && io.poll_one() > 0; ++i) {
  }
}

void CallFixture::advance(std::chrono::milliseconds by) {
  // In slices, so that work a timer posts runs before the next timer falls due, as on a real shard.
  constexpr std::chrono::milliseconds kSlice{100};
  while (by > 0ms) {
    auto step = std::min(by, kSlice);
    timers.advance(step);
    settle();
    by -= step;
  }
}

Caller CallFixture::make_caller(std::string_view number, sip::Endpoint at) {
  Caller c;
  c.number = number;
  c.at = std::move(at);
  const int n = next_call_++;
  c.call_id = "call-" + std::to_string(n) + "@carrier.example";
  c.from_tag = "caller-tag-" + std::to_string(n);
  return c;
}

void CallFixture::invite(Caller& c, InviteOptions options) {
  std::string head = "INVITE sip:" + c.number + "@192.0.2.10:5060 SIP/2.0\n" +
                     "Via: SIP/2.0/UDP " + c.at.to_string() + ";branch=z9hG4bK-inv" + std::to_string(next_branch_++) +
                     "\nMax-Forwards: " + options.max_forwards + "\n" +
                     "From: " + options.from + ";tag=" + c.from_tag + "\n" +
                     "To: <sip:" + c.number + "@192.0.2.10>\n" + "Call-ID: " + c.call_id + "\n" +
                     "CSeq: 1 INVITE\n" + "Contact: <sip:+27115550123@" + c.at.to_string() + ">\n";
  for (const auto& rr : options.record_routes) head += "Record-Route: " + rr + "\n";
  for (const auto& h : options.extra_headers) head += h + "\n";
  const std::string body = options.sdp ? *options.sdp : sdp();
  c.invite = parse(head, body.empty() ? "" : "application/sdp", body);
  c.cseq = 1;
  const size_t agents_before = agent_logs.size(), media_before = media_logs.size();
  deliver(c.invite, c.at);
  if (agent_logs.size() > agents_before) {
    c.agent = agent_logs.back();
    c.id = c.agent->call.id;
  }
  if (media_logs.size() > media_before) c.media = media_logs.back();
  learn_to_tag(c);
}

void CallFixture::learn_to_tag(Caller& c) const {
  if (!c.to_tag.empty()) return;
  for (const auto& s : transport.sent()) {
    const sip::Message& m = s.message;
    if (!m.is_request && m.call_id == c.call_id && m.cseq.method == "INVITE" && !m.to.tag().empty()) {
      c.to_tag = std::string(m.to.tag());
      return;
    }
  }
}

sip::Message CallFixture::in_dialog(Caller& c, std::string_view method, InDialog o) {
  learn_to_tag(c);
  const sip::Endpoint from = o.from.value_or(c.at);
  const uint32_t cseq = o.cseq ? *o.cseq : ++c.cseq;
  const std::string to_tag = o.to_tag.value_or(c.to_tag);  // "": a request outside any dialog
  std::string head = std::string(method) + " sip:192.0.2.10:5060 SIP/2.0\n" + "Via: SIP/2.0/UDP " +
                     from.to_string() + ";branch=z9hG4bK-dlg" + std::to_string(next_branch_++) + "\n" +
                     "Max-Forwards: 70\n" + "From: <sip:+27115550123@carrier.example>;tag=" +
                     o.from_tag.value_or(c.from_tag) + "\n" + "To: <sip:" + c.number +
                     "@192.0.2.10>" + (to_tag.empty() ? "" : ";tag=" + to_tag) + "\n" + "Call-ID: " + c.call_id + "\n" +
                     "CSeq: " + std::to_string(cseq) + " " + std::string(method) + "\n" +
                     "Contact: <sip:+27115550123@" + from.to_string() + ">\n";
  for (const auto& h : o.headers) head += h + "\n";
  return parse(head, o.content_type, o.body);
}

void CallFixture::send(Caller& c, std::string_view method, InDialog options) {
  const sip::Endpoint from = options.from.value_or(c.at);
  deliver(in_dialog(c, method, std::move(options)), from);
}

void CallFixture::ack(Caller& c, std::string_view sdp_answer, std::optional<sip::Endpoint> from, uint32_t cseq) {
  learn_to_tag(c);
  const sip::Endpoint src = from.value_or(c.at);
  // §17.1.1.3: the ACK for a 2xx is a new transaction (new branch) with the INVITE's CSeq number.
  std::string head = "ACK sip:192.0.2.10:5060 SIP/2.0\nVia: SIP/2.0/UDP " + src.to_string() +
                     ";branch=z9hG4bK-ack" + std::to_string(next_branch_++) + "\n" + "Max-Forwards: 70\n" +
                     "From: <sip:+27115550123@carrier.example>;tag=" + c.from_tag + "\n" + "To: <sip:" + c.number +
                     "@192.0.2.10>;tag=" + c.to_tag + "\n" + "Call-ID: " + c.call_id + "\n" + "CSeq: " + std::to_string(cseq) + " ACK\n";
  deliver(parse(head, sdp_answer.empty() ? "" : "application/sdp", sdp_answer), src);
}

void CallFixture::cancel(Caller& c, std::optional<sip::Endpoint> from) {
  // §9.1: the INVITE's Request-URI, Call-ID, From, To (no tag), CSeq number and top Via (its branch).
  sip::Message m = c.invite;
  m.method = "CANCEL";
  m.cseq.method = "CANCEL";
  m.contacts.clear();
  m.content_type.clear();
  m.body.clear();
  m.record_routes.clear();
  deliver(std::move(m), from.value_or(c.at));
}

void CallFixture::reply(const Caller& c, const sip::Message& our_request, int status, std::string_view reason) {
  sip::Message r = sip::make_response(our_request, status, reason.empty() ? sip::reason_phrase(status) : reason);
  deliver(std::move(r), c.at);
}

sip::Message CallFixture::digest_challenge(const sip::Message& request, int status, std::string_view nonce,
                                           std::string_view realm, bool stale) {
  sip::Message r = sip::make_response(request, status, sip::reason_phrase(status));
  r.add_header(status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate",
               "Digest realm=\"" + std::string(realm) + "\", nonce=\"" + std::string(nonce) +
                   "\", algorithm=MD5, qop=\"auth\"" + (stale ? ", stale=true" : ""));
  return r;
}

void CallFixture::challenge(const Caller& c, const sip::Message& our_request, int status, std::string_view nonce,
                            std::string_view realm, bool stale) {
  deliver(digest_challenge(our_request, status, nonce, realm, stale), c.at);
}

void CallFixture::notify(Caller& c, uint32_t refer_cseq, int status, std::string_view reason, bool terminated) {
  send(c, "NOTIFY",
       InDialog()
           .header("Event: refer;id=" + std::to_string(refer_cseq))
           .header(terminated ? "Subscription-State: terminated;reason=noresource"
                              : "Subscription-State: active;expires=60")
           .with_body("message/sipfrag", "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\r\n"));
}

Caller CallFixture::active_call(std::string_view number) {
  Caller c = make_caller(number);
  invite(c);
  EXPECT_TRUE(c.agent) << "no agent channel was opened for the call";
  if (!c.agent) return c;
  c.agent->open();
  settle();
  ack(c);
  auto k = call(c);
  EXPECT_TRUE(k && k->state() == CallState::kActive) << "the call did not become active";
  return c;
}

std::vector<int> CallFixture::statuses(const Caller& c, std::string_view method) const {
  std::vector<int> out;
  for (const auto& s : transport.sent())
    if (!s.message.is_request && s.message.call_id == c.call_id && s.message.cseq.method == method)
      out.push_back(s.message.status_code);
  return out;
}

const sip::Message* CallFixture::last_response(const Caller& c, std::string_view method) const {
  const sip::Message* found = nullptr;
  for (const auto& s : transport.sent())
    if (!s.message.is_request && s.message.call_id == c.call_id && s.message.cseq.method == method) found = &s.message;
  return found;
}

std::vector<const sip::Message*> CallFixture::requests(const Caller& c, std::string_view method) const {
  return requests_in(c.call_id, method);
}

std::vector<const sip::Message*> CallFixture::requests_in(std::string_view call_id, std::string_view method) const {
  // One entry per transaction: a retransmission carries the same branch as the first send.
  std::vector<const sip::Message*> out;
  for (const auto& s : transport.sent()) {
    const sip::Message& m = s.message;
    if (!m.is_request || m.call_id != call_id || m.method != method) continue;
    const bool again = std::any_of(out.begin(), out.end(), [&](const sip::Message* o) {
      return !o->vias.empty() && !m.vias.empty() && o->vias.front().branch() == m.vias.front().branch();
    });
    if (!again) out.push_back(&m);
  }
  return out;
}

const sip::Message* CallFixture::last_request(const Caller& c, std::string_view method) const {
  auto all = requests(c, method);
  return all.empty() ? nullptr : all.back();
}

const sip::Endpoint* CallFixture::destination_of(const sip::Message* sent) const {
  for (const auto& s : transport.sent())
    if (&s.message == sent) return &s.to;
  return nullptr;
}

std::vector<std::string> CallFixture::refer_targets(const Caller& c) const {
  std::vector<std::string> out;
  for (const auto* r : requests(c, "REFER")) out.emplace_back(r->header("Refer-To"));
  return out;
}

std::vector<std::string> CallFixture::sent_since(const Caller& c, size_t from) const {
  return sent_since(c.call_id, from);
}

std::vector<std::string> CallFixture::sent_since(std::string_view call_id, size_t from) const {
  std::vector<std::string> out;
  const auto& sent = transport.sent();
  for (size_t i = from; i < sent.size(); ++i) {
    const sip::Message& m = sent[i].message;
    if (m.call_id != call_id) continue;
    out.push_back(m.is_request ? m.method : std::to_string(m.status_code) + " " + m.cseq.method);
  }
  return out;
}

ai::TransferRequest CallFixture::transfer(std::vector<std::string> targets, std::string id) {
  ai::TransferRequest r;
  r.id = std::move(id);
  r.targets = std::move(targets);
  return r;
}

}  // namespace warmline::server
