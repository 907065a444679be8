#include "server/shard_runtime.hpp"

#include <spdlog/spdlog.h>

#include "server/targets.hpp"
#include "sip/builders.hpp"
#include "sip/parse_check.hpp"
#include "sip/sdp.hpp"
#include "sip/uri.hpp"

namespace warmline::server {

namespace {

const ListenAddress& sip_listen(const Config& c) { return c.server.sip_listen.front(); }

std::string advertised_host(const Config& c) {
  return c.server.public_address.empty() ? sip_listen(c).host : c.server.public_address;
}

sip::UasCapabilities uas_capabilities() {
  sip::UasCapabilities caps;
  // UPDATE (RFC 3311) is not taken: it may carry an SDP offer we would have to answer; 405 + Allow.
  caps.methods = {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REFER", "NOTIFY", "INFO"};
  // SDP for sessions, sipfrag for REFER progress (RFC 3515 §2.4.5), dtmf-relay for INFO digits.
  caps.content_types = {"application/sdp", "message/sipfrag", "application/dtmf-relay"};
  return caps;
}

}  // namespace

ShardRuntime::ShardRuntime(Shard& shard, ShardRuntimeOptions options)
    : shard_(shard),
      options_(std::move(options)),
      config_(*options_.config),
      timers_(shard.io()),
      ports_(options_.rtp_ports),
      clock_(media::MediaClock::Clock::now()),
      tick_timer_(shard.io()) {}

ShardRuntime::~ShardRuntime() = default;

bool ShardRuntime::start() {
  const ListenAddress& listen = sip_listen(config_);
  sip::UdpTransportOptions to;
  to.address = listen.host;
  to.port = listen.port;
  to.reuse_port = true;
  transport_ = std::make_unique<sip::UdpTransport>(
      shard_.io(), to, [this](sip::Message&& m, const sip::Endpoint& from) { options_.route(std::move(m), from); });
  if (auto ec = transport_->start()) {
    spdlog::critical("shard {}: cannot bind SIP udp:{}:{}: {}", shard_.index(), listen.host, listen.port, ec.message());
    return false;
  }
  sip::TransactionHandlers h;
  h.on_request = [this](sip::ServerTransaction& tx, const sip::Message& m) { on_request(tx, m); };
  h.on_ack = [this](const sip::Message& ack, const sip::Endpoint&) {
    if (Call* c = find_dialog(ack)) c->on_ack(ack);
  };
  h.on_cancel = [this](sip::ServerTransaction& tx, const sip::Message& cancel) {
    auto it = by_call_id_.find(cancel.call_id);
    if (it != by_call_id_.end()) it->second->on_cancel(tx);
    else tx.respond(487, "Request Terminated");
  };
  h.on_stray_response = [](const sip::Message&, const sip::Endpoint&) {};
  h.on_ack_timeout = [this](const sip::Message& invite, const sip::Message&) {
    auto it = by_call_id_.find(invite.call_id);
    if (it != by_call_id_.end()) it->second->on_ack_timeout();
  };
  layer_ = std::make_unique<sip::TransactionLayer>(*transport_, timers_, std::move(h));

  ctx_ = std::make_unique<CallContext>(CallContext{
      .shard = shard_, .config = config_, .sip = *layer_, .timers = timers_, .clock = clock_,
      .ports = ports_, .random = random_, .metrics = metrics_, .media_scratch = *media_scratch_, .speech = options_.speech,
      .sip_host = advertised_host(config_), .sip_port = listen.port,
      .media_ip = advertised_host(config_),
      .on_call_ended = [this](Call& c) { call_ended(c); },
      .on_call_released = [this](Call& c) { call_released(c); },
  });
  schedule_tick();
  return true;
}

// On the shard's thread, before its io_context is left to drain: calls first (their RTP ports go back
// to ports_ while it exists, their sockets close), then the SIP stack and its timers. What is still
// queued afterwards completes with operation_aborted and touches nothing of ours, so the io_context
// runs out of work by itself instead of being stopped with handlers that point at freed objects.
void ShardRuntime::stop() {
  stopped_ = true;
  tick_timer_.cancel();
  std::vector<std::shared_ptr<Call>> calls;
  for (auto& [id, c] : by_id_) calls.push_back(std::move(c));
  by_id_.clear();
  by_call_id_.clear();
  calls.clear();
  lingering_.clear();
  layer_.reset();
  if (transport_) transport_->stop();
  timers_.cancel_all();
}

// The shard's one media timer (DESIGN.md: no timer per call). Deadlines come from the clock, so a
// late tick does not shift the ones after it.
void ShardRuntime::schedule_tick() {
  tick_timer_.expires_at(clock_.next_deadline());
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    clock_.tick(media::MediaClock::Clock::now());
    const auto& s = clock_.stats();
    metrics_.media_ticks.store(s.ticks, std::memory_order_relaxed);
    metrics_.media_overruns.store(s.overruns, std::memory_order_relaxed);
    metrics_.media_worst_lag_us.store(std::chrono::duration_cast<std::chrono::microseconds>(s.worst_lag).count(),
                                      std::memory_order_relaxed);
    schedule_tick();
  });
}

