// The HTTP server on 127.0.0.1 with a real client. Server and client share one io_context on the test
// thread; every wait is bounded (run_until) and ends on a real event, never a sleep.
#include "server/http_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <thread>

namespace warmline::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// A raw HTTP client: sends bytes as given, parses what comes back with Beast.
struct Client {
  explicit Client(net::io_context& io) : socket(io) {}

  void connect(uint16_t port) { socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port)); }

  void send(std::string bytes) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    net::async_write(socket, net::buffer(*data), [data](beast::error_code, size_t) {});
  }

  void read_response() {
    done = false;
    parser.emplace();
    parser->skip(false);
    http::async_read(socket, buffer, *parser, [this](beast::error_code ec, size_t) {
      error = ec;
      done = true;
    });
  }

  // Waits for the server to close: a read that ends in EOF (or reset) with no response.
  void read_until_closed() {
    done = false;
    socket.async_read_some(net::buffer(scratch), [this](beast::error_code ec, size_t n) {
      if (!ec && n > 0) return read_until_closed();
      error = ec;
      done = true;
    });
  }

  http::response<http::string_body>& response() { return parser->get(); }

  tcp::socket socket;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  std::array<char, 512> scratch{};
  beast::error_code error;
  bool done = false;
};

std::string get(std::string_view path, std::string_view extra = "") {
  return fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}\r\n", path, extra);
}

std::string post(std::string_view path, std::string_view body, std::string_view extra = "") {
  return fmt::format("POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n{}\r\n{}", path, body.size(), extra, body);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    options.port = 0;
    HttpRouter router;
    router.get("/healthz", [](const HttpRequest&, Responder r) { r(HttpResponse::text(200, "ok\n")); });
    router.add("DELETE", "/v1/things/{id}/", [](const HttpRequest&, Responder r) {
      HttpResponse gone = HttpResponse::text(204, "");
      gone.content_type.clear();  // as Plivo's DELETE answers: no body, no type
      r(std::move(gone));
    });
    router.get("/v1/calls/{id}", [](const HttpRequest& req, Responder r) {
      r(HttpResponse::json(200, fmt::format(R"({{"id":"{}","remote":"{}"}})", req.param("id"), req.remote_address)));
    });
    router.post("/v1/calls/{id}/transfer", [this](const HttpRequest& req, Responder r) {
      last_body_ = req.body;
      parked_.push_back(std::move(r));  // answered later by the test, like a shard would
    });
    server_.emplace(io_, options, std::move(router));
    ASSERT_FALSE(server_->start());
    ASSERT_NE(server_->port(), 0);
  }

  // Runs the io_context until `done()` holds; false after 5 s (a hang, reported as a failure).
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(20ms);
    }
    return true;
  }

  std::unique_ptr<Client> connect() {
    auto c = std::make_unique<Client>(io_);
    c->connect(server_->port());
    return c;
  }

  // Sends `request` and waits for the whole response.
  void exchange(Client& c, std::string request) {
    c.send(std::move(request));
    c.read_response();
    ASSERT_TRUE(run_until([&] { return c.done; }));
    ASSERT_FALSE(c.error) << c.error.message();
  }

  net::io_context io_;
  std::optional<HttpServer> server_;
  std::vector<Responder> parked_;
  std::string last_body_;
};

