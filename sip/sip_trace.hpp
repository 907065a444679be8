// The SIP trace tap (docs/operations.md "SIP trace (Homer)"): the transports hand every SIP message
// they send or receive to a SipTracer, as bytes on the wire, with both ends and the time. Received
// bytes are handed over before they are parsed, so a message that fails to parse is traced too.
// Null tracer (the default) = tracing off: one branch per message.
//
// Threading: a tracer is called on the thread of the transport that holds it (its shard's).
#pragma once

#include <chrono>
#include <string_view>

#include "sip/transport.hpp"

namespace warmline::sip {

struct TracedMessage {
  Protocol protocol = Protocol::udp;
  const Endpoint& source;
  const Endpoint& destination;
  std::string_view bytes;  // one whole SIP message (UDP: the datagram; TCP/TLS: one framed message)
  std::chrono::system_clock::time_point at;  // sent, or arrived
};

class SipTracer {
 public:
  virtual ~SipTracer() = default;
  virtual void trace(const TracedMessage& message) = 0;
};

// The Call-ID header's value (or the compact "i"), trimmed, read textually from raw bytes that need
// not parse; "" when there is none among the headers.
std::string_view raw_call_id(std::string_view message);

}  // namespace warmline::sip
