#pragma once
// The per-shard media clock: one timer per shard, not one per call. Every 20 ms it runs each active
// participant (a call's mixer and what feeds and drains it) of that shard once.
//
// Phase spread: the period is cut into `slots` equal slots (20 slots of 1 ms by default in the shard;
// 1 slot = the whole shard in one pass at the period's start). A participant joins the slot with the
// fewest participants (ties: the next one after the last slot chosen) and stays there, so its frames
// leave at its own offset in the period: a shard sends a slot's share of its packets at a time instead
// of all of them in one burst, and the last call of a slot waits behind its slot only. Each slot's
// pass has its own deadline (period start + slot x slot length); pass_deadline() is that one, which is
// what "beyond the tick" latency is measured from.
//
// Scheduling stays outside so the clock is testable with a fake time: the shard arms a
// boost::asio::steady_timer at next_deadline() and, when it fires, calls tick(steady_clock::now()) and
// re-arms at the new next_deadline(). Deadlines are start + n x period + slot offset (drift-free: a late
// wake-up does not push later ones back); empty slots are not woken for. Single-threaded: the shard's
// io_context thread only.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace warmline::media {

class MediaClock {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  class Participant {
   public:
    virtual ~Participant() = default;
    // One 20 ms step: pull inputs, mix, push outputs. `tick` counts processed ticks.
    virtual void on_media_tick(uint64_t tick) = 0;
  };

  // Around each slot's pass (only slots with participants): the shard starts a send batch before and
  // flushes it after (rtp::MediaIo). Called on the clock's thread; must not add or remove participants.
  class PassHooks {
   public:
    virtual ~PassHooks() = default;
    virtual void pass_begin() = 0;
    virtual void pass_end() = 0;
  };

  struct Stats {
    uint64_t ticks = 0;                 // periods run (every slot of a period passed)
    uint64_t overruns = 0;              // wake-ups that dropped a pass (a slot a whole period late)
    uint64_t skipped_ticks = 0;         // periods dropped to catch up (any slot's pass dropped: one)
    std::chrono::nanoseconds worst_lag{0};  // the latest a wake-up came after the deadline it was armed for
    std::chrono::nanoseconds last_lag{0};  // of the latest slot due at the last wake-up (the clock's lateness now)
    size_t participants = 0;
    TimePoint last_overrun{};           // when the latest overrun was seen (the `now` of that tick)
    // Whether a tick overran within `window` before `now`: the shard is behind and should not take
    // more calls (SipRouter answers new INVITEs 503 meanwhile).
    bool overran_within(TimePoint now, std::chrono::nanoseconds window) const {
      return overruns > 0 && now - last_overrun < window;
    }
  };

  // `slots` from 1 to the period in milliseconds (a slot is at least 1 ms); out of range: clamped.
  explicit MediaClock(TimePoint start, std::chrono::milliseconds period = std::chrono::milliseconds(20),
                      unsigned slots = 1);

  // Safe from inside on_media_tick (a call ending mid-pass): added participants start with the next
  // pass, removed ones are not called again.
  void add(Participant* p);
  void remove(Participant* p);

  // Runs the pass of every slot whose deadline `now` has reached, in order (else does nothing), and
  // returns the next deadline. When `now` is a period or more past the deadline the missed periods are
  // skipped (counted as an overrun): media must stay real-time, and a burst of catch-up passes would
  // only make it later. Each participant runs at most once per call.
  TimePoint tick(TimePoint now);
  // The deadline of the next slot that has participants (none: the next period's start).
  TimePoint next_deadline() const;
  // Inside on_media_tick and the hooks: the deadline of the slot whose pass is being run (a participant
  // measures how late its output leaves against it).
  TimePoint pass_deadline() const { return pass_deadline_; }
  std::chrono::milliseconds period() const { return period_; }
  unsigned slots() const { return static_cast<unsigned>(slots_.size()); }
  // The slot `p` runs in (slots() when it is not a participant).
  unsigned slot_of(const Participant* p) const;
  void set_hooks(PassHooks* hooks) { hooks_ = hooks; }
  const Stats& stats() const { return stats_; }

 private:
  TimePoint slot_deadline(size_t slot) const { return period_start_ + slot_length_ * slot; }
  void run_slot(size_t slot);
  void advance();
  void pass_slot();

  std::chrono::milliseconds period_;
  std::chrono::nanoseconds slot_length_;
  TimePoint period_start_;           // deadline of slot 0 of the period being run
  size_t next_slot_ = 0;             // the next slot to run in that period
  TimePoint pass_deadline_;
  std::vector<std::vector<Participant*>> slots_;
  size_t last_assigned_ = 0;
  size_t running_ = SIZE_MAX;        // the slot whose pass runs now (removals leave holes there)
  bool has_holes_ = false;
  PassHooks* hooks_ = nullptr;
  Stats stats_;
};

}  // namespace warmline::media
