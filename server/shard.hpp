// Shards: one thread, one io_context each (DESIGN.md "Threading"). A call and everything it owns — legs,
// RTP sockets, timers, its AI WebSocket — is created on one shard and never leaves it; the only door
// between shards is post(). Which shard owns a SIP dialog is a pure function of its Call-ID, so any
// shard's socket can receive a message and hand it to the owner without shared tables or locks.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

namespace warmline::server {

class Shard {
 public:
  explicit Shard(unsigned index) : index_(index), io_(1) {}
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  unsigned index() const { return index_; }
  boost::asio::io_context& io() { return io_; }

  // True when the calling thread is this shard's thread. Call, dialog and media methods assert it:
  // touching a call from another thread is a data race that no lock protects.
  bool on_shard() const { return std::this_thread::get_id() == thread_id_; }

  template <class Fn>
  void post(Fn&& fn) {
    boost::asio::post(io_, std::forward<Fn>(fn));
  }

  void start();  // runs io() on a new thread until stop()
  // Makes the calling thread this shard's thread without starting one: for unit tests that drive a
  // shard's objects (calls, legs, routers) from the test's own thread and run io() by hand.
  void adopt_current_thread() { thread_id_ = std::this_thread::get_id(); }
  void stop();   // lets run() return once the queue is empty of work (releases the work guard)
  void join();

 private:
  unsigned index_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::thread::id thread_id_;
};

// The shard that owns the dialog with this Call-ID (FNV-1a; stable across processes so that a node
// restart keeps the mapping for the same shard count).
unsigned shard_for_call_id(std::string_view call_id, unsigned shard_count);

class ShardSet {
 public:
  explicit ShardSet(unsigned count);
  unsigned size() const { return static_cast<unsigned>(shards_.size()); }
  Shard& at(unsigned i) { return *shards_[i]; }
  Shard& for_call_id(std::string_view call_id) { return at(shard_for_call_id(call_id, size())); }
  void start();
  void stop();
  void join();

 private:
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace warmline::server
