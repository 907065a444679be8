#include "media/media_clock.hpp"

#include <algorithm>

namespace warmline::media {

MediaClock::MediaClock(TimePoint start, std::chrono::milliseconds period)
    : period_(period.count() > 0 ? period : std::chrono::milliseconds(20)), deadline_(start) {}

void MediaClock::add(Participant* p) {
  if (p == nullptr) return;
  participants_.push_back(p);
  ++stats_.participants;
}

void MediaClock::remove(Participant* p) {
  auto it = std::find(participants_.begin(), participants_.end(), p);
  if (it == participants_.end()) return;
  if (in_pass_) {
    *it = nullptr;  // erasing would shift the pass's index; compacted after the pass
    has_holes_ = true;
  } else {
    *it = participants_.back();
    participants_.pop_back();
  }
  --stats_.participants;
}

MediaClock::TimePoint MediaClock::tick(TimePoint now) {
  if (now < deadline_) return deadline_;
  const auto lag = std::chrono::duration_cast<std::chrono::nanoseconds>(now - deadline_);
  stats_.last_lag = lag;
  stats_.worst_lag = std::max(stats_.worst_lag, lag);
  if (lag >= period_) {
    const auto missed = static_cast<uint64_t>(lag / period_);
    ++stats_.overruns;
    stats_.last_overrun = now;
    stats_.skipped_ticks += missed;
    deadline_ += period_ * missed;
  }
  in_pass_ = true;
  const size_t n = participants_.size();  // participants added during the pass wait for the next one
  for (size_t i = 0; i < n; ++i) {
    if (participants_[i] != nullptr) participants_[i]->on_media_tick(stats_.ticks);
  }
  in_pass_ = false;
  if (has_holes_) compact();
  ++stats_.ticks;
  deadline_ += period_;
  return deadline_;
}

void MediaClock::compact() {
  std::erase(participants_, nullptr);
  has_holes_ = false;
}

}  // namespace warmline::media
