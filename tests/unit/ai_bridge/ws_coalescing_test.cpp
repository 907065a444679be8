// AgentConnection's write path against a real Beast WebSocket server on 127.0.0.1 (ws_test_server.hpp):
// what one loop iteration queues leaves in one socket write, in order, whole frames — also when the
// socket takes the batch in pieces, when the agent pings in the middle, and when close() comes
// mid-batch.
#include "tests/unit/ai_bridge/ws_test_server.hpp"

namespace warmline::ai {
namespace {

using namespace wstest;  // NOLINT: the fixture and its helpers

// A distinct message per index, `size` bytes, so order and integrity can be checked.
std::string numbered(int i, std::size_t size = 0) {
  std::string s = "frame " + std::to_string(i) + ";";
  if (s.size() < size) s.resize(size, static_cast<char>('a' + i % 26));
  return s;
}

// Reads `n` messages, then tells the client how many it has with a text "got <n>", then reads on until
// the client closes.
ServerScript read_n_then_report(int n) {
  return [n](websocket::stream<tcp::socket>& ws, ServerLog& log) -> asio::awaitable<void> {
    beast::flat_buffer buf;
    for (int i = 0; i < n; ++i) {
      co_await ws.async_read(buf, use_awaitable);
      log.messages.push_back({!ws.got_text(), beast::buffers_to_string(buf.data())});
      buf.consume(buf.size());
    }
    ws.text(true);
    co_await ws.async_write(asio::buffer("got " + std::to_string(n)), use_awaitable);
    co_await WsClientTest::read_until_closed(ws, log);
  };
}

TEST_F(WsClientTest, FramesQueuedInOneLoopIterationLeaveInOneSocketWrite) {
  serve(read_n_then_report(8));
  AgentCallbacks callbacks = recording_callbacks();
  AgentConnection* self = nullptr;
  std::uint64_t writes_when_all_arrived = 0;
  callbacks.on_open = [&] {
    ++opened_;
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(self->send_text(numbered(i)));
    const std::vector<std::int16_t> pcm(160, 7);
    ASSERT_TRUE(self->send_audio(pcm));
    ASSERT_TRUE(self->send_text(numbered(7)));
    EXPECT_EQ(self->socket_writes(), 0u) << "nothing is written inline: one flush per iteration";
  };
  callbacks.on_text = [&](std::string_view t) {
    texts_.emplace_back(t);
    writes_when_all_arrived = self->socket_writes();
    self->close();
  };
  AgentConnection conn(io_, callbacks);
  self = &conn;
  conn.connect(url(), {});
  run_until_closed();
  ASSERT_EQ(texts_.size(), 1u);
  EXPECT_EQ(texts_[0], "got 8");
  EXPECT_EQ(writes_when_all_arrived, 1u) << "eight frames, one socket write";
  ASSERT_EQ(log_.messages.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    if (i == 6) {
      EXPECT_TRUE(log_.messages[i].binary);
      EXPECT_EQ(log_.messages[i].data.size(), 320u);
      continue;
    }
    EXPECT_FALSE(log_.messages[i].binary);
    EXPECT_EQ(log_.messages[i].data, numbered(i));
  }
  ASSERT_EQ(closes_.size(), 1u);
  EXPECT_EQ(closes_[0].kind, CloseReason::Kind::kLocal);
}

// An 8 KiB send buffer cannot take a 300 KB batch in one send(): the write resumes where the socket
// stopped, and what is queued meanwhile (and the close asked for mid-batch) follows in order.
TEST_F(WsClientTest, APartialWriteResumesAndCloseMidBatchKeepsEveryQueuedFrame) {
  constexpr int kFirst = 300, kMore = 3;
  serve(read_until_closed);
  AgentCallbacks callbacks = recording_callbacks();
  AgentConnection* self = nullptr;
  callbacks.on_open = [&] {
    ++opened_;
    for (int i = 0; i < kFirst; ++i) ASSERT_TRUE(self->send_text(numbered(i, 1000)));
    // The next iteration: the first batch is in flight (or partly), these gather behind it.
    asio::post(io_, [&] {
      for (int i = kFirst; i < kFirst + kMore; ++i) EXPECT_TRUE(self->send_text(numbered(i, 1000)));
      self->close();
      EXPECT_FALSE(self->send_text("after close"));
    });
  };
  AgentConnection conn(io_, callbacks);
  self = &conn;
  conn.connect(url(), {.max_queued_bytes = 1024 * 1024, .max_queued_messages = 1024, .send_buffer_bytes = 4096});
  run_until_closed();
  ASSERT_EQ(log_.messages.size(), static_cast<std::size_t>(kFirst + kMore));
  for (int i = 0; i < kFirst + kMore; ++i) ASSERT_EQ(log_.messages[i].data, numbered(i, 1000)) << "message " << i;
  ASSERT_EQ(closes_.size(), 1u);
  EXPECT_EQ(closes_[0].kind, CloseReason::Kind::kLocal) << closes_[0].message;
  EXPECT_EQ(closes_[0].ws_code, 1000);
  EXPECT_GE(conn.socket_writes(), 2u);
  EXPECT_LE(conn.socket_writes(), 3u) << "the first batch, what gathered behind it, the close frame";
  EXPECT_NE(log_.error.find("gracefully closed at both endpoints"), std::string::npos) << log_.error;
}

// Beast answers the agent's ping with a pong through the same queue: whole frames, never inside one.
TEST_F(WsClientTest, APongFromBeastGoesOutBetweenWholeFrames) {
  bool pong = false;
  serve([&](websocket::stream<tcp::socket>& ws, ServerLog& log) -> asio::awaitable<void> {
    ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
      if (kind == websocket::frame_type::pong && payload == "are you there") pong = true;
    });
    co_await ws.async_ping("are you there", use_awaitable);
    co_await WsClientTest::read_until_closed(ws, log);
  });
  AgentCallbacks callbacks = recording_callbacks();
  AgentConnection* self = nullptr;
  asio::steady_timer pace(io_);
  int sent = 0;
  std::function<void()> send_some = [&] {
    for (int j = 0; j < 5; ++j) EXPECT_TRUE(self->send_text(numbered(sent++, 200)));
    if (pong || sent >= 2000) return self->close();  // bounded
    pace.expires_after(std::chrono::milliseconds(1));
    pace.async_wait([&](boost::system::error_code ec) { if (!ec) send_some(); });
  };
  callbacks.on_open = [&] {
    ++opened_;
    send_some();
  };
  AgentConnection conn(io_, callbacks);
  self = &conn;
  conn.connect(url(), {});
  run_until_closed();
  EXPECT_TRUE(pong);
  ASSERT_EQ(log_.messages.size(), static_cast<std::size_t>(sent));
  for (int i = 0; i < sent; ++i) ASSERT_EQ(log_.messages[i].data, numbered(i, 200)) << "message " << i;
  ASSERT_EQ(closes_.size(), 1u);
  EXPECT_EQ(closes_[0].kind, CloseReason::Kind::kLocal) << closes_[0].message;
}

}  // namespace
}  // namespace warmline::ai
