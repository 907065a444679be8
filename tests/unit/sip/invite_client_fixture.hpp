// Fixture for the outbound INVITE session: a TransactionLayer on the loopback transport and a fake
// clock, a DialogRegistry with the routing the shard's TU does (server/sip_router.cpp, plus the
// find_by_local_tag fallback for a new fork's stray 2xx), and the test itself as the observer. The
// test plays the far end: it reads what the session sent from the transport and injects responses and
// requests through the layer, each one serialized and parsed again as it would cross the wire.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sip/builders.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"
#include "sip/testing/fake_timer.hpp"
#include "sip/testing/loopback_transport.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/usage/invite_client_session.hpp"

namespace warmline::sip {

using namespace std::chrono_literals;

inline constexpr std::string_view kOffer =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=warmline\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
inline constexpr std::string_view kAnswer =
    "v=0\r\no=- 7 7 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
    "m=audio 50000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

class InviteClientFixture : public ::testing::Test, public InviteClientObserver {
 protected:
  struct Failed {
    int status = 0;
    std::string reason;
    int response_status = 0;
    bool cancelled = false;
    bool answered_after_cancel = false;
    bool local = false;
    bool responded = false;
    std::vector<NameAddr> contacts;
  };
  struct Progress {
    int status = 0;
    std::string remote_tag;
    std::optional<std::string> early_sdp;
  };

  InviteClientFixture() = default;

  // --- the TU, as the shard routes ---------------------------------------------------------------
  TransactionHandlers handlers() {
    TransactionHandlers h;
    h.on_request = [this](ServerTransaction& tx, const Message& req) {
      if (!req.to.tag().empty())
        if (auto* usage = registry.find(DialogId::of_incoming(req))) return usage->on_request(tx, req);
      Message r = make_response(req, 481, {});
      if (r.to.tag().empty()) r.to.set_tag("tu-tag");
      tx.respond(std::move(r));
    };
    h.on_ack = [this](const Message& ack, const Endpoint& from) {
      if (auto* usage = registry.find(DialogId::of_incoming(ack))) return usage->on_ack(ack, from);
      return true;
    };
    h.on_cancel = [](ServerTransaction& tx, const Message&, const Endpoint&) { tx.respond(487, {}, "tu-tag"); };
    h.on_stray_response = [this](const Message& r, const Endpoint& from) {
      if (r.cseq.method != "INVITE" || r.status_code < 200 || r.status_code >= 300) return;
      DialogUsage* usage = registry.find(DialogId::of_incoming(r));
      if (!usage) usage = registry.find_by_local_tag(r.call_id, r.from.tag());
      if (usage) usage->on_2xx_retransmission(r, from);
    };
    h.on_ack_timeout = [this](const Message& invite, const Message&) {
      if (auto* usage = registry.find_by_remote_tag(invite.call_id, invite.from.tag())) usage->on_ack_timeout();
    };
    return h;
  }

  // --- the session -------------------------------------------------------------------------------
  InviteClientOptions options() const {
    InviteClientOptions o;
    o.call_id = "uac-1@192.0.2.10";
    o.request_uri.scheme = "sip";
    o.request_uri.user = "+27115550100";
    o.request_uri.host = "trunk.example";
    o.from.display = "Warmline";
    o.from.uri.scheme = "sip";
    o.from.uri.user = "+27115550999";
    o.from.uri.host = "192.0.2.10";
    o.from.set_tag("our-tag");
    o.to.uri = o.request_uri;
    o.contact.uri.scheme = "sip";
    o.contact.uri.user = "wl";
    o.contact.uri.host = "192.0.2.10";
    o.contact.uri.port = 5060;
    o.extra_headers = {{"P-Asserted-Identity", "<sip:+27215550123@carrier.example>"},
                       {"Privacy", "id"},
                       {"X-Case", "42"}};
    o.next_hop = trunk;
    o.sdp_offer = std::string(kOffer);
    o.allow = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, REFER, NOTIFY";
    o.supported = "norefersub";
    o.from_peer = [this](const Endpoint& e) { return e == trunk; };
    return o;
  }

  void start(InviteClientOptions o) {
    session = std::make_unique<InviteClientSession>(layer, registry, random, *this, std::move(o));
    session->start();
  }
  void start() { start(options()); }

  // --- the far end -------------------------------------------------------------------------------
  // The INVITE as it reached the wire (with the layer's Via).
  const Message& sent_invite() const {
    for (const auto& s : transport.sent())
      if (s.message.is_request && s.message.method == "INVITE") return s.message;
    throw std::logic_error("no INVITE sent");
  }
  // The callee's response to our INVITE from fork `tag`, with its Contact and the proxies' Record-Route.
  Message response(int status, std::string_view tag = "fork-a", std::string_view body = {}) const {
    Message r = make_response(sent_invite(), status, {});
    if (status > 100 && !tag.empty()) r.to.set_tag(tag);
    if (status > 100 && status < 300) {
      NameAddr contact;
      contact.uri.scheme = "sip";
      contact.uri.user = "bob";
      contact.uri.host = "203.0.113.5";
      contact.uri.port = 5070;
      r.contacts.push_back(contact);
      r.record_routes = record_route;
    }
    if (!body.empty()) {
      r.content_type = "application/sdp";
      r.body = std::string(body);
    }
    return r;
  }
  // A request from the far end inside the dialog with fork `tag` (Via, Contact: the callee).
  Message far_request(std::string method, uint32_t cseq, std::string_view tag = "fork-a") {
    Message m;
    m.method = method;
    m.request_uri = options().contact.uri;
    Via via;
    via.host = "203.0.113.5";
    via.port = 5070;
    set_param(via.params, "branch", new_branch(random));
    m.vias.push_back(via);
    m.from.uri = options().to.uri;
    m.from.set_tag(tag);
    m.to.uri = options().from.uri;
    m.to.set_tag("our-tag");
    m.call_id = options().call_id;
    m.cseq = CSeq{cseq, method};
    m.max_forwards = 70;
    NameAddr contact;
    contact.uri.scheme = "sip";
    contact.uri.user = "bob";
    contact.uri.host = "203.0.113.5";
    contact.uri.port = 5070;
    m.contacts.push_back(contact);
    return m;
  }
  static void with_sdp(Message& m, std::string_view sdp) {
    m.content_type = "application/sdp";
    m.body = std::string(sdp);
  }
  // Delivers a message as if it crossed the wire from `from` (serialized and parsed again).
  void deliver(const Message& m, std::optional<Endpoint> from = std::nullopt) {
    ParseResult parsed = parse_message(serialize(m));
    ASSERT_TRUE(parsed.ok()) << parsed.reason;
    layer.receive(std::move(*parsed.message), from.value_or(trunk));
  }
  // The far end's answer to the last request we sent with `method`.
  void answer_last(std::string_view method, int status) {
    const Message* req = last_sent(method);
    ASSERT_NE(req, nullptr);
    Message r = make_response(*req, status, {});
    deliver(r);
  }

