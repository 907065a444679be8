// The process (DESIGN.md "Threading"): N shards, each with its own SIP socket and calls, plus a control
// thread (the one that called run()) for signals, the HTTP API and the drain.
//
// Drain (ScyllaDB-style two-phase shutdown): the first SIGTERM/SIGINT or POST /v1/drain stops taking
// calls — new INVITEs and OPTIONS get 503 with Retry-After, /readyz 503 — and waits for the live calls
// to end; after server.drain_timeout_s the rest are hung up (stop reason "shutdown"). A second signal
// does that at once. A signal's drain exits 0 when no call is left. A drain from the API (an
// orchestrator taking the node out of rotation) leaves the node up and not ready once drained, until
// POST /v1/resume — unless [server] drain_exit = true, when it exits like a signal's.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <vector>

#include "server/cdr/cdr_writer.hpp"
#include "server/config.hpp"
#include "server/hep_tracer.hpp"
#include "server/http_server.hpp"
#include "server/leg/hold_music.hpp"
#include "server/recording/recording_writer.hpp"
#include "server/service_notify.hpp"
#include "server/shard.hpp"
#include "server/shard_runtime.hpp"
#include "server/speech.hpp"
#include "server/speech_service.hpp"
#include "server/webhook/webhook_sender.hpp"

namespace warmline::server {

class Gateway {
 public:
  explicit Gateway(Config config);
  ~Gateway();

  // Runs until drained. Returns the process exit code.
  int run();

 private:
  bool start();
  bool open_records();
  bool load_hold_music();
  bool resolve_hep();
  void begin_drain(std::string_view why, bool exit_when_drained);
  bool resume();
  void check_drained();
  void force_shutdown();
  void finish();
  void route(unsigned from_shard, sip::Message&& message, const sip::Endpoint& from);
  int64_t active_calls() const;
  HttpRouter make_router();

  Config config_;
  std::unique_ptr<HoldMusic> hold_music_;  // read by every shard's calls: outlives the runtimes
  std::unique_ptr<TrunkHealth> trunk_health_;  // written by shard 0's pings, read by every shard: outlives the runtimes
  CdrMetrics cdr_metrics_;
  // SIP trace ([server] hep): the collector, resolved at start, and the legs' Call-ID links; read by
  // every shard's tracer, so they outlive the runtimes.
  HepOptions hep_;
  TraceLinks trace_links_;
  std::unique_ptr<CdrWriter> cdr_;  // null when records are off; stopped after the shards
  RecordingMetrics recording_metrics_;
  std::unique_ptr<RecordingWriter> recordings_;  // written to by every shard's calls: outlives the runtimes
  WebhookMetrics webhook_metrics_;
  std::unique_ptr<WebhookSender> webhooks_;  // null when webhooks are off; stopped after the shards
  boost::asio::io_context control_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer drain_timer_;
  boost::asio::steady_timer grace_timer_;
  std::unique_ptr<ShardSet> shards_;  // kept, not destroyed, when a shard had to be stopped outright (~Gateway)
  std::vector<std::unique_ptr<ShardRuntime>> runtimes_;
  std::unique_ptr<SpeechService> speech_;
  std::unique_ptr<HttpServer> http_;
  ServiceNotifier notifier_;  // systemd readiness, status and watchdog (sd_notify)
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> node_calls_{0};  // live calls over all shards ([server] max_calls)
  SharedInviteRateLimiter invite_rate_;  // invite_rate_per_source over all shards
  bool exit_when_drained_ = false;
  bool finishing_ = false;
  bool stopped_outright_ = false;  // finish() stopped a shard that was still busy
};


}  // namespace warmline::server
