#include "server/shard.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <set>

#include "server/api.hpp"

namespace warmline::server {
namespace {

TEST(ShardForCallId, IsStableAndInRange) {
  EXPECT_EQ(shard_for_call_id("a84b4c76e66710@pc33.atlanta.com", 4), shard_for_call_id("a84b4c76e66710@pc33.atlanta.com", 4));
  std::set<unsigned> seen;
  for (int i = 0; i < 200; ++i) {
    unsigned s = shard_for_call_id("call-" + std::to_string(i), 4);
    ASSERT_LT(s, 4u);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 4u) << "200 Call-IDs should spread over every shard";
  EXPECT_EQ(shard_for_call_id("anything", 1), 0u);
}

TEST(ShardOfCallId, ParsesOnlyOurIds) {
  EXPECT_EQ(shard_of_call_id("c0-abcdef", 2), 0u);
  EXPECT_EQ(shard_of_call_id("c1-abcdef", 2), 1u);
  EXPECT_EQ(shard_of_call_id("c12-abc", 16), 12u);
  EXPECT_FALSE(shard_of_call_id("c2-abcdef", 2)) << "shard index beyond the shard count";
  EXPECT_FALSE(shard_of_call_id("x1-abc", 2));
  EXPECT_FALSE(shard_of_call_id("c-abc", 2));
  EXPECT_FALSE(shard_of_call_id("c1abc", 2));
  EXPECT_FALSE(shard_of_call_id("", 2));
  EXPECT_FALSE(shard_of_call_id("c99999999-x", 2));
}

TEST(Shard, RunsPostedWorkOnItsOwnThread) {
  ShardSet shards(2);
  shards.start();
  std::promise<bool> on_own, on_other;
  shards.at(0).post([&] {
    on_own.set_value(shards.at(0).on_shard());
    on_other.set_value(shards.at(1).on_shard());
  });
  auto own = on_own.get_future();
  ASSERT_EQ(own.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(own.get());
  EXPECT_FALSE(on_other.get_future().get());
  EXPECT_FALSE(shards.at(0).on_shard()) << "the test thread is no shard";
  shards.stop();
  shards.join();
}

// The SIGTERM-after-load crash (issue 13): a connection's read is in flight when its socket closes,
// and its shard is then stopped outright (as Gateway::finish stops a shard still busy at exit). The
// aborted read must complete on the shard's thread before the shard's io_context can be destroyed:
// with io_uring that completion comes later, and left unreaped Asio destroyed the read's handler (and
// with it the connection and its timer) only after the timer service — a use-after-free that
// AddressSanitizer reports (`make test-asan CMAKE_FLAGS=-DWARMLINE_IO_URING=ON`). With epoll the
// completion was queued and then dropped uncalled; this checks it is called.
TEST(Shard, AReadAbortedByACloseCompletesBeforeAShardStoppedOutrightIsDestroyed) {
  namespace asio = boost::asio;
  using tcp = asio::ip::tcp;
  struct Connection {  // like a WebSocket session: a socket and a timer, owned by its handlers
    explicit Connection(asio::io_context& io) : socket(io), peer(io), timer(io) {}
    tcp::socket socket, peer;
    asio::steady_timer timer;
    std::array<char, 16> buffer{};
  };
  std::atomic<int> aborted{0}, other{0};
  std::promise<bool> set_up;
  auto shard = std::make_unique<Shard>(0);
  shard->start();
  shard->post([&] {
    asio::io_context& io = shard->io();
    auto c = std::make_shared<Connection>(io);
    boost::system::error_code ec;
    tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    c->peer.connect(acceptor.local_endpoint(), ec);
    if (!ec) acceptor.accept(c->socket, ec);
    set_up.set_value(!ec);
    if (ec) return io.stop();
    c->timer.expires_after(std::chrono::hours(1));  // keeps the shard busy, as at exit
    c->timer.async_wait([c](const boost::system::error_code&) {});
    c->socket.async_read_some(asio::buffer(c->buffer), [c, &aborted, &other](const boost::system::error_code& e, size_t) {
      ++(e == asio::error::operation_aborted ? aborted : other);
    });
    c->socket.close();
    io.stop();  // outright, before the loop came back to the read's completion
  });
  auto ok = set_up.get_future();
  ASSERT_EQ(ok.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_TRUE(ok.get());
  shard->join();
  EXPECT_EQ(aborted.load(), 1) << "the aborted read completed on the shard, not dropped";
  EXPECT_EQ(other.load(), 0);
  shard.reset();  // the io_context goes: nothing of the connection may be destroyed after its services
}

}  // namespace
}  // namespace warmline::server
