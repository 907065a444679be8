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

// A Prometheus histogram with fixed buckets (seconds), written by one shard, summed by the reader.
struct LatencyHistogram {
  static constexpr std::array<double, 11> kBounds = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets{};  // the last one: above every bound
  std::atomic<uint64_t> sum_us{0};
  std::atomic<uint64_t> count{0};

  void observe(std::chrono::microseconds d) {
    const double s = static_cast<double>(d.count()) / 1e6;
    size_t i = 0;
    while (i < kBounds.size() && s > kBounds[i]) ++i;
    buckets[i].fetch_add(1, std::memory_order_relaxed);
    sum_us.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, d.count())), std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
  }
};

struct ShardMetrics {
  std::atomic<uint64_t> calls_started{0};
  std::atomic<uint64_t> calls_rejected{0};
  std::atomic<int64_t> calls_active{0};
  std::atomic<uint64_t> agent_failures{0};
  std::atomic<uint64_t> transfers_started{0};
  std::array<std::atomic<uint64_t>, kTransferResults> transfers_by_result{};
  // Cold transfers ended, by the strategy of their last attempt and the result (a success rate per
  // strategy can be graphed). Modes other than cold come with warm transfers.
  std::array<std::array<std::atomic<uint64_t>, kTransferResults>, kTransferStrategies> transfers_by_strategy{};
  std::atomic<int64_t> legs_active{0};             // SIP legs up or being set up: callers' and dialled targets'
  LatencyHistogram transfer_setup;                 // transfer requested -> target answered (completed ones)
  LatencyHistogram post_dial_delay;                // our INVITE to a target -> its first 18x
  std::atomic<uint64_t> sip_requests{0};
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

}  // namespace warmline::server
