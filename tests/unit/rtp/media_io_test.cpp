// MediaIo against real UDP sockets on 127.0.0.1: many datagrams in per call, a batch larger than the
// receive array, an empty socket, truncated datagrams; sends that wait for the flush, a batch larger
// than the send array, a packet the kernel refuses in the middle of a batch (the rest still leave),
// forgotten packets; the epoll watch. The send cases run with io_uring and with the sendmmsg fallback.
#include "rtp/media_io.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "run_until.hpp"

namespace warmline::rtp {
namespace {

// A UDP socket bound to 127.0.0.1 on a port the kernel picks; receive calls give up after 2 s.
struct Udp {
  Udp() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &n);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Udp() { ::close(fd); }
  Udp(const Udp&) = delete;
  Udp& operator=(const Udp&) = delete;
  const sockaddr* to() const { return reinterpret_cast<const sockaddr*>(&addr); }
  void send_to(const Udp& peer, const std::string& text) const {
    ::sendto(fd, text.data(), text.size(), 0, peer.to(), sizeof peer.addr);
  }
  // The next datagram (blocking, 2 s at most); "" when none came.
  std::string next() const {
    char buf[2048];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
  }
  bool empty() const {
    char c;
    return ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN;
  }
  int fd;
  sockaddr_in addr{};
};

struct Owner : BatchOwner {
  std::vector<int> failures;
  void send_failed(int error) override { failures.push_back(error); }
};

std::string text(std::span<const uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

class MediaIoTest : public ::testing::Test {
 protected:
  boost::asio::io_context io_;
};

TEST_F(MediaIoTest, ManyDatagramsComeInOneCallWithTheirSource) {
  MediaIo m(io_);
  Udp rx, tx;
  for (int i = 0; i < 20; ++i) tx.send_to(rx, "packet " + std::to_string(i));
  bool drained = false;
  int error = -1;
  const auto got = m.receive(rx.fd, drained, error);
  ASSERT_EQ(got.size(), 20U);
  EXPECT_TRUE(drained);
  EXPECT_EQ(error, 0);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(text(got[i].buffer.first(got[i].size)), "packet " + std::to_string(i));
    ASSERT_EQ(got[i].from_length, sizeof(sockaddr_in));
    EXPECT_EQ(reinterpret_cast<const sockaddr_in*>(got[i].from)->sin_port, tx.addr.sin_port);
    EXPECT_EQ(got[i].buffer.size(), MediaIo::kSlotBytes);  // room to unprotect SRTP in place
  }
  EXPECT_EQ(m.stats().receive_calls, 1U);
}

TEST_F(MediaIoTest, MoreThanTheArrayTakesAnotherCall) {
  MediaIo m(io_);
  Udp rx, tx;
  const size_t total = MediaIo::kReceiveBatch + 8;
  for (size_t i = 0; i < total; ++i) tx.send_to(rx, std::to_string(i));
  bool drained = true;
  int error = 0;
  auto first = m.receive(rx.fd, drained, error);
  EXPECT_EQ(first.size(), MediaIo::kReceiveBatch);
  EXPECT_FALSE(drained) << "a full array may have left datagrams behind";
  EXPECT_EQ(text(first[0].buffer.first(first[0].size)), "0");
  auto second = m.receive(rx.fd, drained, error);
  ASSERT_EQ(second.size(), 8U);
  EXPECT_TRUE(drained);
  EXPECT_EQ(text(second[7].buffer.first(second[7].size)), std::to_string(total - 1));
}

TEST_F(MediaIoTest, AnEmptySocketIsNotAnError) {
  MediaIo m(io_);
  Udp rx;
  bool drained = false;
  int error = -1;
  EXPECT_TRUE(m.receive(rx.fd, drained, error).empty());
  EXPECT_TRUE(drained);
  EXPECT_EQ(error, 0);
  EXPECT_TRUE(m.receive(-1, drained, error).empty());
  EXPECT_EQ(error, EBADF);
}

TEST_F(MediaIoTest, ATruncatedDatagramIsDroppedAndCounted) {
  MediaIo m(io_);
  Udp rx, tx;
  tx.send_to(rx, "before");
  tx.send_to(rx, std::string(MediaIo::kSlotBytes + 100, 'x'));
  tx.send_to(rx, "after");
  bool drained = false;
  int error = 0;
  const auto got = m.receive(rx.fd, drained, error);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(text(got[0].buffer.first(got[0].size)), "before");
  EXPECT_EQ(text(got[1].buffer.first(got[1].size)), "after");
  EXPECT_EQ(m.stats().truncated, 1U);
}

class MediaIoSendTest : public ::testing::TestWithParam<MediaIo::Send> {
 protected:
  // Builds `body` in a slot and queues it from `from` to `to`.
  static bool queue(MediaIo& m, const Udp& from, const Udp& to, const std::string& body, Owner& owner, bool timed = false) {
    auto slot = m.slot();
    std::memcpy(slot.data(), body.data(), body.size());
    return m.commit(from.fd, body.size(), to.to(), sizeof to.addr, &owner, timed);
  }
  boost::asio::io_context io_;
};

TEST_P(MediaIoSendTest, PacketsOfManySocketsLeaveTogetherAtTheFlush) {
  MediaIo m(io_, GetParam());
  ASSERT_EQ(m.send_mode(), GetParam()) << "io_uring did not start here";
  Udp a, b, peer1, peer2;
  Owner owner;
  m.begin();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(queue(m, a, peer1, "a" + std::to_string(i), owner, i % 2 == 0));
    ASSERT_TRUE(queue(m, b, peer2, "b" + std::to_string(i), owner));
  }
  EXPECT_TRUE(peer1.empty()) << "nothing leaves before the flush";
  EXPECT_TRUE(peer2.empty());
  EXPECT_EQ(m.flush(), 3U) << "the timed packets that left";
  EXPECT_FALSE(m.batching());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(peer1.next(), "a" + std::to_string(i));
    EXPECT_EQ(peer2.next(), "b" + std::to_string(i));
  }
  EXPECT_TRUE(owner.failures.empty());
  EXPECT_EQ(m.stats().sent, 10U);
  // io_uring: one submission for both sockets; sendmmsg: one call per packet (the sockets alternate).
  EXPECT_EQ(m.stats().send_calls, GetParam() == MediaIo::Send::kUring ? 1U : 10U);
}

