#pragma once
// The callers' SIP over TLS (warmline-load --tls; RFC 3261 §18, RFC 5630): one TLS connection to the
// gateway's tls: listener carries every call's requests and responses, as a carrier's SBC would.
// Connected and handshaken blocking in connect(), before the run's clock starts; non-blocking from then
// on. Messages are cut from the stream by sip::StreamFramer (Content-Length framing, the gateway's own
// code). Writes the socket cannot take at once are queued and go with flush() (OpenSSL's partial-write
// mode). Certificate verification: against `ca_file` when given (the gateway's certificate must name
// the address dialled), else off — a lab figure, said in the report.
//
// Thread: the generator's RTP/SIP thread.
#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "sip/stream_framer.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace warmline::load {

class TlsStream {
 public:
  TlsStream() = default;
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // TCP connect, TLS handshake (TLS 1.2 or later); false with `error` set.
  bool connect(const sockaddr_in& to, const std::string& ca_file, std::string& error);
  int fd() const { return fd_; }
  uint16_t local_port() const { return local_port_; }
  std::string cipher() const;  // the negotiated suite ("TLS_AES_256_GCM_SHA384"), for the report

  // Queues `bytes` behind what is pending and writes what the connection takes now.
  void write(std::string_view bytes);
  // Writes what is pending (call when the socket may have room again: each timer tick).
  void flush();
  size_t pending() const { return out_.size(); }
  // Reads what has arrived (at most `max_reads` records) and hands each whole message to `on`. False
  // once the connection has ended or its framing failed (`error` says which); nothing more comes then.
  bool read(const std::function<void(std::string_view message)>& on, std::string& error, int max_reads = 4096);
  // Decrypted bytes OpenSSL holds that read() has not taken yet (a bounded read() left them).
  bool has_buffered() const;

 private:
  int fd_ = -1;
  uint16_t local_port_ = 0;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  sip::StreamFramer framer_;
  std::string out_;
  std::string in_;
  bool failed_ = false;
};

}  // namespace warmline::load