void ShardRuntime::receive(sip::Message&& message, const sip::Endpoint& from) {
  if (layer_) layer_->receive(std::move(message), from);
}

Call* ShardRuntime::find_dialog(const sip::Message& m) {
  auto it = by_call_id_.find(m.call_id);
  if (it == by_call_id_.end()) return nullptr;
  return it->second.get();
}

void ShardRuntime::on_request(sip::ServerTransaction& tx, const sip::Message& req) {
  metrics_.sip_requests.fetch_add(1, std::memory_order_relaxed);
  if (auto rejection = sip::check_request_for_uas(req, uas_capabilities())) {
    sip::Message r = sip::make_response(req, rejection->status, rejection->reason);
    if (r.to.tag().empty()) r.to.set_tag(sip::new_tag(random_));
    for (auto& h : rejection->headers) r.add_header(h.name, h.value);
    tx.respond(std::move(r));
    return;
  }
  if (!req.to.tag().empty()) {  // in-dialog
    Call* call = find_dialog(req);
    if (!call) {
      tx.respond(481, "Call/Transaction Does Not Exist");
      return;
    }
    call->on_request(tx, req);
    return;
  }
  if (req.method == "INVITE") return on_invite(tx, req);
  if (req.method == "OPTIONS") return on_options(tx, req);
  if (req.method == "REFER") {
    tx.respond(403, "Forbidden - REFER not accepted", sip::new_tag(random_));
    return;
  }
  tx.respond(481, "Call/Transaction Does Not Exist", sip::new_tag(random_));
}

void ShardRuntime::on_options(sip::ServerTransaction& tx, const sip::Message& req) {
  // A draining node answers 503 so a Kamailio dispatcher in front of it stops sending calls.
  const bool draining = options_.draining && options_.draining->load(std::memory_order_relaxed);
  sip::Message r = sip::make_response(req, draining ? 503 : 200, draining ? "Service Unavailable" : "OK");
  r.to.set_tag(sip::new_tag(random_));
  r.add_header("Allow", kAllowedMethods);
  r.add_header("Accept", "application/sdp");
  r.add_header("Supported", "norefersub");
  tx.respond(std::move(r));
}

