// The Beast side of AgentConnection. Every handler runs on the io_context the connection was made
// with (the call's shard); a handler holds the Session alive (shared_from_this) until Beast is done
// with it, so destroying the AgentConnection while operations are pending is safe.
#include "ai_bridge/ws_client.hpp"

#include <bit>
#include <cstring>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "ai_bridge/ws_out_stream.hpp"
#include "ai_bridge/ws_queue.hpp"

namespace warmline::ai {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using beast::error_code;

class AgentConnection::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, AgentCallbacks callbacks)
      : io_(io), callbacks_(std::move(callbacks)), resolver_(io), ws_(io), open_timer_(io) {}

  void start(std::string_view url, ConnectOptions options);
  bool enqueue_text(std::string_view text, bool audio);
  bool enqueue_binary(std::span<const std::uint8_t> data);
  bool enqueue_audio(std::span<const std::int16_t> samples);
  void close();
  void disarm();  // the owner is gone: no more callbacks, tear down
  bool is_open() const { return state_ == State::kOpen; }
  std::size_t queued_bytes() const { return ws_.next_layer().queue().bytes(); }
  std::uint64_t writes() const { return ws_.next_layer().writes(); }

 private:
  enum class State { kIdle, kConnecting, kOpen, kClosing, kClosed };

  void on_open_timeout(error_code ec);
  void on_resolve(error_code ec, const tcp::resolver::results_type& results);
  void on_connect(error_code ec);
  void on_handshake(error_code ec);
  void do_read();
  void on_read(error_code ec);
  void on_written(error_code ec, const WriteQueue::Batch& batch);
  void do_close();
  bool accept_enqueue(bool queued);
  CloseReason reason_for(error_code ec, std::string_view during) const;
  void finish(CloseReason reason);

  asio::io_context& io_;
  AgentCallbacks callbacks_;
  ConnectOptions options_;
  WsUrl url_;
  tcp::resolver resolver_;
  // wss:// would put an ssl_stream under the CoalescingStream and add a TLS step in on_connect.
  websocket::stream<CoalescingStream> ws_;
  asio::steady_timer open_timer_;  // bounds resolve + connect + handshake as one phase
  websocket::response_type handshake_response_;
  beast::flat_buffer read_buffer_;
  State state_ = State::kIdle;
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool disarmed_ = false;
};

void AgentConnection::Session::start(std::string_view url, ConnectOptions options) {
  if (state_ != State::kIdle) return;
  options_ = std::move(options);
  ws_.next_layer().queue() = WriteQueue({.max_messages = options_.max_queued_messages,
                                         .max_bytes = options_.max_queued_bytes,
                                         .max_coalesced_bytes = options_.max_coalesced_bytes});
  ws_.next_layer().set_owner(weak_from_this(), [this](error_code ec, const WriteQueue::Batch& batch) {
    on_written(ec, batch);
  });
  state_ = State::kConnecting;
  auto parsed = parse_ws_url(url);
  if (!parsed || parsed->secure) {
    return finish({CloseReason::Kind::kInvalidUrl, 0,
                   parsed ? "wss:// is not supported yet" : "not a ws:// URL: " + std::string(url)});
  }
  url_ = std::move(*parsed);
  open_timer_.expires_after(options_.connect_timeout);
  open_timer_.async_wait([self = shared_from_this()](error_code ec) { self->on_open_timeout(ec); });
  resolver_.async_resolve(url_.host, url_.port,
                          [self = shared_from_this()](error_code ec, tcp::resolver::results_type results) {
                            self->on_resolve(ec, results);
                          });
}

void AgentConnection::Session::on_open_timeout(error_code ec) {
  if (ec || state_ != State::kConnecting) return;
  finish({CloseReason::Kind::kTimeout, 0,
          "no WebSocket connection within " + std::to_string(options_.connect_timeout.count()) + " ms"});
}

void AgentConnection::Session::on_resolve(error_code ec, const tcp::resolver::results_type& results) {
  if (state_ != State::kConnecting) return;
  if (ec) return finish({CloseReason::Kind::kConnectFailed, 0, "resolve " + url_.host + ": " + ec.message()});
  beast::get_lowest_layer(ws_).async_connect(
      results, [self = shared_from_this()](error_code ec2, const tcp::endpoint&) { self->on_connect(ec2); });
}

