#include "server/cdr/cdr_writer.hpp"

#include <spdlog/spdlog.h>

namespace warmline::server {

CdrWriter::CdrWriter(std::unique_ptr<CdrStore> store, CdrMetrics& metrics, CdrWriterOptions options)
    : store_(std::move(store)), metrics_(metrics), capacity_(options.queue_capacity) {
  thread_ = std::thread([this] { run(); });
}

CdrWriter::~CdrWriter() { stop(); }

void CdrWriter::submit(CallRecord&& record) {
  bool queued = false, wake = false, log_overflow = false, stopped = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      stopped = true;
    } else if (queue_.size() >= capacity_) {
      log_overflow = !overflowing_;
      overflowing_ = true;
    } else {
      queue_.push_back(std::move(record));
      queued = true;
      wake = queue_.size() == 1;  // the writer sleeps only on an empty queue
    }
  }
  if (wake) wake_.notify_one();
  if (queued) return;
  metrics_.dropped.fetch_add(1, std::memory_order_relaxed);
  if (log_overflow)
    spdlog::error("call records: {} records wait to be written (the disk is too slow or stuck); records are "
                  "dropped until the queue drains, counted in warmline_cdr_dropped_total", capacity_);
  if (stopped) spdlog::warn("call records: call {} ended after the writer stopped; its record is dropped", record.id);
}

void CdrWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// The writer thread: sleeps until records are queued, takes all of them at once, writes them as one
// batch outside the lock, and goes round again; on stop, what was queued before stop() is written.
void CdrWriter::run() {
  std::vector<CallRecord> batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is written
    batch.swap(queue_);          // queue_ takes the (cleared) buffer of the last batch
    overflowing_ = false;
    lock.unlock();
    const size_t written = store_->write(batch);
    metrics_.written.fetch_add(written, std::memory_order_relaxed);
    metrics_.dropped.fetch_add(batch.size() - written, std::memory_order_relaxed);
    batch.clear();
    lock.lock();
  }
}

}  // namespace warmline::server
