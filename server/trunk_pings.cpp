#include "server/trunk_pings.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>

#include "server/call_context.hpp"
#include "server/leg/outbound_leg.hpp"
#include "sip/builders.hpp"
#include "sip/usage/invite_client_messages.hpp"

namespace warmline::server {

namespace {

// §8.1.3.1: the transaction layer answers a timeout (Timer F) with 408 and a transport failure with
// 503, made from our request: no To tag. A server's own 408 or 503 carries its tag (§8.2.6.2) and
// counts as an answer.
bool made_up_by_layer(const sip::Message& r) {
  return (r.status_code == 408 || r.status_code == 503) && r.to.tag().empty();
}

// §11.1: an OPTIONS outside any dialog; From and To name the trunk, the layer adds Via.
sip::Message make_ping(CallContext& ctx, const TrunkConfig& trunk) {
  sip::Message m;
  m.is_request = true;
  m.method = "OPTIONS";
  m.request_uri.scheme = "sip";
  m.request_uri.host = uri_host(trunk.address.host);
  m.request_uri.port = trunk.address.port;
  m.to.uri = m.request_uri;
  m.from.uri.scheme = "sip";
  m.from.uri.user = trunk.username.empty() ? std::string("warmline") : trunk.username;
  m.from.uri.host = m.request_uri.host;
  m.from.set_tag(sip::new_tag(ctx.random));
  m.call_id = call_id_for_shard(ctx);  // this is shard 0: the answer comes back here
  m.cseq = sip::CSeq{1, "OPTIONS"};
  m.max_forwards = 70;
  m.add_header("Accept", "application/sdp");
  return m;
}

}  // namespace

std::string_view to_string(PingState state) {
  switch (state) {
    case PingState::kUnknown: return "unknown";
    case PingState::kUp: return "up";
    case PingState::kDown: return "down";
  }
  return "unknown";
}

TrunkPings::TrunkPings(const Config& config, TrunkHealth& health) : config_(config), health_(health) {
  for (const TrunkConfig& t : config_.trunks) {
    Entry e;
    e.trunk = &t;
    e.gauge = health_.gauge(t.name);  // null unless the trunk has pings and an address
    entries_.push_back(std::move(e));
  }
}

TrunkPings::~TrunkPings() { stop(); }

void TrunkPings::start(CallContext& ctx, PingLocate locate) {
  assert(ctx.shard.on_shard());
  ctx_ = &ctx;
  locate_ = locate ? std::move(locate)
                   : PingLocate([this](const TrunkConfig& t, PingLocateDone done) { locate_default(t, std::move(done)); });
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i].gauge) continue;
    spdlog::info("trunk {}: OPTIONS pings to {} every {} s", entries_[i].trunk->name,
                 address_text(entries_[i].trunk->address), entries_[i].trunk->ping_interval_s);
    round(i);
  }
}

void TrunkPings::stop() {
  alive_ = std::make_shared<bool>(true);  // the old flag dies: pending answers and lookups are ignored
  for (Entry& e : entries_) {
    if (ctx_ && e.timer != sip::kNoTimer) ctx_->timers.cancel(e.timer);
    e.timer = sip::kNoTimer;
    for (Server& s : e.servers) s.in_flight = false;
    if (e.gauge) e.gauge->up.store(0, std::memory_order_relaxed);
  }
  ctx_ = nullptr;
}

// One round: find the servers, ping each, and schedule the next round an interval from now.
void TrunkPings::round(size_t index) {
  Entry& e = entries_[index];
  e.timer = sip::kNoTimer;
  std::weak_ptr<bool> alive = alive_;
  e.timer = ctx_->timers.schedule(std::chrono::seconds(e.trunk->ping_interval_s), [this, alive, index] {
    if (!alive.expired()) round(index);
  });
  locate_(*e.trunk, [this, alive, index](std::vector<sip::Endpoint> servers, std::string error) {
    if (!alive.expired() && ctx_) on_located(index, std::move(servers), error);
  });
}

void TrunkPings::on_located(size_t index, std::vector<sip::Endpoint> found, const std::string& error) {
  Entry& e = entries_[index];
  if (found.empty()) {
    // DNS failed: keep pinging the servers we knew (their state is still worth having); with none,
    // calls through the trunk cannot go anywhere either.
    if (e.servers.empty()) {
      e.status = 0;
      e.reason = "no servers: " + error;
      update_trunk(e);
      return;
    }
    spdlog::debug("trunk {}: {}; pinging the servers found before", e.trunk->name, error);
  } else {
    // The new list, in its order; a server seen before keeps its state (and its ping in flight).
    std::vector<Server> next;
    next.reserve(found.size());
    for (sip::Endpoint& at : found) {
      auto it = std::find_if(e.servers.begin(), e.servers.end(), [&](const Server& s) { return s.at == at; });
      if (std::any_of(next.begin(), next.end(), [&](const Server& s) { return s.at == at; })) continue;
      next.push_back(it != e.servers.end() ? *it : Server{std::move(at)});
    }
    for (const Server& old : e.servers)
      if (std::none_of(next.begin(), next.end(), [&](const Server& s) { return s.at == old.at; }))
        health_.set_down(e.trunk->name, old.at, false);  // no longer a server of the trunk
    e.servers = std::move(next);
  }
  for (Server& s : e.servers)
    if (!s.in_flight) ping(index, s);
  update_trunk(e);
}

