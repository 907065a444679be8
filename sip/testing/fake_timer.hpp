// A manual clock for tests: nothing fires until advance(), which runs due timers in deadline order
// (FIFO among equal deadlines), including timers scheduled by the callbacks it runs.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <utility>

#include "sip/timer.hpp"

namespace warmline::sip::testing {

class FakeTimerService final : public TimerService {
 public:
  using Clock = std::chrono::steady_clock;

  TimerId schedule(std::chrono::milliseconds delay, std::function<void()> fn) override {
    TimerId id = next_id_++;
    queue_.emplace(std::pair{now_ + delay, id}, std::move(fn));
    return id;
  }

  void cancel(TimerId id) override {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->first.second == id) {
        queue_.erase(it);
        return;
      }
    }
  }

  Clock::time_point now() const override { return now_; }

  // Moves the clock forward by `by`, firing every timer that falls due on the way, each with now()
  // set to its own deadline. Bounded so a callback that keeps rescheduling at zero delay fails the test
  // instead of hanging it.
  void advance(std::chrono::milliseconds by) {
    const Clock::time_point target = now_ + by;
    for (int fired = 0; !queue_.empty() && queue_.begin()->first.first <= target; ++fired) {
      if (fired >= kMaxFiringsPerAdvance) throw std::logic_error("FakeTimerService: runaway timers");
      auto it = queue_.begin();
      now_ = it->first.first;
      std::function<void()> fn = std::move(it->second);
      queue_.erase(it);
      fn();
    }
    now_ = target;
  }

  size_t pending() const { return queue_.size(); }

 private:
  static constexpr int kMaxFiringsPerAdvance = 1'000'000;
  Clock::time_point now_{std::chrono::hours(1)};
  TimerId next_id_ = 1;
  std::map<std::pair<Clock::time_point, TimerId>, std::function<void()>> queue_;
};

}  // namespace warmline::sip::testing
