#include "server/shard_runtime.hpp"

#include <spdlog/spdlog.h>

#include "server/agent/dialect_agent_channel.hpp"
#include "server/stream_relay.hpp"

namespace warmline::server {

namespace {

const ListenAddress& sip_listen(const Config& c) {
  const ListenAddress* udp = find_listen(c.server, Transport::udp);
  return udp ? *udp : c.server.sip_listen.front();
}

constexpr Transport kStreamTransports[] = {Transport::tcp, Transport::tls};

// A stream transport runs when the node listens on it or a trunk uses it.
bool stream_needed(const Config& c, Transport t) {
  if (find_listen(c.server, t)) return true;
  for (const TrunkConfig& trunk : c.trunks)
    if (trunk.transport == t) return true;
  return false;
}

// The certificate checks of a TLS connection we open: those of the trunk whose address (its host name,
// carried as the endpoint's tls_name, or its IP literal) it is, else the defaults: the system's CAs and
// the name we were asked to reach.
sip::TlsClientOptions tls_client_for(const Config& c, const sip::Endpoint& to) {
  for (const TrunkConfig& trunk : c.trunks) {
    if (trunk.transport != Transport::tls) continue;
    if (trunk.address.host != to.host && trunk.address.host != to.tls_name) continue;
    return sip::TlsClientOptions{.verify = trunk.tls_verify, .ca_file = trunk.tls_ca, .server_name = trunk.address.host};
  }
  sip::TlsClientOptions defaults;
  defaults.server_name = to.tls_name;
  return defaults;
}

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
      clock_(media::MediaClock::Clock::now(), std::chrono::milliseconds(20), config_.media.tick_slots),
      tick_timer_(shard.io()) {
  if (config_.media.rtp_io == RtpIo::batched) {
    media_io_ = std::make_unique<rtp::MediaIo>(shard.io());
    clock_.set_hooks(this);
  }
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
  if (options_.hep) {
    tracer_ = std::make_unique<HepTracer>(shard_.io(), *options_.hep, options_.trace_links, metrics_.hep_sent,
                                          metrics_.hep_errors);
    if (auto ec = tracer_->start()) {
      spdlog::critical("shard {}: cannot open the SIP trace socket: {}", shard_.index(), ec.message());
      return false;
    }
    to.tracer = tracer_.get();
  }
  transport_ = std::make_unique<sip::UdpTransport>(
      shard_.io(), to, [this](sip::Message&& m, const sip::Endpoint& from) { options_.route(std::move(m), from); });
  if (auto ec = transport_->start()) {
    spdlog::critical("shard {}: cannot bind SIP udp:{}:{}: {}", shard_.index(), listen.host, listen.port, ec.message());
    return false;
  }
  mux_.set(sip::Protocol::udp, transport_.get());
  mux_.set_on_send([this](const sip::Message& m) {
    if (!m.is_request) count_response(metrics_.sip_responses_sent, m.status_code);
  });
  if (!start_streams()) return false;
  // The layer delivers to the router, which needs the context, which needs the layer: the layer's
  // handlers forward to the router's, filled in below (nothing arrives before start() returns).
  sip::ResolverOptions ro;
  ro.servers = config_.server.dns_servers;
  if (mux_.has(sip::Protocol::tcp)) ro.transports.push_back(sip::TargetTransport::kTcp);
  if (mux_.has(sip::Protocol::tls)) ro.transports.push_back(sip::TargetTransport::kTls);
  resolver_ = std::make_unique<sip::Resolver>(shard_.io(), std::move(ro));
  if (auto ec = resolver_->start()) {  // check-config validated the entries: this is the system's resolv.conf
    spdlog::critical("shard {}: cannot start the DNS resolver: {}", shard_.index(), ec.message());
    return false;
  }
  layer_ = std::make_unique<sip::TransactionLayer>(mux_, timers_,
                                                   sip::TransactionHandlers::forwarding_to(routed_));
  layer_->set_tap([this](const sip::Message& m, bool outgoing) { ladders_.on_message(m, outgoing); });

  boost::asio::io_context& io = shard_.io();
  ctx_ = std::make_unique<CallContext>(CallContext{
      .shard = shard_, .config = config_, .sip = *layer_, .dialogs = dialogs_, .timers = timers_, .clock = clock_,
      .ports = ports_, .random = random_, .metrics = metrics_, .media_scratch = *media_scratch_, .speech = options_.speech,
      .sip_host = advertised_host(config_), .sip_port = listen.port,
      .sip_port_tcp = find_listen(config_.server, Transport::tcp) ? find_listen(config_.server, Transport::tcp)->port : uint16_t(0),
      .sip_port_tls = find_listen(config_.server, Transport::tls) ? find_listen(config_.server, Transport::tls)->port : uint16_t(0),
      .media_ip = advertised_host(config_),
      .open_media = [&io, this](LegMediaOptions o, LegMediaHandlers h, std::error_code& ec) -> std::unique_ptr<MediaSession> {
        o.clock = &clock_;
        o.metrics = &metrics_;
        o.media_io = media_io_.get();
        return LegMedia::open(io, std::move(o), std::move(h), ec);
      },
      .open_agent = [this](const AgentConfig& agent, AgentEvents events) -> std::unique_ptr<AgentChannel> {
        events.on_audio_written = [this](std::chrono::nanoseconds d) { metrics_.caller_to_ai.observe(d); };
        return open_agent_channel(shard_, agent, std::move(events));
      },
      .on_call_ended = {},
      .on_call_released = {},
      .records = options_.records,
      .webhooks = options_.webhooks,
      .shard_count = options_.shard_count,
      .resolver = resolver_.get(),
      .hold_music = options_.hold_music,
      .trunk_health = options_.trunk_health,
      .recordings = options_.recordings,
      .trace_links = options_.trace_links,
      .ladders = &ladders_,
  });
  router_ = std::make_unique<SipRouter>(*ctx_, SipRouterOptions{.draining = options_.draining,
                                                                .node_calls = options_.node_calls,
                                                                .invite_rate = options_.invite_rate,
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
  if (media_io_) media_io_->stop();  // after the calls: their sockets left its watch as they closed
  if (registrations_) registrations_->stop();  // their transactions and timers go with the layer
  if (pings_) pings_->stop();
  layer_.reset();
  resolver_.reset();  // its sockets and timers go while the io_context still runs their cancellations
  if (transport_) transport_->stop();
  for (auto& s : streams_)
    if (s) s->stop();
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

void ShardRuntime::pass_begin() { media_io_->begin(); }

// The slot's packets leave in one submission; the agent's frames among them are observed now, against
// the slot's deadline (the moment they left, not when they were queued).
void ShardRuntime::pass_end() {
  const size_t timed = media_io_->flush();
  if (timed == 0) return;
  const auto late = media::MediaClock::Clock::now() - clock_.pass_deadline();
  for (size_t i = 0; i < timed; ++i) metrics_.ai_to_caller.observe(late);
}

// Every TCP/TLS connection lives on shard 0 (docs/sip.md "TCP and TLS"): shard 0 runs the listeners
// and opens the outbound connections; the other shards send through a relay that posts to it. Vias
// name the listener's address and port (the UDP one when the node only dials out over the protocol).
bool ShardRuntime::start_streams() {
  const ListenAddress& udp = sip_listen(config_);
  for (size_t i = 0; i < 2; ++i) {
    const Transport t = kStreamTransports[i];
    if (!stream_needed(config_, t)) continue;
    const ListenAddress* listen = find_listen(config_.server, t);
    const sip::Endpoint sent_by{listen ? listen->host : udp.host, listen ? listen->port : udp.port, to_protocol(t)};
    if (shard_.index() != 0) {
      relays_[i] = std::make_unique<StreamRelay>(sent_by, options_.post_stream);
      mux_.set(sent_by.protocol, relays_[i].get(), sent_by);
      continue;
    }
    sip::StreamTransportOptions so;
    so.protocol = sent_by.protocol;
    so.address = listen ? listen->host : "";
    so.port = listen ? listen->port : 0;
    so.idle_timeout = std::chrono::seconds(config_.server.sip_idle_timeout_s);
    so.tls_cert = config_.server.tls_cert;
    so.tls_key = config_.server.tls_key;
    so.tls_client = [this](const sip::Endpoint& to) { return tls_client_for(config_, to); };
    so.tracer = tracer_.get();
    so.on_connect_failed = options_.on_stream_connect_failed;
    streams_[i] = std::make_unique<sip::StreamTransport>(
        shard_.io(), std::move(so), [this](sip::Message&& m, const sip::Endpoint& from) { options_.route(std::move(m), from); });
    if (auto ec = streams_[i]->start()) {
      spdlog::critical("cannot start SIP {}{}: {}", to_string(t),
                       listen ? fmt::format(" on {}:{}", listen->host, listen->port) : std::string(), ec.message());
      return false;
    }
    mux_.set(sent_by.protocol, streams_[i].get(), sent_by);
  }
  return true;
}

void ShardRuntime::send_stream(std::string bytes, const sip::Endpoint& to) {
  auto& stream = streams_[to.protocol == sip::Protocol::tls ? 1 : 0];
  if (!stream || stopped_ || !sip::is_stream(to.protocol)) return;
  if (auto ec = stream->send_bytes(std::move(bytes), to))
    spdlog::debug("sip {}: cannot send to {}: {}", sip::via_token(to.protocol), to.to_string(), ec.message());
}

void ShardRuntime::transport_failed(const sip::Endpoint& to, const std::string& why,
                                    std::chrono::steady_clock::time_point when) {
  if (!layer_ || stopped_) return;
  if (size_t n = layer_->transport_failed(to, why, when))
    spdlog::debug("sip {}: {} transaction(s) to {} failed: {}", sip::via_token(to.protocol), n, to.to_string(), why);
}

void ShardRuntime::receive(sip::Message&& message, const sip::Endpoint& from) {
  if (!message.is_request) count_response(metrics_.sip_responses_received, message.status_code);
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
