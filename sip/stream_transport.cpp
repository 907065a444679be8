#include "sip/stream_transport.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <deque>
#include <optional>
#include <unordered_map>
#include <variant>

#include "sip/parse_check.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"
#include "sip/stream_framer.hpp"
#include "sip/udp_transport.hpp"

namespace warmline::sip {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::string_view strip_brackets(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::string peer_key(const Endpoint& e) { return std::string(strip_brackets(e.host)) + "|" + std::to_string(e.port); }

// A peer reading nothing may not hold more than this many events per read: each event consumes bytes,
// so the loop ends anyway; the bound only makes that explicit.
constexpr int kMaxEventsPerRead = 4096;

}  // namespace

struct StreamTransport::Impl {
  Impl(asio::io_context& i, StreamTransportOptions o, MessageHandler h)
      : io(i), options(std::move(o)), on_message(std::move(h)) {}

  asio::io_context& io;
  StreamTransportOptions options;
  MessageHandler on_message;
  StreamTransportStats stats;
  std::optional<tcp::acceptor> acceptor;
  std::optional<ssl::context> server_tls;
  std::unordered_map<std::string, std::shared_ptr<Connection>> by_peer;
  bool stopped = false;

  bool tls() const { return options.protocol == Protocol::tls; }
  void accept_loop(const std::shared_ptr<Impl>& self);
  void forget(const Connection* c, const Endpoint& peer);
};

class StreamTransport::Connection : public std::enable_shared_from_this<Connection> {
 public:
  using TlsStream = ssl::stream<tcp::socket>;

  // One the peer opened (TLS: the server context).
  Connection(const std::shared_ptr<Impl>& owner, tcp::socket socket, Endpoint peer)
      : owner_(owner), peer_(std::move(peer)), idle_(owner->io), framer_(owner->options.max_message),
        stream_(make_stream(*owner, std::move(socket), nullptr)) {}
  // One we open to `peer` (TLS: a client context with `tls`'s checks).
  Connection(const std::shared_ptr<Impl>& owner, Endpoint peer, const TlsClientOptions& tls)
      : owner_(owner), peer_(std::move(peer)), idle_(owner->io), framer_(owner->options.max_message),
        client_tls_(owner->tls() ? make_client_context(tls) : nullptr),
        stream_(make_stream(*owner, tcp::socket(owner->io), client_tls_.get())) {
    outbound_ = true;
    if (client_tls_) {
      auto& s = std::get<TlsStream>(stream_);
      const std::string name = tls.server_name.empty() ? std::string(strip_brackets(peer_.host)) : tls.server_name;
      if (tls.verify) s.set_verify_callback(ssl::host_name_verification(name));
      // SNI only for names (RFC 6066 §3: literal addresses are not permitted).
      boost::system::error_code ec;
      asio::ip::make_address(name, ec);
      if (ec) SSL_set_tlsext_host_name(s.native_handle(), name.c_str());
    }
  }

  const Endpoint& peer() const { return peer_; }

  void start_accepted() {
    touch();
    arm_idle();
    no_delay();
    if (auto* tls = std::get_if<TlsStream>(&stream_)) {
      tls->async_handshake(ssl::stream_base::server, [self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return self->close("TLS handshake failed: " + ec.message());
        self->opened();
      });
      return;
    }
    opened();
  }

  void start_connect(tcp::endpoint to) {
    touch();
    arm_idle();  // also the connect and handshake timeout
    lowest().async_connect(to, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (self->closed_) return;
      if (ec) return self->close("connect failed: " + ec.message());
      self->no_delay();
      if (auto* tls = std::get_if<TlsStream>(&self->stream_)) {
        tls->async_handshake(ssl::stream_base::client, [self](const boost::system::error_code& hec) {
          if (hec) return self->close("TLS handshake failed: " + hec.message());
          self->opened();
        });
        return;
      }
      self->opened();
    });
  }

  // Queues bytes; they go out in order once the connection is up. False when the queue is over its
  // limit (the connection is then closed: a peer that does not read is not worth memory).
  bool enqueue(std::string bytes) {
    if (closed_) return false;
    auto owner = owner_.lock();
    if (!owner) return false;
    if (queued_bytes_ + bytes.size() > owner->options.max_queued_bytes) {
      close("write queue full");
      return false;
    }
    queued_bytes_ += bytes.size();
    queue_.push_back(std::move(bytes));
    if (open_ && !writing_) write();
    return true;
  }

