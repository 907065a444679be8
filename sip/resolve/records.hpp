// The ordering rules of RFC 3263 server location, as pure functions over parsed DNS records so they
// can be tested with fixed inputs: which NAPTR records a client may follow and in which order
// (RFC 3263 §4.1, RFC 3403 §4.1), and the SRV priority/weight order (RFC 2782, "Usage rules").
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "sip/resolve/target.hpp"

namespace warmline::sip {

struct NaptrRecord {
  uint16_t order = 0;
  uint16_t preference = 0;
  std::string flags;        // "S" for the records SIP uses
  std::string service;      // "SIP+D2U", "SIP+D2T", "SIPS+D2T"
  std::string regexp;       // must be empty with flag S
  std::string replacement;  // the SRV name to look up next
};

struct SrvRecord {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;  // a host name; "." = the service is decidedly not available here (RFC 2782)
};

// One step after NAPTR: the SRV name to query and the transport its answers are for.
struct SrvQuery {
  std::string name;
  TargetTransport transport = TargetTransport::kUdp;
  bool operator==(const SrvQuery&) const = default;
};

// The transport a NAPTR service field names (case-insensitive), or false for any other service.
bool naptr_service_transport(std::string_view service, bool secure, TargetTransport& out);

// RFC 3263 §4.1 with RFC 3403 §4.1: keeps the records with flag "S", an empty regexp and a service
// this client supports (a SIPS URI only "SIPS+D2T"); among those, only the lowest Order counts (a
// client that found a usable rule must not go on to a higher Order), sorted by Preference. Records
// with equal Order and Preference keep their answer order.
std::vector<SrvQuery> select_naptr(std::vector<NaptrRecord> records, bool secure,
                                   std::span<const TargetTransport> supported);

// Returns a uniformly distributed integer in [0, max] (both ends included). Injected so tests can
// fix the weighted choice; the resolver's default is a seeded std::mt19937.
using SrvDraw = std::function<uint32_t(uint32_t max)>;

// RFC 2782 "Usage rules": priority ascending; inside one priority, repeatedly pick a record with a
// probability proportional to its weight from a running-sum list with the zero-weight records first
// (they are picked only when the draw is 0, "a very small chance") and the others sorted by target
// and port, so the same draw picks the same record whatever order the server answered in. Two
// refinements of the RFC's literal draw in [0, sum]: with no zero-weight record the draw is in
// [1, sum], so the first record does not get an extra share; with every weight zero the pick is
// uniform. A lone "." target means
// "not available" and yields an empty list; "." among other records is dropped.
std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records, const SrvDraw& random);

}  // namespace warmline::sip
