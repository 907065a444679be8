#include "sip/resolve/target.hpp"

namespace warmline::sip {
namespace {

class ResolveCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "warmline.resolve"; }
  std::string message(int ev) const override {
    switch (static_cast<ResolveError>(ev)) {
      case ResolveError::kInvalidTarget: return "not a resolvable SIP target";
      case ResolveError::kUnsupportedTransport: return "no supported transport for this target";
      case ResolveError::kNoSuchName: return "no such domain name (NXDOMAIN)";
      case ResolveError::kNoRecords: return "no usable DNS records";
      case ResolveError::kTimeout: return "DNS timeout";
      case ResolveError::kServerFailure: return "DNS server failure";
      // c-ares reports a server that answers SERVFAIL or REFUSED as it does one that is not there.
      case ResolveError::kServerUnreachable: return "no DNS server answered usefully (unreachable, SERVFAIL or REFUSED)";
    }
    return "unknown resolve error";
  }
};

}  // namespace

const std::error_category& resolve_category() {
  static const ResolveCategory category;  // stateless; std::error_category needs one address
  return category;
}

std::error_code make_error_code(ResolveError e) { return {static_cast<int>(e), resolve_category()}; }

std::string_view to_string(TargetTransport transport) {
  switch (transport) {
    case TargetTransport::kUdp: return "udp";
    case TargetTransport::kTcp: return "tcp";
    case TargetTransport::kTls: return "tls";
  }
  return "?";
}

std::string Target::to_string() const {
  return std::string(sip::to_string(transport)) + ":" + endpoint().to_string();
}

}  // namespace warmline::sip