  const Message* last_sent(std::string_view method) const {
    for (auto it = transport.sent().rbegin(); it != transport.sent().rend(); ++it)
      if (it->message.is_request && it->message.method == method) return &it->message;
    return nullptr;
  }
  const testing::LoopbackTransport::Sent* last_sent_entry(std::string_view method) const {
    for (auto it = transport.sent().rbegin(); it != transport.sent().rend(); ++it)
      if (it->message.is_request && it->message.method == method) return &*it;
    return nullptr;
  }
  // The last response we sent to a request with `method`.
  const Message* last_response(std::string_view method) const {
    for (auto it = transport.sent().rbegin(); it != transport.sent().rend(); ++it)
      if (!it->message.is_request && it->message.cseq.method == method) return &it->message;
    return nullptr;
  }
  std::vector<int> statuses(std::string_view method) const {
    std::vector<int> out;
    for (const auto& s : transport.sent())
      if (!s.message.is_request && s.message.cseq.method == method) out.push_back(s.message.status_code);
    return out;
  }

  // An answered call on fork-a: 100, 180, 200 (with the answer), ACKed.
  void answered_call() {
    start();
    deliver(response(100));
    deliver(response(180));
    deliver(response(200, "fork-a", kAnswer));
    ASSERT_EQ(session->state(), InviteClientSession::State::kConfirmed);
  }

  // --- InviteClientObserver: everything is recorded ----------------------------------------------
  void on_progress(InviteClientSession&, const InviteProgress& p) override {
    Progress copy{p.status, std::string(p.remote_tag), std::nullopt};
    if (p.early_sdp) copy.early_sdp = std::string(*p.early_sdp);
    progress.push_back(copy);
    after_callback("progress");
  }
  void on_answered(InviteClientSession&, const Message& r, std::string_view sdp) override {
    answered.push_back(std::string(sdp));
    answered_status = r.status_code;
    after_callback("answered");
  }
  void on_failed(InviteClientSession&, const InviteFailure& f) override {
    failed.push_back(Failed{f.status, std::string(f.reason), f.response ? f.response->status_code : 0, f.cancelled,
                            f.answered_after_cancel, f.local, f.responded, {f.contacts.begin(), f.contacts.end()}});
    after_callback("failed");
  }
  void on_bye(InviteClientSession&, const Message&) override {
    ++byes;
    after_callback("bye");
  }
  std::optional<std::string> on_offer(InviteClientSession&, const Message& request) override {
    offers.push_back(request);
    after_callback("offer");
    return offer_reply;
  }
  void on_offer_answer(InviteClientSession&, std::string_view sdp) override {
    offer_answers.push_back(std::string(sdp));
  }
  void on_dtmf(InviteClientSession&, char digit, uint32_t ms) override { dtmf.emplace_back(digit, ms); }
  void on_terminated(InviteClientSession&, InviteEnd end) override {
    ended.push_back(end);
    after_callback("terminated");
  }
  void after_callback(std::string_view what) {
    events.emplace_back(what);
    if (destroy_on == what) session.reset();
  }

  testing::FakeTimerService timers;
  testing::LoopbackTransport transport{{"192.0.2.10", 5060}};
  DialogRegistry registry;
  RandomSource random{7};
  Endpoint trunk{"198.51.100.7", 5060};
  Endpoint stranger{"203.0.113.66", 5060};
  // Proxies on the way, as the callee's response lists them: nearest the callee first.
  std::vector<NameAddr> record_route = [] {
    std::vector<NameAddr> rr(2);
    rr[0].uri.scheme = rr[1].uri.scheme = "sip";
    rr[0].uri.host = "203.0.113.20";
    rr[1].uri.host = "198.51.100.7";
    rr[0].uri.params.push_back(Param{"lr", "", false});
    rr[1].uri.params.push_back(Param{"lr", "", false});
    return rr;
  }();
  TransactionLayer layer{transport, timers, handlers()};
  std::unique_ptr<InviteClientSession> session;

  std::vector<std::string> events;
  std::vector<Progress> progress;
  std::vector<std::string> answered;
  int answered_status = 0;
  std::vector<Failed> failed;
  int byes = 0;
  std::vector<Message> offers;
  std::optional<std::string> offer_reply = std::string(kOffer);
  std::vector<std::string> offer_answers;
  std::vector<std::pair<char, uint32_t>> dtmf;
  std::vector<InviteEnd> ended;
  std::string destroy_on;  // an event name: the observer destroys the session inside that callback
};

}  // namespace warmline::sip
