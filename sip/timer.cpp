#include "sip/timer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace warmline::sip {

struct AsioTimerService::Entry {
  explicit Entry(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::function<void()> fn;
};

AsioTimerService::AsioTimerService(boost::asio::io_context& io) : io_(io) {}

AsioTimerService::~AsioTimerService() {
  *alive_ = false;
  for (auto& [id, entry] : timers_) entry->timer.cancel();
}

TimerId AsioTimerService::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  TimerId id = next_id_++;
  auto entry = std::make_unique<Entry>(io_);
  entry->fn = std::move(fn);
  entry->timer.expires_after(delay);
  std::weak_ptr<bool> alive = alive_;
  entry->timer.async_wait([this, id, alive](const boost::system::error_code& ec) {
    // A timer cancelled after it expired still completes with success, so the id lookup in fire()
    // is what makes cancel() reliable.
    if (ec || alive.expired()) return;
    fire(id);
  });
  timers_.emplace(id, std::move(entry));
  return id;
}

void AsioTimerService::fire(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  std::function<void()> fn = std::move(it->second->fn);
  timers_.erase(it);
  fn();
}

void AsioTimerService::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->timer.cancel();
  timers_.erase(it);
}

std::chrono::steady_clock::time_point AsioTimerService::now() const {
  return std::chrono::steady_clock::now();
}

size_t AsioTimerService::pending() const { return timers_.size(); }

void AsioTimerService::cancel_all() {
  for (auto& [id, entry] : timers_) entry->timer.cancel();
  timers_.clear();  // the cancelled waits complete with operation_aborted and find nothing
}

}  // namespace warmline::sip
