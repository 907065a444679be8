// The shard's RTP I/O per media slot, on real sockets on 127.0.0.1 (bench/README.md "Batched RTP I/O").
//
// Send: N calls (N sockets) each send one 172-byte RTP packet (PCMU 20 ms + header) in one slot:
//   per_packet  one sendto per packet (rtp_io = "plain")
//   uring       MediaIo: built in the batch's slots, one io_uring submission for all of them
//   sendmmsg    MediaIo's fallback: one sendmmsg per socket (one packet each)
// Every variant then drains the sink socket with recvmmsg (the same cost in each).
// Receive: one packet arrives on each of N sockets (sent by one sendmmsg, the same in both), then
//   asio        an async_receive_from loop per socket, as RtpSession's plain path
//   batched     MediaIo's epoll watch, each ready socket drained by recvmmsg
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <cstring>
#include <memory>
#include <vector>

#include "rtp/media_io.hpp"

namespace {

using warmline::rtp::MediaIo;
namespace asio = boost::asio;
constexpr size_t kPacket = 172;

int bound_socket(sockaddr_in& addr) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t n = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &n);
  int big = 8 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  return fd;
}

struct Sockets {
  explicit Sockets(size_t n) : fds(n), addrs(n) {
    for (size_t i = 0; i < n; ++i) fds[i] = bound_socket(addrs[i]);
  }
  ~Sockets() {
    for (int fd : fds) ::close(fd);
  }
  std::vector<int> fds;
  std::vector<sockaddr_in> addrs;
};

