#include "server/webhook/webhook_http.hpp"

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace warmline::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kResponseBodyLimit = 64 * 1024;  // only the status matters; a bigger body is not read

// Runs one asynchronous operation on `io` to its end and returns its error. The operations are
// asynchronous only so that beast::tcp_stream's expiry can bound them (blocking Asio calls have no
// timeout); nothing else runs on this io_context.
template <class Start>
beast::error_code run_one(asio::io_context& io, Start start) {
  beast::error_code result = asio::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

std::string host_header(const WebhookUrl& url) {
  const std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  const bool default_port = url.port == (url.secure ? "443" : "80");
  return default_port ? host : host + ":" + url.port;
}

// Writes the request and reads the answer's status over a connected (and, for https, handshaken)
// stream. 0 and `error` when no status line came.
template <class Stream>
int exchange(asio::io_context& io, Stream& stream, beast::tcp_stream& tcp, std::chrono::steady_clock::time_point deadline,
             http::request<http::string_body>& request, std::string& error) {
  tcp.expires_at(deadline);
  if (auto ec = run_one(io, [&](auto done) { http::async_write(stream, request, done); })) {
    error = "sending the request: " + ec.message();
    return 0;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kResponseBodyLimit);
  tcp.expires_at(deadline);
  const auto ec = run_one(io, [&](auto done) { http::async_read(stream, buffer, parser, done); });
  if (parser.is_header_done()) return parser.get().result_int();  // a body error does not change the status
  error = "reading the answer: " + (ec == beast::error::timeout ? std::string("timed out") : ec.message());
  return 0;
}

}  // namespace

struct WebhookHttpClient::Impl {
  Impl(WebhookUrl u, bool verify, std::chrono::milliseconds t) : url(std::move(u)), tls_verify(verify), timeout(t) {}
  WebhookUrl url;
  bool tls_verify;
  std::chrono::milliseconds timeout;
  asio::io_context io{1};
  ssl::context tls{ssl::context::tls_client};
};

WebhookHttpClient::WebhookHttpClient(WebhookUrl url, bool tls_verify, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(url), tls_verify, timeout)) {
  if (impl_->url.secure && tls_verify) impl_->tls.set_default_verify_paths();
}

WebhookHttpClient::~WebhookHttpClient() = default;

int WebhookHttpClient::post(const std::string& body, const std::string& timestamp, const std::string& signature,
                            std::string& error) {
  Impl& d = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + d.timeout;
  tcp::resolver resolver(d.io);
  tcp::resolver::results_type endpoints;
  auto ec = run_one(d.io, [&](auto done) {
    resolver.async_resolve(d.url.host, d.url.port, [&endpoints, done](beast::error_code e, tcp::resolver::results_type r) {
      endpoints = std::move(r);
      done(e);
    });
  });
  if (ec) {
    error = "resolving " + d.url.host + ": " + ec.message();
    return 0;
  }
  http::request<http::string_body> request{http::verb::post, d.url.target, 11};
  request.set(http::field::host, host_header(d.url));
  request.set(http::field::user_agent, "warmline");
  request.set(http::field::content_type, "application/json");
  request.set("X-Warmline-Timestamp", timestamp);
  request.set("X-Warmline-Signature", signature);
  request.keep_alive(false);
  request.body() = body;
  request.prepare_payload();

  auto connect = [&](beast::tcp_stream& tcp) {
    tcp.expires_at(deadline);
    ec = run_one(d.io, [&](auto done) { tcp.async_connect(endpoints, done); });
    if (ec) error = "connecting to " + host_header(d.url) + ": " + (ec == beast::error::timeout ? "timed out" : ec.message());
    return !ec;
  };
  if (!d.url.secure) {
    beast::tcp_stream tcp(d.io);
    if (!connect(tcp)) return 0;
    return exchange(d.io, tcp, tcp, deadline, request, error);
  }
  ssl::stream<beast::tcp_stream> stream(d.io, d.tls);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), d.url.host.c_str())) {  // SNI
    error = "TLS: cannot set the server name";
    return 0;
  }
  if (d.tls_verify) {
    stream.set_verify_mode(ssl::verify_peer);
    stream.set_verify_callback(ssl::host_name_verification(d.url.host));
  } else {
    stream.set_verify_mode(ssl::verify_none);
  }
  if (!connect(beast::get_lowest_layer(stream))) return 0;
  beast::get_lowest_layer(stream).expires_at(deadline);
  ec = run_one(d.io, [&](auto done) { stream.async_handshake(ssl::stream_base::client, done); });
  if (ec) {
    error = "TLS handshake: " + ec.message();
    return 0;
  }
  return exchange(d.io, stream, beast::get_lowest_layer(stream), deadline, request, error);
}

}  // namespace warmline::server