void ShardRuntime::on_invite(sip::ServerTransaction& tx, const sip::Message& invite) {
  auto reject = [&](int status, std::string_view reason) {
    metrics_.calls_rejected.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("shard {}: INVITE {} from {} rejected: {} {}", shard_.index(), invite.call_id,
                 tx.source() ? tx.source()->to_string() : "?", status, reason);
    sip::Message r = sip::make_response(invite, status, reason);
    r.to.set_tag(sip::new_tag(random_));
    if (status == 503) r.add_header("Retry-After", "5");
    tx.respond(std::move(r));
  };
  if (options_.draining && options_.draining->load(std::memory_order_relaxed))
    return reject(503, "Service Unavailable - draining");
  // DESIGN.md toll-fraud rules: calls come only from a configured trunk's source CIDRs.
  const sip::Endpoint* src = tx.source();
  auto ip = src ? parse_ip_address(src->host) : std::nullopt;
  const TrunkConfig* trunk = ip ? find_trunk_by_source(config_, *ip) : nullptr;
  if (!trunk) return reject(403, "Forbidden");
  if (by_call_id_.count(invite.call_id)) return reject(482, "Loop Detected");

  std::string user = sip::uri_unescape(invite.request_uri.user);
  const AgentConfig* agent = find_agent_for_number(config_, user);
  if (!agent) agent = find_agent_for_number(config_, sip::uri_unescape(invite.to.uri.user));
  if (!agent) return reject(404, "Not Found");

  if (invite.body.empty() || invite.content_type.find("application/sdp") == std::string::npos)
    return reject(488, "Not Acceptable Here - SDP offer required");
  auto offer = sip::parse_sdp(invite.body);
  if (!offer.sdp) return reject(400, "Bad Request - Malformed SDP");
  sip::LocalMediaCaps caps;
  caps.codecs = config_.media.codecs;
  caps.local_ip = ctx_->media_ip;
  caps.local_rtp_port = 1;  // replaced by the bound port once the call has one
  caps.session_id = random_.next() >> 1;
  caps.session_version = caps.session_id;
  auto answer = sip::negotiate_answer(*offer.sdp, caps);
  if (!answer.ok) return reject(answer.status_code ? answer.status_code : 488, answer.reason_phrase.empty() ? "Not Acceptable Here" : answer.reason_phrase);

  std::string id = "c" + std::to_string(shard_.index()) + "-" + random_.token(12);
  auto call = std::make_shared<Call>(*ctx_, *agent, id);
  by_id_[id] = call;
  by_call_id_[invite.call_id] = call;
  metrics_.calls_started.fetch_add(1, std::memory_order_relaxed);
  metrics_.calls_active.fetch_add(1, std::memory_order_relaxed);
  if (int status = call->start(tx, invite, answer, caps, trunk); status != 0) {
    by_id_.erase(id);
    by_call_id_.erase(invite.call_id);
    metrics_.calls_active.fetch_sub(1, std::memory_order_relaxed);
    return reject(status, sip::reason_phrase(status));
  }
}

void ShardRuntime::call_ended(Call& call) {
  auto it = by_id_.find(call.id());
  if (it == by_id_.end()) return;
  lingering_.push_back(it->second);
  by_call_id_.erase(call.sip_call_id());
  by_id_.erase(it);
  metrics_.calls_active.fetch_sub(1, std::memory_order_relaxed);
  if (options_.on_calls_changed) options_.on_calls_changed();
}

void ShardRuntime::call_released(Call& call) {
  // Called from inside the call: the last reference is dropped from a fresh stack frame.
  Call* target = &call;
  shard_.post([this, target] {
    std::erase_if(lingering_, [target](const std::shared_ptr<Call>& c) { return c.get() == target; });
  });
}

std::vector<CallSnapshot> ShardRuntime::snapshots() const {
  std::vector<CallSnapshot> out;
  out.reserve(by_id_.size());
  for (const auto& [id, call] : by_id_) out.push_back(call->snapshot());
  return out;
}

std::shared_ptr<Call> ShardRuntime::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

void ShardRuntime::hang_up_all(std::string_view reason) {
  std::vector<std::shared_ptr<Call>> calls;
  for (auto& [id, c] : by_id_) calls.push_back(c);
  for (auto& c : calls) c->hangup(reason);
}

}  // namespace warmline::server