  void close(std::string_view why) {
    if (closed_) return;
    closed_ = true;
    open_ = false;
    spdlog::debug("sip: connection {} closed: {}", peer_.to_string(), why);
    boost::system::error_code ignored;
    idle_.cancel();
    lowest().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close(ignored);  // a write in flight completes aborted; its buffer stays queued until then
    if (auto owner = owner_.lock()) {
      ++owner->stats.closed;
      owner->forget(this, peer_);
      if (outbound_ && !ever_open_ && !owner->stopped) connect_failed(*owner, why);
    }
  }

 private:
  using Stream = std::variant<tcp::socket, TlsStream>;

  static Stream make_stream(Impl& owner, tcp::socket socket, ssl::context* client) {
    if (!owner.tls()) return Stream(std::in_place_type<tcp::socket>, std::move(socket));
    return Stream(std::in_place_type<TlsStream>, std::move(socket), client ? *client : *owner.server_tls);
  }

  static std::unique_ptr<ssl::context> make_client_context(const TlsClientOptions& tls) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (tls.ca_file.empty()) ctx->set_default_verify_paths(ec);
    else ctx->load_verify_file(tls.ca_file, ec);
    if (ec) spdlog::warn("sip tls: cannot load the trusted CAs ({}): {}", tls.ca_file.empty() ? "system" : tls.ca_file, ec.message());
    ctx->set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none);
    return ctx;
  }

  // Each SIP message goes out as soon as it is written: Nagle's algorithm would hold a small one (the
  // 180 after the 100, the 200 after the 180) until the peer ACKs the previous segment, and a peer
  // that delays its ACKs then delays the call's set-up by milliseconds.
  void no_delay() {
    boost::system::error_code ignored;
    lowest().set_option(tcp::no_delay(true), ignored);
  }

  tcp::socket& lowest() {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) return tls->next_layer();
    return std::get<tcp::socket>(stream_);
  }

  void touch() { last_activity_ = Clock::now(); }

  void arm_idle() {
    auto owner = owner_.lock();
    if (!owner) return;
    idle_.expires_at(last_activity_ + owner->options.idle_timeout);
    idle_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->closed_) return;
      auto o = self->owner_.lock();
      if (!o) return;
      if (Clock::now() - self->last_activity_ >= o->options.idle_timeout) {
        ++o->stats.idle_closed;
        return self->close("idle");
      }
      self->arm_idle();
    });
  }

  // Told after the current handler returns: close() may run inside a send (a full queue).
  void connect_failed(Impl& owner, std::string_view why) {
    ++owner.stats.connect_failed;
    if (!owner.options.on_connect_failed) return;
    spdlog::info("sip {}: cannot connect to {}: {}", via_token(peer_.protocol), peer_.to_string(), why);
    asio::post(owner.io, [cb = owner.options.on_connect_failed, to = peer_, why = std::string(why)] { cb(to, why); });
  }

  void opened() {
    if (closed_) return;
    open_ = true;
    ever_open_ = true;
    boost::system::error_code ec;
    tcp::endpoint here = lowest().local_endpoint(ec);
    if (!ec) local_ = Endpoint{here.address().to_string(), here.port(), peer_.protocol};
    touch();
    if (!queue_.empty() && !writing_) write();
    read();
  }

  void read() {
    auto handler = [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
      if (self->closed_) return;
      if (ec) return self->close(ec == asio::error::eof ? "closed by the peer" : ec.message());
      self->on_read(n);
    };
    std::visit([&](auto& s) { s.async_read_some(asio::buffer(buffer_), handler); }, stream_);
  }

  void on_read(size_t n) {
    auto owner = owner_.lock();
    if (!owner || owner->stopped) return;
    touch();
    framer_.append(std::string_view(buffer_.data(), n));
    auto self = shared_from_this();  // a handler may close us
    for (int i = 0; i < kMaxEventsPerRead && !closed_; ++i) {
      StreamEvent e = framer_.next();
      if (e.kind == StreamEvent::Kind::need_more) break;
      if (e.kind == StreamEvent::Kind::ping) {
        ++owner->stats.pings;
        enqueue("\r\n");  // RFC 5626 §4.4.1: the pong
        continue;
      }
      if (e.kind == StreamEvent::Kind::error) {
        // The frame boundaries are gone: answer what can be answered, then close once it is written.
        std::string answer = build_stateless_response(e.bytes, e.status, e.reason);
        ++owner->stats.rejected;
        spdlog::info("sip {}: {} from {}; closing the connection", via_token(owner->options.protocol), e.status,
                     peer_.to_string());
        if (answer.empty()) return close("unframeable input");
        close_after_write_ = true;
        enqueue(std::move(answer));
        return;  // no more reads
      }
      deliver(*owner, e.bytes);
    }
    if (!closed_) read();
  }

  void deliver(Impl& owner, std::string_view raw) {
    if (owner.options.tracer)
      owner.options.tracer->trace(TracedMessage{owner.options.protocol, peer_, local_, raw, std::chrono::system_clock::now()});
    ParseResult parsed = parse_message(raw, ParseLimits{.max_message_size = owner.options.max_message});
    if (!parsed.ok()) {
      std::string answer = parsed.drop ? std::string() : build_stateless_response(raw, parsed.status, parsed.reason);
      if (!answer.empty()) {
        ++owner.stats.rejected;
        enqueue(std::move(answer));
      }
      return;
    }
    ++owner.stats.received;
    Message message = std::move(*parsed.message);
    if (message.is_request) stamp_via_source(message, peer_);
    if (owner.on_message) owner.on_message(std::move(message), peer_);
  }

  void write() {
    writing_ = true;
    auto handler = [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
      self->writing_ = false;
      if (self->closed_) return;
      auto owner = self->owner_.lock();
      if (ec) {
        if (owner) ++owner->stats.send_errors;
        return self->close("write failed: " + ec.message());
      }
      self->touch();
      // Traced once written, from the connection's own address; the keep-alive pong is not SIP.
      if (owner && owner->options.tracer && self->queue_.front() != "\r\n")
        owner->options.tracer->trace(TracedMessage{owner->options.protocol, self->local_, self->peer_,
                                                   self->queue_.front(), std::chrono::system_clock::now()});
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      if (!self->queue_.empty()) return self->write();
      if (self->close_after_write_) self->close("answered unframeable input");
    };
    std::visit([&](auto& s) { asio::async_write(s, asio::buffer(queue_.front()), handler); }, stream_);
  }

  std::weak_ptr<Impl> owner_;
  Endpoint peer_;
  Endpoint local_;  // the connection's own address and port, once it is up (for the tracer)
  asio::steady_timer idle_;
  StreamFramer framer_;
  std::unique_ptr<ssl::context> client_tls_;  // before stream_, which refers to it
  Stream stream_;
  std::array<char, 8192> buffer_{};
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  Clock::time_point last_activity_{};
  bool open_ = false;
  bool outbound_ = false;   // we opened it (connect failures are reported)
  bool ever_open_ = false;  // connected (and TLS-handshaken) once
  bool writing_ = false;
  bool closed_ = false;
  bool close_after_write_ = false;
};

