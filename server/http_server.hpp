// The HTTP/1.1 server behind the API and /metrics (DESIGN.md "HTTP API"). Boost.Beast stays inside
// http_server.cpp so only that file pays its compile time (BUILD-NOTES.md).
//
// Threading: everything runs on the one io_context given to the constructor; call start(), stop()
// and the accessors on that thread (or before it runs). Handlers are called on it too; they may answer
// later, from any thread, through their Responder (http_router.hpp).
//
// Limits, each answered with its status and a JSON error: body over body_limit -> 413, headers over
// header_limit -> 431, malformed request -> 400, more than max_connections open -> 503, a handler
// that has not answered within response_timeout -> 504. Timeouts close the connection: idle_timeout
// (waiting for the next request line and headers, keep-alive included) and body_timeout.
#pragma once

#include "server/http_router.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace boost::asio {
class io_context;
}

namespace warmline::server {

struct HttpServerOptions {
  std::string address = "127.0.0.1";  // an IP address (ServerConfig::http.host)
  uint16_t port = 8080;               // 0 = any free port (see HttpServer::port())
  size_t body_limit = 64 * 1024;
  size_t header_limit = 8 * 1024;
  size_t max_connections = 256;
  std::chrono::milliseconds idle_timeout{30'000};
  std::chrono::milliseconds body_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds response_timeout{30'000};
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpRouter router);
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts accepting. Fails (e.g. address in use) without throwing.
  std::error_code start();
  // The bound port once started (the real one when options.port was 0).
  uint16_t port() const;
  // Stops accepting and closes every connection; answers still pending are dropped.
  void stop();
  size_t connection_count() const;

  struct Impl;  // in http_server.cpp; public only so the file's connection class can name it

 private:
  std::shared_ptr<Impl> impl_;
};

// One request read from `bytes` the way a connection reads it (the same parser and limits), without a
// socket, for the fuzz target of the request parser (tests/fuzz/server_http_fuzz.cpp): the request the
// router would get, or the answer a connection sends instead (400, 413, 431), or neither when the
// bytes end before the request does and the connection would close without answering.
struct HttpParseOutcome {
  std::optional<HttpRequest> request;
  std::optional<HttpResponse> refusal;
};
HttpParseOutcome parse_http_request(std::string_view bytes, const HttpServerOptions& options = {});

}  // namespace warmline::server
