#include "sip/transaction_layer.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "sip/transaction/invite_client.hpp"
#include "sip/transaction/invite_server.hpp"
#include "sip/transaction/keys.hpp"
#include "sip/transaction/non_invite_client.hpp"
#include "sip/transaction/non_invite_server.hpp"

namespace warmline::sip {

using transaction::TxId;

// §13.3.1.4: "The 2xx response is passed to the transport with an interval that starts at T1 seconds
// and doubles for each retransmission until it reaches T2 seconds ... until the ACK is received ... If
// the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the dialog is
// confirmed, but the session SHOULD be terminated."
struct TransactionLayer::Pending2xx {
  Message invite;
  Message response;
  Endpoint to;  // where the 2xx goes: the INVITE's connection over a stream (§18.2.2)
  std::chrono::milliseconds interval{0};
  TimerId retransmit = kNoTimer;
  TimerId give_up = kNoTimer;
};

class TransactionLayer::Guard {
 public:
  explicit Guard(TransactionLayer& layer) : layer_(layer) { ++layer_.depth_; }
  ~Guard() {
    if (--layer_.depth_ == 0) layer_.collect_garbage();
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

 private:
  TransactionLayer& layer_;
};

namespace {

// Pending 2xx are keyed by what an ACK for them carries: Call-ID, CSeq number and From tag.
std::string ack_key(const Message& m) {
  return m.call_id + '\n' + std::to_string(m.cseq.number) + '\n' + std::string(m.from.tag());
}

// A stateless answer's To tag: the same for every retransmission of the request (RFC 3261 §8.2.6.2),
// so it is derived from it, not drawn.
std::string stateless_tag(const Message& request) {
  const size_t h = std::hash<std::string>{}(request.call_id + '\n' + std::string(request.vias.front().branch()));
  char out[17];
  std::snprintf(out, sizeof out, "%016zx", h);
  return std::string("sl") + out;
}

// An IP literal with or without IPv6 brackets (a transport's peer address has none).
bool same_host(std::string_view a, std::string_view b) {
  auto bare = [](std::string_view h) {
    return h.size() > 2 && h.front() == '[' && h.back() == ']' ? h.substr(1, h.size() - 2) : h;
  };
  return bare(a) == bare(b);
}

}  // namespace

TransactionLayer::TransactionLayer(Transport& transport, TimerService& timers, Handlers handlers,
                                   TimerConfig config)
    : env_{transport, timers, config, [this](TxId id, int slot) { on_timer(id, slot); },
           [this](const Message& r, const Endpoint& from) {
             if (handlers_.on_stray_response) handlers_.on_stray_response(r, from);
           }},
      handlers_(std::move(handlers)) {}

TransactionLayer::~TransactionLayer() {
  for (auto& [key, p] : pending_2xx_) {
    env_.timers.cancel(p->retransmit);
    env_.timers.cancel(p->give_up);
  }
  // Transactions cancel their own timers in their destructors.
  clients_.clear();
  servers_.clear();
}

TransactionHandlers TransactionHandlers::forwarding_to(const TransactionHandlers& t) {
  TransactionHandlers h;
  h.on_request = [&t](ServerTransaction& tx, const Message& m) { t.on_request(tx, m); };
  h.on_ack = [&t](const Message& ack, const Endpoint& from) { return t.on_ack(ack, from); };
  h.on_cancel = [&t](ServerTransaction& tx, const Message& m, const Endpoint& from) { t.on_cancel(tx, m, from); };
  h.on_stray_response = [&t](const Message& r, const Endpoint& from) { t.on_stray_response(r, from); };
  h.on_ack_timeout = [&t](const Message& i, const Message& r) { t.on_ack_timeout(i, r); };
  h.screen = [&t](const Message& m, const Endpoint& from) { return t.screen ? t.screen(m, from) : 0; };
  return h;
}

void TransactionLayer::receive(Message&& message, const Endpoint& from) {
  Guard guard(*this);
  if (message.vias.empty()) return;  // unmatchable and unanswerable (§8.2.6.2 needs the Via)
  if (tap_) tap_(message, false);
  if (!message.is_request) return receive_response(message, from);
  if (handlers_.screen && message.to.tag().empty() && message.method != "ACK") {
    if (const int status = handlers_.screen(message, from); status != 0) {
      if (status > 0) {
        Message r = make_response(message, status, {});
        r.to.set_tag(stateless_tag(message));
        (void)env_.transport.send(r, reply_destination(r.vias.front(), from));
      }
      return;
    }
  }
  if (message.method == "ACK") return receive_ack(message, from);
  if (message.method == "CANCEL") return receive_cancel(std::move(message), from);

  TxId id = 0;
  if (Server* server = find_server(transaction::server_key(message), &id)) {
    server->tx->on_request(message);  // a retransmission (§17.2.3)
    return reap_server(id);
  }
  id = add_server(std::move(message), from);
  ServerTransaction handle(this, id);
  if (handlers_.on_request) handlers_.on_request(handle, servers_.at(id).tx->request());
  reap_server(id);
}

void TransactionLayer::receive_response(const Message& response, const Endpoint& from) {
  auto it = client_index_.find(transaction::client_key(response));
  if (it == client_index_.end()) {
    if (handlers_.on_stray_response) handlers_.on_stray_response(response, from);
    return;
  }
  TxId id = it->second;
  clients_.at(id).tx->on_response(response, from);
  // The TU may have started or cancelled transactions from its handler: look the client up again.
  auto c = clients_.find(id);
  if (c != clients_.end() && c->second.cancel_pending && c->second.tx->cancellable()) send_cancel(c->second);
  reap_client(id);
}

void TransactionLayer::receive_ack(const Message& ack, const Endpoint& from) {
  TxId id = 0;
  Server* server = find_server(transaction::server_key(ack), &id);
  if (server && server->is_invite) {
    auto* invite = static_cast<transaction::InviteServerTx*>(server->tx.get());
    using transaction::invite_server::State;
    if (invite->state() == State::kCompleted || invite->state() == State::kConfirmed) {
      invite->on_request(ack);  // ACK for a non-2xx final: part of the INVITE transaction (§17.2.1)
      return reap_server(id);
    }
  }
  // An ACK for a 2xx is its own transaction (§17.1.1.3): pass it up; the 2xx retransmission stops
  // once the TU has taken it as its peer's.
  if (handlers_.on_ack && !handlers_.on_ack(ack, from)) return;
  auto p = pending_2xx_.find(ack_key(ack));
  if (p != pending_2xx_.end()) {
    env_.timers.cancel(p->second->retransmit);
    env_.timers.cancel(p->second->give_up);
    pending_2xx_.erase(p);
  }
}

void TransactionLayer::receive_cancel(Message&& cancel, const Endpoint& from) {
  TxId id = 0;
  if (Server* own = find_server(transaction::server_key(cancel), &id)) {
    own->tx->on_request(cancel);  // CANCEL retransmission
    return reap_server(id);
  }
  // §9.2: the CANCEL matches the INVITE with the same branch and sent-by.
  TxId invite_id = 0;
  Server* invite = find_server(transaction::server_key_as(cancel, "INVITE"), &invite_id);
  id = add_server(std::move(cancel), from);
  auto& cancel_tx = *servers_.at(id).tx;
  if (!invite) {
    // "If the UAS did not find a matching transaction for the CANCEL ..., it SHOULD respond to the
    // CANCEL with a 481 (Call Leg/Transaction Does Not Exist)."
    cancel_tx.respond(make_response(cancel_tx.request(), 481, {}));
    return reap_server(id);
  }
  // "the To tag of the response to the CANCEL and the To tag in the response to the original request
  // SHOULD be the same."
  Message ok = make_response(cancel_tx.request(), 200, {});
  const Message* invite_response = invite->tx->last_response();
  if (invite_response && !invite_response->to.tag().empty()) ok.to.set_tag(invite_response->to.tag());
  cancel_tx.respond(std::move(ok));
  Message cancel_copy = cancel_tx.request();
  reap_server(id);
  if (invite->tx->awaiting_final() && handlers_.on_cancel) {
    ServerTransaction handle(this, invite_id);
    handlers_.on_cancel(handle, cancel_copy, from);
  }
}

TransactionLayer::Server* TransactionLayer::find_server(const std::string& key, TxId* id) {
  if (key.empty()) return nullptr;
  auto it = server_index_.find(key);
  if (it == server_index_.end()) return nullptr;
  *id = it->second;
  return &servers_.at(it->second);
}

TxId TransactionLayer::add_server(Message&& request, const Endpoint& from) {
  TxId id = next_id_++;
  std::string key = transaction::server_key(request);
  bool is_invite = request.method == "INVITE";
  Server server{nullptr, key, is_invite};
  if (is_invite) {
    auto tx = std::make_unique<transaction::InviteServerTx>(env_, id, std::move(request), from);
    tx->start();
    server.tx = std::move(tx);
  } else {
    server.tx = std::make_unique<transaction::NonInviteServerTx>(env_, id, std::move(request), from);
  }
  server_index_[key] = id;
  servers_.emplace(id, std::move(server));
  return id;
}

size_t TransactionLayer::transport_failed(const Endpoint& to, std::string_view why,
                                         std::chrono::steady_clock::time_point when) {
  Guard guard(*this);
  // Collected first: a TU's 503 handler may start new transactions (the next server).
  std::vector<TxId> hit;
  for (auto& [id, client] : clients_) {
    const Endpoint& d = client.tx->destination();
    if (d.protocol == to.protocol && d.port == to.port && same_host(d.host, to.host) && client.started <= when &&
        client.tx->awaiting_response())
      hit.push_back(id);
  }
  for (TxId id : hit) {
    auto it = clients_.find(id);
    if (it == clients_.end()) continue;
    it->second.tx->transport_failed(why);
    reap_client(id);
  }
  return hit.size();
}

ClientTransactionId TransactionLayer::send_request(Message request, const Endpoint& to, ResponseHandler handler) {
  if (request.method == "ACK") {
    (void)send_ack(std::move(request), to);
    return 0;
  }
  Guard guard(*this);
  prepare_outgoing(request, to);
  std::string key = transaction::client_key(request);
  while (client_index_.contains(key)) {  // a reused branch would cross-match responses
    set_param(request.vias.front().params, "branch", new_branch(random_));
    key = transaction::client_key(request);
  }
  TxId id = next_id_++;
  Client client;
  client.key = key;
  client.started = env_.timers.now();
  if (request.method == "INVITE")
    client.tx = std::make_unique<transaction::InviteClientTx>(env_, id, std::move(request), to, std::move(handler));
  else
    client.tx = std::make_unique<transaction::NonInviteClientTx>(env_, id, std::move(request), to, std::move(handler));
  if (tap_) tap_(client.tx->request(), true);
  client_index_[key] = id;
  auto& tx = *clients_.emplace(id, std::move(client)).first->second.tx;
  tx.start();
  reap_client(id);
  return id;
}

void TransactionLayer::prepare_outgoing(Message& request, const Endpoint& to) {
  if (request.vias.empty()) {
    Endpoint local = env_.transport.local_for(to);
    Via via;
    via.transport = std::string(env_.transport.via_transport_for(to));
    via.host = local.host.find(':') != std::string::npos ? "[" + local.host + "]" : local.host;
    via.port = local.port;
    request.vias.push_back(std::move(via));
  }
  Via& top = request.vias.front();
  if (top.branch().empty()) {
    set_param(top.params, "branch", new_branch(random_));
    // RFC 3581 §3: ask for the source port so responses come back through NAT.
    if (!find_param(top.params, "rport")) top.params.push_back(Param{"rport", "", false});
  }
  if (!request.max_forwards) request.max_forwards = 70;
  if (request.cseq.method.empty()) request.cseq.method = request.method;
}

std::error_code TransactionLayer::send_ack(Message ack, const Endpoint& to) {
  prepare_outgoing(ack, to);
  if (tap_) tap_(ack, true);
  return env_.transport.send(ack, to);
}

bool TransactionLayer::cancel(ClientTransactionId id) {
  Guard guard(*this);
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.tx->request().method != "INVITE") return false;
  auto* invite = static_cast<transaction::InviteClientTx*>(it->second.tx.get());
  using transaction::invite_client::State;
  if (invite->state() == State::kCalling) {
    // §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent; rather,
    // the client MUST wait for the arrival of a provisional response before sending the request."
    it->second.cancel_pending = true;
    return true;
  }
  if (!invite->cancellable()) return false;
  send_cancel(it->second);
  return true;
}

void TransactionLayer::send_cancel(Client& client) {
  client.cancel_pending = false;
  // §9.1: same Request-URI, Call-ID, To, From, CSeq number, top Via (so the same branch) and Route.
  Message cancel = make_cancel(client.tx->request());
  static_cast<transaction::InviteClientTx*>(client.tx.get())->guard_cancel();
  Endpoint to = client.tx->destination();
  // The CANCEL's own final response changes nothing for the TU: the INVITE's 487 (or 2xx) does.
  send_request(std::move(cancel), to, nullptr);
}

void TransactionLayer::on_timer(TxId id, int slot) {
  Guard guard(*this);
  if (auto c = clients_.find(id); c != clients_.end()) {
    c->second.tx->on_timer(slot);
    return reap_client(id);
  }
  if (auto s = servers_.find(id); s != servers_.end()) {
    s->second.tx->on_timer(slot);
    reap_server(id);
  }
}

void TransactionLayer::collect_garbage() {
  for (TxId id : dead_clients_) {
    auto it = clients_.find(id);
    if (it == clients_.end() || !it->second.tx->terminated()) continue;
    client_index_.erase(it->second.key);
    clients_.erase(it);
  }
  dead_clients_.clear();
  for (TxId id : dead_servers_) {
    auto it = servers_.find(id);
    if (it == servers_.end() || !it->second.tx->terminated()) continue;
    auto idx = server_index_.find(it->second.key);
    if (idx != server_index_.end() && idx->second == id) server_index_.erase(idx);
    servers_.erase(it);
  }
  dead_servers_.clear();
}

bool TransactionLayer::server_respond(uint64_t id, Message response) {
  Guard guard(*this);
  auto it = servers_.find(id);
  if (it == servers_.end()) return false;
  bool start_2xx = it->second.is_invite && transaction::is_success(response.status_code) &&
                   it->second.tx->awaiting_final();
  if (!it->second.tx->respond(response)) return false;
  if (tap_) tap_(response, true);
  if (start_2xx) start_2xx_retransmission(it->second.tx->request(), response, it->second.tx->source());
  reap_server(id);
  return true;
}

void TransactionLayer::start_2xx_retransmission(const Message& invite, const Message& response,
                                                const Endpoint& source) {
  std::string key = ack_key(invite);
  auto p = std::make_unique<Pending2xx>();
  p->invite = invite;
  p->response = response;
  p->to = reply_destination(response.vias.front(), source);
  p->interval = env_.config.t1;
  p->retransmit = env_.timers.schedule(p->interval, [this, key] { retransmit_2xx(key); });
  p->give_up = env_.timers.schedule(env_.config.timeout(), [this, key] { give_up_2xx(key); });
  if (auto old = pending_2xx_.find(key); old != pending_2xx_.end()) {
    env_.timers.cancel(old->second->retransmit);
    env_.timers.cancel(old->second->give_up);
  }
  pending_2xx_[key] = std::move(p);
}

void TransactionLayer::retransmit_2xx(const std::string& key) {
  auto it = pending_2xx_.find(key);
  if (it == pending_2xx_.end()) return;
  Pending2xx& p = *it->second;
  p.interval = std::min(2 * p.interval, env_.config.t2);
  p.retransmit = env_.timers.schedule(p.interval, [this, key] { retransmit_2xx(key); });
  (void)env_.transport.send(p.response, p.to);
}

void TransactionLayer::give_up_2xx(const std::string& key) {
  Guard guard(*this);
  auto it = pending_2xx_.find(key);
  if (it == pending_2xx_.end()) return;
  std::unique_ptr<Pending2xx> p = std::move(it->second);
  pending_2xx_.erase(it);
  env_.timers.cancel(p->retransmit);
  if (handlers_.on_ack_timeout) handlers_.on_ack_timeout(p->invite, p->response);
}

// ServerTransaction handle -------------------------------------------------------------------------

bool ServerTransaction::valid() const { return layer_ && layer_->servers_.contains(id_); }

const Message* ServerTransaction::request() const {
  if (!layer_) return nullptr;
  auto it = layer_->servers_.find(id_);
  return it == layer_->servers_.end() ? nullptr : &it->second.tx->request();
}

const Endpoint* ServerTransaction::source() const {
  if (!layer_) return nullptr;
  auto it = layer_->servers_.find(id_);
  return it == layer_->servers_.end() ? nullptr : &it->second.tx->source();
}

bool ServerTransaction::respond(Message response) {
  return layer_ && layer_->server_respond(id_, std::move(response));
}

bool ServerTransaction::respond(int status, std::string_view reason, std::string_view to_tag) {
  const Message* req = request();
  if (!req) return false;
  Message response = make_response(*req, status, reason);
  if (!to_tag.empty()) response.to.set_tag(to_tag);
  return respond(std::move(response));
}

}  // namespace warmline::sip