void StreamTransport::Impl::forget(const Connection* c, const Endpoint& peer) {
  auto it = by_peer.find(peer_key(peer));
  if (it != by_peer.end() && it->second.get() == c) by_peer.erase(it);
}

void StreamTransport::Impl::accept_loop(const std::shared_ptr<Impl>& self) {
  std::weak_ptr<Impl> weak = self;
  acceptor->async_accept([weak](const boost::system::error_code& ec, tcp::socket socket) {
    auto impl = weak.lock();
    if (!impl || impl->stopped || ec == asio::error::operation_aborted) return;
    if (!ec) {
      boost::system::error_code rec;
      tcp::endpoint remote = socket.remote_endpoint(rec);
      if (rec || impl->by_peer.size() >= impl->options.max_connections) {
        socket.close(rec);
      } else {
        ++impl->stats.accepted;
        Endpoint peer{remote.address().to_string(), remote.port(), impl->options.protocol};
        auto c = std::make_shared<Connection>(impl, std::move(socket), peer);
        if (auto old = impl->by_peer.find(peer_key(peer)); old != impl->by_peer.end()) old->second->close("replaced");
        impl->by_peer[peer_key(peer)] = c;
        c->start_accepted();
      }
    }
    impl->accept_loop(impl);  // errors such as EMFILE are about one accept, not the listener
  });
}

