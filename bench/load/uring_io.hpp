#pragma once
// The generator's I/O: one io_uring per thread. UDP sends are queued as SQEs and submitted in small
// batches by the caller (one syscall for many packets); each receive socket has one multishot recv that
// takes buffers from a provided-buffer ring, so a wake-up reaps every datagram that arrived meanwhile.
// Send completions are skipped on success (IOSQE_CQE_SKIP_SUCCESS): only failures come back.
//
// Thread: the thread that created it, only.
#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace warmline::load {

class UringIo {
 public:
  enum class Kind : uint8_t { kRecv = 1, kSend = 2, kPoll = 3 };
  struct Completion {
    Kind kind;
    uint32_t tag;                    // what the caller passed when arming (a call index, ...)
    int result;                      // bytes, or -errno
    std::span<const uint8_t> data;   // kRecv: the datagram (valid during the callback only)
    int64_t at_ns;                   // when the wait returned (now_ns()): the batch's receive time
  };
  UringIo() = default;
  ~UringIo();
  UringIo(const UringIo&) = delete;
  UringIo& operator=(const UringIo&) = delete;

  // `buffers` receive buffers of `buffer_size` bytes each (a power of two count).
  bool init(unsigned entries, unsigned buffers, unsigned buffer_size, std::string& error);

  void arm_recv(int fd, uint32_t tag);   // multishot; re-armed automatically when the kernel ends it
  void arm_poll(int fd, uint32_t tag);   // multishot POLLIN
  // `data` must stay valid until submitted (submit() or the next wait()). A full submission queue is
  // submitted on the spot.
  bool queue_send(int fd, std::span<const uint8_t> data, uint32_t tag);
  void submit();
  // Submits what is queued, then waits until a completion arrives or `timeout_ns` passes, and hands
  // each completion to `on` (keep one std::function for the run: passing a lambda would build one,
  // possibly allocating, per wake-up).
  void wait(int64_t timeout_ns, const std::function<void(const Completion&)>& on);

  uint64_t rearms() const { return rearms_; }

 private:
  struct io_uring_sqe* sqe();
  void recycle(uint16_t bid);

  io_uring ring_{};
  bool ready_ = false;
  io_uring_buf_ring* buf_ring_ = nullptr;
  size_t buf_ring_bytes_ = 0;
  uint8_t* buffers_ = nullptr;
  unsigned buffer_count_ = 0;
  unsigned buffer_size_ = 0;
  unsigned recycled_ = 0;
  uint64_t rearms_ = 0;
};

}  // namespace warmline::load
