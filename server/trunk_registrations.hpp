// Trunk registration (DESIGN.md "Reaching a target"): one sip::RegisterClient per trunk with
// `register = true`, keeping warmline's Contact bound at the trunk's address as the trunk's username.
//
// Owner and threads: shard 0's runtime owns the one instance (a registration is not a call; one shard
// keeps the Call-IDs, timers and state of all of them, and each Call-ID is picked to map to shard 0,
// so whichever shard's socket receives a registrar's answer hands it to shard 0). It is constructed on
// the main thread before the shards start; start(), unregister_all(), stop() and snapshot() run on
// shard 0's thread (the HTTP API posts there); gauges() may be read from any thread (/metrics).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/config.hpp"
#include "sip/usage/register_client.hpp"

namespace warmline::server {

struct CallContext;

// One trunk as GET /v1/trunks shows it.
struct TrunkView {
  std::string name;
  std::string address;  // "host:port" as configured; "" for an inbound-only trunk
  bool registers = false;  // register = true; the fields below only then
  std::string state;       // "unregistered" | "registering" | "registered" | "failed"
  int status = 0;          // the registrar's last final status; 0: none
  std::string reason;
  uint32_t failures = 0;
  std::optional<int64_t> expires_in_s;       // registered: seconds until the binding lapses
  std::optional<int64_t> next_attempt_in_s;  // the refresh or retry, when one is scheduled
};

class TrunkRegistrations {
 public:
  // 1 while a trunk's binding is accepted, for the warmline_trunk_registered gauge.
  struct Gauge {
    std::string trunk;
    std::atomic<int> registered{0};
  };

  explicit TrunkRegistrations(const Config& config);
  ~TrunkRegistrations();
  TrunkRegistrations(const TrunkRegistrations&) = delete;
  TrunkRegistrations& operator=(const TrunkRegistrations&) = delete;

  // Sends the first REGISTER of each trunk that registers. `ctx` is shard 0's and outlives stop().
  void start(CallContext& ctx);
  // Shutdown: removes every binding (REGISTER with Expires: 0) and stops refreshing.
  void unregister_all();
  // Drops the clients; nothing more is sent (before the shard's transaction layer goes).
  void stop();

  std::vector<TrunkView> snapshot() const;
  // Any thread; one per trunk with register = true, in configuration order.
  const std::vector<std::unique_ptr<Gauge>>& gauges() const { return gauges_; }

 private:
  struct Entry {
    const TrunkConfig* trunk = nullptr;
    Gauge* gauge = nullptr;
    std::unique_ptr<sip::RegisterClient> client;
    sip::RegistrationState logged = sip::RegistrationState::kUnregistered;
  };
  sip::RegisterClientOptions options_for(CallContext& ctx, Entry& entry);
  void on_change(Entry& entry, const sip::RegistrationStatus& status);

  const Config& config_;
  CallContext* ctx_ = nullptr;
  std::vector<std::unique_ptr<Gauge>> gauges_;
  std::vector<Entry> entries_;
};

}  // namespace warmline::server
