#include "rtp/media_io.hpp"

#include <liburing.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/error.hpp>

namespace warmline::rtp {

struct MediaIo::Uring {
  io_uring ring{};
};

MediaIo::MediaIo(boost::asio::io_context& io, Send send) : epoll_(io) {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd >= 0) epoll_.assign(fd);  // without it, watch() fails and the sessions say so at open
  for (size_t i = 0; i < kReceiveBatch; ++i) {
    rx_iov_[i] = {rx_buf_[i].data(), kSlotBytes};
    rx_msg_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msg_[i].msg_hdr.msg_iovlen = 1;
    rx_msg_[i].msg_hdr.msg_name = &rx_from_[i];
  }
  for (size_t i = 0; i < kSendBatch; ++i) {
    tx_msg_[i].msg_hdr.msg_iov = &tx_iov_[i];
    tx_msg_[i].msg_hdr.msg_iovlen = 1;
    tx_msg_[i].msg_hdr.msg_name = &tx_to_[i];
  }
  if (send == Send::kUring) {
    auto u = std::make_unique<Uring>();
    // One submission entry per send slot: a full batch never waits for room in the ring.
    if (io_uring_queue_init(kSendBatch, &u->ring, 0) == 0) uring_ = std::move(u);
  }
}

MediaIo::~MediaIo() {
  if (uring_) io_uring_queue_exit(&uring_->ring);
}

std::error_code MediaIo::watch(int fd, BatchReceiver* receiver, uint64_t& token) {
  if (!epoll_.is_open()) return std::make_error_code(std::errc::bad_file_descriptor);
  uint32_t id;
  if (free_watches_.empty()) {
    id = static_cast<uint32_t>(watches_.size());
    watches_.push_back({nullptr, 0});
  } else {
    id = free_watches_.back();
    free_watches_.pop_back();
  }
  Watch& w = watches_[id];
  w.receiver = receiver;
  token = (uint64_t{w.generation} << 32) | id;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = token;
  if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int e = errno;
    unwatch(-1, token);
    return {e, std::generic_category()};
  }
  if (!waiting_) wait();
  return {};
}

void MediaIo::unwatch(int fd, uint64_t token) {
  const auto id = static_cast<uint32_t>(token);
  if (id >= watches_.size() || watches_[id].generation != static_cast<uint32_t>(token >> 32) || !watches_[id].receiver)
    return;
  if (fd >= 0 && epoll_.is_open()) ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_DEL, fd, nullptr);
  watches_[id].receiver = nullptr;
  ++watches_[id].generation;
  free_watches_.push_back(id);
}

void MediaIo::stop() {
  boost::system::error_code ignored;
  epoll_.close(ignored);  // the pending wait ends with operation_aborted and touches nothing
}

// The handler captures `this`: stop() (or the destructor) cancels the wait, and an aborted wait returns
// before touching it.
void MediaIo::wait() {
  waiting_ = true;
  epoll_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    waiting_ = false;
    if (ec) return;
    dispatch();
    if (epoll_.is_open()) wait();
  });
}

// Bounded: a few epoll_wait rounds while they come back full; what is still ready after them keeps the
// epoll descriptor readable, so Asio's next wait returns at once (after the other work that is ready).
void MediaIo::dispatch() {
  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds; ++round) {
    const int n = ::epoll_wait(epoll_.native_handle(), events_.data(), static_cast<int>(kEvents), 0);
    if (n <= 0) return;
    ++stats_.wakeups;
    for (int i = 0; i < n; ++i) {
      const uint64_t token = events_[static_cast<size_t>(i)].data.u64;
      const auto id = static_cast<uint32_t>(token);
      // A receiver closed by an earlier one's handler (a bridge's other leg) is gone: its event stays here.
      if (id < watches_.size() && watches_[id].receiver && watches_[id].generation == static_cast<uint32_t>(token >> 32))
        watches_[id].receiver->on_readable();
    }
    if (static_cast<size_t>(n) < kEvents) return;
  }
}

std::span<const MediaIo::Datagram> MediaIo::receive(int fd, bool& drained, int& error) {
  for (size_t i = 0; i < kReceiveBatch; ++i) {
    rx_msg_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);  // the kernel writes the length back
    rx_msg_[i].msg_hdr.msg_flags = 0;
  }
  ++stats_.receive_calls;
  const int r = ::recvmmsg(fd, rx_msg_.data(), kReceiveBatch, MSG_DONTWAIT, nullptr);
  error = 0;
  if (r < 0) {
    drained = true;
    if (errno != EAGAIN && errno != EWOULDBLOCK) error = errno;
    return {};
  }
  drained = static_cast<size_t>(r) < kReceiveBatch;
  stats_.received += static_cast<size_t>(r);
  size_t n = 0;
  for (size_t i = 0; i < static_cast<size_t>(r); ++i) {
    const msghdr& h = rx_msg_[i].msg_hdr;
    if (h.msg_flags & MSG_TRUNC) {  // bigger than any RTP we take: never parsed half
      ++stats_.truncated;
      continue;
    }
    rx_out_[n++] = {std::span<uint8_t>(rx_buf_[i]), rx_msg_[i].msg_len, reinterpret_cast<const sockaddr*>(&rx_from_[i]),
                    h.msg_namelen};
  }
  return std::span<const Datagram>(rx_out_.data(), n);
}

