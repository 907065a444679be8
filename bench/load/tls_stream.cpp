#include "bench/load/tls_stream.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace warmline::load {

namespace {

std::string ssl_error_text() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

}  // namespace

TlsStream::~TlsStream() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

bool TlsStream::connect(const sockaddr_in& to, const std::string& ca_file, std::string& error) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ctx_ || SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION) != 1) {
    error = "TLS context: " + ssl_error_text();
    return false;
  }
  if (!ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
      error = "--tls-ca " + ca_file + ": " + ssl_error_text();
      return false;
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error = std::string("TLS socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1, size = 4 << 20;  // a burst of 2,000 INVITEs or their answers fits the buffers
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    error = std::string("TLS connect: ") + std::strerror(errno);
    return false;
  }
  sockaddr_in local{};
  socklen_t len = sizeof local;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
  local_port_ = ntohs(local.sin_port);
  ssl_ = SSL_new(ctx_);
  char host[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &to.sin_addr, host, sizeof host);
  if (!ca_file.empty()) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host);  // the address dialled
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_fd(ssl_, fd_);
  if (SSL_connect(ssl_) != 1) {
    const long verify = SSL_get_verify_result(ssl_);
    error = "TLS handshake: " + (verify != X509_V_OK ? std::string(X509_verify_cert_error_string(verify)) : ssl_error_text());
    return false;
  }
  if (fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK) != 0) {
    error = std::string("TLS socket: ") + std::strerror(errno);
    return false;
  }
  in_.resize(16384);
  return true;
}

std::string TlsStream::cipher() const { return ssl_ ? SSL_get_cipher_name(ssl_) : ""; }

void TlsStream::write(std::string_view bytes) {
  if (failed_) return;
  out_.append(bytes);
  flush();
}

void TlsStream::flush() {
  size_t done = 0;
  while (!failed_ && done < out_.size()) {
    const int chunk = static_cast<int>(std::min<size_t>(out_.size() - done, 1 << 20));
    const int n = SSL_write(ssl_, out_.data() + done, chunk);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    const int e = SSL_get_error(ssl_, n);
    if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) failed_ = true;
    break;
  }
  out_.erase(0, done);
}

bool TlsStream::has_buffered() const { return ssl_ && SSL_pending(ssl_) > 0; }

bool TlsStream::read(const std::function<void(std::string_view)>& on, std::string& error, int max_reads) {
  if (failed_) {
    error = "the TLS connection failed";
    return false;
  }
  for (int i = 0; i < max_reads; ++i) {
    const int n = SSL_read(ssl_, in_.data(), static_cast<int>(in_.size()));
    if (n <= 0) {
      const int e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
      failed_ = true;
      error = e == SSL_ERROR_ZERO_RETURN ? "the gateway closed the TLS connection"
                                         : "TLS read: " + (e == SSL_ERROR_SYSCALL ? std::string(std::strerror(errno))
                                                                                  : ssl_error_text());
      return false;
    }
    framer_.append(std::string_view(in_.data(), static_cast<size_t>(n)));
    for (;;) {
      sip::StreamEvent ev = framer_.next();
      if (ev.kind == sip::StreamEvent::Kind::need_more) break;
      if (ev.kind == sip::StreamEvent::Kind::ping) {
        write("\r\n");  // RFC 5626 §4.4.1: the pong
        continue;
      }
      if (ev.kind == sip::StreamEvent::Kind::error) {
        failed_ = true;
        error = "SIP framing on the TLS connection: " + std::to_string(ev.status) + " " + std::string(ev.reason);
        return false;
      }
      on(ev.bytes);
    }
  }
  return true;
}

}  // namespace warmline::load
