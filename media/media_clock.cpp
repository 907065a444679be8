#include "media/media_clock.hpp"

#include <algorithm>

namespace warmline::media {

MediaClock::MediaClock(TimePoint start, std::chrono::milliseconds period, unsigned slots)
    : period_(period.count() > 0 ? period : std::chrono::milliseconds(20)), period_start_(start), pass_deadline_(start) {
  const auto most = static_cast<unsigned>(period_.count());  // slots of at least 1 ms
  slots_.resize(std::clamp(slots, 1U, most));
  slot_length_ = std::chrono::nanoseconds(period_) / slots_.size();
}

// The least-loaded slot, looking from the one after the last slot chosen: equal loads fill the slots
// in turn, so calls that arrive together are spread over the period.
void MediaClock::add(Participant* p) {
  if (p == nullptr) return;
  const size_t n = slots_.size();
  size_t best = (last_assigned_ + 1) % n;
  for (size_t k = 2; k <= n; ++k) {
    const size_t s = (last_assigned_ + k) % n;
    if (slots_[s].size() < slots_[best].size()) best = s;
  }
  slots_[best].push_back(p);
  last_assigned_ = best;
  ++stats_.participants;
}

void MediaClock::remove(Participant* p) {
  for (size_t s = 0; s < slots_.size(); ++s) {
    auto& list = slots_[s];
    auto it = std::find(list.begin(), list.end(), p);
    if (it == list.end()) continue;
    if (s == running_) {
      *it = nullptr;  // erasing would shift the pass's index; compacted after the pass
      has_holes_ = true;
    } else {
      *it = list.back();
      list.pop_back();
    }
    --stats_.participants;
    return;
  }
}

unsigned MediaClock::slot_of(const Participant* p) const {
  for (size_t s = 0; s < slots_.size(); ++s)
    if (std::find(slots_[s].begin(), slots_[s].end(), p) != slots_[s].end()) return static_cast<unsigned>(s);
  return slots();
}

MediaClock::TimePoint MediaClock::next_deadline() const {
  const size_t n = slots_.size();
  for (size_t k = 0; k < n; ++k) {
    size_t s = next_slot_ + k;
    TimePoint base = period_start_;
    if (s >= n) {
      s -= n;
      base += period_;
    }
    if (!slots_[s].empty()) return base + slot_length_ * s;
  }
  return next_slot_ == 0 ? period_start_ : period_start_ + period_;
}

MediaClock::TimePoint MediaClock::tick(TimePoint now) {
  const TimePoint due = next_deadline();
  if (now < due) return due;
  const auto lag = std::chrono::duration_cast<std::chrono::nanoseconds>(now - due);
  stats_.worst_lag = std::max(stats_.worst_lag, lag);
  // Two periods late or more: all but the last are dropped for every slot at once (this bounds the
  // loop below to two periods' slots).
  uint64_t skipped = 0;
  std::chrono::nanoseconds shifted{0};
  if (lag >= 2 * period_) {
    const auto whole = static_cast<uint64_t>(lag / period_) - 1;
    period_start_ += period_ * whole;
    shifted = std::chrono::duration_cast<std::chrono::nanoseconds>(period_ * whole);
    skipped += whole;
  }
  // The empty slots before the one due have nothing to run: time passes over them.
  for (size_t n = 0; n < slots_.size() && slot_deadline(next_slot_) < due + shifted; ++n) pass_slot();
  // Each slot whose deadline has come, in order. A slot a whole period late (its next deadline has
  // come too) drops this period's pass: media stays real-time, and a burst of catch-up passes would
  // only make it later. So each participant runs at most once per call.
  bool dropped = false;
  bool ran = false;
  TimePoint latest = due;
  for (size_t n = 0; n < 2 * slots_.size() && slot_deadline(next_slot_) <= now; ++n) {
    const TimePoint deadline = slot_deadline(next_slot_);
    if (deadline + period_ <= now) {
      dropped = dropped || !slots_[next_slot_].empty();
      pass_slot();
      continue;
    }
    latest = deadline;
    ran = true;
    run_slot(next_slot_);
    advance();
  }
  if (dropped) ++skipped;
  if (skipped > 0) {
    ++stats_.overruns;
    stats_.last_overrun = now;
    stats_.skipped_ticks += skipped;
  }
  // How late the clock is now: the latest slot run (on the grid before whole periods were dropped),
  // not the first one due. After one short stall the first slot due is late by the whole stall, but
  // the slots after it show the shard has caught up (the overload guard reads this).
  stats_.last_lag = ran ? std::chrono::duration_cast<std::chrono::nanoseconds>(now - (latest - shifted)) : lag;
  return next_deadline();
}

void MediaClock::run_slot(size_t slot) {
  auto& list = slots_[slot];  // slots_ itself never resizes: the reference stays valid
  pass_deadline_ = slot_deadline(slot);
  if (list.empty()) return;
  running_ = slot;
  if (hooks_) hooks_->pass_begin();
  const size_t n = list.size();  // participants added during the pass wait for the next one
  for (size_t i = 0; i < n; ++i) {
    if (list[i] != nullptr) list[i]->on_media_tick(stats_.ticks);
  }
  if (hooks_) hooks_->pass_end();
  running_ = SIZE_MAX;
  if (has_holes_) {
    std::erase(list, nullptr);
    has_holes_ = false;
  }
}

void MediaClock::advance() {
  if (++next_slot_ < slots_.size()) return;
  next_slot_ = 0;
  period_start_ += period_;
  ++stats_.ticks;
}

// A slot left without its pass (empty, or dropped): a period that ends here is not counted as run.
void MediaClock::pass_slot() {
  if (++next_slot_ < slots_.size()) return;
  next_slot_ = 0;
  period_start_ += period_;
}

}  // namespace warmline::media
