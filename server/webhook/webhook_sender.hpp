// The webhook sender (docs/webhooks.md): shards hand it events; one thread of its own POSTs them, one
// at a time, in the order they were queued, and retries a failed one with exponential backoff before
// it moves on. The shape is the CDR writer's (server/cdr/cdr_writer.hpp): the hand-off takes a mutex
// only to append to a queue, never during I/O, once per call event, never per packet.
//
// Order: one queue for all calls, delivered strictly in order. An event being retried holds back the
// events behind it (of its call and of every other call) until it is delivered or given up, so a
// receiver always sees a call's events in sequence order, with gaps only where an event was given up
// or dropped (the per-call `sequence` shows them).
//
// Bounds: at most `queue_capacity` events wait; a new event beyond it pushes the oldest waiting one
// out (warmline_webhooks_dropped_total, logged once per overflow): fresh events matter more than old
// ones while the receiver is down. Each event is tried at most policy.max_attempts times.
//
// stop() (and the destructor) keeps sending what is queued for at most `stop_retry` (no backoff
// waits longer than first_retry then), then gives up (and counts) the rest and ends the thread.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "server/metrics.hpp"
#include "server/webhook/webhook_sink.hpp"

namespace warmline::server {

// One POST of `body` with the two headers; returns the HTTP status, or 0 with `error` set when no
// answer came (connect error, TLS failure, timeout). Runs on the sender's thread and may block it up
// to its own timeout (webhook_http.hpp).
using WebhookPost = std::function<int(const std::string& body, const std::string& timestamp,
                                      const std::string& signature, std::string& error)>;

struct WebhookSenderOptions {
  std::string secret;
  std::array<bool, kWebhookEventTypes> events{true, true, true, true};  // which types are sent
  size_t queue_capacity = 10000;
  WebhookRetryPolicy policy{};
  std::chrono::milliseconds stop_retry{5000};
};

class WebhookSender final : public WebhookSink {
 public:
  // Starts the sender thread. `metrics` must outlive the sender.
  WebhookSender(WebhookPost post, WebhookMetrics& metrics, WebhookSenderOptions options);
  ~WebhookSender() override;
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  bool wants(WebhookEventType type) const override { return options_.events[static_cast<size_t>(type)]; }
  // Any thread. Queues the event (pushing out the oldest when full); dropped after stop().
  void submit(WebhookEvent&& event) override;
  // Sends what is queued (bounded by stop_retry), then joins the thread. Idempotent.
  void stop();
  // Waits until nothing is queued or being tried, at most `timeout`; true if so. For tests.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  void run();
  // Tries `event` until it is delivered, given up, or stop() runs out of time. Called without the lock.
  void deliver(const WebhookEvent& event);

  WebhookPost post_;
  WebhookMetrics& metrics_;
  const WebhookSenderOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<WebhookEvent> queue_;  // guarded by mutex_
  bool busy_ = false;               // guarded by mutex_: an event is being tried
  bool stopping_ = false;           // guarded by mutex_
  bool overflowing_ = false;        // guarded by mutex_: a drop was logged since the queue last emptied
  std::chrono::steady_clock::time_point give_up_{};  // guarded by mutex_: set by stop()
  std::thread thread_;
};

}  // namespace warmline::server
