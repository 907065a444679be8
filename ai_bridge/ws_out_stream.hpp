#pragma once
// The layer under AgentConnection's websocket::stream (included by ws_client.cpp only: it pulls in
// Beast). Reads go straight to the TCP stream. Once the connection is open, every byte written — the
// data frames AgentConnection frames itself into the WriteQueue and the control frames Beast writes
// (pong, close) — lands in the queue, whole frames in order, and leaves in one socket write per
// batch: the first frame queued in a loop iteration posts a flush, and frames queued before it runs
// (or while a write is in flight) go with it (or the next). Before the connection is open Beast's
// handshake request passes through unqueued.
//
// Thread: the connection's io_context only. Handlers keep the owner alive (set_owner): the in-flight
// buffer is the queue's, which io_uring reads asynchronously.

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <functional>
#include <memory>

#include "ai_bridge/ws_queue.hpp"

namespace warmline::ai {

class CoalescingStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;
  using error_code = boost::system::error_code;
  // Called after each socket write with what it carried (or the error that ended it).
  using OnWritten = std::function<void(error_code, const WriteQueue::Batch&)>;

  explicit CoalescingStream(boost::asio::io_context& io) : next_(io), drained_(io) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() { return next_; }
  WriteQueue& queue() { return queue_; }
  const WriteQueue& queue() const { return queue_; }
  std::uint64_t writes() const { return writes_; }

  void set_owner(std::weak_ptr<void> owner, OnWritten on_written) {
    owner_ = std::move(owner);
    on_written_ = std::move(on_written);
  }
  // From the open handshake on: writes go through the queue.
  void start_queueing() { queueing_ = true; }
  // A flush once the current handler (and whatever else is queued on the io_context) has run.
  void request_flush() {
    if (!queueing_ || flush_posted_ || queue_.writing() || !queue_.has_pending()) return;
    auto keep = owner_.lock();
    if (!keep) return;
    flush_posted_ = true;
    boost::asio::post(next_.get_executor(), [this, keep] {
      flush_posted_ = false;
      flush();
    });
  }
  bool drained() const { return queue_.empty() && !flush_posted_; }
  // The connection is torn down (its socket closed): a teardown waiting for the queue goes on now.
  void abandon() { drained_.cancel(); }
  // Runs `handler` (a completion handler taking error_code) once every queued byte has been written,
  // or at once when nothing is queued; used by the teardown below so a close frame is not cut off.
  template <class Handler>
  void when_drained(Handler&& handler) {
    if (drained() || !queueing_) {
      boost::asio::post(next_.get_executor(), boost::beast::bind_front_handler(std::forward<Handler>(handler), error_code{}));
      return;
    }
    drained_.expires_at(boost::asio::steady_timer::time_point::max());
    drained_.async_wait([h = std::forward<Handler>(handler)](error_code) mutable { std::move(h)(error_code{}); });
  }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return next_.async_read_some(buffers, std::forward<ReadHandler>(handler));
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    if (!queueing_) return next_.async_write_some(buffers, std::forward<WriteHandler>(handler));
    return boost::asio::async_initiate<WriteHandler, void(error_code, std::size_t)>(
        [this](auto h, const ConstBufferSequence& b) {
          std::size_t n = 0;
          for (auto it = boost::asio::buffer_sequence_begin(b); it != boost::asio::buffer_sequence_end(b); ++it) {
            const boost::asio::const_buffer piece(*it);
            queue_.push_framed({static_cast<const std::uint8_t*>(piece.data()), piece.size()});
            n += piece.size();
          }
          request_flush();
          auto ex = boost::asio::get_associated_executor(h, next_.get_executor());
          boost::asio::post(ex, boost::beast::bind_front_handler(std::move(h), error_code{}, n));
        },
        handler, buffers);
  }

 private:
  void flush() {
    if (queue_.writing() || !queue_.has_pending()) return;
    auto keep = owner_.lock();
    if (!keep) return;
    const auto bytes = queue_.begin_write();
    ++writes_;
    boost::asio::async_write(next_.socket(), boost::asio::buffer(bytes.data(), bytes.size()),
                             [this, keep](error_code ec, std::size_t) {
                               const WriteQueue::Batch batch = queue_.end_write();
                               if (on_written_) on_written_(ec, batch);
                               if (ec) {
                                 drained_.cancel();
                                 return;
                               }
                               if (queue_.has_pending()) return flush();  // what gathered meanwhile
                               drained_.cancel();
                             });
  }

  next_layer_type next_;
  WriteQueue queue_;
  boost::asio::steady_timer drained_;  // an event: cancelled when the queue drains (when_drained)
  std::weak_ptr<void> owner_;
  OnWritten on_written_;
  bool queueing_ = false;
  bool flush_posted_ = false;
  std::uint64_t writes_ = 0;
};

// Beast's teardown (after the close handshake) for this layer: what is queued — the close frame — goes
// out first, then the TCP socket's own teardown.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, CoalescingStream& stream, TeardownHandler&& handler) {
  stream.when_drained([role, &stream, h = std::forward<TeardownHandler>(handler)](boost::system::error_code) mutable {
    boost::beast::websocket::async_teardown(role, stream.next_layer().socket(), std::move(h));
  });
}

inline void teardown(boost::beast::role_type role, CoalescingStream& stream, boost::system::error_code& ec) {
  boost::beast::websocket::teardown(role, stream.next_layer().socket(), ec);
}

}  // namespace warmline::ai