TEST_F(HttpServerTest, RoutesWithPathParameters) {
  start();
  auto c = connect();
  exchange(*c, get("/v1/calls/c-42"));
  EXPECT_EQ(c->response().result_int(), 200);
  EXPECT_EQ(c->response()[http::field::content_type], "application/json");
  EXPECT_EQ(c->response().body(), R"({"id":"c-42","remote":"127.0.0.1"})");
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405AsJson) {
  start();
  auto c = connect();
  exchange(*c, get("/v2/nothing"));
  EXPECT_EQ(c->response().result_int(), 404);
  EXPECT_EQ(c->response().body(), R"({"error":{"code":"not_found","message":"no such resource: /v2/nothing"}})");
  exchange(*c, post("/healthz", "{}"));
  EXPECT_EQ(c->response().result_int(), 405);
  EXPECT_EQ(c->response()[http::field::allow], "GET");
  EXPECT_EQ(c->response()[http::field::content_type], "application/json");
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnectionInOrder) {
  start();
  auto c = connect();
  exchange(*c, get("/healthz"));
  EXPECT_EQ(c->response().body(), "ok\n");
  EXPECT_TRUE(c->response().keep_alive());
  // Two pipelined requests in one write: answered in order.
  c->send(get("/v1/calls/a") + get("/v1/calls/b"));
  c->read_response();
  ASSERT_TRUE(run_until([&] { return c->done; }));
  EXPECT_EQ(c->response().body(), R"({"id":"a","remote":"127.0.0.1"})");
  c->read_response();
  ASSERT_TRUE(run_until([&] { return c->done; }));
  EXPECT_EQ(c->response().body(), R"({"id":"b","remote":"127.0.0.1"})");
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(HttpServerTest, NoContentHasNoBodyNorTypeAndTheConnectionGoesOn) {
  start();
  auto c = connect();
  exchange(*c, "DELETE /v1/things/x/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(c->response().result_int(), 204);
  EXPECT_TRUE(c->response().body().empty());
  EXPECT_EQ(c->response().count(http::field::content_type), 0u);
  EXPECT_TRUE(c->response().keep_alive());
  exchange(*c, get("/healthz"));
  EXPECT_EQ(c->response().body(), "ok\n");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  start();
  auto c = connect();
  exchange(*c, get("/healthz", "Connection: close\r\n"));
  EXPECT_FALSE(c->response().keep_alive());
  c->read_until_closed();
  ASSERT_TRUE(run_until([&] { return c->done; }));
  EXPECT_EQ(c->error, net::error::eof);
  c->socket.close();  // the server lingers until the client has closed too
  EXPECT_TRUE(run_until([&] { return server_->connection_count() == 0; }));
}

TEST_F(HttpServerTest, DeferredResponderAnswersLaterFromAnotherThread) {
  start();
  auto c = connect();
  c->send(post("/v1/calls/c1/transfer", R"({"targets":["Support"]})"));
  c->read_response();
  ASSERT_TRUE(run_until([&] { return parked_.size() == 1; }));
  EXPECT_EQ(last_body_, R"({"targets":["Support"]})");
  io_.poll();  // everything ready has run: still no answer
  EXPECT_FALSE(c->done);

  std::thread shard([r = parked_[0]] { r(HttpResponse::json(202, R"({"id":"t1"})")); });
  shard.join();
  ASSERT_TRUE(run_until([&] { return c->done; }));
  EXPECT_EQ(c->response().result_int(), 202);
  EXPECT_EQ(c->response().body(), R"({"id":"t1"})");
  // The connection goes on after a deferred answer.
  exchange(*c, get("/healthz"));
  EXPECT_EQ(c->response().result_int(), 200);
}

TEST_F(HttpServerTest, ResponderIsHarmlessAfterTheConnectionIsGone) {
  start();
  auto c = connect();
  c->send(post("/v1/calls/c1/transfer", "{}"));
  ASSERT_TRUE(run_until([&] { return parked_.size() == 1; }));
  server_->stop();  // closes the connection, e.g. during drain
  EXPECT_EQ(server_->connection_count(), 0u);
  EXPECT_TRUE(parked_[0](HttpResponse::json(200, "{}")));  // accepted, then dropped: nobody to write to
  parked_.clear();
  io_.poll();
  c->read_until_closed();
  ASSERT_TRUE(run_until([&] { return c->done; }));
  EXPECT_TRUE(c->error);
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  start();
  auto c = connect();
  c->send(post("/v1/calls/c1/transfer", "{}"));
  c->read_response();
  ASSERT_TRUE(run_until([&] { return parked_.size() == 1; }));
  parked_.clear();
  ASSERT_TRUE(run_until([&] { return c->done; }));
  EXPECT_EQ(c->response().result_int(), 500);
}

TEST_F(HttpServerTest, UnansweredRequestTimesOutWith504) {
  start(HttpServerOptions{.response_timeout = 20ms});
  auto c = connect();
  c->send(post("/v1/calls/c1/transfer", "{}"));
  c->read_response();
  ASSERT_TRUE(run_until([&] { return c->done; }));
  EXPECT_EQ(c->response().result_int(), 504);
  EXPECT_EQ(c->response().body(), R"({"error":{"code":"timeout","message":"the request was not answered in time"}})");
  ASSERT_EQ(parked_.size(), 1u);
  parked_[0](HttpResponse::json(200, "{}"));  // too late: ignored, the connection serves the next request
  exchange(*c, get("/healthz"));
  EXPECT_EQ(c->response().body(), "ok\n");
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413) {
  start(HttpServerOptions{.body_limit = 1024});
  auto c = connect();
  exchange(*c, post("/v1/calls/c1/transfer", std::string(4096, 'x')));
  EXPECT_EQ(c->response().result_int(), 413);
  EXPECT_EQ(c->response().body(), R"({"error":{"code":"body_too_large","message":"the request body is over 1024 bytes"}})");
  EXPECT_FALSE(c->response().keep_alive());
  EXPECT_TRUE(parked_.empty());  // the handler never saw it

  // Chunked, so the size is only known while reading.
  auto d = connect();
  std::string chunked = "POST /v1/calls/c1/transfer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "200\r\n" + std::string(512, 'y') + "\r\n";
  exchange(*d, chunked + "0\r\n\r\n");
  EXPECT_EQ(d->response().result_int(), 413);
  EXPECT_TRUE(parked_.empty());
}

TEST_F(HttpServerTest, BodyAtTheLimitIsAccepted) {
  start(HttpServerOptions{.body_limit = 1024});
  auto c = connect();
  c->send(post("/v1/calls/c1/transfer", std::string(1024, 'x')));
  ASSERT_TRUE(run_until([&] { return parked_.size() == 1; }));
  EXPECT_EQ(last_body_.size(), 1024u);
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  start();
  auto c = connect();
  c->send("POST /v1/calls/c9/transfer HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  c->read_response();
  ASSERT_TRUE(run_until([&] { return c->done; }));
  EXPECT_EQ(c->response().result_int(), 100);
  c->send("{}");
  ASSERT_TRUE(run_until([&] { return parked_.size() == 1; }));
  EXPECT_EQ(last_body_, "{}");
}

TEST_F(HttpServerTest, OversizedHeadersAre431AndGarbageIs400) {
  start(HttpServerOptions{.header_limit = 512});
  auto c = connect();
  exchange(*c, get("/healthz", "X-Big: " + std::string(1024, 'h') + "\r\n"));
  EXPECT_EQ(c->response().result_int(), 431);
  auto d = connect();
  exchange(*d, "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(d->response().result_int(), 400);
  EXPECT_EQ(d->response()[http::field::content_type], "application/json");
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitGet503) {
  start(HttpServerOptions{.max_connections = 1});
  auto a = connect();
  exchange(*a, get("/healthz"));  // a holds the only slot (keep-alive)
  auto b = connect();
  exchange(*b, get("/healthz"));
  EXPECT_EQ(b->response().result_int(), 503);
  EXPECT_EQ(b->response().body(),
            R"({"error":{"code":"too_many_connections","message":"the server is at its connection limit; retry later"}})");
  b->read_until_closed();
  ASSERT_TRUE(run_until([&] { return b->done; }));
  exchange(*a, get("/healthz"));  // the first connection is unaffected
  EXPECT_EQ(a->response().result_int(), 200);
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(HttpServerTest, IdleConnectionIsClosed) {
  start(HttpServerOptions{.idle_timeout = 20ms});
  auto c = connect();
  exchange(*c, get("/healthz"));
  c->read_until_closed();  // keep-alive, then silence
  ASSERT_TRUE(run_until([&] { return c->done; }));
  EXPECT_EQ(c->error, net::error::eof);
  EXPECT_TRUE(run_until([&] { return server_->connection_count() == 0; }));
}

TEST_F(HttpServerTest, StartFailsWhenThePortIsTaken) {
  start();
  HttpServer second(io_, HttpServerOptions{.port = server_->port()}, HttpRouter{});
  EXPECT_TRUE(second.start());
  HttpServer bad(io_, HttpServerOptions{.address = "not-an-ip"}, HttpRouter{});
  EXPECT_TRUE(bad.start());
}

}  // namespace
}  // namespace warmline::server
