#include "server/shard_runtime.hpp"

#include <spdlog/spdlog.h>

#include "server/agent/dialect_agent_channel.hpp"

namespace warmline::server {

namespace {

const ListenAddress& sip_listen(const Config& c) { return c.server.sip_listen.front(); }

std::string advertised_host(const Config& c) {
  return c.server.public_address.empty() ? sip_listen(c).host : c.server.public_address;
}

}  // namespace

ShardRuntime::ShardRuntime(Shard& shard, ShardRuntimeOptions options)
    : shard_(shard),
      options_(std::move(options)),
      config_(*options_.config),
      timers_(shard.io()),
      ports_(options_.rtp_ports),
      clock_(media::MediaClock::Clock::now()),
      tick_timer_(shard.io()) {
  if (shard_.index() == 0) registrations_ = std::make_unique<TrunkRegistrations>(config_);
  if (shard_.index() == 0 && options_.trunk_health) pings_ = std::make_unique<TrunkPings>(config_, *options_.trunk_health);
}

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
  // The layer delivers to the router, which needs the context, which needs the layer: the layer's
  // handlers forward to the router's, filled in below (nothing arrives before start() returns).
  resolver_ = std::make_unique<sip::Resolver>(shard_.io(), sip::ResolverOptions{.servers = config_.server.dns_servers});
  if (auto ec = resolver_->start()) {  // check-config validated the entries: this is the system's resolv.conf
    spdlog::critical("shard {}: cannot start the DNS resolver: {}", shard_.index(), ec.message());
    return false;
  }
  layer_ = std::make_unique<sip::TransactionLayer>(*transport_, timers_,
                                                   sip::TransactionHandlers::forwarding_to(routed_));

  boost::asio::io_context& io = shard_.io();
  ctx_ = std::make_unique<CallContext>(CallContext{
      .shard = shard_, .config = config_, .sip = *layer_, .dialogs = dialogs_, .timers = timers_, .clock = clock_,
      .ports = ports_, .random = random_, .metrics = metrics_, .media_scratch = *media_scratch_, .speech = options_.speech,
      .sip_host = advertised_host(config_), .sip_port = listen.port,
      .media_ip = advertised_host(config_),
      .open_media = [&io](LegMediaOptions o, LegMediaHandlers h, std::error_code& ec) -> std::unique_ptr<MediaSession> {
        return LegMedia::open(io, std::move(o), std::move(h), ec);
      },
      .open_agent = [this](const AgentConfig& agent, AgentEvents events) -> std::unique_ptr<AgentChannel> {
        return open_agent_channel(shard_, agent, std::move(events));
      },
      .on_call_ended = {},
      .on_call_released = {},
      .records = options_.records,
      .shard_count = options_.shard_count,
      .resolver = resolver_.get(),
      .hold_music = options_.hold_music,
      .trunk_health = options_.trunk_health,
  });
  router_ = std::make_unique<SipRouter>(*ctx_, SipRouterOptions{.draining = options_.draining,
                                                                .node_calls = options_.node_calls,
                                                                .on_calls_changed = options_.on_calls_changed});
  routed_ = router_->handlers();
  if (registrations_) registrations_->start(*ctx_);
  if (pings_) pings_->start(*ctx_);
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
  if (router_) router_->clear();
  if (registrations_) registrations_->stop();  // their transactions and timers go with the layer
  if (pings_) pings_->stop();
  layer_.reset();
  resolver_.reset();  // its sockets and timers go while the io_context still runs their cancellations
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

std::vector<CallSnapshot> ShardRuntime::snapshots() const {
  return router_ ? router_->snapshots() : std::vector<CallSnapshot>{};
}

std::shared_ptr<Call> ShardRuntime::find(const std::string& id) const { return router_ ? router_->find(id) : nullptr; }

void ShardRuntime::hang_up_all(std::string_view reason) {
  if (router_) router_->hang_up_all(reason);
}

void ShardRuntime::unregister_trunks() {
  if (registrations_ && layer_) registrations_->unregister_all();
}

}  // namespace warmline::server
