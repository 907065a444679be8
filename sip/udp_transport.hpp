// SIP over UDP (RFC 3261 §18.1, §18.2; RFC 3581 rport) on one shard's io_context.
//
// Receive: each datagram is parsed; a good request gets received=/rport filled on its top Via and goes
// to the handler with its source; a request that fails to parse is answered statelessly with the
// parser's status (or dropped when it cannot be answered); a malformed response is dropped. Nothing a
// peer sends can stop the receive loop. Send: serializes into a reused buffer. With a tracer, each
// datagram in and out is traced as it is on the wire (warmline's end: the bound address).
//
// Threading: one UdpTransport per shard (SO_REUSEPORT lets every shard bind the same address:port);
// everything runs on that shard's io_context thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "sip/message.hpp"
#include "sip/sip_trace.hpp"
#include "sip/transport.hpp"

namespace boost::asio {
class io_context;
}

namespace warmline::sip {

struct UdpTransportOptions {
  std::string address = "0.0.0.0";  // IPv4 or IPv6 literal
  uint16_t port = 5060;             // 0 = any free port (tests)
  bool reuse_port = false;          // SO_REUSEPORT, for one socket per shard on the same port
  // Receive buffer. 65535 holds any UDP datagram, so nothing is ever truncated; the parser enforces
  // the message-size limit itself (513).
  size_t max_datagram = 65535;
  // Every datagram received (before it is parsed) and every message sent, with both ends; null = off.
  SipTracer* tracer = nullptr;
};

struct UdpTransportStats {
  uint64_t received = 0;
  uint64_t rejected = 0;  // answered statelessly (400, 505, 513, ...)
  uint64_t dropped = 0;   // unparsable and unanswerable
  uint64_t sent = 0;
  uint64_t send_errors = 0;
};

class UdpTransport final : public Transport {
 public:
  using MessageHandler = std::function<void(Message&&, const Endpoint& from)>;

  UdpTransport(boost::asio::io_context& io, UdpTransportOptions options, MessageHandler on_message);
  ~UdpTransport() override;
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  // Opens and binds the socket and starts receiving. Errors are returned (address in use, bad
  // address), never thrown.
  std::error_code start();
  void stop();

  std::error_code send(const Message& message, const Endpoint& to) override;
  Endpoint local() const override;
  const UdpTransportStats& stats() const { return stats_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  UdpTransportStats stats_;
};

// RFC 3261 §18.2.1 + RFC 3581 §4: records where a request really came from in its top Via: received=
// when the sent-by host differs from the source address (or rport was asked for), rport=<port> when
// the client asked for it with an empty rport.
void stamp_via_source(Message& request, const Endpoint& source);

}  // namespace warmline::sip
