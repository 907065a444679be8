// Counters the shards update and GET /metrics reads (Prometheus text). Each shard owns one
// ShardMetrics and is its only writer; relaxed atomics make the reader's snapshot tear-free without
// ordering costs on the shard. Nothing here is on the per-packet path.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace warmline::server {

inline constexpr size_t kTransferResults = 10;  // ai::TransferResult values
inline constexpr size_t kTransferStrategies = 2;  // TransferStrategy: refer, dial

// Bucket upper bounds of the histograms below, in the metric's unit.
inline constexpr std::array<double, 11> kSecondsBounds = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
// Audio frame latencies: 100 µs to 0.5 s.
inline constexpr std::array<double, 12> kFrameBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005,
                                                         0.01,   0.02,    0.05,   0.1,   0.25,  0.5};
// A leg's RTP loss at its end (lost / expected): 0 (none lost) to half.
inline constexpr std::array<double, 9> kLossBounds = {0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5};
// A leg's interarrival jitter at its end (RFC 3550 §6.4.1), seconds.
inline constexpr std::array<double, 9> kJitterBounds = {0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2};

// A Prometheus histogram with fixed buckets, written by one shard (its only writer), summed by the
// reader. An observation is a few loads and stores with no read-modify-write, so the media path may
// observe one per frame.
template <const auto& Bounds>
struct Histogram {
  static constexpr const auto& kBounds = Bounds;
  std::array<std::atomic<uint64_t>, Bounds.size() + 1> buckets{};  // the last one: above every bound
  std::atomic<double> sum{0};
  std::atomic<uint64_t> count{0};

  void observe(double value) {
    size_t i = 0;
    while (i < Bounds.size() && value > Bounds[i]) ++i;
    bump(buckets[i]);
    sum.store(sum.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
    bump(count);
  }
  // A duration in seconds; a negative one (clocks compared across a tick) counts as zero.
  template <class Rep, class Period>
  void observe(std::chrono::duration<Rep, Period> d) {
    observe(std::max(0.0, std::chrono::duration<double>(d).count()));
  }

 private:
  static void bump(std::atomic<uint64_t>& a) { a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
};

using LatencyHistogram = Histogram<kSecondsBounds>;

// One SIP response counted in its class (`by_class` one of ShardMetrics' sip_responses_*); one writer.
inline void count_response(std::array<std::atomic<uint64_t>, 6>& by_class, int status) {
  if (status < 100 || status > 699) return;
  auto& c = by_class[static_cast<size_t>(status / 100 - 1)];
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}
using FrameLatencyHistogram = Histogram<kFrameBounds>;
using LossHistogram = Histogram<kLossBounds>;
using JitterHistogram = Histogram<kJitterBounds>;

struct ShardMetrics {
  std::atomic<uint64_t> calls_started{0};
  std::atomic<uint64_t> calls_rejected{0};
  std::atomic<int64_t> calls_active{0};
  std::atomic<uint64_t> agent_failures{0};
  std::atomic<uint64_t> agent_stalled{0};           // agent sockets closed as stuck (not reading)
  std::atomic<uint64_t> rtp_ports_exhausted{0};     // a leg refused for want of a free RTP port
  std::atomic<uint64_t> transfers_started{0};
  std::array<std::atomic<uint64_t>, kTransferResults> transfers_by_result{};
  // Cold transfers ended, by the strategy of their last attempt and the result (a success rate per
  // strategy can be graphed). Modes other than cold come with warm transfers.
  std::array<std::array<std::atomic<uint64_t>, kTransferResults>, kTransferStrategies> transfers_by_strategy{};
  std::atomic<int64_t> legs_active{0};             // SIP legs up or being set up: callers' and dialled targets'
  LatencyHistogram transfer_setup;                 // transfer requested -> target answered (completed ones)
  LatencyHistogram post_dial_delay;                // our INVITE to a target -> its first 18x
  LatencyHistogram call_setup;                     // a caller's INVITE -> our 200 OK to it
  LatencyHistogram transfer_bridge;                // transfer requested -> caller bridged to the target
  FrameLatencyHistogram caller_to_ai;              // caller's packet read -> its WebSocket frame written
  FrameLatencyHistogram ai_to_caller;              // media tick deadline -> the agent's audio frame sent
  LossHistogram rtp_loss;                          // per leg at its end: packets lost / expected
  JitterHistogram rtp_jitter;                      // per leg at its end: interarrival jitter
  std::atomic<uint64_t> sip_requests{0};
  // SIP responses by class (index 0 = 1xx ... 5 = 6xx), retransmissions included.
  std::array<std::atomic<uint64_t>, 6> sip_responses_sent{};
  std::array<std::atomic<uint64_t>, 6> sip_responses_received{};
  std::atomic<uint64_t> sip_unknown_source{0};      // new requests from sources no trunk lists (stateless 403)
  std::atomic<uint64_t> sip_dialog_rejected{0};     // in-dialog requests refused: no such dialog, wrong source
  std::atomic<uint64_t> sessions_expired{0};        // legs we ended with BYE: their RFC 4028 session timer ran out
  std::atomic<uint64_t> agent_audio_dropped{0};     // agent samples beyond the playout capacity
  std::atomic<uint64_t> media_ticks{0};
  std::atomic<uint64_t> media_overruns{0};
  std::atomic<int64_t> media_worst_lag_us{0};
  std::atomic<uint64_t> hep_sent{0};    // SIP trace packets sent to the Homer collector ([server] hep)
  std::atomic<uint64_t> hep_errors{0};  // SIP trace packets that could not be encoded or sent (dropped)
};

// The CDR writer's counters (one writer per process, server/cdr/cdr_writer.hpp): written by the
// writer thread and by shards whose record was dropped, read by GET /metrics.
struct CdrMetrics {
  std::atomic<uint64_t> written{0};  // call records committed
  std::atomic<uint64_t> dropped{0};  // call records lost: queue full, refused by the database, or unwritable at exit
  std::atomic<uint64_t> pending{0};  // call records waiting: queued, or in a batch waiting for a retry
  std::atomic<uint64_t> retries{0};  // writes the store could not take (each retried later)
  std::atomic<int> store_up{1};      // 0 while the last write failed and waits for a retry
};

// The webhook sender's counters (one per process, server/webhook/webhook_sender.hpp): written by its
// thread and by shards whose event pushed the oldest out of a full queue, read by GET /metrics.
struct WebhookMetrics {
  std::atomic<uint64_t> sent{0};     // events the receiver took (2xx)
  std::atomic<uint64_t> failed{0};   // events given up: refused (4xx), attempts spent, or unsent at exit
  std::atomic<uint64_t> dropped{0};  // events pushed out of a full queue before they were tried
  std::atomic<uint64_t> retries{0};  // attempts that failed and were tried again
  std::atomic<uint64_t> pending{0};  // events queued or being tried
};

}  // namespace warmline::server
