// Trunk health as every shard reads it: which servers of each pinged trunk (`ping_interval_s`) the
// OPTIONS pings last found down, and each such trunk's up gauge for /metrics.
//
// Threads: TrunkPings (shard 0) writes; any shard reads when it dials through a trunk (order()), and
// the API thread reads the gauges. A mutex guards the down lists: it is taken once per ping result and
// once per dial, never on the media path. Built on the main thread before the shards start; outlives
// them.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/config.hpp"
#include "sip/resolve/target.hpp"
#include "sip/transport.hpp"

namespace warmline::server {

// A configured host as it goes into a SIP URI: IPv6 in brackets (config keeps it bare).
std::string uri_host(const std::string& host);
// A trunk's address as GET /v1/trunks shows it: "host:port", or "host" without a port; "" for none.
std::string address_text(const HostPort& address);

class TrunkHealth {
 public:
  // 1 while the trunk is up (a server answered its last ping), for the warmline_trunk_up gauge.
  struct Gauge {
    std::string trunk;
    std::atomic<int> up{0};
  };

  // One gauge per trunk with ping_interval_s > 0 and an address, in configuration order.
  explicit TrunkHealth(const Config& config);
  TrunkHealth(const TrunkHealth&) = delete;
  TrunkHealth& operator=(const TrunkHealth&) = delete;

  const std::vector<std::unique_ptr<Gauge>>& gauges() const { return gauges_; }
  Gauge* gauge(std::string_view trunk);  // nullptr for a trunk without pings

  // Records whether `server` of `trunk` is known down (its last ping timed out or could not be sent).
  void set_down(std::string_view trunk, const sip::Endpoint& server, bool down);
  bool is_down(std::string_view trunk, const sip::Endpoint& server) const;
  // The servers of `trunk` to try, up (or not yet pinged) ones first, then those known down; each
  // group keeps its resolved order. All stay: when every server is down the pings may lag.
  void order(std::string_view trunk, std::vector<sip::Target>& targets) const;

 private:
  struct Down {
    std::string trunk;
    sip::Endpoint server;
  };
  std::vector<std::unique_ptr<Gauge>> gauges_;
  mutable std::mutex mutex_;
  std::vector<Down> down_;  // a handful of entries: a linear scan is the cheapest lookup
};

}  // namespace warmline::server
