#pragma once
// The per-shard media clock: one timer per shard, not one per call. Every 20 ms it runs one pass over
// every active participant (a call's mixer and what feeds and drains it) of that shard.
//
// Scheduling stays outside so the clock is testable with a fake time: the shard arms a
// boost::asio::steady_timer at next_deadline() and, when it fires, calls tick(steady_clock::now()) and
// re-arms at the new next_deadline(). Deadlines are start + n x period (drift-free: a late wake-up does
// not push later ticks back). Single-threaded: the shard's io_context thread only.
#include <chrono>
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

  struct Stats {
    uint64_t ticks = 0;                 // passes run
    uint64_t overruns = 0;              // ticks that started a whole period or more late (skipped ticks)
    uint64_t skipped_ticks = 0;         // deadlines dropped to catch up
    std::chrono::nanoseconds worst_lag{0};  // the latest a tick started after its deadline
    std::chrono::nanoseconds last_lag{0};
    size_t participants = 0;
    TimePoint last_overrun{};           // when the latest overrun was seen (the `now` of that tick)
    // Whether a tick overran within `window` before `now`: the shard is behind and should not take
    // more calls (SipRouter answers new INVITEs 503 meanwhile).
    bool overran_within(TimePoint now, std::chrono::nanoseconds window) const {
      return overruns > 0 && now - last_overrun < window;
    }
  };

  explicit MediaClock(TimePoint start, std::chrono::milliseconds period = std::chrono::milliseconds(20));

  // Safe from inside on_media_tick (a call ending mid-pass): added participants start with the next
  // pass, removed ones are not called again.
  void add(Participant* p);
  void remove(Participant* p);

  // Runs one pass if `now` has reached the deadline (else does nothing) and returns the next deadline.
  // When `now` is a period or more past the deadline the missed ticks are skipped (counted as an
  // overrun): media must stay real-time, and a burst of catch-up passes would only make it later.
  TimePoint tick(TimePoint now);
  TimePoint next_deadline() const { return deadline_; }
  // Inside on_media_tick: the deadline of the pass being run (a participant measures how late its
  // output leaves against it).
  TimePoint pass_deadline() const { return deadline_; }
  std::chrono::milliseconds period() const { return period_; }
  const Stats& stats() const { return stats_; }

 private:
  void compact();

  std::chrono::milliseconds period_;
  TimePoint deadline_;
  std::vector<Participant*> participants_;
  bool in_pass_ = false;
  bool has_holes_ = false;
  Stats stats_;
};

}  // namespace warmline::media
