// Batched RTP I/O for one shard ([media] rtp_io = "batched"): many datagrams per system call, in fixed
// arrays sized once per shard (no allocation per packet or per batch).
//
// Receive: the shard's RTP sockets are watched by an epoll instance of our own (edge-triggered), whose
// descriptor Asio waits on; one wake-up takes every ready socket from one epoll_wait(2) and each drains
// itself with recvmmsg(2) into the shard's receive slots. recvmmsg returning fewer datagrams than asked
// means the socket is empty, so no call ends in EAGAIN. The plain path costs two receive calls per
// datagram (Asio reads, then its next async_receive_from tries a speculative read that ends in
// EAGAIN); here it is one per datagram plus three per wake-up (Asio's epoll_wait, the epoll_ctl with
// which Asio re-arms a wait, ours), shared by every datagram that arrived meanwhile.
// Send: between begin() and flush() (the shard's media clock brackets each slot's pass with them) a
// session builds its packet in a send slot instead of sending it, and flush() hands every queued
// packet to the kernel at once. Each call's RTP has its own socket (its own port, which symmetric RTP
// and the SDP need), and sendmmsg(2) takes one socket per call, so what batches across calls is
// io_uring: one IORING_OP_SENDMSG per packet (MSG_DONTWAIT, so a full socket buffer fails at once
// rather than parking the request while its slot is reused), all submitted by one io_uring_enter(2).
// Where io_uring cannot start (a sandbox that blocks it) flush() falls back to sendmmsg over each run of
// one socket's packets, which is one call per packet for RTP (one packet per call per slot).
// A packet that fails at flush is reported to its owner (send_failed); an owner that closes its socket
// before the flush forget()s its queued packets first, so no packet goes to a reused descriptor.
//
// Thread: the shard's; every method. Not copyable (the kernel holds pointers into the arrays).
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "rtp/srtp_session.hpp"

namespace warmline::rtp {

// Whoever queued a packet: told when it did not leave (the send's errno).
class BatchOwner {
 public:
  virtual void send_failed(int error) = 0;

 protected:
  ~BatchOwner() = default;
};

// A socket watched for reading: told (on the shard's thread) when it became readable; it must then read
// until receive() says drained, as the edge-triggered watch does not report data that was already there.
class BatchReceiver {
 public:
  virtual void on_readable() = 0;

 protected:
  ~BatchReceiver() = default;
};

struct MediaIoStats {
  uint64_t wakeups = 0;          // epoll_wait calls that found ready sockets
  uint64_t receive_calls = 0;    // recvmmsg calls
  uint64_t received = 0;         // datagrams they returned
  uint64_t truncated = 0;        // datagrams larger than a slot (dropped)
  uint64_t flushes = 0;          // flush() calls that had packets
  uint64_t send_calls = 0;       // io_uring_enter / sendmmsg calls made by them
  uint64_t sent = 0;             // packets the kernel took
  uint64_t send_failed = 0;      // packets it refused
};

class MediaIo {
 public:
  // 1500-byte MTU minus IPv4/UDP headers, plus room for an SRTP tag (RtpSession::kMaxDatagram's).
  static constexpr size_t kSlotBytes = 1472 + SrtpSession::kMaxOverhead;
  static constexpr size_t kReceiveBatch = 32;
  static constexpr size_t kSendBatch = 256;  // a slot pass queues more: flushed when full, then reused

  enum class Send { kUring, kSendmmsg };

  struct Datagram {
    std::span<uint8_t> buffer;       // the whole slot (room to unprotect SRTP in place)
    size_t size;                     // the datagram's bytes at the start of it
    const sockaddr* from;
    socklen_t from_length;
  };

  // kUring falls back to kSendmmsg when the ring cannot be set up (send_mode() says which runs).
  explicit MediaIo(boost::asio::io_context& io, Send send = Send::kUring);
  ~MediaIo();
  MediaIo(const MediaIo&) = delete;
  MediaIo& operator=(const MediaIo&) = delete;

