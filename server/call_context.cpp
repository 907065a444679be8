#include "server/call_context.hpp"

namespace warmline::server {

const std::string& allow_header_value() {
  static const std::string value = [] {
    std::string v;
    for (std::string_view m : kHandledMethods) {
      if (!v.empty()) v += ", ";
      v += m;
    }
    return v;
  }();
  return value;
}

sip::Protocol to_protocol(Transport transport) {
  switch (transport) {
    case Transport::tcp: return sip::Protocol::tcp;
    case Transport::tls: return sip::Protocol::tls;
    case Transport::udp: break;
  }
  return sip::Protocol::udp;
}

sip::TargetTransport to_target_transport(Transport transport) {
  switch (transport) {
    case Transport::tcp: return sip::TargetTransport::kTcp;
    case Transport::tls: return sip::TargetTransport::kTls;
    case Transport::udp: break;
  }
  return sip::TargetTransport::kUdp;
}

sip::Uri contact_uri(const CallContext& ctx, sip::Protocol protocol) {
  sip::Uri uri;
  uri.scheme = "sip";
  uri.host = uri_host(ctx.sip_host);
  uri.port = ctx.sip_port;
  if (protocol == sip::Protocol::tcp && ctx.sip_port_tcp) uri.port = ctx.sip_port_tcp;
  if (protocol == sip::Protocol::tls && ctx.sip_port_tls) uri.port = ctx.sip_port_tls;
  if (sip::is_stream(protocol)) uri.params.push_back(sip::Param{"transport", protocol == sip::Protocol::tls ? "tls" : "tcp", true});
  return uri;
}

}  // namespace warmline::server
