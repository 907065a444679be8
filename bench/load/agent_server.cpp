#include "bench/load/agent_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/load/stamp.hpp"

namespace warmline::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kFrameBytes = 320;  // 20 ms of 16-bit PCM at 8 kHz

class Session;

// Bridged mode: which connection carries which call (agent thread only).
struct Registry {
  std::string bridge_target;
  std::string transfer_fields;  // ,"mode":"warm",... (bridged mode)
  std::vector<std::weak_ptr<Session>> sessions;
};

// "wl<index>" in the `start` frame's call.from: the generator's own caller numbering.
std::optional<uint32_t> call_of_start(std::string_view text) {
  if (text.find("\"type\":\"start\"") == std::string_view::npos) return std::nullopt;
  const auto at = text.find("\"from\":\"wl");
  if (at == std::string_view::npos) return std::nullopt;
  uint32_t index = 0;
  const char* first = text.data() + at + 10;
  auto [p, ec] = std::from_chars(first, text.data() + text.size(), index);
  if (ec != std::errc() || p == first || *p != '"') return std::nullopt;
  return index;
}

// One gateway connection (one call). do_x()/on_x() pairs as in Beast's advanced server; a frame is
// read, echoed, and only then is the next one read, so one buffer serves both and nothing allocates
// once the buffer has grown to a frame. A `transfer` (bridged mode) is the only other write: Beast
// allows one write in flight, so an echo that comes due while it is in flight waits for it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, SharedState& shared, Registry& registry)
      : ws_(std::move(socket)), shared_(shared), registry_(registry) {}

  void run() {
    beast::error_code ignored;
    ws_.next_layer().set_option(tcp::no_delay(true), ignored);  // an echo must not wait for Nagle
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->shared_.agent_connections.add();
      self->do_read();
    });
  }

  void transfer(uint32_t call) {
    if (closed_ || !transfer_text_.empty()) return;
    transfer_text_ = "{\"type\":\"transfer\",\"id\":\"load\"" + registry_.transfer_fields + ",\"targets\":[\"" +
                     registry_.bridge_target + "\"],\"headers\":{\"X-Load-Call\":\"" + std::to_string(call) + "\"}}";
    call_ = call;
    if (!writing_) write_transfer();
    else transfer_pending_ = true;
  }

 private:
  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      closed_ = true;
      shared_.agent_closed.add();
      return;
    }
    if (!ws_.got_binary()) {
      shared_.agent_text_frames.add();
      on_text(std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size()));
      buffer_.consume(buffer_.size());
      return do_read();
    }
    const int64_t t1 = now_ns();
    const auto* bytes = static_cast<const uint8_t*>(buffer_.data().data());
    auto frame = std::span<const uint8_t>(bytes, buffer_.size());
    shared_.agent_frames.add();
    auto stamp = read_stamp_l16(frame.first(std::min(frame.size(), kFrameBytes)));
    if (stamp && frame.size() > kFrameBytes) shared_.agent_coalesced.add();
    // A message may carry several 20 ms frames (the gateway coalesces what queued while a write was in
    // flight): each frame has its own stamp, and each counts as received.
    for (size_t at = 0; at == 0 || at + kFrameBytes <= frame.size(); at += kFrameBytes) {
      auto s = at == 0 ? stamp : read_stamp_l16(frame.subspan(at, kFrameBytes));
      if (s && s->call < shared_.call_count) record(*s, t1);
    }
    if (!transfer_text_.empty()) {  // a real agent stops talking once it has asked for the transfer
      buffer_.consume(buffer_.size());
      return do_read();
    }
    if (writing_) {  // the transfer is being written: echo when it is done
      echo_pending_ = true;
      return;
    }
    write_echo();
  }

  void on_text(std::string_view text) {
    if (registry_.bridge_target.empty()) return;
    if (auto call = call_of_start(text); call && *call < registry_.sessions.size()) {
      registry_.sessions[*call] = weak_from_this();
      return;
    }
    if (text.find("\"type\":\"transfer\"") == std::string_view::npos ||
        text.find("\"state\":\"ended\"") == std::string_view::npos)
      return;
    if (text.find("\"result\":\"completed\"") != std::string_view::npos) shared_.agent_transfers_completed.add();
    else shared_.agent_transfers_failed.add();
  }

  void write_echo() {
    writing_ = true;
    ws_.binary(true);
    ws_.async_write(buffer_.data(), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) {
        self->closed_ = true;
        self->shared_.agent_closed.add();
        return;
      }
      self->buffer_.consume(self->buffer_.size());
      if (self->transfer_pending_) self->write_transfer();
      self->do_read();
    });
  }

  void write_transfer() {
    transfer_pending_ = false;
    writing_ = true;
    ws_.text(true);
    // Published before the write starts: the gateway's INVITE can reach the target before the
    // write's completion runs.
    shared_.transfer_sent_at[call_].store(now_ns(), std::memory_order_release);
    shared_.agent_transfers.add();
    ws_.async_write(asio::buffer(transfer_text_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) {
        self->closed_ = true;
        return;
      }
      if (self->echo_pending_) {
        self->echo_pending_ = false;
        self->write_echo();
      }
    });
  }

  void record(Stamp stamp, int64_t t1) {
    shared_.agent_frames_stamped.add();
    if (static_cast<int64_t>(stamp.seq) <= last_seq_) shared_.agent_out_of_order.add();
    last_seq_ = stamp.seq;
    const int64_t t0 = shared_.sent_at(stamp.call, stamp.seq);
    const int64_t latency = t1 - t0;
    if (t0 < 0 || latency < 0 || latency > kMaxMatchNs) {
      shared_.agent_unmatched.add();
    } else {
      shared_.caller_to_ai_all.record(latency);
      if (shared_.in_window(t0)) {
        shared_.agent_frames_window.add();
        shared_.caller_to_ai.record(latency);
      }
    }
    // t2: the echo is handed to the socket right after this (Asio writes speculatively on initiation).
    const int64_t t2 = now_ns();
    shared_.store_echoed(stamp.call, stamp.seq, t2);
    if (shared_.in_window(t2)) shared_.echoes_window.add();
  }

  // A plain socket, not beast::tcp_stream: the websocket stream's own timeouts are enough here, and
  // tcp_stream's per-operation timer bookkeeping showed up in profiles at 10k frames/s.
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  SharedState& shared_;
  Registry& registry_;
  int64_t last_seq_ = -1;
  bool writing_ = false, echo_pending_ = false, transfer_pending_ = false, closed_ = false;
  std::string transfer_text_;
  uint32_t call_ = 0;
};

}  // namespace