  Send send_mode() const { return uring_ ? Send::kUring : Send::kSendmmsg; }
  const MediaIoStats& stats() const { return stats_; }

  // Watches `fd` until unwatch(): `receiver` is told when it becomes readable (also at once when it is
  // already). `token` names the watch for unwatch().
  std::error_code watch(int fd, BatchReceiver* receiver, uint64_t& token);
  // Before the socket closes; an event for it already taken from the kernel is not delivered.
  void unwatch(int fd, uint64_t token);
  // Stops waiting (the shard's stop, before its io_context drains); watches are not told any more.
  void stop();

  // One recvmmsg on `fd` (non-blocking). The views stay valid until the next receive() call. Truncated
  // datagrams are counted and left out. Empty when nothing is queued (EAGAIN) or on an error, which is
  // returned in `error` (0 otherwise). Fewer than kReceiveBatch datagrams (before truncations were left
  // out): the socket is drained; `drained` says so.
  std::span<const Datagram> receive(int fd, bool& drained, int& error);

  // From begin() to flush(), send() queues; outside, it sends at once (sendto).
  void begin() { batching_ = true; }
  bool batching() const { return batching_; }
  // Where to build the next packet (the slot stays the caller's until commit or the next slot() call).
  // A full batch is flushed first.
  std::span<uint8_t> slot();
  // Queues the packet built in slot(): `length` bytes to `to` on `fd`. `timed` packets are counted in
  // flush()'s result (the shard observes how late they left). False when not batching: use send_now.
  bool commit(int fd, size_t length, const sockaddr* to, socklen_t to_length, BatchOwner* owner, bool timed);
  // Hands the queued packets to the kernel and ends the batch. Returns how many timed packets left.
  size_t flush();
  // `owner` is closing: its queued packets are dropped unsent.
  void forget(const BatchOwner* owner);
  // Marks `owner`'s latest queued packet as timed (false if its latest packet is not the last queued).
  bool time_last(const BatchOwner* owner);

 private:
  struct Entry {
    int fd;
    BatchOwner* owner;  // null: forgotten
    bool timed;
  };
  struct Uring;
  struct Watch {
    BatchReceiver* receiver;  // null: free
    uint32_t generation;      // bumped by unwatch: events of the old watch are ignored
  };
  void wait();
  void dispatch();
  size_t flush_uring();
  size_t flush_sendmmsg();
  void finish(size_t i, int error, size_t& timed_sent);

  std::unique_ptr<Uring> uring_;
  boost::asio::posix::stream_descriptor epoll_;  // our epoll instance, which Asio waits on
  bool waiting_ = false;
  std::vector<Watch> watches_;   // grows with the shard's most calls at once; slots are reused
  std::vector<uint32_t> free_watches_;
  static constexpr size_t kEvents = 256;
  std::array<epoll_event, kEvents> events_{};
  bool batching_ = false;
  size_t queued_ = 0;
  size_t timed_total_ = 0;  // timed packets of the batch flushed early because it was full
  MediaIoStats stats_;

  // Receive and send arrays: the kernel reads/writes them during the call that is given them.
  std::array<std::array<uint8_t, kSlotBytes>, kReceiveBatch> rx_buf_{};
  std::array<mmsghdr, kReceiveBatch> rx_msg_{};
  std::array<iovec, kReceiveBatch> rx_iov_{};
  std::array<sockaddr_storage, kReceiveBatch> rx_from_{};
  std::array<Datagram, kReceiveBatch> rx_out_{};
  std::array<std::array<uint8_t, kSlotBytes>, kSendBatch> tx_buf_{};
  std::array<mmsghdr, kSendBatch> tx_msg_{};
  std::array<iovec, kSendBatch> tx_iov_{};
  std::array<sockaddr_storage, kSendBatch> tx_to_{};
  std::array<Entry, kSendBatch> tx_{};
};

}  // namespace warmline::rtp