struct Sink {
  Sink() { fd = bound_socket(addr); }
  ~Sink() { ::close(fd); }
  // Reads `n` datagrams (they are already queued: loopback delivers during the send).
  void drain(size_t n) {
    size_t got = 0;
    for (int round = 0; round < 64 && got < n; ++round) {
      const int r = ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(msgs.size()), MSG_DONTWAIT, nullptr);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    benchmark::DoNotOptimize(got);
  }
  void init() {
    for (size_t i = 0; i < msgs.size(); ++i) {
      iov[i] = {buf[i].data(), buf[i].size()};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  }
  int fd;
  sockaddr_in addr{};
  std::array<std::array<uint8_t, 256>, 64> buf{};
  std::array<iovec, 64> iov{};
  std::array<mmsghdr, 64> msgs{};
};

struct NoOwner : warmline::rtp::BatchOwner {
  void send_failed(int) override {}
};

void BM_SendPerPacket(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  Sockets calls(n);
  Sink sink;
  sink.init();
  std::array<uint8_t, kPacket> packet{};
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i)
      ::sendto(calls.fds[i], packet.data(), packet.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sink.addr), sizeof sink.addr);
    sink.drain(n);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void send_batched(benchmark::State& state, MediaIo::Send mode) {
  const auto n = static_cast<size_t>(state.range(0));
  Sockets calls(n);
  Sink sink;
  sink.init();
  asio::io_context io;
  auto m = std::make_unique<MediaIo>(io, mode);
  if (m->send_mode() != mode) {
    state.SkipWithError("io_uring is not available here");
    return;
  }
  NoOwner owner;
  for (auto _ : state) {
    m->begin();
    for (size_t i = 0; i < n; ++i) {
      auto slot = m->slot();
      std::memset(slot.data(), 0, kPacket);
      m->commit(calls.fds[i], kPacket, reinterpret_cast<sockaddr*>(&sink.addr), sizeof sink.addr, &owner, true);
    }
    benchmark::DoNotOptimize(m->flush());
    sink.drain(n);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["calls_per_slot"] = static_cast<double>(m->stats().send_calls) / static_cast<double>(state.iterations());
}

void BM_SendBatchedUring(benchmark::State& state) { send_batched(state, MediaIo::Send::kUring); }
void BM_SendBatchedSendmmsg(benchmark::State& state) { send_batched(state, MediaIo::Send::kSendmmsg); }

// One sender that puts one packet on each of the N sockets with one sendmmsg.
struct Feeder {
  explicit Feeder(const Sockets& to) : msgs(to.fds.size()), iov(to.fds.size()) {
    fd = bound_socket(addr);
    for (size_t i = 0; i < msgs.size(); ++i) {
      iov[i] = {packet.data(), packet.size()};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_name = const_cast<sockaddr_in*>(&to.addrs[i]);
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  }
  ~Feeder() { ::close(fd); }
  void feed() {
    for (size_t sent = 0, round = 0; sent < msgs.size() && round < 64; ++round) {
      const int r = ::sendmmsg(fd, msgs.data() + sent, static_cast<unsigned>(msgs.size() - sent), 0);
      if (r <= 0) break;
      sent += static_cast<size_t>(r);
    }
  }
  int fd;
  sockaddr_in addr{};
  std::array<uint8_t, kPacket> packet{};
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iov;
};

struct AsioReader {
  AsioReader(asio::io_context& io, int fd, size_t& count) : socket(io, asio::ip::udp::v4(), fd), count(count) {}
  void start() {
    socket.async_receive_from(asio::buffer(buf), from, [this](const boost::system::error_code& ec, size_t) {
      if (ec) return;
      ++count;
      start();
    });
  }
  asio::ip::udp::socket socket;
  std::array<uint8_t, MediaIo::kSlotBytes> buf{};
  asio::ip::udp::endpoint from;
  size_t& count;
};

void BM_ReceiveAsio(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  Sockets calls(n);
  Feeder feeder(calls);
  asio::io_context io;
  size_t count = 0;
  std::vector<std::unique_ptr<AsioReader>> readers;
  for (size_t i = 0; i < n; ++i) {
    readers.push_back(std::make_unique<AsioReader>(io, ::dup(calls.fds[i]), count));
    readers.back()->start();
  }
  for (auto _ : state) {
    const size_t want = count + n;
    feeder.feed();
    for (int spins = 0; count < want && spins < 10000; ++spins) io.poll();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  for (auto& r : readers) r->socket.close();
  io.poll();
}

struct BatchedReader : warmline::rtp::BatchReceiver {
  MediaIo* io = nullptr;
  int fd = -1;
  size_t* count = nullptr;
  void on_readable() override {
    bool drained = false;
    int error = 0;
    for (int round = 0; round < 8 && !drained; ++round) *count += io->receive(fd, drained, error).size();
  }
};

void BM_ReceiveBatched(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  Sockets calls(n);
  Feeder feeder(calls);
  asio::io_context io;
  auto m = std::make_unique<MediaIo>(io);
  size_t count = 0;
  std::vector<BatchedReader> readers(n);
  std::vector<uint64_t> tokens(n);
  for (size_t i = 0; i < n; ++i) {
    readers[i].io = m.get();
    readers[i].fd = calls.fds[i];
    readers[i].count = &count;
    m->watch(calls.fds[i], &readers[i], tokens[i]);
  }
  for (auto _ : state) {
    const size_t want = count + n;
    feeder.feed();
    for (int spins = 0; count < want && spins < 10000; ++spins) io.poll();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["wakeups_per_round"] = static_cast<double>(m->stats().wakeups) / static_cast<double>(state.iterations());
  for (size_t i = 0; i < n; ++i) m->unwatch(calls.fds[i], tokens[i]);
  m->stop();
  io.poll();
}

// 25 calls per 1 ms slot is a 500-call shard spread over 20 slots; 500 is the same shard in one burst.
BENCHMARK(BM_SendPerPacket)->Arg(25)->Arg(100)->Arg(500);
BENCHMARK(BM_SendBatchedUring)->Arg(25)->Arg(100)->Arg(500);
BENCHMARK(BM_SendBatchedSendmmsg)->Arg(25)->Arg(100)->Arg(500);
BENCHMARK(BM_ReceiveAsio)->Arg(25)->Arg(100)->Arg(500);
BENCHMARK(BM_ReceiveBatched)->Arg(25)->Arg(100)->Arg(500);

}  // namespace
