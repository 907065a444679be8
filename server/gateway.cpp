#include "server/gateway.hpp"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <future>
#include <iostream>
#include <thread>

#include "media/prompts.hpp"
#include "rtp/srtp_session.hpp"
#include "server/api.hpp"
#include "server/cdr/postgres_cdr_store.hpp"
#include "server/cdr/sqlite_cdr_store.hpp"
#include "server/run_command.hpp"
#include "server/webhook/webhooks.hpp"

namespace warmline::server {

namespace {

unsigned shard_count(const Config& c) {
  if (c.server.shards != 0) return c.server.shards;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

}  // namespace

Gateway::Gateway(Config config)
    : config_(std::move(config)),
      signals_(control_, SIGTERM, SIGINT),
      drain_timer_(control_),
      grace_timer_(control_),
      shards_(std::make_unique<ShardSet>(shard_count(config_))),
      notifier_(control_, *shards_, [this] { return active_calls(); }) {
  speech_ = make_speech_service(config_);
  trunk_health_ = std::make_unique<TrunkHealth>(config_);
  recordings_ = std::make_unique<RecordingWriter>(static_cast<unsigned>(shards_->size()), recording_metrics_);
  auto slices = rtp::split_range({config_.server.rtp_ports.first, config_.server.rtp_ports.last}, shards_->size());
  for (unsigned i = 0; i < shards_->size(); ++i) {
    ShardRuntimeOptions o;
    o.config = &config_;
    o.rtp_ports = slices[i];
    o.speech = speech_.get();
    o.draining = &draining_;
    o.node_calls = &node_calls_;
    o.invite_rate = &invite_rate_;
    o.shard_count = static_cast<unsigned>(shards_->size());
    o.trunk_health = trunk_health_.get();
    o.recordings = recordings_.get();
    if (!config_.server.hep.host.empty()) {
      o.hep = &hep_;
      o.trace_links = &trace_links_;
    }
    o.route = [this, i](sip::Message&& m, const sip::Endpoint& from) { route(i, std::move(m), from); };
    o.post_stream = [this](std::string bytes, const sip::Endpoint& to) {
      ShardRuntime* stream_shard = runtimes_[0].get();
      shards_->at(0).post([stream_shard, b = std::move(bytes), to]() mutable { stream_shard->send_stream(std::move(b), to); });
    };
    o.on_stream_connect_failed = [this](const sip::Endpoint& to, const std::string& why) {
      const auto when = std::chrono::steady_clock::now();
      for (unsigned k = 0; k < shards_->size(); ++k) {
        ShardRuntime* rt = runtimes_[k].get();
        shards_->at(k).post([rt, to, why, when] { rt->transport_failed(to, why, when); });
      }
    };
    o.on_calls_changed = [this] {
      if (draining_.load(std::memory_order_relaxed)) boost::asio::post(control_, [this] { check_drained(); });
    };
    runtimes_.push_back(std::make_unique<ShardRuntime>(shards_->at(i), std::move(o)));
  }
}

Gateway::~Gateway() {
  if (cdr_) cdr_->stop();
  if (webhooks_) webhooks_->stop();
  // A shard stopped outright (finish()) may still have operations in flight. With Asio's io_uring
  // backend (1.81) such an operation can sit in an I/O object Asio has already freed, where the
  // io_context's destructor destroys it only after the timer service: its handler (a WebSocket session
  // with its timers) then touches freed memory — the heap corruption once seen at SIGTERM after load.
  // The process is exiting: the runtimes still go (members after this body, their sockets and timers
  // while the io_contexts exist), and those io_contexts are kept, never destroyed. Shards that ran out
  // of work are destroyed as usual.
  if (stopped_outright_) {
    static ShardSet* volatile kept_at_exit = nullptr;  // reachable (volatile: the store stays): no leak
    kept_at_exit = shards_.release();
  }
}

// Any shard's socket may receive any message (SO_REUSEPORT hashes by source address); the owner is a
// pure function of the Call-ID, so the message is handed over by post, never shared.
void Gateway::route(unsigned from_shard, sip::Message&& message, const sip::Endpoint& from) {
  unsigned owner = shard_for_call_id(message.call_id, shards_->size());
  if (owner == from_shard) return runtimes_[owner]->receive(std::move(message), from);
  ShardRuntime* rt = runtimes_[owner].get();
  shards_->at(owner).post([rt, m = std::move(message), from]() mutable { rt->receive(std::move(m), from); });
}

int64_t Gateway::active_calls() const {
  int64_t n = 0;
  for (const auto& rt : runtimes_) n += rt->metrics().calls_active.load(std::memory_order_relaxed);
  return n;
}

// The CDR database is opened before any call can exist, so a file that cannot be used (not writable,
// not a database, from a newer warmline) stops the start with the reason instead of losing records.
bool Gateway::open_records() {
  if (config_.server.cdr.empty()) {
    spdlog::info("call records are off ([server] cdr is empty)");
    return true;
  }
  std::string error;
  std::unique_ptr<CdrStore> store;
  if (is_postgres_url(config_.server.cdr)) {
    // A database that is down does not stop the start (its records wait); one that is not warmline's does.
    store = PostgresCdrStore::open(config_.server.cdr, error);
  } else {
    store = SqliteCdrStore::open(config_.server.cdr, error);
  }
  const std::string shown =
      is_postgres_url(config_.server.cdr) ? redact_database_url(config_.server.cdr) : config_.server.cdr;
  if (!store) {
    spdlog::critical("cannot use the call record database {}: {}", shown, error);
    return false;
  }
  cdr_ = std::make_unique<CdrWriter>(std::move(store), cdr_metrics_);
  for (auto& rt : runtimes_) rt->set_record_sink(cdr_.get());
  spdlog::info("call records: {}", shown);
  return true;
}

// Hold music is decoded and resampled here, once, before any shard runs (never on a media tick). A
// configured file was checked by the config loader, so failing now means it changed since: refused
// like a bad config. The shipped file may be missing where only the binary was copied; callers held
// with music then hear ringback, and the log says so.
bool Gateway::load_hold_music() {
  const bool shipped = config_.media.hold_music.empty();
  const std::string path = shipped ? shipped_audio_file(media::kHoldMusicFile) : config_.media.hold_music;
  const std::vector<uint32_t> rates = HoldMusic::rates_for(config_.media.codecs);
  std::string error;
  hold_music_ = HoldMusic::load(path, rates, error);
  if (!hold_music_) {
    if (!shipped) {
      spdlog::critical("[media] hold_music: cannot play '{}' as hold music: {}", path, error);
      return false;
    }
    spdlog::warn("hold music: cannot play the shipped '{}' ({}); callers held with music hear ringback", path, error);
    return true;
  }
  for (auto& rt : runtimes_) rt->set_hold_music(hold_music_.get());
  spdlog::info("hold music: {} ({:.1f} s, at {} Hz)", path, hold_music_->seconds(), fmt::join(rates, "/"));
  return true;
}

// The collector's name is resolved once, here; a name that does not resolve stops the start, like an
// address that cannot be bound.
bool Gateway::resolve_hep() {
  const HostPort& where = config_.server.hep;
  if (where.host.empty()) return true;
  boost::system::error_code ec;
  boost::asio::ip::udp::resolver resolver(control_);
  auto results = resolver.resolve(where.host, std::to_string(where.port), ec);
  if (ec || results.empty()) {
    spdlog::critical("[server] hep: cannot resolve the Homer collector {}: {}", where.host,
                     ec ? ec.message() : "no address");
    return false;
  }
  hep_.collector = results.begin()->endpoint();
  hep_.capture_id = config_.server.hep_id;
  hep_.password = config_.server.hep_password;
  const std::string advertised =
      config_.server.public_address.empty() ? config_.server.sip_listen.front().host : config_.server.public_address;
  boost::asio::ip::make_address(advertised, ec);
  if (!ec) hep_.advertised_ip = advertised;
  spdlog::info("SIP trace: HEP v3 to {}:{} (capture id {})", hep_.collector.address().to_string(),
               hep_.collector.port(), hep_.capture_id);
  return true;
}

bool Gateway::start() {
  if (!resolve_hep()) return false;
  // libsrtp's one-time set-up runs its cipher self-tests (about 30 ms here): done now, before any shard
  // runs, rather than inside the first SRTP call's handling, where it overran the media clock and the
  // overload guard then refused the next INVITEs with 503 (found by `make load-srtp`).
  if (std::any_of(config_.trunks.begin(), config_.trunks.end(), [](const TrunkConfig& t) { return t.srtp != SrtpPolicy::off; }) &&
      !rtp::SrtpSession::initialize()) {
    spdlog::critical("libsrtp failed to initialise: SRTP trunks cannot run");
    return false;
  }
  shards_->start();
  // Sockets are bound on their own shard so that every later use is on that thread.
  std::vector<std::promise<bool>> started(runtimes_.size());
  for (size_t i = 0; i < runtimes_.size(); ++i) {
    shards_->at(static_cast<unsigned>(i)).post([rt = runtimes_[i].get(), &p = started[i]] { p.set_value(rt->start()); });
  }
  bool ok = true;
  for (auto& p : started) ok = p.get_future().get() && ok;
  if (!ok) return false;

  HttpServerOptions ho;
  ho.address = config_.server.http.host;
  ho.port = config_.server.http.port;
  http_ = std::make_unique<HttpServer>(control_, ho, make_router());
  if (auto ec = http_->start()) {
    spdlog::critical("cannot listen for HTTP on {}:{}: {}", ho.address, ho.port, ec.message());
    return false;
  }
  std::string sip;
  for (const ListenAddress& a : config_.server.sip_listen)
    sip += fmt::format("{}{}:{}:{}", sip.empty() ? "" : " ", to_string(a.transport), a.host, a.port);
  spdlog::info("warmline listening: SIP {}, HTTP {}:{}, {} shard(s), RTP {}-{}", sip, ho.address, http_->port(),
               shards_->size(), config_.server.rtp_ports.first, config_.server.rtp_ports.last);
  notifier_.ready("taking calls");
  return true;
}

int Gateway::run() {
  if (!load_hold_music() || !open_records()) return 1;  // nothing has started yet
  webhooks_ = make_webhook_sender(config_.webhooks, webhook_metrics_);
  for (auto& rt : runtimes_) rt->set_webhook_sink(webhooks_.get());
  if (!start()) {
    finish();
    control_.run();
    return 1;
  }
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [this, &on_signal](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (draining_.load() && exit_when_drained_) {
      spdlog::warn("second signal ({}): hanging up every call now", sig);
      force_shutdown();
    } else {
      begin_drain(sig == SIGTERM ? "SIGTERM" : "SIGINT", true);
    }
    signals_.async_wait(on_signal);
  };
  signals_.async_wait(on_signal);
  control_.run();
  return 0;
}

void Gateway::begin_drain(std::string_view why, bool exit_when_drained) {
  const bool was_draining = draining_.exchange(true);
  if (was_draining && (!exit_when_drained || exit_when_drained_)) return;
  if (!was_draining)
    spdlog::info("draining ({}): no new calls; {} live call(s) may finish{}", why, active_calls(),
                 exit_when_drained ? "" : "; the node then stays up, not ready, until POST /v1/resume");
  if (exit_when_drained)
    notifier_.stopping("draining, then exiting");
  else if (!was_draining)
    notifier_.status("draining, staying up");
  if (exit_when_drained) {
    // Exiting (a signal, or drain_exit): live calls get drain_timeout_s, then they are hung up. A
    // signal during an API drain turns it into this.
    exit_when_drained_ = true;
    drain_timer_.expires_after(std::chrono::seconds(config_.server.drain_timeout_s));
    drain_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) force_shutdown();
    });
  }
  check_drained();
}