struct AgentServer::Impl {
  Impl(SharedState& s, std::string bridge_target, std::string transfer_fields) : shared(s), acceptor(io) {
    registry.bridge_target = std::move(bridge_target);
    registry.transfer_fields = std::move(transfer_fields);
    if (!registry.bridge_target.empty()) registry.sessions.resize(s.call_count);
  }

  void do_accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket), shared, registry)->run();
      do_accept();
    });
  }

  SharedState& shared;
  Registry registry;
  asio::io_context io{1};
  tcp::acceptor acceptor;
  std::thread thread;
};

AgentServer::AgentServer(SharedState& shared, std::string bridge_target, std::string transfer_fields)
    : impl_(std::make_unique<Impl>(shared, std::move(bridge_target), std::move(transfer_fields))) {}

AgentServer::~AgentServer() { stop(); }

bool AgentServer::start(const std::string& listen, std::string& error) {
  const auto colon = listen.rfind(':');
  beast::error_code ec;
  const auto address = asio::ip::make_address(listen.substr(0, colon == std::string::npos ? 0 : colon), ec);
  if (colon == std::string::npos || ec) {
    error = "--agent-listen: expected IP:PORT, got '" + listen + "'";
    return false;
  }
  const auto port = static_cast<uint16_t>(std::strtoul(listen.c_str() + colon + 1, nullptr, 10));
  tcp::endpoint endpoint(address, port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "agent listen on " + listen + ": " + ec.message();
    return false;
  }
  impl_->do_accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return true;
}

void AgentServer::request_transfer(uint32_t call) {
  asio::post(impl_->io, [impl = impl_.get(), call] {
    auto& sessions = impl->registry.sessions;
    auto session = call < sessions.size() ? sessions[call].lock() : nullptr;
    if (session) session->transfer(call);
    else impl->shared.agent_transfer_no_session.add();
  });
}

void AgentServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->io.stop();
  impl_->thread.join();
}

}  // namespace warmline::load
