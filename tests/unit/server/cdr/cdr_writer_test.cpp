// The CDR writer: records handed over from other threads reach the store in batches written by the
// writer's own thread; stop() writes what is queued; a full queue drops and counts instead of blocking.
// The writer's progress is observed through a gate in front of the store (the test decides when a
// write may go on), never through sleeps.
#include "server/cdr/cdr_writer.hpp"

#include <gmock/gmock.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cdr_test_util.hpp"
#include "server/cdr/sqlite_cdr_store.hpp"

namespace warmline::server {
namespace {

using cdr_test::Db;
using cdr_test::Row;
using cdr_test::sample_record;
using cdr_test::TempDir;
using ::testing::ElementsAre;

constexpr auto kWait = std::chrono::seconds(10);  // a bound on every wait, far above what any step takes

// Stands in front of a store (or of nothing: every record counts as written, or none when `fail`).
// Each write() notes its batch and the thread it ran on, and waits while the gate is closed. The next
// `unavailable` writes answer "retry" (the database is down) without reaching the store behind.
class GatedStore final : public CdrStore {
 public:
  explicit GatedStore(std::unique_ptr<CdrStore> inner = nullptr, bool open = true)
      : inner_(std::move(inner)), open_(open) {}

  StoreResult write(const std::vector<CallRecord>& batch) override {
    {
      std::unique_lock lock(mutex_);
      batches_.push_back(batch.size());
      threads_.push_back(std::this_thread::get_id());
      changed_.notify_all();
      if (!changed_.wait_for(lock, kWait, [this] { return open_; })) ADD_FAILURE() << "the gate was never opened";
    }
    if (unavailable_ > 0) {
      --unavailable_;
      return StoreResult{0, 0, true};
    }
    if (inner_) return inner_->write(batch);
    return fail_ ? StoreResult{0, batch.size(), false} : StoreResult{batch.size(), 0, false};
  }

  // Waits until `n` writes have started (false after kWait).
  bool wait_for_writes(size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] { return batches_.size() >= n; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  void fail_writes() { fail_ = true; }
  void unavailable_for(int writes) { unavailable_ = writes; }
  // Read after the writer stopped (its thread has been joined).
  const std::vector<size_t>& batches() const { return batches_; }
  const std::vector<std::thread::id>& threads() const { return threads_; }

 private:
  std::unique_ptr<CdrStore> inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_;
  bool fail_ = false;
  std::atomic<int> unavailable_{0};
  std::vector<size_t> batches_;
  std::vector<std::thread::id> threads_;
};

std::unique_ptr<CdrStore> sqlite_store(const std::string& path) {
  std::string error;
  auto store = SqliteCdrStore::open(path, error);
  EXPECT_TRUE(store) << error;
  return store;
}

TEST(CdrWriterTest, StopWritesEverythingQueuedOnTheWritersOwnThread) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  CdrMetrics metrics;
  auto gate = std::make_unique<GatedStore>(sqlite_store(path));
  GatedStore* g = gate.get();
  CdrWriter writer(std::move(gate), metrics);
  for (int i = 0; i < 100; ++i) writer.submit(sample_record("c0-" + std::to_string(i)));
  writer.stop();

  EXPECT_EQ(metrics.written.load(), 100u);
  EXPECT_EQ(metrics.dropped.load(), 0u);
  for (auto id : g->threads()) EXPECT_NE(id, std::this_thread::get_id()) << "a write ran on the submitting thread";
  Db db(path);
  EXPECT_EQ(db.value("SELECT count(*) FROM calls"), "100");
  EXPECT_EQ(db.value("SELECT count(*) FROM legs"), "100");
}

TEST(CdrWriterTest, WhatQueuesDuringAWriteGoesOutAsOneBatch) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  CdrMetrics metrics;
  auto gate = std::make_unique<GatedStore>(sqlite_store(path), /*open=*/false);
  GatedStore* g = gate.get();
  CdrWriter writer(std::move(gate), metrics);

  writer.submit(sample_record("c0-first"));
  ASSERT_TRUE(g->wait_for_writes(1)) << "the writer did not take the first record";
  for (int i = 0; i < 50; ++i) writer.submit(sample_record("c1-" + std::to_string(i), i % 2 == 0));
  g->open();
  writer.stop();

