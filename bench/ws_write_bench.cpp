// What one WebSocket write of one 20 ms frame costs with Boost.Beast, as ai_bridge/ws_client.cpp does
// it (auto_fragment off, no compression, one message per frame):
//   - BM_WsWriteSync: the framing Beast adds, sync into an in-memory stream (beast::test::stream) —
//     header, the client's mask key from its PRNG and the masking pass over the payload (RFC 6455
//     §5.3: a client must mask, a server must not, so the server row is the cost without masking);
//   - BM_WsAsyncWrite{Memory,Tcp}: async_write as the gateway does it, for 1 call or 64 calls per
//     io_context run (one shard wake-up serving many calls), into memory or a loopback TCP socket;
//   - BM_TcpSendRaw: a plain send() of the same bytes without WebSocket framing (the syscall floor).
// Frames: L16 at 8/16/24 kHz (native protocol, binary) and a Twilio `media` text frame (20 ms µ-law).
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/websocket.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ai_bridge/dialect.hpp"

namespace warmline::ai {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct Frame {
  std::vector<std::uint8_t> bytes;
  bool binary = true;
  std::string label;
};

// Argument `kind`: 0..2 = L16 20 ms at 8/16/24 kHz, 3 = Twilio media frame.
Frame make_frame(std::int64_t kind) {
  if (kind < 3) {
    static constexpr std::array<int, 3> kRates = {8000, 16000, 24000};
    const auto rate = kRates[static_cast<std::size_t>(kind)];
    std::vector<std::uint8_t> pcm(static_cast<std::size_t>(rate / 50 * 2));
    for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<std::uint8_t>(i * 37);
    return {pcm, true, "L16 " + std::to_string(rate / 1000) + "k " + std::to_string(pcm.size()) + " B"};
  }
  DialectStart start;
  start.stream_id = "MZ18ad3ab5a668481ce02b83e7395059f0";
  start.call.id = "CA1";
  start.account_id = "AC1";
  auto codec = make_dialect_codec(Dialect::kTwilio, std::move(start));
  const std::vector<std::uint8_t> mulaw(160, 0x7f);
  const std::string_view text = codec->media(mulaw, 20).bytes;
  return {std::vector<std::uint8_t>(text.begin(), text.end()), false,
          "twilio media " + std::to_string(text.size()) + " B"};
}

// `calls` WebSocket connections on one io_context, as on one shard: the gateway's (client) ends and
// the agents' (server) ends. Everything runs on the calling thread.
template <class Stream>
struct Connections {
  using Ws = websocket::stream<Stream>;
  asio::io_context ioc;
  std::vector<std::unique_ptr<Ws>> clients;
  std::vector<std::unique_ptr<Ws>> servers;

  // The opening handshakes of every pair, run together.
  bool handshake_all() {
    int failures = 0;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      clients[i]->async_handshake("127.0.0.1", "/agent", [&](beast::error_code ec) { failures += ec ? 1 : 0; });
      servers[i]->async_accept([&](beast::error_code ec) { failures += ec ? 1 : 0; });
    }
    ioc.run();
    ioc.restart();
    for (auto& ws : clients) ws->auto_fragment(false);  // as ws_client.cpp: one message, one frame
    for (auto& ws : servers) ws->auto_fragment(false);
    return failures == 0;
  }
};

bool open(Connections<beast::test::stream>& c, int calls) {
  for (int i = 0; i < calls; ++i) {
    c.clients.push_back(std::make_unique<Connections<beast::test::stream>::Ws>(c.ioc));
    c.servers.push_back(std::make_unique<Connections<beast::test::stream>::Ws>(c.ioc));
    c.clients.back()->next_layer().connect(c.servers.back()->next_layer());
  }
  return c.handshake_all();
}

bool open(Connections<tcp::socket>& c, int calls) {
  tcp::acceptor acceptor(c.ioc, {asio::ip::make_address("127.0.0.1"), 0});
  beast::error_code ec;
  for (int i = 0; i < calls && !ec; ++i) {
    c.clients.push_back(std::make_unique<Connections<tcp::socket>::Ws>(c.ioc));
    c.servers.push_back(std::make_unique<Connections<tcp::socket>::Ws>(c.ioc));
    c.clients.back()->next_layer().connect(acceptor.local_endpoint(), ec);
    if (!ec) acceptor.accept(c.servers.back()->next_layer(), ec);
    if (!ec) c.servers.back()->next_layer().non_blocking(true, ec);
  }
  return !ec && c.handshake_all();
}

// The agent reads what arrived (its cost, not the gateway's).
std::size_t drain(websocket::stream<beast::test::stream>& server) {
  auto& in = server.next_layer().buffer();
  const std::size_t n = in.size();
  in.consume(n);
  return n;
}

