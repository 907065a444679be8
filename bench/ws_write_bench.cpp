// What one WebSocket write of one 20 ms frame costs with Boost.Beast, as ai_bridge/ws_client.cpp does
// it (auto_fragment off, no compression, one message per frame):
//   - into an in-memory stream (beast::test::stream): the framing Beast adds — header, the client's
//     mask key from its PRNG and the masking pass over the payload (RFC 6455 §5.3: a client must
//     mask, a server must not, so the server role shows the cost without masking) — sync, and async
//     as the gateway writes (composed operation + one io_context run);
//   - into a loopback TCP socket: the same plus the send() syscall, against a plain send() of the same
//     bytes without WebSocket framing (the syscall floor).
// Frames: L16 at 8/16/24 kHz (native protocol, binary) and a Twilio `media` text frame (20 ms µ-law).
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/websocket.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ai_bridge/twilio_frames.hpp"

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
  TwilioEncoder encoder({.stream_sid = "MZ18ad3ab5a668481ce02b83e7395059f0", .call_sid = "CA1", .account_sid = "AC1"});
  const std::vector<std::uint8_t> mulaw(160, 0x7f);
  const std::string_view text = encoder.media(mulaw, 20);
  return {std::vector<std::uint8_t>(text.begin(), text.end()), false,
          "twilio media " + std::to_string(text.size()) + " B"};
}

// Runs the opening handshake of both ends on one io_context thread.
template <class Stream>
bool handshake(websocket::stream<Stream>& client, websocket::stream<Stream>& server, asio::io_context& ioc) {
  beast::error_code client_ec;
  beast::error_code server_ec;
  client.async_handshake("127.0.0.1", "/agent", [&](beast::error_code ec) { client_ec = ec; });
  server.async_accept([&](beast::error_code ec) { server_ec = ec; });
  ioc.run();
  ioc.restart();
  for (auto* ws : {&client, &server}) {
    ws->auto_fragment(false);  // as ws_client.cpp
  }
  return !client_ec && !server_ec;
}

// One async write completed on the calling thread, the way the gateway's shard runs it.
template <class Stream>
bool async_write_one(websocket::stream<Stream>& ws, asio::io_context& ioc, const Frame& frame) {
  beast::error_code result;
  ws.async_write(asio::buffer(frame.bytes), [&](beast::error_code ec, std::size_t) { result = ec; });
  ioc.run();
  ioc.restart();
  return !result;
}

// The share of the async rows that is the io_context itself (post a completion, run it, restart), not
// Beast: in the gateway the shard's loop is already running, so this is an upper bound on that part.
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

// Arguments: frame kind; writer 0 = client (masks), 1 = server; 0 = sync write, 1 = async_write.
void BM_WsWriteMemory(benchmark::State& state) {
  const Frame frame = make_frame(state.range(0));
  const bool client_writes = state.range(1) == 0;
  const bool async = state.range(2) == 1;
  asio::io_context ioc;
  websocket::stream<beast::test::stream> client(ioc);
  websocket::stream<beast::test::stream> server(ioc);
  client.next_layer().connect(server.next_layer());
  if (!handshake(client, server, ioc)) {
    state.SkipWithError("handshake failed");
    return;
  }
  auto& writer = client_writes ? client : server;
  auto& sink = client_writes ? server.next_layer() : client.next_layer();
  writer.binary(frame.binary);
  std::size_t wire_bytes = 0;
  for (auto _ : state) {
    if (async) {
      if (!async_write_one(writer, ioc, frame)) {
        state.SkipWithError("write failed");
        break;
      }
    } else {
      writer.write(asio::buffer(frame.bytes));
    }
    wire_bytes = sink.buffer().size();
    sink.buffer().consume(wire_bytes);  // the peer reads it: keeps the in-memory buffer at one frame
  }
  state.SetLabel(frame.label + (client_writes ? " client" : " server") + (async ? " async" : " sync") +
                 ", " + std::to_string(wire_bytes) + " B on the wire");
}
BENCHMARK(BM_WsWriteMemory)->ArgsProduct({{0, 1, 2, 3}, {0, 1}, {0, 1}});

// A loopback TCP pair; the reading end is drained every kDrainEvery writes outside the timed region
// (the receiver's recv is the agent's cost, not the gateway's).
struct LoopbackPair {
  static constexpr int kDrainEvery = 32;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
  websocket::stream<tcp::socket> client{ioc};
  websocket::stream<tcp::socket> server{ioc};

  bool open() {
    beast::error_code ec;
    client.next_layer().connect(acceptor.local_endpoint(), ec);
    if (!ec) acceptor.accept(server.next_layer(), ec);
    if (ec || !handshake(client, server, ioc)) return false;
    server.next_layer().non_blocking(true, ec);
    return !ec;
  }
  // Reads what is waiting; bounded, and stops at the first would_block.
  void drain() {
    std::array<char, 64 * 1024> buf{};
    beast::error_code ec;
    for (int i = 0; i < 1024 && !ec; ++i) server.next_layer().read_some(asio::buffer(buf), ec);
  }
};

// Argument: frame kind. The client (the gateway) writes with async_write, as ws_client.cpp does.
void BM_WsWriteTcp(benchmark::State& state) {
  const Frame frame = make_frame(state.range(0));
  LoopbackPair pair;
  if (!pair.open()) {
    state.SkipWithError("loopback WebSocket failed");
    return;
  }
  pair.client.binary(frame.binary);
  int n = 0;
  for (auto _ : state) {
    if (!async_write_one(pair.client, pair.ioc, frame)) {
      state.SkipWithError("write failed");
      break;
    }
    if (++n % LoopbackPair::kDrainEvery == 0) {
      state.PauseTiming();
      pair.drain();
      state.ResumeTiming();
    }
  }
  state.SetLabel(frame.label + " client async");
}
BENCHMARK(BM_WsWriteTcp)->ArgsProduct({{0, 1, 2, 3}});

// The floor under BM_WsWriteTcp: the same bytes with one plain send(), no WebSocket framing.
void BM_TcpSendRaw(benchmark::State& state) {
  const Frame frame = make_frame(state.range(0));
  LoopbackPair pair;
  if (!pair.open()) {
    state.SkipWithError("loopback pair failed");
    return;
  }
  auto& socket = pair.client.next_layer();
  int n = 0;
  for (auto _ : state) {
    beast::error_code ec;
    socket.send(asio::buffer(frame.bytes), 0, ec);
    if (ec) {
      state.SkipWithError("send failed");
      break;
    }
    if (++n % LoopbackPair::kDrainEvery == 0) {
      state.PauseTiming();
      pair.drain();
      state.ResumeTiming();
    }
  }
  state.SetLabel(frame.label);
}
BENCHMARK(BM_TcpSendRaw)->ArgsProduct({{0, 1, 2, 3}});

}  // namespace
}  // namespace warmline::ai
