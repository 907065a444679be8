#include "server/cdr/cdr_writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

namespace warmline::server {

CdrWriter::CdrWriter(std::unique_ptr<CdrStore> store, CdrMetrics& metrics, CdrWriterOptions options)
    : store_(std::move(store)), metrics_(metrics), options_(options) {
  thread_ = std::thread([this] { run(); });
}

CdrWriter::~CdrWriter() { stop(); }

void CdrWriter::submit(CallRecord&& record) {
  bool queued = false, wake = false, log_overflow = false, stopped = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      stopped = true;
    } else if (queue_.size() + held_ >= options_.queue_capacity) {
      log_overflow = !overflowing_;
      overflowing_ = true;
    } else {
      queue_.push_back(std::move(record));
      metrics_.pending.fetch_add(1, std::memory_order_relaxed);
      queued = true;
      wake = queue_.size() == 1;  // the writer sleeps only on an empty queue
    }
  }
  if (wake) wake_.notify_one();
  if (queued) return;
  metrics_.dropped.fetch_add(1, std::memory_order_relaxed);
  if (log_overflow)
    spdlog::error("call records: {} records wait to be written (the disk is too slow or stuck); records are "
                  "dropped until the queue drains, counted in warmline_cdr_dropped_total", options_.queue_capacity);
  if (stopped) spdlog::warn("call records: call {} ended after the writer stopped; its record is dropped", record.id);
}

void CdrWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) give_up_ = std::chrono::steady_clock::now() + options_.stop_retry;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// The writer thread: sleeps until records are queued, takes all of them at once, writes them as one
// batch outside the lock, and goes round again; on stop, what was queued before stop() is written. A
// batch the store could not take stays in hand, grows by what queues meanwhile, and is tried again
// after a backoff (or at once when stop() is called).
void CdrWriter::run() {
  std::vector<CallRecord> batch;
  auto backoff = options_.first_retry;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (batch.empty()) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      batch.swap(queue_);          // queue_ takes the (cleared) buffer of the last batch
    } else {
      std::move(queue_.begin(), queue_.end(), std::back_inserter(batch));
      queue_.clear();
    }
    overflowing_ = false;
    lock.unlock();
    const StoreResult result = store_->write(batch);
    lock.lock();
    if (settle(result, batch)) {
      backoff = options_.first_retry;
      continue;
    }
    if (stopping_ && std::chrono::steady_clock::now() >= give_up_) {
      spdlog::error("call records: the database still cannot be written at exit; {} record(s) are lost",
                    batch.size() + queue_.size());
      metrics_.dropped.fetch_add(batch.size() + queue_.size(), std::memory_order_relaxed);
      metrics_.pending.fetch_sub(batch.size() + queue_.size(), std::memory_order_relaxed);
      held_ = 0;
      queue_.clear();
      return;
    }
    const auto wait = stopping_ ? std::min<std::chrono::milliseconds>(backoff, options_.first_retry) : backoff;
    wake_.wait_for(lock, wait, [this, stopping = stopping_] { return stopping_ != stopping; });
    backoff = std::min(backoff * 2, options_.max_retry);
  }
}

bool CdrWriter::settle(const StoreResult& result, std::vector<CallRecord>& batch) {
  if (result.retry) {
    metrics_.retries.fetch_add(1, std::memory_order_relaxed);
    held_ = batch.size();
    if (metrics_.store_up.exchange(0, std::memory_order_relaxed) == 1)
      spdlog::error("call records: the database cannot take writes; {} record(s) are held and retried "
                    "(warmline_cdr_pending); calls go on", batch.size());
    return false;
  }
  if (metrics_.store_up.exchange(1, std::memory_order_relaxed) == 0)
    spdlog::info("call records: the database takes writes again; {} held record(s) written", result.written);
  metrics_.written.fetch_add(result.written, std::memory_order_relaxed);
  metrics_.dropped.fetch_add(batch.size() - result.written, std::memory_order_relaxed);
  metrics_.pending.fetch_sub(batch.size(), std::memory_order_relaxed);
  held_ = 0;
  batch.clear();
  return true;
}

}  // namespace warmline::server