void Gateway::force_shutdown() {
  for (size_t i = 0; i < runtimes_.size(); ++i)
    shards_->at(static_cast<unsigned>(i)).post([rt = runtimes_[i].get()] { rt->hang_up_all("shutdown"); });
  check_drained();
}

bool Gateway::resume() {
  // A node that is exiting (a signal, or drain_exit) cannot be taken back.
  if (exit_when_drained_ || finishing_) return false;
  if (draining_.exchange(false)) {
    spdlog::info("resumed (POST /v1/resume): taking calls again");
    notifier_.status("taking calls");
  }
  return true;
}

void Gateway::check_drained() {
  if (finishing_ || !draining_.load() || active_calls() > 0) return;
  if (!exit_when_drained_) {
    spdlog::info("drained: no live calls; staying up, not ready, until POST /v1/resume");
    notifier_.status("drained, not ready until POST /v1/resume");
    return;
  }
  finishing_ = true;
  spdlog::info("drained: no live calls; stopping");
  // RFC 3261 §10.2.2: registered trunks remove our binding, so a carrier stops sending calls to a node
  // that is gone; the grace below leaves time for the registrar's answer.
  if (!runtimes_.empty()) shards_->at(0).post([rt = runtimes_[0].get()] { rt->unregister_trunks(); });
  // A short grace lets the last BYEs, their retransmissions and the agents' close frames go out.
  grace_timer_.expires_after(std::chrono::milliseconds(500));
  grace_timer_.async_wait([this](const boost::system::error_code&) { finish(); });
}