void TrunkPings::ping(size_t index, Server& server) {
  server.in_flight = true;
  std::weak_ptr<bool> alive = alive_;
  const sip::Endpoint at = server.at;
  // A transport failure is answered (503) from inside send_request.
  ctx_->sip.send_request(make_ping(*ctx_, *entries_[index].trunk), at, [this, alive, index, at](const sip::Message& r) {
    if (!alive.expired() && ctx_) on_answer(index, at, r);
  });
}

void TrunkPings::on_answer(size_t index, const sip::Endpoint& at, const sip::Message& r) {
  if (r.status_code < 200) return;
  Entry& e = entries_[index];
  auto it = std::find_if(e.servers.begin(), e.servers.end(), [&](const Server& s) { return s.at == at; });
  if (it == e.servers.end()) return;  // dropped from the list since
  it->in_flight = false;
  it->status = r.status_code;
  e.status = r.status_code;
  e.reason = made_up_by_layer(r) ? (r.status_code == 408 ? "no answer" : "cannot send") : r.reason;
  set_server(e, *it, made_up_by_layer(r) ? PingState::kDown : PingState::kUp);
  update_trunk(e);
}

void TrunkPings::set_server(Entry& e, Server& s, PingState state) {
  if (s.state == state) return;
  s.state = state;
  health_.set_down(e.trunk->name, s.at, state == PingState::kDown);
  if (state == PingState::kUp)
    spdlog::info("trunk {}: server {} is up ({} to OPTIONS)", e.trunk->name, s.at.to_string(), s.status);
  else
    spdlog::warn("trunk {}: server {} is down ({})", e.trunk->name, s.at.to_string(), e.reason);
}

void TrunkPings::update_trunk(Entry& e) {
  PingState state = PingState::kUnknown;
  if (std::any_of(e.servers.begin(), e.servers.end(), [](const Server& s) { return s.state == PingState::kUp; }))
    state = PingState::kUp;
  else if (e.servers.empty() ? !e.reason.empty()
                             : std::all_of(e.servers.begin(), e.servers.end(),
                                           [](const Server& s) { return s.state == PingState::kDown; }))
    state = PingState::kDown;
  e.gauge->up.store(state == PingState::kUp ? 1 : 0, std::memory_order_relaxed);
  if (state == e.state) return;
  e.state = state;
  e.changed_at = std::chrono::system_clock::now();
  if (state == PingState::kUp) spdlog::info("trunk {}: up (answers OPTIONS)", e.trunk->name);
  else if (state == PingState::kDown) spdlog::warn("trunk {}: down ({})", e.trunk->name, e.reason);
}

void TrunkPings::locate_default(const TrunkConfig& trunk, PingLocateDone done) {
  const std::string& host = trunk.address.host;
  const uint16_t port = trunk.address.port;
  const sip::TargetTransport transport = to_target_transport(trunk.transport);
  if (sip::is_ip_literal(host))
    return done({sip::Endpoint{host, port ? port : sip::default_port(transport), to_protocol(trunk.transport)}}, "");
  if (!ctx_->resolver) return done({}, "no resolver for " + host);
  ctx_->resolver->resolve(sip::ResolveRequest{.host = host, .port = port, .transport = transport,
                                              .secure = trunk.transport == Transport::tls},
                          [done = std::move(done), host, transport](sip::ResolveResult r) {
                            std::vector<sip::Endpoint> servers;
                            for (const sip::Target& t : r.targets)
                              if (t.transport == transport) {
                                servers.push_back(t.endpoint());
                                servers.back().tls_name = host;  // RFC 5922 §7.3
                              }
                            if (servers.empty())
                              return done({}, host + ": " + (r.error ? r.error.message() : "no servers for the trunk's transport"));
                            done(std::move(servers), "");
                          });
}

std::vector<TrunkPingView> TrunkPings::snapshot() const {
  assert(!ctx_ || ctx_->shard.on_shard());
  std::vector<TrunkPingView> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) {
    TrunkPingView v;
    v.pings = e.gauge != nullptr;
    if (v.pings) {
      v.state = std::string(to_string(e.state));
      v.changed_at = e.changed_at;
      v.status = e.status;
      v.reason = e.reason;
      for (const Server& s : e.servers)
        v.servers.push_back(PingServerView{s.at.to_string(), std::string(to_string(s.state)), s.status});
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace warmline::server
