#pragma once
// What the RTP/SIP thread and the agent thread share: per-call send-time rings (to match a stamp with
// the moment its frame left), the counters and the latency histograms. Everything is an atomic with a
// single writer, so neither thread ever waits for the other.
//
// Writers: the RTP thread writes sent_at, the RTP-side counters and the AI -> caller histograms; the
// agent thread writes echoed_at, the agent-side counters and the caller -> AI histogram. Readers
// (the other thread, progress, the report) use relaxed or acquire loads.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <time.h>

#include "bench/load/histogram.hpp"

namespace warmline::load {

// CLOCK_MONOTONIC in nanoseconds: both threads stamp with it (vDSO, no syscall).
inline int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// 128 frames = 2.56 s of history per call: a frame that comes back later than that is counted as
// unmatched rather than matched to the wrong send time.
inline constexpr uint32_t kRingFrames = 128;
inline constexpr int64_t kMaxMatchNs = 2'000'000'000;

struct CallTimes {
  std::array<std::atomic<int64_t>, kRingFrames> sent_at{};    // t0 by seq % kRingFrames (RTP thread)
  std::array<std::atomic<int64_t>, kRingFrames> echoed_at{};  // t2 by seq % kRingFrames (agent thread)
};

// A counter with one writer: a load and a store, no locked instruction.
class Counter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct SharedState {
  explicit SharedState(size_t calls) : call_count(calls), times(new CallTimes[calls]) {}

  // The steady window: frames whose origin time lies in [start, end) count for loss and latency.
  std::atomic<int64_t> window_start{INT64_MAX};
  std::atomic<int64_t> window_end{INT64_MAX};
  bool in_window(int64_t t) const {
    return t >= window_start.load(std::memory_order_relaxed) && t < window_end.load(std::memory_order_relaxed);
  }

  size_t call_count;
  std::unique_ptr<CallTimes[]> times;

  // RTP thread.
  Counter rtp_sent, rtp_sent_window, rtp_send_errors;
  Counter rtp_received, rtp_stamped, rtp_stamped_window, rtp_unmatched;
  LatencyHistogram ai_to_caller, ai_to_caller_beyond_tick, ai_to_caller_all;
  // Relay mode: leg A -> leg B through the relay (RTP thread).
  LatencyHistogram relay, relay_all;

  // Agent thread.
  Counter agent_connections, agent_closed, agent_text_frames, agent_frames, agent_frames_stamped;
  Counter agent_frames_window, agent_unmatched, echoes_window;
  LatencyHistogram caller_to_ai, caller_to_ai_all;
};

}  // namespace warmline::load
