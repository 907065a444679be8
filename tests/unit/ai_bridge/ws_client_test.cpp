// AgentConnection against a real Beast WebSocket server in the same io_context on 127.0.0.1
// (ws_test_server.hpp).
#include "tests/unit/ai_bridge/ws_test_server.hpp"

namespace warmline::ai {
namespace {

using namespace wstest;  // NOLINT: the fixture and its helpers

TEST_F(WsClientTest, HandshakeTextAndBinaryBothWaysThenRemoteClose) {
  serve([](websocket::stream<tcp::socket>& ws, ServerLog& log) -> asio::awaitable<void> {
    ws.text(true);
    co_await ws.async_write(asio::buffer(std::string(R"({"type":"say","text":"hi"})")), use_awaitable);
    ws.binary(true);
    const std::array<std::uint8_t, 4> pcm{1, 0, 0xff, 0x7f};
    co_await ws.async_write(asio::buffer(pcm), use_awaitable);
    beast::flat_buffer buf;
    std::size_t binary_bytes = 0;
    while (binary_bytes < 3 * 640) {  // the start frame, then three 20 ms frames (maybe coalesced)
      co_await ws.async_read(buf, use_awaitable);
      log.messages.push_back({!ws.got_text(), beast::buffers_to_string(buf.data())});
      if (!ws.got_text()) binary_bytes += buf.size();
      buf.consume(buf.size());
    }
    co_await ws.async_close(websocket::close_reason(websocket::close_code::going_away, "bye"), use_awaitable);
  });
  AgentConnection conn(io_, recording_callbacks());
  conn.connect(url("/agent?x=1"), {.bearer_token = "s3cret", .headers = {{"X-Call", "c1"}}});
  // Queued before the connection is open: must arrive first and in order.
  ASSERT_TRUE(conn.send_text(R"({"type":"start"})"));
  std::vector<std::int16_t> frame(320);
  for (int i = 0; i < 3; ++i) {
    frame.assign(320, static_cast<std::int16_t>(0x0100 * (i + 1)));
    ASSERT_TRUE(conn.send_audio(frame));
  }
  run_until_closed();

  EXPECT_EQ(log_.error, "");
  EXPECT_EQ(log_.authorization, "Bearer s3cret");
  EXPECT_EQ(log_.custom_header, "c1");
  EXPECT_EQ(log_.target, "/agent?x=1");
  ASSERT_GE(log_.messages.size(), 2u);
  EXPECT_FALSE(log_.messages[0].binary);
  EXPECT_EQ(log_.messages[0].data, R"({"type":"start"})");
  std::string audio;
  for (std::size_t i = 1; i < log_.messages.size(); ++i) {
    EXPECT_TRUE(log_.messages[i].binary);
    audio += log_.messages[i].data;
  }
  ASSERT_EQ(audio.size(), 3u * 640u);
  EXPECT_EQ(audio[0], 0x00);  // little-endian 0x0100
  EXPECT_EQ(audio[1], 0x01);
  EXPECT_EQ(audio[2 * 640 + 1], 0x03);  // the third frame comes last

  EXPECT_EQ(opened_, 1);
  EXPECT_EQ(texts_, (std::vector<std::string>{R"({"type":"say","text":"hi"})"}));
  ASSERT_EQ(binaries_.size(), 1u);
  EXPECT_EQ(binaries_[0], (std::vector<std::uint8_t>{1, 0, 0xff, 0x7f}));
  ASSERT_EQ(closes_.size(), 1u);
  EXPECT_EQ(closes_[0].kind, CloseReason::Kind::kRemote);
  EXPECT_EQ(closes_[0].ws_code, 1001);
  EXPECT_NE(closes_[0].message.find("bye"), std::string::npos);
  EXPECT_FALSE(conn.is_open());
  EXPECT_FALSE(conn.send_text("late"));
}

TEST_F(WsClientTest, LocalCloseFlushesQueueAndIsReportedOnceEvenWhenCalledTwice) {
  serve(read_until_closed);
  AgentCallbacks callbacks = recording_callbacks();
  AgentConnection* self = nullptr;
  callbacks.on_open = [&] {
    ++opened_;
    EXPECT_TRUE(self->send_text("last words"));
    self->close();
    self->close();
    EXPECT_FALSE(self->send_text("after close"));
  };
  AgentConnection conn(io_, callbacks);
  self = &conn;
  conn.connect(url(), {});
  run_until_closed();
  ASSERT_EQ(log_.messages.size(), 1u);
  EXPECT_EQ(log_.messages[0].data, "last words");
  EXPECT_EQ(opened_, 1);
  ASSERT_EQ(closes_.size(), 1u);
  EXPECT_EQ(closes_[0].kind, CloseReason::Kind::kLocal);
  EXPECT_EQ(closes_[0].ws_code, 1000);
  conn.close();  // after the end: still harmless
  io_.run_for(kBound);
  EXPECT_EQ(closes_.size(), 1u);
  // The server saw a proper close handshake, not a dropped socket.
  EXPECT_NE(log_.error.find("gracefully closed at both endpoints"), std::string::npos) << log_.error;
}

TEST_F(WsClientTest, CloseWhileConnectingAbandonsTheConnection) {
  AgentConnection conn(io_, recording_callbacks());
  conn.connect(url(), {});
  conn.send_text("never sent");
  conn.close();
  conn.close();
  run_until_closed();
  EXPECT_EQ(opened_, 0);
  ASSERT_EQ(closes_.size(), 1u);
  EXPECT_EQ(closes_[0].kind, CloseReason::Kind::kLocal);
}

TEST_F(WsClientTest, ConnectionRefusedIsReported) {
  const std::string refused = url();
  acceptor_.close();  // nothing listens on that port now
  const auto reason = connect_until_closed(refused, {}, CloseReason::Kind::kConnectFailed);
  EXPECT_EQ(opened_, 0);
  EXPECT_NE(reason.message.find("127.0.0.1"), std::string::npos) << reason.message;
}

TEST_F(WsClientTest, UpgradeRefusedReportsTheHttpStatus) {
  asio::co_spawn(io_, [this]() -> asio::awaitable<void> {
    tcp::socket socket = co_await acceptor_.async_accept(use_awaitable);
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    co_await http::async_read(socket, buf, req, use_awaitable);
    http::response<http::string_body> res(http::status::unauthorized, 11);
    res.prepare_payload();
    co_await http::async_write(socket, res, use_awaitable);
  }, asio::detached);
  const auto reason = connect_until_closed(url(), {.bearer_token = "wrong"}, CloseReason::Kind::kHandshakeFailed);
  EXPECT_NE(reason.message.find("401"), std::string::npos) << reason.message;
}

TEST_F(WsClientTest, SilentServerTimesOutTheHandshake) {
  asio::co_spawn(io_, [this]() -> asio::awaitable<void> {
    tcp::socket socket = co_await acceptor_.async_accept(use_awaitable);
    std::array<char, 4096> sink{};
    for (;;) co_await socket.async_read_some(asio::buffer(sink), use_awaitable);  // until the client leaves
  }, asio::detached);
  connect_until_closed(url(), {.connect_timeout = std::chrono::milliseconds(100)}, CloseReason::Kind::kTimeout);
  EXPECT_EQ(opened_, 0);
}

TEST_F(WsClientTest, WriteQueueOverItsLimitClosesAsStuck) {
  serve(read_until_closed);
  constexpr std::size_t kLimit = 16 * 1024;
  std::size_t refused_at = 0;
  AgentCallbacks callbacks = recording_callbacks();
  AgentConnection* self = nullptr;
  callbacks.on_open = [&] {
    ++opened_;
    const std::vector<std::int16_t> frame(320, 1);  // 640 bytes
    // Faster than any socket drains: one write is in flight, the rest must queue up to the limit.
    for (std::size_t i = 1; i <= 1000 && refused_at == 0; ++i) {
      if (!self->send_audio(frame)) refused_at = i;
      EXPECT_LE(self->queued_bytes(), kLimit);
    }
    EXPECT_TRUE(closes_.empty());  // never reported from inside send_*
    EXPECT_FALSE(self->send_audio(frame));
  };
  AgentConnection conn(io_, callbacks);
  self = &conn;
  conn.connect(url(), {.max_queued_bytes = kLimit, .max_coalesced_bytes = 4096});
  run_until_closed();
  EXPECT_EQ(opened_, 1);
  EXPECT_GT(refused_at, kLimit / 640);  // the whole budget was usable before the limit hit
  EXPECT_LE(refused_at, kLimit / 640 + 1);
  ASSERT_EQ(closes_.size(), 1u);
  EXPECT_EQ(closes_[0].kind, CloseReason::Kind::kStuck);
}

TEST_F(WsClientTest, WriteWaitingPastTheStallTimeoutClosesAsStuck) {
  // An agent that takes the upgrade and then never reads: its socket holds the connection open.
  serve([this](websocket::stream<tcp::socket>&, ServerLog&) -> asio::awaitable<void> {
    asio::steady_timer hold(io_, kBound);
    co_await hold.async_wait(use_awaitable);
  });
  AgentCallbacks callbacks = recording_callbacks();
  AgentConnection* self = nullptr;
  asio::steady_timer pace(io_);
  int sent = 0;
  bool refused = false;
  const std::vector<std::int16_t> frame(320, 1);  // 640 bytes, a 20 ms frame at 16 kHz
  std::function<void()> send_next = [&] {
    if (!self->send_audio(frame)) {
      refused = true;
      return;
    }
    if (++sent >= 20000) return;  // bounded: 40 s of pacing, far beyond kBound
    pace.expires_after(std::chrono::milliseconds(2));
    pace.async_wait([&](boost::system::error_code ec) { if (!ec) send_next(); });
  };
  callbacks.on_open = [&] {
    ++opened_;
    send_next();
  };
  AgentConnection conn(io_, callbacks);
  self = &conn;
  // Queue limits far away: only the stall timeout can end this. A small send buffer fills at once.
  conn.connect(url(), {.max_queued_bytes = 8 * 1024 * 1024, .max_queued_messages = 4096,
                       .stall_timeout = std::chrono::milliseconds(20), .send_buffer_bytes = 4096});
  run_until_closed();
  EXPECT_EQ(opened_, 1);
  EXPECT_TRUE(refused);
  ASSERT_EQ(closes_.size(), 1u);
  EXPECT_EQ(closes_[0].kind, CloseReason::Kind::kStuck);
  EXPECT_NE(closes_[0].message.find("a write has waited over 20 ms"), std::string::npos) << closes_[0].message;
  pace.cancel();
}

TEST_F(WsClientTest, OversizedIncomingMessageFailsTheConnection) {
  serve([](websocket::stream<tcp::socket>& ws, ServerLog& log) -> asio::awaitable<void> {
    ws.binary(true);
    co_await ws.async_write(asio::buffer(std::string(2000, 'x')), use_awaitable);
    co_await read_until_closed(ws, log);
  });
  connect_until_closed(url(), {.max_message_bytes = 1000}, CloseReason::Kind::kError);
  EXPECT_TRUE(binaries_.empty());
}

TEST_F(WsClientTest, UnsupportedUrlIsReportedAsynchronously) {
  connect_until_closed("http://127.0.0.1/", {}, CloseReason::Kind::kInvalidUrl);
  connect_until_closed("wss://127.0.0.1/", {}, CloseReason::Kind::kInvalidUrl);  // not yet
}

TEST_F(WsClientTest, DestroyedConnectionCallsNothing) {
  {
    AgentConnection conn(io_, recording_callbacks());
    conn.connect(url(), {});
    conn.send_text("x");
  }
  io_.run_for(kBound);
  EXPECT_EQ(opened_, 0);
  EXPECT_TRUE(closes_.empty());
}

TEST_F(WsClientTest, CallbackMayDestroyItsConnection) {
  serve([](websocket::stream<tcp::socket>& ws, ServerLog& log) -> asio::awaitable<void> {
    ws.text(true);
    co_await ws.async_write(asio::buffer(std::string("go away")), use_awaitable);
    co_await read_until_closed(ws, log);
  });
  auto conn = std::make_unique<AgentConnection>(io_, AgentCallbacks{});
  int texts = 0;
  conn = std::make_unique<AgentConnection>(
      io_, AgentCallbacks{.on_text = [&](std::string_view) { ++texts, conn.reset(); },
                          .on_close = [&](const CloseReason&) { ADD_FAILURE() << "called after destruction"; }});
  conn->connect(url(), {});
  io_.run_for(kBound);
  EXPECT_EQ(texts, 1);
  EXPECT_EQ(conn, nullptr);
}

TEST(ParseWsUrl, AcceptsWsAndWssForms) {
  const std::vector<std::pair<std::string, WsUrl>> cases = {
      {"ws://agent.example.com/v1/stream?k=v", {false, "agent.example.com", "80", "/v1/stream?k=v"}},
      {"WSS://[::1]:8443", {true, "::1", "8443", "/"}},
      {"ws://127.0.0.1:8765?x", {false, "127.0.0.1", "8765", "/?x"}},
  };
  for (const auto& [text, want] : cases) {
    const auto got = parse_ws_url(text);
    ASSERT_TRUE(got) << text;
    EXPECT_EQ(got->secure, want.secure) << text;
    EXPECT_EQ(got->host, want.host) << text;
    EXPECT_EQ(got->port, want.port) << text;
    EXPECT_EQ(got->target, want.target) << text;
  }
}

TEST(ParseWsUrl, RejectsOtherSchemesAndBadAuthorities) {
  for (const char* bad : {"http://a/", "ws://", "ws://:80/", "ws://a:/", "ws://a:0/", "ws://a:65536/", "ws://a:8x/",
                          "ws://u:p@a/", "ws://[::1/", "ws://[::1]x/", "agent:8765"}) {
    EXPECT_FALSE(parse_ws_url(bad)) << bad;
  }
}

}  // namespace
}  // namespace warmline::ai