  EXPECT_THAT(g->batches(), ElementsAre(1u, 50u));
  EXPECT_EQ(metrics.written.load(), 51u);
  Db db(path);
  EXPECT_EQ(db.value("SELECT count(*) FROM calls"), "51");
  EXPECT_EQ(db.value("SELECT count(*) FROM transfers"), "25");
}

TEST(CdrWriterTest, AFullQueueDropsAndCountsWithoutBlockingTheSubmitter) {
  CdrMetrics metrics;
  auto gate = std::make_unique<GatedStore>(nullptr, /*open=*/false);
  GatedStore* g = gate.get();
  CdrWriter writer(std::move(gate), metrics, CdrWriterOptions{.queue_capacity = 3});

  writer.submit(sample_record("c0-in-flight"));
  ASSERT_TRUE(g->wait_for_writes(1));
  // The store is stuck: three records wait, the next five are dropped. Every submit returns at once;
  // one that blocked would hang here with the gate still closed.
  for (int i = 0; i < 8; ++i) writer.submit(sample_record("c0-" + std::to_string(i)));
  EXPECT_EQ(metrics.dropped.load(), 5u);
  EXPECT_EQ(metrics.written.load(), 0u);

  g->open();
  writer.stop();
  EXPECT_THAT(g->batches(), ElementsAre(1u, 3u));
  EXPECT_EQ(metrics.written.load(), 4u);
  EXPECT_EQ(metrics.dropped.load(), 5u);
}

TEST(CdrWriterTest, AQueueThatDrainedTakesRecordsAgain) {
  CdrMetrics metrics;
  auto gate = std::make_unique<GatedStore>(nullptr, /*open=*/false);
  GatedStore* g = gate.get();
  CdrWriter writer(std::move(gate), metrics, CdrWriterOptions{.queue_capacity = 1});
  writer.submit(sample_record("c0-a"));
  ASSERT_TRUE(g->wait_for_writes(1));
  writer.submit(sample_record("c0-b"));  // queued
  writer.submit(sample_record("c0-c"));  // dropped
  g->open();
  ASSERT_TRUE(g->wait_for_writes(2));    // the writer took c0-b: the queue is empty again
  writer.submit(sample_record("c0-d"));
  writer.stop();
  EXPECT_EQ(metrics.written.load(), 3u);
  EXPECT_EQ(metrics.dropped.load(), 1u);
}

TEST(CdrWriterTest, RecordsOfAFailedWriteAreCountedAsDropped) {
  CdrMetrics metrics;
  auto gate = std::make_unique<GatedStore>();
  gate->fail_writes();
  CdrWriter writer(std::move(gate), metrics);
  writer.submit(sample_record("c0-a"));
  writer.submit(sample_record("c0-b"));
  writer.stop();
  EXPECT_EQ(metrics.written.load(), 0u);
  EXPECT_EQ(metrics.dropped.load(), 2u);
}

TEST(CdrWriterTest, AnUnavailableStoreKeepsTheBatchAndRetriesItWithWhatQueuedMeanwhile) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  CdrMetrics metrics;
  auto gate = std::make_unique<GatedStore>(sqlite_store(path), /*open=*/false);
  GatedStore* g = gate.get();
  g->unavailable_for(2);
  CdrWriter writer(std::move(gate), metrics, CdrWriterOptions{.first_retry = std::chrono::milliseconds(1)});

  writer.submit(sample_record("c0-a"));
  ASSERT_TRUE(g->wait_for_writes(1));
  writer.submit(sample_record("c0-b"));
  writer.submit(sample_record("c0-c"));
  EXPECT_EQ(metrics.pending.load(), 3u);
  g->open();
  ASSERT_TRUE(g->wait_for_writes(3)) << "the held batch was not retried";
  writer.stop();

  // Down twice (the first try of [a], then [a, b, c]), then [a, b, c] is committed once.
  EXPECT_THAT(g->batches(), ElementsAre(1u, 3u, 3u));
  EXPECT_EQ(metrics.written.load(), 3u);
  EXPECT_EQ(metrics.dropped.load(), 0u);
  EXPECT_EQ(metrics.retries.load(), 2u);
  EXPECT_EQ(metrics.pending.load(), 0u);
  EXPECT_EQ(metrics.store_up.load(), 1);
  Db db(path);
  EXPECT_EQ(db.value("SELECT count(DISTINCT id) FROM calls"), "3");
}

TEST(CdrWriterTest, StopGivesUpOnAStoreThatStaysDownAndCountsTheLoss) {
  CdrMetrics metrics;
  auto gate = std::make_unique<GatedStore>();
  GatedStore* g = gate.get();
  g->unavailable_for(1000000);
  CdrWriter writer(std::move(gate), metrics,
                   CdrWriterOptions{.first_retry = std::chrono::milliseconds(1),
                                    .stop_retry = std::chrono::milliseconds(20)});
  writer.submit(sample_record("c0-a"));
  writer.submit(sample_record("c0-b"));
  ASSERT_TRUE(g->wait_for_writes(2));
  EXPECT_EQ(metrics.store_up.load(), 0);
  writer.stop();  // returns: the store stays down past stop_retry
  EXPECT_EQ(metrics.written.load(), 0u);
  EXPECT_EQ(metrics.dropped.load(), 2u);
  EXPECT_EQ(metrics.pending.load(), 0u);
}

TEST(CdrWriterTest, ARecordAfterStopIsDroppedAndCounted) {
  CdrMetrics metrics;
  CdrWriter writer(std::make_unique<GatedStore>(), metrics);
  writer.stop();
  writer.stop();  // idempotent
  writer.submit(sample_record("c0-late"));
  EXPECT_EQ(metrics.dropped.load(), 1u);
  EXPECT_EQ(metrics.written.load(), 0u);
}

TEST(CdrWriterTest, ShardThreadsSubmitConcurrently) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  CdrMetrics metrics;
  {
    CdrWriter writer(sqlite_store(path), metrics);
    std::vector<std::thread> shards;
    for (int s = 0; s < 4; ++s)
      shards.emplace_back([&writer, s] {
        for (int i = 0; i < 50; ++i) writer.submit(sample_record("c" + std::to_string(s) + "-" + std::to_string(i)));
      });
    for (auto& t : shards) t.join();
  }  // the destructor stops the writer: everything queued is written
  EXPECT_EQ(metrics.written.load(), 200u);
  Db db(path);
  EXPECT_EQ(db.value("SELECT count(DISTINCT id) FROM calls"), "200");
}

}  // namespace
}  // namespace warmline::server