TEST_P(MediaIoSendTest, ABatchLargerThanTheArrayIsFlushedWhenFull) {
  MediaIo m(io_, GetParam());
  Udp a, peer;
  int big = 1 << 22;
  ::setsockopt(peer.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  Owner owner;
  const size_t total = MediaIo::kSendBatch + 10;
  m.begin();
  for (size_t i = 0; i < total; ++i) ASSERT_TRUE(queue(m, a, peer, std::to_string(i), owner, true));
  EXPECT_EQ(m.stats().sent, MediaIo::kSendBatch) << "the full array went out to make room";
  EXPECT_EQ(m.flush(), total) << "timed packets of both halves";
  for (size_t i = 0; i < total; ++i) ASSERT_EQ(peer.next(), std::to_string(i));
  EXPECT_EQ(m.stats().flushes, 2U);
}

TEST_P(MediaIoSendTest, ARefusedPacketIsReportedAndTheOthersStillLeave) {
  MediaIo m(io_, GetParam());
  Udp a, peer;
  Owner good, bad;
  sockaddr_in6 v6{};  // an IPv6 destination on an IPv4 socket: the kernel refuses this one packet
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(9);
  v6.sin6_addr = in6addr_loopback;
  m.begin();
  ASSERT_TRUE(queue(m, a, peer, "one", good, true));
  auto slot = m.slot();
  slot[0] = 'x';
  ASSERT_TRUE(m.commit(a.fd, 1, reinterpret_cast<const sockaddr*>(&v6), sizeof v6, &bad, true));
  ASSERT_TRUE(queue(m, a, peer, "three", good, true));
  EXPECT_EQ(m.flush(), 2U) << "the refused timed packet did not leave";
  EXPECT_EQ(peer.next(), "one");
  EXPECT_EQ(peer.next(), "three");
  EXPECT_TRUE(good.failures.empty());
  ASSERT_EQ(bad.failures.size(), 1U);
  EXPECT_NE(bad.failures[0], 0);
  EXPECT_EQ(m.stats().send_failed, 1U);
}

TEST_P(MediaIoSendTest, ForgottenPacketsDoNotLeave) {
  MediaIo m(io_, GetParam());
  Udp a, b, peer;
  Owner keep, gone;
  m.begin();
  ASSERT_TRUE(queue(m, a, peer, "kept 1", keep));
  ASSERT_TRUE(queue(m, b, peer, "gone", gone));
  ASSERT_TRUE(queue(m, a, peer, "kept 2", keep));
  m.forget(&gone);
  m.flush();
  EXPECT_EQ(peer.next(), "kept 1");
  EXPECT_EQ(peer.next(), "kept 2");
  EXPECT_TRUE(peer.empty());
  EXPECT_TRUE(gone.failures.empty()) << "forgotten, not failed";
}

TEST_P(MediaIoSendTest, OnlyTheOwnersLastPacketCanBeTimed) {
  MediaIo m(io_, GetParam());
  Udp a, peer;
  Owner first, second;
  EXPECT_FALSE(m.time_last(&first)) << "nothing queued";
  m.begin();
  ASSERT_TRUE(queue(m, a, peer, "1", first));
  ASSERT_TRUE(queue(m, a, peer, "2", second));
  EXPECT_FALSE(m.time_last(&first)) << "its packet is not the last one";
  EXPECT_TRUE(m.time_last(&second));
  EXPECT_EQ(m.flush(), 1U);
}

TEST_P(MediaIoSendTest, OutsideABatchNothingIsQueued) {
  MediaIo m(io_, GetParam());
  Udp a, peer;
  Owner owner;
  EXPECT_FALSE(queue(m, a, peer, "x", owner));
  EXPECT_EQ(m.flush(), 0U);
  EXPECT_TRUE(peer.empty());
}

INSTANTIATE_TEST_SUITE_P(Modes, MediaIoSendTest, ::testing::Values(MediaIo::Send::kUring, MediaIo::Send::kSendmmsg),
                         [](const auto& info) { return info.param == MediaIo::Send::kUring ? "Uring" : "Sendmmsg"; });

struct Reader : BatchReceiver {
  MediaIo* io = nullptr;
  int fd = -1;
  std::vector<std::string> got;
  int wakeups = 0;
  void on_readable() override {
    ++wakeups;
    bool drained = false;
    int error = 0;
    for (int round = 0; round < 10 && !drained; ++round)
      for (const auto& d : io->receive(fd, drained, error)) got.push_back(text(d.buffer.first(d.size)));
  }
};

TEST_F(MediaIoTest, WatchedSocketsAreToldWhenReadableUntilUnwatched) {
  MediaIo m(io_);
  Udp rx1, rx2, tx;
  Reader r1, r2;
  r1.io = r2.io = &m;
  r1.fd = rx1.fd;
  r2.fd = rx2.fd;
  tx.send_to(rx1, "early");  // already there when the watch starts
  uint64_t t1 = 0, t2 = 0;
  ASSERT_FALSE(m.watch(rx1.fd, &r1, t1));
  ASSERT_FALSE(m.watch(rx2.fd, &r2, t2));
  tx.send_to(rx2, "x");
  ASSERT_TRUE(test::run_until(io_, [&] { return r1.got.size() == 1 && r2.got.size() == 1; }));
  EXPECT_EQ(r1.got[0], "early");
  tx.send_to(rx1, "second");
  ASSERT_TRUE(test::run_until(io_, [&] { return r1.got.size() == 2; }));
  m.unwatch(rx2.fd, t2);
  m.unwatch(rx2.fd, t2);  // twice: harmless
  tx.send_to(rx2, "unwatched");
  tx.send_to(rx1, "third");
  ASSERT_TRUE(test::run_until(io_, [&] { return r1.got.size() == 3; }));
  EXPECT_EQ(r2.got.size(), 1U) << "an unwatched socket is not read";
  EXPECT_FALSE(rx2.empty()) << "its datagram is still queued";
  m.stop();
  EXPECT_TRUE(m.watch(rx2.fd, &r2, t2)) << "stopped: no new watches";
}

}  // namespace
}  // namespace warmline::rtp
