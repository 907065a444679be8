#include "server/shard.hpp"

#include <cstdint>
#include <future>

namespace warmline::server {

namespace {

// io_uring reports an operation cancelled by closing its socket (a WebSocket read or write in flight when
// a call ended) with a completion of its own, later. When run() returns before that completion was
// reaped — the gateway stops a shard outright that stays busy past its shutdown bound — Asio (1.81)
// keeps the operation, and the handler that owns its connection, in a freed I/O object until the
// io_context's services are being destroyed, and destroying that handler then touches the already
// destroyed timer service (a use-after-free: the heap corruption seen at SIGTERM after load). So the
// completions that are due run here, on the shard's thread, while every service and every object of
// the shard still exists; they see operation_aborted and release what they hold. With epoll the
// cancellations were already queued; this runs them instead of destroying them. Bounded: a handler
// that starts new work cannot keep the shard alive.
void reap_completions(boost::asio::io_context& io) {
  constexpr int kMaxRounds = 64;
  io.restart();
  for (int i = 0; i < kMaxRounds && io.poll() > 0; ++i) {
  }
}

}  // namespace

void Shard::start() {
  guard_.emplace(boost::asio::make_work_guard(io_));
  std::promise<void> started;
  auto ready = started.get_future();
  thread_ = std::thread([this, &started] {
    thread_id_ = std::this_thread::get_id();
    started.set_value();
    io_.run();
    reap_completions(io_);
  });
  ready.wait();  // thread_id_ is set before anyone asks on_shard()
}

void Shard::stop() { guard_.reset(); }

void Shard::join() {
  if (thread_.joinable()) thread_.join();
}

unsigned shard_for_call_id(std::string_view call_id, unsigned shard_count) {
  uint32_t h = 2166136261u;
  for (unsigned char c : call_id) {
    h ^= c;
    h *= 16777619u;
  }
  return shard_count == 0 ? 0 : h % shard_count;
}

ShardSet::ShardSet(unsigned count) {
  for (unsigned i = 0; i < count; ++i) shards_.push_back(std::make_unique<Shard>(i));
}

void ShardSet::start() {
  for (auto& s : shards_) s->start();
}

void ShardSet::stop() {
  for (auto& s : shards_) s->stop();
}

void ShardSet::join() {
  for (auto& s : shards_) s->join();
}

}  // namespace warmline::server
