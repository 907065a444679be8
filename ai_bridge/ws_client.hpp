#pragma once
// AgentConnection: the WebSocket client that carries one call's audio and events to its agent.
//
// Lives on one io_context — the call's shard thread — and is not thread-safe by design: every method
// and every callback runs on that thread. Boost.Beast stays behind this header (compile time, see
// BUILD-NOTES.md). Only ws:// is implemented; the stream type is one alias inside the session and the
// open phase (resolve → connect → handshake) has one place for a TLS handshake step, so wss:// is an
// addition there (an ssl_stream over the same tcp_stream), with no change to this interface.
//
// Writes follow Beast's advanced server: a bounded queue, one write in flight; binary frames queued
// behind that write are coalesced into one message (binary audio may be any length). A queue beyond
// its limit means the agent (or the network) is stuck: the connection is torn down with kStuck rather
// than buffering without bound. Queue slots keep their buffers, so steady-state audio does not allocate.

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
    kStuck,            // the write queue exceeded its limit
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

  class Session;  // implementation detail (ws_client.cpp)

 private:
  std::shared_ptr<Session> session_;
};

}  // namespace warmline::ai