void AgentConnection::Session::on_connect(error_code ec) {
  if (state_ != State::kConnecting) return;
  if (ec) {
    return finish({CloseReason::Kind::kConnectFailed, 0,
                   "connect " + url_.host + ":" + url_.port + ": " + ec.message()});
  }
  // Every frame is a 20 ms audio packet or an event that must leave now: Nagle's algorithm would hold
  // a small frame until the previous one is ACKed (measured: caller audio 20-40 ms late). Our own
  // write queue already coalesces what is waiting, so nothing is lost by sending at once.
  error_code nodelay_ec;
  beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), nodelay_ec);
  // A small, fixed send buffer: a stalled agent shows as a write that waits (see ConnectOptions).
  if (options_.send_buffer_bytes > 0) {
    error_code sndbuf_ec;
    beast::get_lowest_layer(ws_).socket().set_option(asio::socket_base::send_buffer_size(options_.send_buffer_bytes),
                                                     sndbuf_ec);
  }
  // The websocket stream has its own timeout system; the tcp_stream's must be off (Beast's rule).
  beast::get_lowest_layer(ws_).expires_never();
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
  timeouts.handshake_timeout = options_.connect_timeout;
  ws_.set_option(timeouts);
  ws_.read_message_max(options_.max_message_bytes);
  ws_.auto_fragment(false);  // one message, one frame: simpler for agents, no cost here
  ws_.set_option(websocket::stream_base::decorator(
      [token = options_.bearer_token, headers = options_.headers](websocket::request_type& req) {
        req.set(http::field::user_agent, "warmline");
        if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
        for (const auto& [name, value] : headers) req.set(name, value);
      }));
  const std::string host = url_.host.find(':') == std::string::npos ? url_.host : "[" + url_.host + "]";
  ws_.async_handshake(handshake_response_, host + ":" + url_.port, url_.target,
                      [self = shared_from_this()](error_code ec2) { self->on_handshake(ec2); });
}

void AgentConnection::Session::on_handshake(error_code ec) {
  if (state_ != State::kConnecting) return;
  if (ec == websocket::error::upgrade_declined) {
    return finish({CloseReason::Kind::kHandshakeFailed, 0,
                   "agent refused the upgrade: HTTP " + std::to_string(handshake_response_.result_int()) + " " +
                       std::string(handshake_response_.reason())});
  }
  if (ec) return finish(reason_for(ec, "handshake"));
  open_timer_.cancel();
  state_ = State::kOpen;
  ws_.next_layer().start_queueing();
  do_read();
  if (!disarmed_ && callbacks_.on_open) callbacks_.on_open();
  // What was queued while connecting (or in on_open) leaves in one write; nothing if on_open closed us.
  if (state_ == State::kOpen) ws_.next_layer().request_flush();
}

void AgentConnection::Session::do_read() {
  ws_.async_read(read_buffer_, [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
}

void AgentConnection::Session::on_read(error_code ec) {
  if (state_ == State::kClosed) return;
  if (ec) return finish(reason_for(ec, "read"));
  const auto data = read_buffer_.cdata();
  const auto* bytes = static_cast<const std::uint8_t*>(data.data());
  if (disarmed_) {
    // The owner is gone; finish() has closed the socket, nothing to deliver.
  } else if (ws_.got_text() && callbacks_.on_text) {
    callbacks_.on_text(std::string_view(reinterpret_cast<const char*>(bytes), data.size()));
  } else if (!ws_.got_text() && callbacks_.on_binary) {
    callbacks_.on_binary(std::span<const std::uint8_t>(bytes, data.size()));
  }
  read_buffer_.consume(read_buffer_.size());
  if (state_ != State::kClosed) do_read();
}

bool AgentConnection::Session::accept_enqueue(bool queued) {
  // Checked as data arrives (every 20 ms while a call streams), so no timer runs per write: a stalled
  // write with nothing more to send holds no more memory than it already does.
  const WriteQueue& q = ws_.next_layer().queue();
  if (queued && q.writing() && options_.stall_timeout.count() > 0 &&
      std::chrono::steady_clock::now() - q.write_started() >= options_.stall_timeout) {
    finish({CloseReason::Kind::kStuck, 0,
            "agent not reading: a write has waited over " + std::to_string(options_.stall_timeout.count()) + " ms (" +
                std::to_string(q.bytes()) + " bytes queued)"});
    return false;
  }
  if (!queued) {
    finish({CloseReason::Kind::kStuck, 0,
            "write queue over its limit (" + std::to_string(q.bytes()) + " bytes, " + std::to_string(q.size()) +
                " messages queued): agent not reading"});
    return false;
  }
  if (state_ == State::kOpen) ws_.next_layer().request_flush();  // once per loop iteration, not per frame
  return true;
}

bool AgentConnection::Session::enqueue_text(std::string_view text, bool audio) {
  if (state_ != State::kConnecting && state_ != State::kOpen) return false;
  if (close_requested_) return false;
  return accept_enqueue(ws_.next_layer().queue().push_text(text, audio));
}

bool AgentConnection::Session::enqueue_binary(std::span<const std::uint8_t> data) {
  if (state_ != State::kConnecting && state_ != State::kOpen) return false;
  if (close_requested_) return false;
  return accept_enqueue(ws_.next_layer().queue().push_binary(data));
}

bool AgentConnection::Session::enqueue_audio(std::span<const std::int16_t> samples) {
  // The wire format is little-endian PCM: on such a host the samples' bytes are the frame.
  static_assert(std::endian::native == std::endian::little, "big-endian hosts must byte-swap audio here");
  return enqueue_binary({reinterpret_cast<const std::uint8_t*>(samples.data()), samples.size_bytes()});
}

// After each socket write (CoalescingStream): the caller-to-agent time of the audio it carried, and
// the close handshake once a closing connection's queue has drained.
void AgentConnection::Session::on_written(error_code ec, const WriteQueue::Batch& batch) {
  if (state_ == State::kClosed) return;
  if (ec) return finish(reason_for(ec, "write"));
  if (batch.audio && !disarmed_ && callbacks_.on_audio_written)
    callbacks_.on_audio_written(std::chrono::steady_clock::now() - batch.audio_since);
  if (state_ == State::kClosing && !close_sent_ && ws_.next_layer().drained()) do_close();
}

void AgentConnection::Session::close() {
  if (close_requested_ || state_ == State::kClosed || state_ == State::kIdle) return;
  close_requested_ = true;
  if (state_ == State::kConnecting) return finish({CloseReason::Kind::kLocal, 0, "closed while connecting"});
  state_ = State::kClosing;
  if (ws_.next_layer().drained()) do_close();  // else on_written closes once the queue drains
}

void AgentConnection::Session::do_close() {
  close_sent_ = true;
  ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](error_code ec) {
    if (self->state_ == State::kClosed) return;
    self->finish(ec ? self->reason_for(ec, "close") : CloseReason{CloseReason::Kind::kLocal, 1000, "closed"});
  });
}

