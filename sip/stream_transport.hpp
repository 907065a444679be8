// SIP over TCP and TLS (RFC 3261 §18; RFC 5626 §4.4.1 keep-alives) on one io_context.
//
// Connections are kept per peer (host:port of the far end: its source address for one it opened, the
// address we dialled for ours) and reused by every message to that peer: responses go back over the
// connection their request came on (§18.2.2), and requests to a peer with an open connection use it.
// send() to a peer without one opens it (TLS: with the certificate checks of TlsClientOptions) and
// queues the message until it is up. Each connection frames its bytes with StreamFramer: a message
// without Content-Length is answered 400 and one over max_message 513, then the connection closes;
// a malformed whole message is answered like over UDP and the connection stays. A CRLFCRLF ping is
// answered CRLF. A connection with no bytes either way for idle_timeout is closed.
//
// Threading: one StreamTransport serves the whole node on one shard's io_context (docs/sip.md); every
// method and callback runs on that thread. Other shards post to it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "sip/message.hpp"
#include "sip/sip_trace.hpp"
#include "sip/transport.hpp"

namespace boost::asio {
class io_context;
}

namespace warmline::sip {

// TLS for connections we open (RFC 3261 §26.3.1, RFC 5922): the peer's certificate must chain to a
// trusted CA and name the host we dialled, unless verify is off (labs only).
struct TlsClientOptions {
  bool verify = true;
  std::string ca_file;      // PEM bundle to trust instead of the system's CAs; "" = system CAs
  std::string server_name;  // the name the certificate must carry (and SNI); "" = the address dialled
};

struct StreamTransportOptions {
  Protocol protocol = Protocol::tcp;
  std::string address;  // listen address (IP literal); "" = no listener (outbound connections only)
  uint16_t port = 0;    // 0 with an address: any free port (tests)
  size_t max_message = 65536;                  // as over UDP (ParseLimits): larger is 513
  std::chrono::milliseconds idle_timeout{300000};  // no bytes either way: the connection closes
  size_t max_connections = 4096;               // accepted beyond this are closed at once
  size_t max_queued_bytes = 1 << 20;           // per connection: a peer that does not read is dropped
  std::string tls_cert;                        // TLS server: PEM certificate chain file
  std::string tls_key;                         // TLS server: PEM private key file
  // TLS client: the options for a connection to `to` (a trunk's tls_verify / tls_ca). Null: defaults.
  std::function<TlsClientOptions(const Endpoint& to)> tls_client;
  // A connection we opened failed before it was ever up (connect refused or unreachable, the TLS
  // handshake failed, no answer within idle_timeout): `to` and why, posted to the io_context (never
  // called from inside send()). What was queued on it is lost; the transaction layer's
  // transport_failed turns that into 503s at once. Null: the transactions time out instead.
  std::function<void(const Endpoint& to, const std::string& why)> on_connect_failed;
  // Every framed message received (before it is parsed) and every message written, decrypted, with the
  // connection's two ends; null = off.
  SipTracer* tracer = nullptr;
};

struct StreamTransportStats {
  uint64_t accepted = 0;
  uint64_t connected = 0;
  uint64_t received = 0;
  uint64_t rejected = 0;    // answered statelessly (400, 513, ...)
  uint64_t closed = 0;      // connections closed, for any reason
  uint64_t idle_closed = 0;
  uint64_t pings = 0;       // CRLFCRLF keep-alives answered
  uint64_t sent = 0;
  uint64_t send_errors = 0; // no connection possible, queue over its limit, write failed
  uint64_t connect_failed = 0;  // connections we opened that never came up
};

class StreamTransport final : public Transport {
 public:
  using MessageHandler = std::function<void(Message&&, const Endpoint& from)>;

  StreamTransport(boost::asio::io_context& io, StreamTransportOptions options, MessageHandler on_message);
  ~StreamTransport() override;
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;

  // Loads the TLS certificate and key, opens the listener (when an address is set). Errors are
  // returned, never thrown.
  std::error_code start();
  void stop();

  // Serializes and sends over the connection to `to` (opened when there is none). Returns an error
  // only when nothing can be tried (not an IP literal, stopped); a connection that fails later drops
  // its queued messages (the transaction's timers report it).
  std::error_code send(const Message& message, const Endpoint& to) override;
  // The same with an already serialized message (what other shards post).
  std::error_code send_bytes(std::string bytes, const Endpoint& to);
  Endpoint local() const override;
  std::string_view via_transport() const override;
  size_t connections() const;
  const StreamTransportStats& stats() const;

 private:
  struct Impl;
  class Connection;
  std::shared_ptr<Impl> impl_;
};

}  // namespace warmline::sip
