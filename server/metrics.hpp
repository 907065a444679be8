// Counters the shards update and GET /metrics reads (Prometheus text). Each shard owns one
// ShardMetrics and is its only writer; relaxed atomics make the reader's snapshot tear-free without
// ordering costs on the shard. Nothing here is on the per-packet path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace warmline::server {

inline constexpr size_t kTransferResults = 10;  // ai::TransferResult values

struct ShardMetrics {
  std::atomic<uint64_t> calls_started{0};
  std::atomic<uint64_t> calls_rejected{0};
  std::atomic<int64_t> calls_active{0};
  std::atomic<uint64_t> agent_failures{0};
  std::atomic<uint64_t> transfers_started{0};
  std::array<std::atomic<uint64_t>, kTransferResults> transfers_by_result{};
  std::atomic<uint64_t> sip_requests{0};
  std::atomic<uint64_t> sip_dialog_rejected{0};     // in-dialog requests refused: no such dialog, wrong source
  std::atomic<uint64_t> agent_audio_dropped{0};     // agent samples beyond the playout capacity
  std::atomic<uint64_t> media_ticks{0};
  std::atomic<uint64_t> media_overruns{0};
  std::atomic<int64_t> media_worst_lag_us{0};
};

// The CDR writer's counters (one writer per process, server/cdr/cdr_writer.hpp): written by the
// writer thread and by shards whose record was dropped, read by GET /metrics.
struct CdrMetrics {
  std::atomic<uint64_t> written{0};  // call records committed
  std::atomic<uint64_t> dropped{0};  // call records lost: queue full, or a failed write
};

}  // namespace warmline::server
