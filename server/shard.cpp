#include "server/shard.hpp"

#include <cstdint>
#include <future>

namespace warmline::server {

void Shard::start() {
  guard_.emplace(boost::asio::make_work_guard(io_));
  std::promise<void> started;
  auto ready = started.get_future();
  thread_ = std::thread([this, &started] {
    thread_id_ = std::this_thread::get_id();
    started.set_value();
    io_.run();
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
