// The webhook sender's queue and retries (webhook_sender.hpp) with a scripted receiver in place of
// HTTP: order, retry until delivered, give-up, drop-oldest, and the signature each attempt carries.
// Backoff is 1 ms here; waits are bounded (wait_idle), and nothing asserts on time.
#include "server/webhook/webhook_sender.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

namespace warmline::server {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

// Answers each POST with the next scripted status (200 when the script is out), and logs what came.
struct ScriptedReceiver {
  std::mutex mutex;
  std::deque<int> statuses;
  std::vector<std::string> bodies;  // every attempt's body, in order
  bool signatures_ok = true;
  // Blocks the first POST until release() (to fill the queue behind it).
  bool hold_first = false;
  std::condition_variable cv;
  bool entered = false, released = false;

  WebhookPost post(std::string secret) {
    return [this, secret](const std::string& body, const std::string& timestamp, const std::string& signature,
                          std::string& error) {
      std::unique_lock lock(mutex);
      if (hold_first && !entered) {
        entered = true;
        cv.notify_all();
        cv.wait_for(lock, 10s, [this] { return released; });
      }
      bodies.push_back(body);
      if (signature != webhook_signature(secret, timestamp, body)) signatures_ok = false;
      if (statuses.empty()) return 200;
      const int status = statuses.front();
      statuses.pop_front();
      if (status == 0) error = "connection refused";
      return status;
    };
  }
  bool wait_entered() {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 10s, [this] { return entered; });
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      released = true;
    }
    cv.notify_all();
  }
  std::vector<std::string> log() {
    std::lock_guard lock(mutex);
    return bodies;
  }
};

WebhookEvent event(std::string body) { return WebhookEvent{.id = body, .call_id = "c0-a", .sequence = 1, .body = body}; }

WebhookSenderOptions fast(size_t capacity = 100, unsigned attempts = 5) {
  return WebhookSenderOptions{.secret = "k", .events = {true, true, true, true}, .queue_capacity = capacity,
                              .policy = {.first_retry = 1ms, .max_retry = 2ms, .max_attempts = attempts},
                              .stop_retry = 5000ms};
}

TEST(WebhookSenderTest, EventsAreSentInOrderAndSigned) {
  ScriptedReceiver r;
  WebhookMetrics m;
  WebhookSender sender(r.post("k"), m, fast());
  for (auto b : {"a", "b", "c"}) sender.submit(event(b));
  ASSERT_TRUE(sender.wait_idle(10s));
  EXPECT_THAT(r.log(), ElementsAre("a", "b", "c"));
  EXPECT_TRUE(r.signatures_ok);
  EXPECT_EQ(m.sent.load(), 3u);
  EXPECT_EQ(m.failed.load(), 0u);
  EXPECT_EQ(m.pending.load(), 0u);
}

TEST(WebhookSenderTest, AFailingEventIsRetriedUntilDeliveredAndHoldsBackTheNextOnes) {
  ScriptedReceiver r;
  r.statuses = {503, 0, 500};  // three failures, then 200
  WebhookMetrics m;
  WebhookSender sender(r.post("k"), m, fast());
  sender.submit(event("a"));
  sender.submit(event("b"));
  ASSERT_TRUE(sender.wait_idle(10s));
  EXPECT_THAT(r.log(), ElementsAre("a", "a", "a", "a", "b"));
  EXPECT_EQ(m.sent.load(), 2u);
  EXPECT_EQ(m.retries.load(), 3u);
  EXPECT_EQ(m.failed.load(), 0u);
}

TEST(WebhookSenderTest, AClientErrorIsGivenUpAtOnceAndTheNextEventGoesOn) {
  ScriptedReceiver r;
  r.statuses = {401};
  WebhookMetrics m;
  WebhookSender sender(r.post("k"), m, fast());
  sender.submit(event("a"));
  sender.submit(event("b"));
  ASSERT_TRUE(sender.wait_idle(10s));
  EXPECT_THAT(r.log(), ElementsAre("a", "b"));
  EXPECT_EQ(m.failed.load(), 1u);
  EXPECT_EQ(m.sent.load(), 1u);
  EXPECT_EQ(m.retries.load(), 0u);
}

TEST(WebhookSenderTest, AnEventIsGivenUpWhenItsAttemptsAreSpent) {
  ScriptedReceiver r;
  r.statuses = {503, 503, 503};
  WebhookMetrics m;
  WebhookSender sender(r.post("k"), m, fast(100, 3));
  sender.submit(event("a"));
  sender.submit(event("b"));
  ASSERT_TRUE(sender.wait_idle(10s));
  EXPECT_THAT(r.log(), ElementsAre("a", "a", "a", "b"));
  EXPECT_EQ(m.failed.load(), 1u);
  EXPECT_EQ(m.sent.load(), 1u);
}

TEST(WebhookSenderTest, AFullQueueDropsItsOldestEventAndCountsIt) {
  ScriptedReceiver r;
  r.hold_first = true;  // "a" is being sent while the others queue behind it
  WebhookMetrics m;
  WebhookSender sender(r.post("k"), m, fast(2));
  sender.submit(event("a"));
  ASSERT_TRUE(r.wait_entered());  // "a" has left the queue
  for (auto b : {"b", "c", "d"}) sender.submit(event(b));  // capacity 2: "d" pushes "b" out
  EXPECT_EQ(m.dropped.load(), 1u);
  EXPECT_EQ(m.pending.load(), 3u);  // "a" being sent, "c" and "d" waiting
  r.release();
  ASSERT_TRUE(sender.wait_idle(10s));
  EXPECT_THAT(r.log(), ElementsAre("a", "c", "d"));
  EXPECT_EQ(m.sent.load(), 3u);
  EXPECT_EQ(m.pending.load(), 0u);
}

TEST(WebhookSenderTest, StopSendsWhatIsQueuedAndLaterEventsAreDropped) {
  ScriptedReceiver r;
  WebhookMetrics m;
  WebhookSender sender(r.post("k"), m, fast());
  for (auto b : {"a", "b"}) sender.submit(event(b));
  sender.stop();
  EXPECT_THAT(r.log(), ElementsAre("a", "b"));
  sender.submit(event("late"));
  EXPECT_EQ(m.dropped.load(), 1u);
  EXPECT_EQ(m.sent.load(), 2u);
}

TEST(WebhookSenderTest, OnlyTheConfiguredEventTypesAreWanted) {
  ScriptedReceiver r;
  WebhookMetrics m;
  WebhookSenderOptions o = fast();
  o.events = {false, false, false, true};
  WebhookSender sender(r.post("k"), m, o);
  EXPECT_FALSE(sender.wants(WebhookEventType::kCallStarted));
  EXPECT_FALSE(sender.wants(WebhookEventType::kTransferUpdated));
  EXPECT_TRUE(sender.wants(WebhookEventType::kCallEnded));
}

}  // namespace
}  // namespace warmline::server
