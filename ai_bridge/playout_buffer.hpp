#pragma once
// The per-leg queue of the agent's audio (DESIGN.md "AI → caller").
//
// The agent sends audio faster than real time; it waits here and leaves one frame per media-clock tick
// (pull), so pacing is exact and `clear` (barge-in) drops whatever has not been played yet. Marks sit at
// a position in the stream and are reported once the audio before them has been pulled (played) or
// dropped by clear (cleared), in the order they were set.
//
// Memory follows what is queued: the sample ring starts at `initial_samples` and doubles, up to
// `capacity_samples`, when a push does not fit (so 1,000 calls whose agents keep a second or two queued
// do not each hold a minute of audio); the mark ring grows the same way. A growth is a rare allocation
// on the push that needs it; pull, clear and a push that fits never allocate. Pushes beyond the
// capacity are refused and counted, never silently lost. Thread: the call's shard, like everything of
// the leg; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ai_bridge/native_protocol.hpp"

namespace warmline::ai {

class PlayoutBuffer {
 public:
  struct Options {
    std::size_t capacity_samples = 60 * 16000;  // the limit, e.g. 60 s at the rate: samples_for_ms()
    std::size_t initial_samples = 16000;        // allocated at construction; grows by doubling
    std::size_t max_pending_marks = 256;
    // Called from pull()/clear() for each mark reached or dropped, in order. `name` is valid only
    // during the call. It may call mark(), not pull() or clear().
    std::function<void(std::string_view name, MarkEvent event)> on_mark{};
  };

  struct PushResult {
    std::size_t accepted = 0;
    std::size_t dropped = 0;  // did not fit: the caller reports it (log/metric), it is not queued
  };

  explicit PlayoutBuffer(Options options);

  PushResult push(std::span<const int16_t> samples);

  // Places a mark at the current end of the queue. False when max_pending_marks are already pending
  // (the caller answers the agent with an error; the mark is not set).
  bool mark(std::string_view name);

  // Drops every queued sample and reports every pending mark as cleared. Returns the samples dropped.
  std::size_t clear();

  // Fills the whole frame: queued audio, then silence if the queue runs short. Returns true when the
  // frame holds any agent audio, false when it is all silence. Reports marks whose position has now
  // been played (including marks set while the queue was empty).
  bool pull(std::span<int16_t> frame);

  std::size_t queued_samples() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity_samples() const { return max_samples_; }
  std::size_t allocated_samples() const { return samples_.size(); }
  std::size_t pending_marks() const { return mark_count_; }
  // Totals since construction, for metrics.
  std::uint64_t dropped_samples() const { return dropped_total_; }
  std::uint64_t played_samples() const { return read_pos_; }

  static std::size_t samples_for_ms(int sample_rate, int ms) {
    return static_cast<std::size_t>(sample_rate) * static_cast<std::size_t>(ms) / 1000;
  }

 private:
  struct PendingMark {
    std::string name;
    std::uint64_t position = 0;  // absolute sample index: played once read_pos_ reaches it
  };

  void report_front_mark(MarkEvent event);

  std::size_t max_samples_;
  std::size_t max_marks_;
  std::vector<int16_t> samples_;
  std::size_t head_ = 0;  // index of the oldest queued sample
  std::size_t size_ = 0;
  std::uint64_t read_pos_ = 0;   // samples pulled since construction (and skipped by clear)
  std::uint64_t dropped_total_ = 0;

  std::vector<PendingMark> marks_;
  std::size_t mark_head_ = 0;
  std::size_t mark_count_ = 0;
  std::string reported_name_;  // the mark being reported, moved out of its slot
  std::function<void(std::string_view, MarkEvent)> on_mark_;
};

}  // namespace warmline::ai