CloseReason AgentConnection::Session::reason_for(error_code ec, std::string_view during) const {
  if (ec == websocket::error::closed) {
    if (close_requested_) return {CloseReason::Kind::kLocal, 1000, "closed"};
    const auto& r = ws_.reason();
    return {CloseReason::Kind::kRemote, static_cast<std::uint16_t>(r.code),
            "agent closed the connection" + (r.reason.empty() ? std::string() : ": " + std::string(r.reason.data(), r.reason.size()))};
  }
  if (ec == beast::error::timeout) return {CloseReason::Kind::kTimeout, 0, std::string(during) + " timed out"};
  if (state_ == State::kConnecting) return {CloseReason::Kind::kHandshakeFailed, 0, "handshake: " + ec.message()};
  return {CloseReason::Kind::kError, 0, std::string(during) + ": " + ec.message()};
}

void AgentConnection::Session::finish(CloseReason reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  open_timer_.cancel();
  resolver_.cancel();
  error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);  // pending operations complete, aborted
  ws_.next_layer().abandon();
  // Posted, never called inline: a send_text() that overflows the queue must not re-enter its caller.
  asio::post(io_, [self = shared_from_this(), reason = std::move(reason)] {
    if (!self->disarmed_ && self->callbacks_.on_close) self->callbacks_.on_close(reason);
  });
}

void AgentConnection::Session::disarm() {
  // The callbacks stay alive (one of them may be running and have destroyed the owner); they are
  // just never called again.
  disarmed_ = true;
  if (state_ != State::kIdle) finish({CloseReason::Kind::kLocal, 0, "connection destroyed"});
}

AgentConnection::AgentConnection(asio::io_context& io, AgentCallbacks callbacks)
    : session_(std::make_shared<Session>(io, std::move(callbacks))) {}

AgentConnection::~AgentConnection() { session_->disarm(); }

void AgentConnection::connect(std::string_view url, ConnectOptions options) {
  session_->start(url, std::move(options));
}
bool AgentConnection::send_text(std::string_view text, bool audio) { return session_->enqueue_text(text, audio); }
bool AgentConnection::send_binary(std::span<const std::uint8_t> data) { return session_->enqueue_binary(data); }
bool AgentConnection::send_audio(std::span<const std::int16_t> samples) { return session_->enqueue_audio(samples); }
void AgentConnection::close() { session_->close(); }
bool AgentConnection::is_open() const { return session_->is_open(); }
std::size_t AgentConnection::queued_bytes() const { return session_->queued_bytes(); }
std::uint64_t AgentConnection::socket_writes() const { return session_->writes(); }

}  // namespace warmline::ai
