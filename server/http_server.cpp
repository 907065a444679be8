// Boost.Beast HTTP/1.1 server, shaped after Beast's advanced_server example: one Connection object per
// socket with do_x()/on_x() pairs, a timeout on every stream operation, limits enforced by the parser.
//
// Requests on one connection are answered in order: the next request is not read until the current
// one is answered (pipelined bytes simply wait in the buffer), so a deferred answer never overtakes.
#include "server/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <optional>
#include <unordered_map>

namespace warmline::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// After a final response on a connection we are closing, unread request bytes are drained for at most
// this long (and this many bytes): closing a socket with unread data sends RST, and the client could
// lose the 413/503 it has not read yet.
constexpr std::chrono::seconds kLingerTime{1};
constexpr size_t kLingerBytes = 1 << 20;

using BeastRequest = http::request<http::string_body>;

void set_limits(http::request_parser<http::string_body>& parser, const HttpServerOptions& options) {
  parser.body_limit(options.body_limit);
  parser.header_limit(static_cast<uint32_t>(options.header_limit));
}

// What the router gets from what Beast parsed (the body is moved out).
HttpRequest to_request(BeastRequest& req, const std::string& remote) {
  HttpRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  const size_t q = request.target.find('?');
  request.path = request.target.substr(0, q);
  if (q != std::string::npos) request.query = request.target.substr(q + 1);
  for (const auto& field : req) request.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  request.body = std::move(req.body());
  request.remote_address = remote;
  return request;
}

// The answer to a read that failed, or nullopt when there is nobody to answer (the client left or
// went quiet): the connection only closes.
std::optional<HttpResponse> refusal_for(error_code ec, const HttpServerOptions& options) {
  if (ec == http::error::body_limit) {
    return HttpResponse::error(413, "body_too_large", fmt::format("the request body is over {} bytes", options.body_limit));
  }
  if (ec == http::error::header_limit) {
    return HttpResponse::error(431, "headers_too_large", fmt::format("the request headers are over {} bytes", options.header_limit));
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == net::error::eof ||
      ec == beast::error::timeout || ec == net::error::operation_aborted || ec == net::error::connection_reset) {
    return std::nullopt;
  }
  return HttpResponse::error(400, "bad_request", ec.message());
}

}  // namespace

namespace http_detail {
class Connection;
}
using http_detail::Connection;

struct HttpServer::Impl {
  Impl(net::io_context& io_, HttpServerOptions options_, HttpRouter router_)
      : io(io_), options(std::move(options_)), router(std::move(router_)), acceptor(io_), accept_retry(io_) {}

  void do_accept(const std::shared_ptr<Impl>& self);
  void on_accept(const std::shared_ptr<Impl>& self, error_code ec, tcp::socket socket);

  net::io_context& io;
  HttpServerOptions options;
  HttpRouter router;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  bool stopped = false;
};

