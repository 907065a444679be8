// ServiceNotifier against a real AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET: what
// it sends at ready/status/stopping, and that a watchdog ping needs every shard to have answered the
// previous round's probe. The shards are driven by hand (no threads), so "a stuck shard" is one whose
// io_context the test does not run.
#include "server/service_notify.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "server/shard.hpp"

namespace warmline::server {
namespace {

class NotifySocket {
 public:
  NotifySocket() {
    path_ = std::filesystem::temp_directory_path() / ("warmline-notify-" + std::to_string(::getpid()) + ".sock");
    std::filesystem::remove(path_);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ADD_FAILURE() << "bind " << path_;
  }
  ~NotifySocket() {
    ::close(fd_);
    std::filesystem::remove(path_);
  }
  std::string path() const { return path_.string(); }
  // The next datagram, or nullopt when none is waiting (the socket is non-blocking: every send the
  // notifier makes happens inside the handler the test ran, before this is called).
  std::optional<std::string> next() {
    char buf[512];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// Sets the variables for one test and restores "unset" afterwards.
class Env {
 public:
  Env(const std::string& socket, const char* watchdog_usec) {
    ::setenv("NOTIFY_SOCKET", socket.c_str(), 1);
    if (watchdog_usec) ::setenv("WATCHDOG_USEC", watchdog_usec, 1);
    ::unsetenv("WATCHDOG_PID");
  }
  ~Env() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
  }
};

// Runs what is queued on a shard driven by hand (a poll that runs out of work stops the io_context).
void run_probes(Shard& shard) {
  shard.io().restart();
  shard.io().poll();
}

TEST(ServiceNotify, WithoutNotifySocketNothingIsSentOrScheduled) {
  ::unsetenv("NOTIFY_SOCKET");
  boost::asio::io_context control;
  ShardSet shards(1);
  ServiceNotifier notifier(control, shards, [] { return int64_t{0}; });
  EXPECT_FALSE(notifier.enabled());
  notifier.ready("taking calls");
  EXPECT_EQ(control.poll(), 0u);  // no status or watchdog rounds
}

TEST(ServiceNotify, ReadyStatusAndStoppingLines) {
  NotifySocket sock;
  Env env(sock.path(), nullptr);
  boost::asio::io_context control;
  ShardSet shards(2);
  int64_t calls = 0;
  ServiceNotifier notifier(control, shards, [&] { return calls; });
  ASSERT_TRUE(notifier.enabled());
  EXPECT_EQ(notifier.watchdog_period().count(), 0);

  notifier.ready("taking calls");
  EXPECT_EQ(sock.next(), "READY=1\nSTATUS=taking calls: 0 live call(s)");
  EXPECT_EQ(sock.next(), std::nullopt);  // no watchdog: the first round has nothing new to say

  calls = 3;
  notifier.status("draining, staying up");
  EXPECT_EQ(sock.next(), "STATUS=draining, staying up: 3 live call(s)");
  notifier.stopping("draining, then exiting");
  EXPECT_EQ(sock.next(), "STOPPING=1\nSTATUS=draining, then exiting: 3 live call(s)");
  notifier.stop();
}

TEST(ServiceNotify, PeriodicStatusOnlyWhenTheLineChanges) {
  NotifySocket sock;
  Env env(sock.path(), "20000");  // rounds every 10 ms
  boost::asio::io_context control;
  ShardSet shards(1);
  int64_t calls = 0;
  ServiceNotifier notifier(control, shards, [&] { return calls; });
  notifier.ready("taking calls");
  EXPECT_EQ(sock.next(), "READY=1\nSTATUS=taking calls: 0 live call(s)");
  EXPECT_EQ(sock.next(), "WATCHDOG=1");
  run_probes(shards.at(0));
  calls = 1;
  ASSERT_EQ(control.run_one(), 1u);
  EXPECT_EQ(sock.next(), "WATCHDOG=1\nSTATUS=taking calls: 1 live call(s)");
  notifier.stop();
}

TEST(ServiceNotify, WatchdogPingsOnlyWhileEveryShardAnswers) {
  NotifySocket sock;
  Env env(sock.path(), "20000");
  boost::asio::io_context control;
  ShardSet shards(2);
  ServiceNotifier notifier(control, shards, [] { return int64_t{0}; });
  ASSERT_EQ(notifier.watchdog_period(), std::chrono::microseconds(20000));

  notifier.ready("taking calls");
  ASSERT_EQ(sock.next(), "READY=1\nSTATUS=taking calls: 0 live call(s)");
  EXPECT_EQ(sock.next(), "WATCHDOG=1");  // at start every shard has just answered

  // Round 2: shard 0 ran its probe, shard 1 is "stuck" (its io_context is not run): no ping.
  run_probes(shards.at(0));
  ASSERT_EQ(control.run_one(), 1u);
  EXPECT_EQ(sock.next(), std::nullopt);

  // Round 3: shard 1 now runs round 2's probe (late) and round 3's; shard 0 runs nothing. A late probe
  // must not count for a later round: still no ping.
  run_probes(shards.at(1));
  ASSERT_EQ(control.run_one(), 1u);
  EXPECT_EQ(sock.next(), std::nullopt);
  // Round 4: both shards answer, so the next round pings again.
  run_probes(shards.at(0));
  run_probes(shards.at(1));
  ASSERT_EQ(control.run_one(), 1u);
  EXPECT_EQ(sock.next(), "WATCHDOG=1");

  notifier.stop();
  EXPECT_EQ(control.poll(), 1u);  // the cancelled wait completes and schedules nothing
  EXPECT_EQ(control.poll(), 0u);
}

}  // namespace
}  // namespace warmline::server
