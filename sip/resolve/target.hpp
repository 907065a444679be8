// What RFC 3263 server location produces: an ordered list of targets (address, port, transport) to
// try for a SIP URI, or an error the caller maps to `unreachable` (DESIGN.md "Transfers").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "sip/transport.hpp"

namespace warmline::sip {

// The transports a target can be reached over (RFC 3263 §4.1). Only UDP has a transport today; TCP
// and TLS are here so that NAPTR/SRV answers for them are understood and skipped, not misread.
enum class TargetTransport { kUdp, kTcp, kTls };
std::string_view to_string(TargetTransport transport);  // "udp", "tcp", "tls"
// §4.2: 5061 for TLS, 5060 otherwise.
constexpr uint16_t default_port(TargetTransport t) { return t == TargetTransport::kTls ? 5061 : 5060; }

struct Target {
  std::string ip;  // an IP literal; IPv6 without brackets
  uint16_t port = 0;
  TargetTransport transport = TargetTransport::kUdp;

  Endpoint endpoint() const {
    return Endpoint{ip, port,
                    transport == TargetTransport::kTcp   ? Protocol::tcp
                    : transport == TargetTransport::kTls ? Protocol::tls
                                                         : Protocol::udp};
  }
  std::string to_string() const;  // "udp:1.2.3.4:5060", "udp:[::1]:5060"
  bool operator==(const Target&) const = default;
};

// Why a resolution produced no target. Every value means `unreachable` to a transfer; the
// distinction is for logs, metrics and tests.
enum class ResolveError {
  kInvalidTarget = 1,     // not a sip:/sips: URI, empty or malformed host, or a name DNS refuses
  kUnsupportedTransport,  // the URI asks for a transport we cannot use (sips: or transport=tcp today)
  kNoSuchName,            // NXDOMAIN
  kNoRecords,             // the name exists but has no usable record (NODATA, SRV target ".")
  kTimeout,               // no DNS server answered in time
  kServerFailure,         // SERVFAIL, REFUSED, a malformed answer
  kServerUnreachable,     // every DNS server refused (ICMP port unreachable), or answered SERVFAIL/REFUSED
};
const std::error_category& resolve_category();
std::error_code make_error_code(ResolveError e);

struct ResolveResult {
  std::error_code error;        // set when `targets` is empty; never set when it is not
  std::vector<Target> targets;  // in the order to try them (RFC 3263 §4.3)

  bool ok() const { return !error; }
};

}  // namespace warmline::sip

template <>
struct std::is_error_code_enum<warmline::sip::ResolveError> : std::true_type {};
