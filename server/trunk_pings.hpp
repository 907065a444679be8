// Trunk health pings (DESIGN.md "GET /v1/trunks ... OPTIONS state"): for each trunk with
// `ping_interval_s` and an address, every interval an OPTIONS (Max-Forwards 70, From and To the
// trunk's URI, a fresh Call-ID and tags, no dialog) to each server its address resolves to (RFC 3263).
// A server is up after any final response (404 or 405 too: it answered), down after the transaction
// times out (Timer F, a synthesized 408) or cannot be sent (a synthesized 503). The trunk is up while
// any server is up, down when every server is down (or its address does not resolve), unknown before
// the first answers. Each change is logged once; TrunkHealth gets the down servers (dials try the
// others first) and the trunk's gauge.
//
// Owner and threads: like TrunkRegistrations, shard 0's runtime owns the one instance; each Call-ID
// maps to shard 0, so an answer that lands on another shard's socket is handed here. Constructed on
// the main thread; start(), stop() and snapshot() run on shard 0's thread (the HTTP API posts there).
// A server with a ping still in flight is not pinged again until that one ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/config.hpp"
#include "server/trunk_health.hpp"
#include "sip/message.hpp"
#include "sip/timer.hpp"

namespace warmline::server {

struct CallContext;

enum class PingState { kUnknown, kUp, kDown };
std::string_view to_string(PingState state);  // "unknown", "up", "down"

// One server of a pinged trunk as GET /v1/trunks shows it.
struct PingServerView {
  std::string address;  // "1.2.3.4:5060"
  std::string state;    // "unknown" | "up" | "down"
  int status = 0;       // its last final status (408: no answer, 503: not sent); 0: none yet
};

// A trunk's OPTIONS state; `pings` false (and the rest empty) for a trunk without them.
struct TrunkPingView {
  bool pings = false;
  std::string state;  // "unknown" | "up" | "down"
  std::optional<std::chrono::system_clock::time_point> changed_at;  // the last change of `state`
  int status = 0;     // the last final status any server gave (or the layer made up); 0: none
  std::string reason;
  std::vector<PingServerView> servers;
};

// Finds a trunk's servers before each round: call `done` once, now or later, with the servers (in the
// order to try them) or with none and why (a DNS error).
using PingLocateDone = std::function<void(std::vector<sip::Endpoint> servers, std::string error)>;
using PingLocate = std::function<void(const TrunkConfig& trunk, PingLocateDone done)>;

class TrunkPings {
 public:
  TrunkPings(const Config& config, TrunkHealth& health);
  ~TrunkPings();
  TrunkPings(const TrunkPings&) = delete;
  TrunkPings& operator=(const TrunkPings&) = delete;

  // Sends the first round of each trunk with pings. `ctx` is shard 0's and outlives stop(). Without
  // `locate`, the trunk's address is resolved with ctx.resolver (an IP literal needs none).
  void start(CallContext& ctx, PingLocate locate = {});
  // Nothing more is sent and late answers are ignored (before the shard's transaction layer goes).
  void stop();

  // One per configured trunk, in configuration order.
  std::vector<TrunkPingView> snapshot() const;
  TrunkHealth& health() { return health_; }
  const TrunkHealth& health() const { return health_; }

 private:
  struct Server {
    sip::Endpoint at;
    PingState state = PingState::kUnknown;
    int status = 0;
    bool in_flight = false;
  };
  struct Entry {
    const TrunkConfig* trunk = nullptr;
    TrunkHealth::Gauge* gauge = nullptr;  // null: the trunk has no pings
    std::vector<Server> servers;
    PingState state = PingState::kUnknown;
    std::optional<std::chrono::system_clock::time_point> changed_at;
    int status = 0;
    std::string reason;
    sip::TimerId timer = sip::kNoTimer;
  };

  void round(size_t index);
  void on_located(size_t index, std::vector<sip::Endpoint> servers, const std::string& error);
  void ping(size_t index, Server& server);
  void on_answer(size_t index, const sip::Endpoint& at, const sip::Message& response);
  void set_server(Entry& e, Server& s, PingState state);
  void update_trunk(Entry& e);
  void locate_default(const TrunkConfig& trunk, PingLocateDone done);

  const Config& config_;
  TrunkHealth& health_;
  CallContext* ctx_ = nullptr;
  PingLocate locate_;
  std::vector<Entry> entries_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warmline::server
