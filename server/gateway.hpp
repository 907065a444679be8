// The process (DESIGN.md "Threading"): N shards, each with its own SIP socket and calls, plus a control
// thread (the one that called run()) for signals, the HTTP API and the drain.
//
// Drain (ScyllaDB-style two-phase shutdown): the first SIGTERM/SIGINT or POST /v1/drain stops taking
// calls — new INVITEs and OPTIONS get 503, /readyz 503 — and waits for the live calls to end; after
// server.drain_timeout_s the rest are hung up (stop reason "shutdown"). A second signal does that at
// once. When no call is left the process exits 0.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <vector>

#include "server/config.hpp"
#include "server/http_server.hpp"
#include "server/shard.hpp"
#include "server/shard_runtime.hpp"
#include "server/speech.hpp"
#include "server/speech_service.hpp"

namespace warmline::server {

class Gateway {
 public:
  explicit Gateway(Config config);
  ~Gateway();

  // Runs until drained. Returns the process exit code.
  int run();

 private:
  bool start();
  void begin_drain(std::string_view why);
  void check_drained();
  void force_shutdown();
  void finish();
  void route(unsigned from_shard, sip::Message&& message, const sip::Endpoint& from);
  int64_t active_calls() const;
  HttpRouter make_router();

  Config config_;
  boost::asio::io_context control_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer drain_timer_;
  boost::asio::steady_timer grace_timer_;
  ShardSet shards_;
  std::vector<std::unique_ptr<ShardRuntime>> runtimes_;
  std::unique_ptr<SpeechService> speech_;
  std::unique_ptr<HttpServer> http_;
  std::atomic<bool> draining_{false};
  bool finishing_ = false;
};


}  // namespace warmline::server
