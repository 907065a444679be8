// The transport interface the transaction layer sends through (RFC 3261 §18), and where responses go.
//
// Threading: a Transport belongs to one shard; send() and the receive callbacks run on that shard's
// io_context thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <string>
#include <system_error>

#include "sip/message.hpp"

namespace warmline::sip {

// Which transport a message travels over (RFC 3261 §18): the Via token UDP, TCP or TLS.
enum class Protocol : uint8_t { udp, tcp, tls };
// True for TCP and TLS: responses go back over the connection the request came on (§18.2.2).
inline bool is_stream(Protocol protocol) { return protocol != Protocol::udp; }

// A resolved peer address: `host` is an IP literal (IPv6 without brackets) by the time it reaches a
// transport; name resolution (RFC 3263) happens above. Over TCP/TLS, host:port names the connection
// (for one the peer opened: its source address and port).
struct Endpoint {
  Endpoint() = default;
  Endpoint(std::string h, uint16_t p, Protocol proto = Protocol::udp, std::string name = {})
      : host(std::move(h)), port(p), protocol(proto), tls_name(std::move(name)) {}

  std::string host;
  uint16_t port = 0;
  Protocol protocol = Protocol::udp;
  // TLS we open: the name the peer's certificate must carry (RFC 5922 §7.3: the domain we were asked
  // to reach, e.g. a trunk's address, not the address it resolved to). "" = the address itself. Not
  // part of the endpoint's identity.
  std::string tls_name;

  bool operator==(const Endpoint& o) const { return host == o.host && port == o.port && protocol == o.protocol; }
  std::string to_string() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Serializes and sends. An error (unreachable, not an IP literal, too large) is returned, never
  // thrown: the client transaction turns it into a synthesized 503 (§8.1.3.1).
  virtual std::error_code send(const Message& message, const Endpoint& to) = 0;
  // The address this transport is bound to; the transaction layer puts it in the Via it adds.
  virtual Endpoint local() const = 0;
  // "UDP", "TCP", "TLS": the Via transport token.
  virtual std::string_view via_transport() const { return "UDP"; }
  // The sent-by and Via token of a request sent to `to`: a transport that carries several protocols
  // (TransportMux) answers for the one `to` uses.
  virtual Endpoint local_for(const Endpoint& to) const {
    (void)to;
    return local();
  }
  virtual std::string_view via_transport_for(const Endpoint& to) const {
    (void)to;
    return via_transport();
  }
};

inline std::string_view via_token(Protocol protocol) {
  switch (protocol) {
    case Protocol::tcp: return "TCP";
    case Protocol::tls: return "TLS";
    case Protocol::udp: break;
  }
  return "UDP";
}

// Where a response to a request with this top Via goes over an unreliable transport: RFC 3261 §18.2.2
// (the `received` address, else the sent-by host; the sent-by port, else 5060) and RFC 3581 §4 (the
// `rport` value when the transport filled it in, so the response returns through the client's NAT).
inline Endpoint response_destination(const Via& via) {
  Endpoint to;
  const Param* received = find_param(via.params, "received");
  to.host = received && !received->value.empty() ? received->value : via.host;
  if (to.host.size() > 2 && to.host.front() == '[' && to.host.back() == ']')
    to.host = to.host.substr(1, to.host.size() - 2);
  to.port = via.port ? via.port : 5060;
  const Param* rport = find_param(via.params, "rport");
  if (rport && rport->has_value) {
    unsigned long value = 0;
    bool digits = !rport->value.empty() && rport->value.size() <= 5;
    for (char c : rport->value) {
      if (c < '0' || c > '9') digits = false;
      else value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (digits && value > 0 && value <= 65535) to.port = static_cast<uint16_t>(value);
  }
  return to;
}

// Where the responses of a server transaction go (§18.2.2): over a stream, back over the connection the
// request came on (its source); over UDP, the Via's address (response_destination).
inline Endpoint reply_destination(const Via& via, const Endpoint& source) {
  return is_stream(source.protocol) ? source : response_destination(via);
}

}  // namespace warmline::sip
