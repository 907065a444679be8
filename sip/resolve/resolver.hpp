// RFC 3263 §4 server location for a SIP URI, on a shard's event loop: NAPTR -> SRV -> A/AAAA through
// c-ares (AresChannel), with a TTL cache, delivering an ordered target list or an error.
//
//   numeric host            -> that address (port: the URI's, else 5060, 5061 for TLS)
//   name with a port        -> A/AAAA of the name, that port                              (§4.2)
//   name, transport=...     -> SRV of that transport, else A/AAAA with its default port  (§4.1, §4.2)
//   name                    -> NAPTR; the usable services (§4.1) -> their SRV names; no usable NAPTR
//                              -> SRV of each supported transport; no SRV -> A/AAAA, port 5060
//   SRV                     -> priority and weight order (RFC 2782), then each target's A/AAAA
//
// A maddr parameter replaces the host (§4). Names are queried as given (no search list, no
// /etc/hosts). Addresses: IPv4 before IPv6 for each host; duplicates are dropped.
//
// Threading: one Resolver per shard, used only on that shard's io_context thread. Handlers always
// run from that loop (never inline from resolve()), and never after cancel() or the Resolver's
// destruction: destroying it drops every pending lookup without calling its handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "sip/message.hpp"
#include "sip/resolve/records.hpp"
#include "sip/resolve/target.hpp"

namespace boost::asio {
class io_context;
}

namespace warmline::sip {

struct ResolverOptions {
  // DNS servers, "ip", "ip:port" or "[ipv6]:port" ([server] dns_servers); empty = /etc/resolv.conf.
  std::vector<std::string> servers;
  std::chrono::milliseconds timeout{2000};  // per query try (c-ares doubles it each round)
  int tries = 2;
  // The transports this process can send over, in the order to prefer them when DNS gives no NAPTR.
  std::vector<TargetTransport> transports{TargetTransport::kUdp};
  bool ipv4 = true;  // ask A records
  bool ipv6 = true;  // ask AAAA records
  size_t cache_entries = 4096;  // answers kept per shard; the least recently used goes first
  std::chrono::seconds max_ttl{3600};  // caps a record's TTL in the cache
  std::chrono::seconds negative_ttl{30};  // NXDOMAIN / NODATA kept this long (RFC 2308)
  // Tests inject these; defaults: std::chrono::steady_clock and a seeded std::mt19937.
  std::function<std::chrono::steady_clock::time_point()> clock;
  SrvDraw random;
};

// What to resolve, taken from a SIP URI (resolve_request_for) or given directly.
struct ResolveRequest {
  std::string host;  // a name, or an IP literal (IPv6 with or without brackets)
  uint16_t port = 0;  // 0 = not given
  std::optional<TargetTransport> transport;  // the URI's transport parameter, if any
  bool secure = false;  // sips:
};

// sip:/sips: URI -> request (maddr wins over the host, §4). Error kInvalidTarget for another scheme,
// an empty host; kUnsupportedTransport for an unknown transport parameter or sips with UDP.
std::error_code resolve_request_for(const Uri& uri, ResolveRequest& out);

struct ResolverStats {
  uint64_t lookups = 0;      // resolve() calls
  uint64_t queries = 0;      // DNS questions sent
  uint64_t cache_hits = 0;   // questions answered by the cache
  uint64_t failures = 0;     // lookups that ended with an error
};

class Resolver {
 public:
  using Handler = std::function<void(ResolveResult)>;
  using LookupId = uint64_t;

  Resolver(boost::asio::io_context& io, ResolverOptions options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Creates the c-ares channel. std::errc::invalid_argument for a bad server entry. A Resolver whose
  // start() failed answers every lookup with kServerFailure.
  std::error_code start();

  // Starts a lookup; `handler` runs once, later, on the loop. The returned id can cancel it.
  LookupId resolve(const Uri& uri, Handler handler);
  LookupId resolve(const ResolveRequest& request, Handler handler);
  // The handler will not be called. Unknown or finished ids are ignored.
  void cancel(LookupId id);

  const ResolverStats& stats() const;
  size_t pending() const;        // lookups not yet delivered
  size_t cache_size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warmline::sip