std::span<uint8_t> MediaIo::slot() {
  if (queued_ == kSendBatch) timed_total_ += uring_ ? flush_uring() : flush_sendmmsg();
  return std::span<uint8_t>(tx_buf_[queued_]);
}

bool MediaIo::commit(int fd, size_t length, const sockaddr* to, socklen_t to_length, BatchOwner* owner, bool timed) {
  if (!batching_ || queued_ == kSendBatch || length > kSlotBytes || to_length > sizeof(sockaddr_storage)) return false;
  const size_t i = queued_++;
  std::memcpy(&tx_to_[i], to, to_length);
  tx_iov_[i] = {tx_buf_[i].data(), length};
  msghdr& h = tx_msg_[i].msg_hdr;
  h.msg_namelen = to_length;
  h.msg_control = nullptr;
  h.msg_controllen = 0;
  h.msg_flags = 0;
  tx_[i] = {fd, owner, timed};
  return true;
}

bool MediaIo::time_last(const BatchOwner* owner) {
  if (queued_ == 0 || tx_[queued_ - 1].owner != owner) return false;
  tx_[queued_ - 1].timed = true;
  return true;
}

void MediaIo::forget(const BatchOwner* owner) {
  for (size_t i = 0; i < queued_; ++i)
    if (tx_[i].owner == owner) tx_[i].owner = nullptr;
}

size_t MediaIo::flush() {
  size_t timed = timed_total_;
  if (queued_ > 0) timed += uring_ ? flush_uring() : flush_sendmmsg();
  timed_total_ = 0;
  batching_ = false;
  return timed;
}

void MediaIo::finish(size_t i, int error, size_t& timed_sent) {
  if (error != 0) {
    ++stats_.send_failed;
    tx_[i].owner->send_failed(error);
    return;
  }
  ++stats_.sent;
  if (tx_[i].timed) ++timed_sent;
}

// Every live entry becomes one SENDMSG request; one io_uring_enter submits them all and, since
// MSG_DONTWAIT makes each complete (or fail) during the submission, their completions are there when it
// returns: the slots are free again before flush() does.
size_t MediaIo::flush_uring() {
  io_uring& ring = uring_->ring;
  const size_t n = queued_;
  unsigned count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!tx_[i].owner) continue;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);  // the ring has kSendBatch entries: never null here
    io_uring_prep_sendmsg(sqe, tx_[i].fd, &tx_msg_[i].msg_hdr, MSG_DONTWAIT | MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, i);
    ++count;
  }
  size_t timed = 0;
  if (count > 0) {
    ++stats_.flushes;
    ++stats_.send_calls;
    const int submitted = io_uring_submit_and_wait(&ring, count);
    // Each submitted request completes exactly once. What was not submitted (an error of the call
    // itself) would stay in the ring for the next submission, after its slot was reused: instead the
    // ring goes (sendmmsg from now on) and those packets are counted failed.
    const unsigned expect = submitted < 0 ? 0U : static_cast<unsigned>(submitted);
    for (unsigned done = 0; done < expect; ++done) {
      io_uring_cqe* cqe = nullptr;
      if (io_uring_wait_cqe(&ring, &cqe) != 0 || cqe == nullptr) break;
      const size_t i = static_cast<size_t>(io_uring_cqe_get_data64(cqe));
      const int res = cqe->res;
      io_uring_cqe_seen(&ring, cqe);
      if (i < n && tx_[i].owner) {
        finish(i, res < 0 ? -res : 0, timed);
        tx_[i].owner = nullptr;  // done: not failed again below
      }
    }
    if (expect < count) {  // cannot happen with a healthy ring: fall back for good, and say what failed
      io_uring_queue_exit(&ring);
      uring_.reset();
      for (size_t i = 0; i < n; ++i)
        if (tx_[i].owner) tx_[i].owner->send_failed(submitted < 0 ? -submitted : EIO);
    }
  }
  queued_ = 0;
  return timed;
}

// One sendmmsg per run of packets on one socket; a packet the kernel refuses is counted and the rest
// of the run goes on after it (a partial send returns how many left before the refusal).
size_t MediaIo::flush_sendmmsg() {
  const size_t n = queued_;
  size_t timed = 0;
  bool any = false;
  size_t i = 0;
  while (i < n) {
    if (!tx_[i].owner) {
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < n && tx_[end].owner && tx_[end].fd == tx_[i].fd) ++end;
    while (i < end) {  // each round sends at least one packet or fails one: bounded by the run
      any = true;
      ++stats_.send_calls;
      const int r = ::sendmmsg(tx_[i].fd, &tx_msg_[i], static_cast<unsigned>(end - i), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r <= 0) {
        finish(i++, r < 0 ? errno : EIO, timed);
        continue;
      }
      for (size_t k = i; k < i + static_cast<size_t>(r); ++k) finish(k, 0, timed);
      i += static_cast<size_t>(r);
    }
  }
  if (any) ++stats_.flushes;
  queued_ = 0;
  return timed;
}

}  // namespace warmline::rtp