void Gateway::finish() {
  notifier_.stop();
  signals_.cancel();
  drain_timer_.cancel();
  if (http_) http_->stop();
  for (size_t i = 0; i < runtimes_.size(); ++i)
    shards_->at(static_cast<unsigned>(i)).post([rt = runtimes_[i].get()] { rt->stop(); });
  // Each shard's io_context now runs out of work on its own (see ShardRuntime::stop). A peer that
  // keeps a socket busy must not keep the process alive: after 5 s a shard is stopped outright.
  shards_->stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (unsigned i = 0; i < shards_->size(); ++i) {
    while (!shards_->at(i).io().stopped() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // shutdown path, main thread only
    if (!shards_->at(i).io().stopped()) {
      spdlog::warn("shard {} still busy at exit; stopping it", i);
      shards_->at(i).io().stop();
      stopped_outright_ = true;
    }
  }
  shards_->join();
  // After the shards: every call has ended (or was recorded as "shutdown") and nothing submits any
  // more; what is queued is written before the process exits.
  if (cdr_) cdr_->stop();
  recordings_->stop();
  if (webhooks_) webhooks_->stop();  // what is queued goes out, bounded by its stop_retry
}

HttpRouter Gateway::make_router() {
  std::vector<ShardRuntime*> shards;
  for (auto& rt : runtimes_) shards.push_back(rt.get());
  return make_api_router(ApiContext{control_, std::move(shards), draining_,
                                    [this] { begin_drain("POST /v1/drain", config_.server.drain_exit); },
                                    [this] { return resume(); }, &cdr_metrics_, config_.server.http_token,
                                    &recording_metrics_, webhooks_ ? &webhook_metrics_ : nullptr});
}

}  // namespace warmline::server