StreamTransport::StreamTransport(asio::io_context& io, StreamTransportOptions options, MessageHandler on_message)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(on_message))) {}

StreamTransport::~StreamTransport() { stop(); }

std::error_code StreamTransport::start() {
  Impl& m = *impl_;
  boost::system::error_code ec;
  if (m.tls() && !m.options.tls_cert.empty()) {
    m.server_tls.emplace(ssl::context::tls_server);
    m.server_tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                              ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    m.server_tls->use_certificate_chain_file(m.options.tls_cert, ec);
    if (!ec) m.server_tls->use_private_key_file(m.options.tls_key, ssl::context::pem, ec);
    if (ec) return ec;
  }
  if (m.options.address.empty()) return {};
  if (m.tls() && !m.server_tls) return std::make_error_code(std::errc::invalid_argument);  // a listener needs a cert
  auto address = asio::ip::make_address(strip_brackets(m.options.address), ec);
  if (ec) return ec;
  tcp::endpoint bind_to(address, m.options.port);
  m.acceptor.emplace(m.io);
  m.acceptor->open(bind_to.protocol(), ec);
  if (!ec) m.acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) m.acceptor->bind(bind_to, ec);
  if (!ec) m.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    m.acceptor.reset();
    return ec;
  }
  m.accept_loop(impl_);
  return {};
}

void StreamTransport::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ignored;
  if (impl_->acceptor) impl_->acceptor->close(ignored);
  auto connections = std::move(impl_->by_peer);
  impl_->by_peer.clear();
  for (auto& [key, c] : connections) c->close("transport stopped");
}

std::error_code StreamTransport::send(const Message& message, const Endpoint& to) {
  std::string bytes;
  serialize_to(message, bytes);
  return send_bytes(std::move(bytes), to);
}

std::error_code StreamTransport::send_bytes(std::string bytes, const Endpoint& to) {
  Impl& m = *impl_;
  if (m.stopped) return std::make_error_code(std::errc::not_connected);
  if (bytes.size() > m.options.max_message) {
    ++m.stats.send_errors;
    return std::make_error_code(std::errc::message_size);
  }
  const std::string key = peer_key(to);
  auto it = m.by_peer.find(key);
  if (it == m.by_peer.end()) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(strip_brackets(to.host), ec);
    if (ec || to.port == 0) {
      ++m.stats.send_errors;
      return std::make_error_code(std::errc::invalid_argument);
    }
    Endpoint peer{std::string(strip_brackets(to.host)), to.port, m.options.protocol, to.tls_name};
    TlsClientOptions tls = m.options.tls_client ? m.options.tls_client(peer) : TlsClientOptions{};
    auto c = std::make_shared<Connection>(impl_, peer, tls);
    it = m.by_peer.emplace(key, c).first;
    ++m.stats.connected;
    c->start_connect(tcp::endpoint(address, to.port));
  }
  if (!it->second->enqueue(std::move(bytes))) {
    ++m.stats.send_errors;
    return std::make_error_code(std::errc::no_buffer_space);
  }
  ++m.stats.sent;
  return {};
}

Endpoint StreamTransport::local() const {
  Endpoint e{impl_->options.address, impl_->options.port, impl_->options.protocol};
  if (impl_->acceptor) {
    boost::system::error_code ec;
    tcp::endpoint ep = impl_->acceptor->local_endpoint(ec);
    if (!ec) e = Endpoint{ep.address().to_string(), ep.port(), impl_->options.protocol};
  }
  return e;
}

std::string_view StreamTransport::via_transport() const { return via_token(impl_->options.protocol); }

size_t StreamTransport::connections() const { return impl_->by_peer.size(); }

const StreamTransportStats& StreamTransport::stats() const { return impl_->stats; }

}  // namespace warmline::sip
