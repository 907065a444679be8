// The CDR writer (DESIGN.md "Records"): shards hand it one record per ended call; one thread of its
// own writes whatever has queued up since its last write as one batch (one transaction) to the store.
//
// The hand-off never blocks a shard on I/O: submit() takes a mutex only to append to a vector, which
// the writer thread swaps out in one step before it writes; the lock is never held during the write.
// This happens once per call end, never per packet. The queue is bounded: a record beyond
// `queue_capacity` waiting records is dropped, counted (warmline_cdr_dropped_total) and logged once
// per overflow, instead of growing memory without limit while the disk is stuck.
//
// When the store cannot take a batch at all (the database is down, the disk is full), the writer keeps
// the batch and tries again after 1 s, 2 s, 4 s ... up to 30 s, adding what was queued meanwhile; calls
// go on, records wait (warmline_cdr_pending, warmline_cdr_store_up = 0), and the queue bound applies
// to everything waiting.
//
// stop() (and the destructor) writes everything still queued, then ends the thread; if the store is
// failing it keeps trying for `stop_retry` and then drops (and counts) what could not be written.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "server/cdr/cdr_store.hpp"
#include "server/cdr/record_sink.hpp"
#include "server/metrics.hpp"

namespace warmline::server {

struct CdrWriterOptions {
  size_t queue_capacity = 10000;  // records waiting to be written; beyond it they are dropped
  std::chrono::milliseconds first_retry{1000};  // after a failed write; doubles each time
  std::chrono::milliseconds max_retry{30000};
  std::chrono::milliseconds stop_retry{5000};  // how long stop() keeps retrying a failing store
};

class CdrWriter final : public RecordSink {
 public:
  // Starts the writer thread, which owns `store` from then on. `metrics` must outlive the writer.
  CdrWriter(std::unique_ptr<CdrStore> store, CdrMetrics& metrics, CdrWriterOptions options = {});
  ~CdrWriter() override;
  CdrWriter(const CdrWriter&) = delete;
  CdrWriter& operator=(const CdrWriter&) = delete;

  // Any thread. Queues the record, or drops and counts it when the queue is full or the writer stopped.
  void submit(CallRecord&& record) override;
  // Writes what is queued, then joins the thread. Idempotent; records submitted afterwards are dropped.
  void stop();

 private:
  void run();
  // Counts a write's outcome; false when `batch` must be kept for a retry. Called with the lock held.
  bool settle(const StoreResult& result, std::vector<CallRecord>& batch);

  std::unique_ptr<CdrStore> store_;
  CdrMetrics& metrics_;
  const CdrWriterOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<CallRecord> queue_;  // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  bool overflowing_ = false;       // guarded by mutex_: a drop was logged since the queue last emptied
  size_t held_ = 0;                // guarded by mutex_: records in the batch that waits for a retry
  std::chrono::steady_clock::time_point give_up_{};  // guarded by mutex_: set by stop()
  std::thread thread_;
};

}  // namespace warmline::server