namespace http_detail {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), response_timer_(server->io), server_(std::move(server)) {
    error_code ec;
    remote_ = stream_.socket().remote_endpoint(ec).address().to_string();
    // Responses are written whole; Nagle would hold a pipelined second response for the peer's
    // delayed ACK (~40 ms on Linux).
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }

  void start() { do_read_header(); }
  // Over max_connections: answer whatever comes with 503 and close.
  void reject() {
    write(HttpResponse::error(503, "too_many_connections", "the server is at its connection limit; retry later"), false);
  }

  // A handler's answer for request `seq`; stale or duplicate answers are ignored. Connection thread.
  void send(uint64_t seq, HttpResponse response) {
    if (closed_ || !awaiting_ || seq != seq_) return;
    awaiting_ = false;
    response_timer_.cancel();
    write(std::move(response), keep_alive_);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    response_timer_.cancel();
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    server_->connections.erase(this);
  }

 private:
  void do_read_header() {
    parser_.emplace();
    set_limits(*parser_, server_->options);
    stream_.expires_after(server_->options.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (ec) return fail(ec);
    if (parser_->is_done()) return handle_request();
    // RFC 9110 §10.1.1: a client that sent Expect: 100-continue waits for this before the body.
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      stream_.expires_after(server_->options.write_timeout);
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](error_code ec, size_t) {
                         if (ec) return self->close();
                         self->do_read_body();
                       });
      return;
    }
    do_read_body();
  }

  void do_read_body() {
    stream_.expires_after(server_->options.body_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->fail(ec);
      self->handle_request();
    });
  }

  void fail(error_code ec) {
    if (closed_) return;
    if (auto refusal = refusal_for(ec, server_->options)) return write(std::move(*refusal), false);
    close();  // the client left, or went quiet: nobody to answer
  }

  void handle_request() {
    auto& req = parser_->get();
    HttpRequest request = to_request(req, remote_);
    keep_alive_ = req.keep_alive();
    awaiting_ = true;
    const uint64_t seq = ++seq_;
    response_timer_.expires_after(server_->options.response_timeout);
    response_timer_.async_wait([self = shared_from_this(), seq](error_code ec) {
      if (!ec) self->send(seq, HttpResponse::error(504, "timeout", "the request was not answered in time"));
    });
    server_->router.dispatch(request, Responder(std::make_unique<Sink>(server_->io.get_executor(), weak_from_this(), seq)));
  }

  void write(HttpResponse r, bool keep_alive) {
    response_.emplace();
    response_->version(11);
    response_->result(static_cast<unsigned>(r.status));
    response_->set(http::field::server, "warmline");
    if (!r.content_type.empty()) response_->set(http::field::content_type, r.content_type);  // none: a 204
    for (const HttpHeader& h : r.headers) response_->set(h.name, h.value);
    response_->body() = std::move(r.body);
    response_->keep_alive(keep_alive);
    response_->prepare_payload();
    stream_.expires_after(server_->options.write_timeout);
    http::async_write(stream_, *response_, [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    if (ec) return close();
    if (!response_->keep_alive()) return linger();
    response_.reset();
    do_read_header();
  }

  // Half-close, then discard what the client still sends until it closes too (bounded).
  void linger() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);  // one deadline for the whole drain
    do_drain(0);
  }

  void do_drain(size_t drained) {
    if (closed_ || drained > kLingerBytes) return close();
    stream_.async_read_some(net::buffer(drain_), [self = shared_from_this(), drained](error_code ec, size_t n) {
      if (ec) return self->close();
      self->do_drain(drained + n);
    });
  }

  class Sink final : public ResponseSink {
   public:
    Sink(net::io_context::executor_type ex, std::weak_ptr<Connection> c, uint64_t seq) : ex_(ex), conn_(std::move(c)), seq_(seq) {}
    // Any thread: the write itself always happens on the connection's io_context.
    void deliver(HttpResponse r) override {
      net::post(ex_, [c = conn_, seq = seq_, r = std::move(r)]() mutable {
        if (auto conn = c.lock()) conn->send(seq, std::move(r));
      });
    }

   private:
    net::io_context::executor_type ex_;
    std::weak_ptr<Connection> conn_;
    uint64_t seq_;
  };

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  net::steady_timer response_timer_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::array<char, 4096> drain_{};
  std::string remote_;
  uint64_t seq_ = 0;
  bool awaiting_ = false;
  bool keep_alive_ = false;
  bool closed_ = false;
};

}  // namespace http_detail

void HttpServer::Impl::do_accept(const std::shared_ptr<Impl>& self) {
  acceptor.async_accept([self](error_code ec, tcp::socket socket) { self->on_accept(self, ec, std::move(socket)); });
}

void HttpServer::Impl::on_accept(const std::shared_ptr<Impl>& self, error_code ec, tcp::socket socket) {
  if (stopped || ec == net::error::operation_aborted) return;
  if (ec) {
    // EMFILE and friends: retry shortly instead of spinning on an error that repeats at once.
    spdlog::warn("http: accept failed: {}", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(100));
    accept_retry.async_wait([self](error_code e) {
      if (!e && !self->stopped) self->do_accept(self);
    });
    return;
  }
  auto conn = std::make_shared<Connection>(std::move(socket), self);
  if (connections.size() >= options.max_connections) {
    conn->reject();  // not counted: it closes itself after the 503
  } else {
    connections.emplace(conn.get(), conn);
    conn->start();
  }
  do_accept(self);
}

HttpServer::HttpServer(net::io_context& io, HttpServerOptions options, HttpRouter router)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(router))) {}

HttpServer::~HttpServer() { stop(); }

std::error_code HttpServer::start() {
  error_code ec;
  const auto address = net::ip::make_address(impl_->options.address, ec);
  if (ec) return ec;
  const tcp::endpoint endpoint(address, impl_->options.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    impl_->acceptor.close(ignored);
    return ec;
  }
  impl_->do_accept(impl_);
  return {};
}

uint16_t HttpServer::port() const {
  error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::stop() {
  impl_->stopped = true;
  error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->accept_retry.cancel();
  auto connections = impl_->connections;  // close() erases from the map
  for (auto& [ptr, weak] : connections)
    if (auto conn = weak.lock()) conn->close();
}

size_t HttpServer::connection_count() const { return impl_->connections.size(); }

HttpParseOutcome parse_http_request(std::string_view bytes, const HttpServerOptions& options) {
  HttpParseOutcome out;
  http::request_parser<http::string_body> parser;
  set_limits(parser, options);
  parser.eager(true);
  error_code ec;
  while (!parser.is_done()) {
    const size_t used = parser.put(net::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(used);
    // Beast read part of the bytes and wants the rest; when it read nothing, what is left is an
    // incomplete piece (a chunk header, say) and the bytes end there: as if the client closed.
    if (ec == http::error::need_more && used > 0 && !bytes.empty()) continue;
    if (ec == http::error::need_more) parser.put_eof(ec);
    if (ec) {
      out.refusal = refusal_for(ec, options);
      return out;
    }
    if (used == 0 && !parser.is_done()) return out;  // nothing more to read
  }
  out.request = to_request(parser.get(), "127.0.0.1");
  return out;
}

}  // namespace warmline::server
