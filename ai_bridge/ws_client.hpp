#pragma once
// AgentConnection: the WebSocket client that carries one call's audio and events to its agent.
//
// Lives on one io_context — the call's shard thread — and is not thread-safe by design: every method
// and every callback runs on that thread. Boost.Beast stays behind this header (compile time, see
// BUILD-NOTES.md). Only ws:// is implemented; the stream type is one alias inside the session and the
// open phase (resolve → connect → handshake) has one place for a TLS handshake step, so wss:// is an
// addition there (an ssl_stream over the same tcp_stream), with no change to this interface.
//
// Writes: each message is framed in place into a bounded queue (ws_queue.hpp) and everything queued
// for the socket in one loop iteration leaves in one write, one write in flight; binary frames queued
// behind that write are coalesced into one message (binary audio may be any length). A queue beyond
// its limit, or a write the socket has not taken for stall_timeout, means the agent (or the network)
// is stuck: the connection is torn down with kStuck rather than buffering without bound. The queue's
// buffers are kept, so steady-state audio does not allocate; reads reuse one buffer.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace warmline::ai {

struct WsUrl {
  bool secure = false;  // wss://
  std::string host;     // without brackets for IPv6 literals
  std::string port;     // "80"/"443" when the URL has none
  std::string target;   // path and query, "/" when empty
};
// Parses ws://host[:port][/path][?query] and wss://...; nullopt when it is not such a URL.
std::optional<WsUrl> parse_ws_url(std::string_view url);

struct CloseReason {
  enum class Kind {
    kLocal,            // close() completed (or was called while connecting)
    kRemote,           // the agent sent a close frame
    kInvalidUrl,       // the URL could not be parsed or uses an unsupported scheme
    kConnectFailed,    // resolve or TCP connect failed (refused, unreachable)
    kHandshakeFailed,  // the HTTP upgrade was refused (status, bad response)
    kTimeout,          // connect + handshake exceeded connect_timeout, or a Beast stream timeout
    kStuck,            // the write queue exceeded its limit, or a write stalled past stall_timeout
    kError,            // any other transport error (reset, message too big, ...)
  };
  Kind kind = Kind::kError;
  std::uint16_t ws_code = 0;  // the close code for kRemote (1000 normal, ...), else 0
  std::string message{};      // human-readable detail for logs and CDRs
};
std::string_view to_string(CloseReason::Kind kind);

struct ConnectOptions {
  std::string bearer_token{};  // sent as "Authorization: Bearer <token>" when not empty
  std::vector<std::pair<std::string, std::string>> headers{};  // extra handshake headers
  std::chrono::milliseconds connect_timeout{5000};  // resolve + TCP connect + WebSocket handshake
  std::size_t max_message_bytes = 1024 * 1024;     // larger incoming messages fail the connection
  std::size_t max_queued_bytes = 512 * 1024;       // ≈ 16 s of 16 kHz audio; beyond it: kStuck
  std::size_t max_queued_messages = 256;           // queue slots; beyond it: kStuck
  std::size_t max_coalesced_bytes = 64 * 1024;     // largest binary message built by coalescing
  // A write still not taken by the socket after this long while more is queued: the agent (or the
  // network) has stopped reading, kStuck, whatever the queue holds. Zero: only the queue limits.
  std::chrono::milliseconds stall_timeout{0};
  // SO_SNDBUF of the socket (Linux doubles it for its own accounting). Fixed rather than autotuned:
  // autotuning grows it to tcp_wmem's maximum (4 MiB by default, minutes of audio) when the agent
  // stops reading, so neither the queue limits nor stall_timeout would see the stall for minutes.
  // Audio needs little: 48 KB/s at 24 kHz over a 200 ms round trip is under 10 KB in flight.
  int send_buffer_bytes = 32 * 1024;
};

struct AgentCallbacks {
  std::function<void()> on_open{};
  std::function<void(std::string_view text)> on_text{};
  std::function<void(std::span<const std::uint8_t> data)> on_binary{};
  // Exactly once per connect(), whatever ends the connection, and never from inside a call to this
  // class (it is always dispatched from the io_context). Not called once the object is destroyed.
  std::function<void(const CloseReason& reason)> on_close{};
  // A message carrying the caller's audio has been written to the socket: the time since its oldest
  // frame was queued (for the caller-to-agent latency metric). Optional.
  std::function<void(std::chrono::nanoseconds queued_to_written)> on_audio_written{};
};

class AgentConnection {
 public:
  AgentConnection(boost::asio::io_context& io, AgentCallbacks callbacks);
  // Tears the connection down without a close handshake and without calling on_close.
  ~AgentConnection();
  AgentConnection(const AgentConnection&) = delete;
  AgentConnection& operator=(const AgentConnection&) = delete;

  // Starts resolve, connect and handshake; on_open or on_close follows. Once per object.
  void connect(std::string_view url, ConnectOptions options = {});

  // Queue a message. Messages leave in the order queued. Allowed while connecting (flushed on open), so
  // queue "start" right after connect() and it precedes any audio. False when the connection is
  // closing, closed, or the queue limit was just exceeded (the connection then closes with kStuck).
  // Copied into the queue (no allocation once warmed up). `audio`: the text carries the caller's audio
  // (a provider dialect's media event), timed like binary audio for on_audio_written.
  bool send_text(std::string_view text, bool audio = false);
  bool send_binary(std::span<const std::uint8_t> data);
  // 16-bit PCM, written little-endian as the native protocol requires.
  bool send_audio(std::span<const std::int16_t> samples);

  // Sends a normal close (1000) after the queued messages; safe to call any number of times.
  void close();

  bool is_open() const;
  std::size_t queued_bytes() const;
  // Socket writes of queued frames since the connection opened: frames queued in one loop iteration
  // leave in one write (for tests and benchmarks).
  std::uint64_t socket_writes() const;

  class Session;  // implementation detail (ws_client.cpp)

 private:
  std::shared_ptr<Session> session_;
};

}  // namespace warmline::ai