std::size_t drain(websocket::stream<tcp::socket>& server) {
  std::array<char, 64 * 1024> buf{};
  beast::error_code ec;
  std::size_t total = 0;
  for (int i = 0; i < 1024 && !ec; ++i) total += server.next_layer().read_some(asio::buffer(buf), ec);
  return total;
}

// The io_context's own share of an async write (post a completion, run until idle — which includes
// one epoll_wait — restart). In the gateway the shard's loop is already running and one wake-up
// serves many calls, so the async rows with calls = 1 overstate this part.
void BM_IoContextPostRun(benchmark::State& state) {
  asio::io_context ioc;
  int ran = 0;
  for (auto _ : state) {
    asio::post(ioc, [&ran] { ++ran; });
    ioc.run();
    ioc.restart();
  }
  benchmark::DoNotOptimize(ran);
}
BENCHMARK(BM_IoContextPostRun);

// Framing alone: a sync write into memory. Arguments: frame kind; writer 0 = client (masks), 1 = server.
void BM_WsWriteSync(benchmark::State& state) {
  const Frame frame = make_frame(state.range(0));
  const bool client_writes = state.range(1) == 0;
  Connections<beast::test::stream> c;
  if (!open(c, 1)) {
    state.SkipWithError("handshake failed");
    return;
  }
  auto& writer = client_writes ? *c.clients[0] : *c.servers[0];
  auto& reader = client_writes ? *c.servers[0] : *c.clients[0];
  writer.binary(frame.binary);
  std::size_t wire_bytes = 0;
  for (auto _ : state) {
    writer.write(asio::buffer(frame.bytes));
    wire_bytes = drain(reader);
  }
  state.SetLabel(frame.label + (client_writes ? " client" : " server") + ", " + std::to_string(wire_bytes) +
                 " B on the wire");
}
BENCHMARK(BM_WsWriteSync)->ArgsProduct({{0, 1, 2, 3}, {0, 1}});

// As the gateway writes: async_write from the client end of each of `calls` connections, then one
// io_context run completes them all (one wake-up serving many calls). The memory stream drains every
// round; a TCP socket every kDrainEvery rounds, outside the timed region.
template <class Stream>
void async_writes(benchmark::State& state) {
  constexpr int kDrainEvery = 32;
  const Frame frame = make_frame(state.range(0));
  const auto calls = static_cast<int>(state.range(1));
  Connections<Stream> c;
  if (!open(c, calls)) {
    state.SkipWithError("could not open the connections");
    return;
  }
  for (auto& ws : c.clients) ws->binary(frame.binary);
  int failures = 0;
  int rounds = 0;
  for (auto _ : state) {
    for (auto& ws : c.clients) {
      ws->async_write(asio::buffer(frame.bytes), [&](beast::error_code ec, std::size_t) { failures += ec ? 1 : 0; });
    }
    c.ioc.run();
    c.ioc.restart();
    if constexpr (std::is_same_v<Stream, beast::test::stream>) {
      for (auto& ws : c.servers) drain(*ws);
    } else if (++rounds % kDrainEvery == 0) {
      state.PauseTiming();
      for (auto& ws : c.servers) drain(*ws);
      state.ResumeTiming();
    }
  }
  if (failures > 0) state.SkipWithError("a write failed");
  state.counters["per_write"] =
      benchmark::Counter(calls, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.SetLabel(frame.label + " client async, " + std::to_string(calls) + " calls");
}

// Arguments: frame kind; calls written per io_context run.
void BM_WsAsyncWriteMemory(benchmark::State& state) { async_writes<beast::test::stream>(state); }
BENCHMARK(BM_WsAsyncWriteMemory)->ArgsProduct({{0, 1, 2, 3}, {1, 64}});

void BM_WsAsyncWriteTcp(benchmark::State& state) { async_writes<tcp::socket>(state); }
BENCHMARK(BM_WsAsyncWriteTcp)->ArgsProduct({{0, 1, 2, 3}, {1, 64}});

// The floor under BM_WsAsyncWriteTcp: the same bytes with one plain blocking send(), no WebSocket
// framing, no io_context.
void BM_TcpSendRaw(benchmark::State& state) {
  constexpr int kDrainEvery = 32;
  const Frame frame = make_frame(state.range(0));
  Connections<tcp::socket> c;
  if (!open(c, 1)) {
    state.SkipWithError("loopback pair failed");
    return;
  }
  auto& socket = c.clients[0]->next_layer();
  int n = 0;
  for (auto _ : state) {
    beast::error_code ec;
    socket.send(asio::buffer(frame.bytes), 0, ec);
    if (ec) {
      state.SkipWithError("send failed");
      break;
    }
    if (++n % kDrainEvery == 0) {
      state.PauseTiming();
      drain(*c.servers[0]);
      state.ResumeTiming();
    }
  }
  state.SetLabel(frame.label);
}
BENCHMARK(BM_TcpSendRaw)->ArgsProduct({{0, 1, 2, 3}});

}  // namespace
}  // namespace warmline::ai
