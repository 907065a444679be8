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

// 128 frames = 2.56 s of history per call. Each slot holds the time and the rest of the frame
// number (seq / kRingFrames), so a frame that comes back after its slot was reused is counted as
// unmatched, never matched with a later frame's time.
inline constexpr uint32_t kRingFrames = 128;
inline constexpr int64_t kMaxMatchNs = 2'000'000'000;

// A slot value: the top 20 bits are (seq / kRingFrames) mod 2^20, the low 44 bits the time since the
// run's epoch (2^44 ns = 4.9 h, beyond any --max-runtime-s). 0 = empty.
inline constexpr int kSlotTimeBits = 44;
inline uint64_t encode_slot(uint32_t seq, int64_t t, int64_t epoch) {
  const auto lap = static_cast<uint64_t>(seq / kRingFrames) & 0xFFFFF;
  return (lap << kSlotTimeBits) | (static_cast<uint64_t>(t - epoch + 1) & ((uint64_t{1} << kSlotTimeBits) - 1));
}
// The time stored for `seq`, or -1 when the slot is empty or holds another lap's frame.
inline int64_t decode_slot(uint64_t value, uint32_t seq, int64_t epoch) {
  if (value == 0 || (value >> kSlotTimeBits) != (static_cast<uint64_t>(seq / kRingFrames) & 0xFFFFF)) return -1;
  return epoch + static_cast<int64_t>(value & ((uint64_t{1} << kSlotTimeBits) - 1)) - 1;
}

struct CallTimes {
  std::array<std::atomic<uint64_t>, kRingFrames> sent_at{};    // t0 by seq % kRingFrames (RTP thread)
  std::array<std::atomic<uint64_t>, kRingFrames> echoed_at{};  // t2 by seq % kRingFrames (agent thread)
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
  explicit SharedState(size_t calls)
      : call_count(calls), times(new CallTimes[calls]), transfer_sent_at(new std::atomic<int64_t>[calls]) {
    for (size_t i = 0; i < calls; ++i) transfer_sent_at[i].store(-1, std::memory_order_relaxed);
  }

  const int64_t epoch = now_ns();  // slot times are relative to it
  void store_sent(uint32_t call, uint32_t seq, int64_t t) {
    times[call].sent_at[seq % kRingFrames].store(encode_slot(seq, t, epoch), std::memory_order_release);
  }
  void store_echoed(uint32_t call, uint32_t seq, int64_t t) {
    times[call].echoed_at[seq % kRingFrames].store(encode_slot(seq, t, epoch), std::memory_order_release);
  }
  int64_t sent_at(uint32_t call, uint32_t seq) const {
    return decode_slot(times[call].sent_at[seq % kRingFrames].load(std::memory_order_acquire), seq, epoch);
  }
  int64_t echoed_at(uint32_t call, uint32_t seq) const {
    return decode_slot(times[call].echoed_at[seq % kRingFrames].load(std::memory_order_acquire), seq, epoch);
  }

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
  Counter srtp_protect_failed, srtp_unprotect_failed;  // --srtp: packets not sent / dropped on receipt
  LatencyHistogram ai_to_caller, ai_to_caller_beyond_tick, ai_to_caller_queued, ai_to_caller_all;
  // Relay mode: leg A -> leg B through the relay (RTP thread). Bridged mode: caller -> target.
  LatencyHistogram relay, relay_all;
  // Bridged mode, the target's side (RTP thread): packets the target got (all, and those sent by the
  // caller inside the window), echoes it sent inside the window; transfer sent -> the target's INVITE
  // arrived, and -> its ACK arrived (the gateway's part of the transfer setup; the target answers at
  // once).
  Counter target_received, target_received_window, target_echoes_window, target_unmatched;
  LatencyHistogram transfer_to_invite, transfer_to_ack;

  // Bridged mode: when the agent thread handed call i's `transfer` to its socket (-1: not yet). Read
  // by the RTP thread when the target's INVITE and ACK arrive.
  std::unique_ptr<std::atomic<int64_t>[]> transfer_sent_at;

  // Agent thread.
  Counter agent_connections, agent_closed, agent_text_frames, agent_frames, agent_frames_stamped;
  Counter agent_frames_window, agent_unmatched, echoes_window;
  Counter agent_out_of_order;   // a stamp not newer than the call's last one (duplicate or reordered)
  Counter agent_coalesced;      // messages holding more than one 20 ms frame (only the first is matched)
  LatencyHistogram caller_to_ai, caller_to_ai_all;
  // Bridged mode: transfers sent, and how their `transfer` events ended.
  Counter agent_transfers, agent_transfers_completed, agent_transfers_failed, agent_transfer_no_session;
};

}  // namespace warmline::load
