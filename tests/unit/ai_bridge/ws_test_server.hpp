#pragma once
// The fixture of the AgentConnection tests (ws_client_test.cpp, ws_coalescing_test.cpp): a real Beast
// WebSocket server in the same io_context on 127.0.0.1. Every test is bounded by a deadline on the
// io_context (run_one_until / run_for); nothing sleeps.
#include "ai_bridge/ws_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace warmline::ai::wstest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

constexpr auto kBound = std::chrono::seconds(10);

struct Received {
  bool binary = false;
  std::string data;
};

// What the in-process server saw.
struct ServerLog {
  std::string authorization;
  std::string custom_header;
  std::string target;
  std::vector<Received> messages;
  std::string error;
};

using ServerScript = std::function<asio::awaitable<void>(websocket::stream<tcp::socket>&, ServerLog&)>;

class WsClientTest : public ::testing::Test {
 protected:
  WsClientTest() : acceptor_(io_, {asio::ip::address_v4::loopback(), 0}) {}

  std::string url(std::string_view path = "/agent") const {
    return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + std::string(path);
  }

  // Accepts one connection, records the upgrade request, then runs `script` on the WebSocket.
  void serve(ServerScript script) {
    asio::co_spawn(io_, accept_one(std::move(script)), [this](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log_.error = ex.what();
      }
    });
  }

  AgentCallbacks recording_callbacks() {
    return {.on_open = [this] { ++opened_; },
            .on_text = [this](std::string_view t) { texts_.emplace_back(t); },
            .on_binary = [this](std::span<const std::uint8_t> b) { binaries_.emplace_back(b.begin(), b.end()); },
            .on_close = [this](const CloseReason& r) { closes_.push_back(r); }};
  }

  // Runs the io_context until on_close was called (bounded), then runs whatever is ready, so a second
  // on_close would be seen. Beast may keep a handshake timer pending after a failure, so waiting for
  // the io_context to run out of work would only measure that timer.
  void run_until_closed() {
    io_.restart();  // a previous run may have run out of work, which stops the io_context
    const auto deadline = std::chrono::steady_clock::now() + kBound;
    while (closes_.empty() && std::chrono::steady_clock::now() < deadline) io_.run_one_until(deadline);
    io_.poll();
  }

  // Connects, runs until the connection ends, and checks that it ended exactly once, with `kind`.
  CloseReason connect_until_closed(const std::string& to, ConnectOptions options, CloseReason::Kind kind) {
    closes_.clear();
    AgentConnection conn(io_, recording_callbacks());
    conn.connect(to, std::move(options));
    EXPECT_TRUE(closes_.empty());  // always reported from the io_context, never inline
    run_until_closed();
    EXPECT_EQ(closes_.size(), 1u);
    if (closes_.empty()) return {};
    EXPECT_EQ(closes_[0].kind, kind) << closes_[0].message;
    return closes_[0];
  }

 public:
  // A server script: records every message until the client closes.
  static asio::awaitable<void> read_until_closed(websocket::stream<tcp::socket>& ws, ServerLog& log) {
    beast::flat_buffer buf;
    for (;;) {  // ends when the client closes (exception: closed / eof)
      co_await ws.async_read(buf, use_awaitable);
      log.messages.push_back({!ws.got_text(), beast::buffers_to_string(buf.data())});
      buf.consume(buf.size());
    }
  }

 protected:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  ServerLog log_;
  int opened_ = 0;
  std::vector<std::string> texts_;
  std::vector<std::vector<std::uint8_t>> binaries_;
  std::vector<CloseReason> closes_;

 private:
  asio::awaitable<void> accept_one(ServerScript script) {
    tcp::socket socket = co_await acceptor_.async_accept(use_awaitable);
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    co_await http::async_read(socket, buf, req, use_awaitable);
    log_.authorization = std::string(req[http::field::authorization]);
    log_.custom_header = std::string(req["X-Call"]);
    log_.target = std::string(req.target());
    websocket::stream<tcp::socket> ws(std::move(socket));
    co_await ws.async_accept(req, use_awaitable);
    co_await script(ws, log_);
  }
};

}  // namespace warmline::ai::wstest
