#include "bench/load/uring_io.hpp"

#include <poll.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "bench/load/shared_state.hpp"

namespace warmline::load {

namespace {

constexpr uint16_t kBufferGroup = 1;

uint64_t pack(UringIo::Kind kind, uint32_t tag, int fd) {
  // fd in the top bits so an ended multishot recv can be re-armed without a lookup table.
  return (uint64_t{static_cast<uint32_t>(fd)} << 32) | (uint64_t{static_cast<uint8_t>(kind)} << 24) |
         (tag & 0xFFFFFF);
}

}  // namespace

UringIo::~UringIo() {
  if (ready_) io_uring_queue_exit(&ring_);
  if (buf_ring_) munmap(buf_ring_, buf_ring_bytes_);
  delete[] buffers_;
}

bool UringIo::init(unsigned entries, unsigned buffers, unsigned buffer_size, std::string& error) {
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
  params.cq_entries = entries * 4;
  int rc = io_uring_queue_init_params(entries, &ring_, &params);
  if (rc < 0) {
    error = std::string("io_uring_queue_init: ") + std::strerror(-rc);
    return false;
  }
  ready_ = true;
  buffer_count_ = buffers;
  buffer_size_ = buffer_size;
  buf_ring_bytes_ = sizeof(io_uring_buf) * buffers;
  void* mem = mmap(nullptr, buf_ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    error = "mmap of the buffer ring failed";
    return false;
  }
  buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(buf_ring_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(buf_ring_);
  reg.ring_entries = buffers;
  reg.bgid = kBufferGroup;
  rc = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (rc < 0) {
    munmap(buf_ring_, buf_ring_bytes_);
    buf_ring_ = nullptr;
    error = std::string("io_uring_register_buf_ring: ") + std::strerror(-rc);
    return false;
  }
  buffers_ = new uint8_t[size_t{buffers} * buffer_size];
  const int mask = io_uring_buf_ring_mask(buffers);
  for (unsigned i = 0; i < buffers; ++i)
    io_uring_buf_ring_add(buf_ring_, buffers_ + size_t{i} * buffer_size, buffer_size, static_cast<uint16_t>(i),
                          mask, static_cast<int>(i));
  io_uring_buf_ring_advance(buf_ring_, static_cast<int>(buffers));
  return true;
}

io_uring_sqe* UringIo::sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  // The submission queue is full: hand it to the kernel and take a fresh entry (still null only if the
  // kernel took nothing, which the callers count or, for arming, cannot happen with a sized ring).
  if (!s) {
    io_uring_submit(&ring_);
    s = io_uring_get_sqe(&ring_);
  }
  return s;
}

void UringIo::arm_recv(int fd, uint32_t tag) {
  io_uring_sqe* s = sqe();
  if (!s) return;
  io_uring_prep_recv_multishot(s, fd, nullptr, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(s, pack(Kind::kRecv, tag, fd));
}

void UringIo::arm_poll(int fd, uint32_t tag) {
  io_uring_sqe* s = sqe();
  if (!s) return;
  io_uring_prep_poll_multishot(s, fd, POLLIN);
  io_uring_sqe_set_data64(s, pack(Kind::kPoll, tag, fd));
}

bool UringIo::queue_send(int fd, std::span<const uint8_t> data, uint32_t tag) {
  io_uring_sqe* s = sqe();
  if (!s) return false;
  io_uring_prep_send(s, fd, data.data(), data.size(), 0);
  s->flags |= IOSQE_CQE_SKIP_SUCCESS;
  io_uring_sqe_set_data64(s, pack(Kind::kSend, tag, fd));
  return true;
}

void UringIo::submit() { io_uring_submit(&ring_); }

void UringIo::recycle(uint16_t bid) {
  io_uring_buf_ring_add(buf_ring_, buffers_ + size_t{bid} * buffer_size_, buffer_size_, bid,
                        io_uring_buf_ring_mask(buffer_count_), static_cast<int>(recycled_++));
}

void UringIo::wait(int64_t timeout_ns, const std::function<void(const Completion&)>& on) {
  if (timeout_ns < 0) timeout_ns = 0;
  __kernel_timespec ts{.tv_sec = timeout_ns / 1'000'000'000, .tv_nsec = timeout_ns % 1'000'000'000};
  io_uring_cqe* cqe = nullptr;
  io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  const int64_t at = now_ns();
  unsigned head = 0;
  unsigned seen = 0;
  recycled_ = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    const uint64_t ud = io_uring_cqe_get_data64(cqe);
    const auto kind = static_cast<Kind>((ud >> 24) & 0xFF);
    const auto tag = static_cast<uint32_t>(ud & 0xFFFFFF);
    const int fd = static_cast<int>(ud >> 32);
    Completion c{kind, tag, cqe->res, {}, at};
    if (kind == Kind::kRecv && cqe->res >= 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
      const auto bid = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
      c.data = std::span<const uint8_t>(buffers_ + size_t{bid} * buffer_size_, static_cast<size_t>(cqe->res));
      on(c);
      recycle(bid);
    } else if (kind != Kind::kRecv || cqe->res != -ENOBUFS) {
      on(c);
    }
    // A multishot request without F_MORE has ended (e.g. the buffer ring ran dry): arm it again.
    if (!(cqe->flags & IORING_CQE_F_MORE) && (kind == Kind::kRecv || kind == Kind::kPoll) &&
        cqe->res != -EBADF && cqe->res != -ECANCELED) {
      ++rearms_;
      if (kind == Kind::kRecv) arm_recv(fd, tag); else arm_poll(fd, tag);
    }
  }
  if (recycled_) io_uring_buf_ring_advance(buf_ring_, static_cast<int>(recycled_));
  io_uring_cq_advance(&ring_, seen);
}

}  // namespace warmline::load
