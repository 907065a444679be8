// What the gateway's own WebSocket client (ai::AgentConnection, ai_bridge/ws_client.cpp) costs per
// frame sent, through its public API only, so the same file measures any version of it (bench/README.md
// "WebSocket write path"): `calls` open connections on one io_context (one shard), each queues
// `frames` messages per round (a 20 ms audio frame, and with frames > 1 events beside it — a mark, a
// dialect's media event), then the io_context runs until nothing is ready (one shard wake-up serving
// every call). The agents' ends are Beast servers on 127.0.0.1 drained with plain reads outside the
// timed region; the agents' side costs nothing here.
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ai_bridge/ws_client.hpp"

namespace warmline::ai {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct Agents {
  asio::io_context io;
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  std::vector<std::unique_ptr<websocket::stream<tcp::socket>>> servers;
  std::vector<std::unique_ptr<AgentConnection>> clients;
  int opened = 0, closed = 0;

  void accept_next() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec) return;
      servers.push_back(std::make_unique<websocket::stream<tcp::socket>>(std::move(s)));
      servers.back()->async_accept([](beast::error_code) {});
      accept_next();
    });
  }

  bool open(int calls) {
    accept_next();
    const std::string url = "ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/agent";
    for (int i = 0; i < calls; ++i) {
      clients.push_back(std::make_unique<AgentConnection>(
          io, AgentCallbacks{.on_open = [this] { ++opened; }, .on_close = [this](const CloseReason&) { ++closed; }}));
      clients.back()->connect(url, {});
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (opened + closed < calls && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
    io.poll();  // the servers' accept completions
    for (auto& s : servers) s->next_layer().non_blocking(true);
    return opened == calls;
  }

  void drain() {
    static std::array<char, 64 * 1024> buf;
    for (auto& s : servers) {
      beast::error_code ec;
      for (int i = 0; i < 1024 && !ec; ++i) s->next_layer().read_some(asio::buffer(buf), ec);
    }
  }

  void run_ready() {
    for (int i = 0; i < 64 && io.poll() > 0; ++i) {
    }
    io.restart();
  }
};

// Arguments: calls; frames queued per call per round (1 = audio only; 3 = audio, a mark, an event).
void BM_AgentConnectionSend(benchmark::State& state) {
  constexpr int kDrainEvery = 16;
  const auto calls = static_cast<int>(state.range(0));
  const auto frames = static_cast<int>(state.range(1));
  Agents a;
  if (!a.open(calls)) {
    state.SkipWithError("could not open the connections");
    return;
  }
  const std::vector<std::int16_t> audio(160, 1234);  // 20 ms at 8 kHz: 320 B binary
  const std::string mark = R"({"type":"mark","name":"utterance-17","event":"played"})";
  const std::string event = R"({"type":"dtmf","digit":"5","duration_ms":100})";
  int rounds = 0;
  for (auto _ : state) {
    for (auto& c : a.clients) {
      c->send_audio(audio);
      if (frames > 1) c->send_text(mark);
      if (frames > 2) c->send_text(event);
    }
    a.run_ready();
    if (++rounds % kDrainEvery == 0) {
      state.PauseTiming();
      a.drain();
      state.ResumeTiming();
    }
  }
  if (a.closed > 0) state.SkipWithError("a connection closed");
  state.counters["per_frame"] = benchmark::Counter(calls * frames, benchmark::Counter::kIsIterationInvariantRate |
                                                                      benchmark::Counter::kInvert);
  state.SetLabel(std::to_string(calls) + " calls, " + std::to_string(frames) + " frame(s) per call per round");
}
BENCHMARK(BM_AgentConnectionSend)->ArgsProduct({{1, 64}, {1, 3}});

}  // namespace
}  // namespace warmline::ai
