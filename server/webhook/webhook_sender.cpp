#include "server/webhook/webhook_sender.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace warmline::server {

WebhookSender::WebhookSender(WebhookPost post, WebhookMetrics& metrics, WebhookSenderOptions options)
    : post_(std::move(post)), metrics_(metrics), options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

WebhookSender::~WebhookSender() { stop(); }

void WebhookSender::submit(WebhookEvent&& event) {
  bool wake = false, log_overflow = false, stopped = false, dropped = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      stopped = true;
    } else {
      if (queue_.size() >= options_.queue_capacity) {
        queue_.pop_front();  // the oldest waiting event; the one being tried is not in the queue
        dropped = true;
        log_overflow = !overflowing_;
        overflowing_ = true;
      }
      queue_.push_back(std::move(event));
      wake = queue_.size() == 1;  // the sender sleeps only on an empty queue
    }
  }
  if (wake) wake_.notify_one();
  if (stopped) {
    metrics_.dropped.fetch_add(1, std::memory_order_relaxed);
    return spdlog::warn("webhooks: event {} came after the sender stopped; it is dropped", event.id);
  }
  if (dropped) metrics_.dropped.fetch_add(1, std::memory_order_relaxed);
  else metrics_.pending.fetch_add(1, std::memory_order_relaxed);
  if (log_overflow)
    spdlog::error("webhooks: {} events wait (the receiver is down or too slow); the oldest are dropped until the "
                  "queue drains, counted in warmline_webhooks_dropped_total", options_.queue_capacity);
}

void WebhookSender::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) give_up_ = std::chrono::steady_clock::now() + options_.stop_retry;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool WebhookSender::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_; });
}

// The sender thread: sleeps until an event is queued, takes the oldest, tries it to the end (outside
// the lock), and goes round again. On stop, what was queued is still tried until stop_retry runs out.
void WebhookSender::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is sent
    if (stopping_ && std::chrono::steady_clock::now() >= give_up_) {
      spdlog::error("webhooks: the receiver still does not take events at exit; {} event(s) are lost", queue_.size());
      metrics_.failed.fetch_add(queue_.size(), std::memory_order_relaxed);
      metrics_.pending.fetch_sub(queue_.size(), std::memory_order_relaxed);
      queue_.clear();
      idle_.notify_all();
      return;
    }
    WebhookEvent event = std::move(queue_.front());
    queue_.pop_front();
    if (queue_.empty()) overflowing_ = false;
    busy_ = true;
    lock.unlock();
    deliver(event);
    lock.lock();
    busy_ = false;
    metrics_.pending.fetch_sub(1, std::memory_order_relaxed);
    if (queue_.empty()) idle_.notify_all();
  }
}

void WebhookSender::deliver(const WebhookEvent& event) {
  for (unsigned attempt = 1;; ++attempt) {
    // Signed per attempt: the timestamp is the attempt's, so a receiver may refuse old replays.
    const std::string timestamp = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    std::string error;
    const int status = post_(event.body, timestamp, webhook_signature(options_.secret, timestamp, event.body), error);
    const WebhookVerdict verdict = webhook_verdict(status);
    if (verdict == WebhookVerdict::kDelivered) {
      metrics_.sent.fetch_add(1, std::memory_order_relaxed);
      if (attempt > 1) spdlog::info("webhooks: event {} delivered at attempt {}", event.id, attempt);
      return;
    }
    const std::string what = status ? "HTTP " + std::to_string(status) : error;
    const auto delay = verdict == WebhookVerdict::kRetry ? webhook_retry_delay(options_.policy, attempt) : std::nullopt;
    std::unique_lock lock(mutex_);
    const bool out_of_time = stopping_ && std::chrono::steady_clock::now() >= give_up_;
    if (!delay || out_of_time) {
      metrics_.failed.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("webhooks: event {} ({}) given up after {} attempt(s): {}", event.id, event.call_id, attempt, what);
      return;
    }
    metrics_.retries.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("webhooks: event {} attempt {} failed ({}); next in {} ms", event.id, attempt, what, delay->count());
    // While stopping, no wait is longer than first_retry: stop() bounds the whole exit.
    const auto wait = stopping_ ? std::min(*delay, options_.policy.first_retry) : *delay;
    wake_.wait_for(lock, wait, [this, stopping = stopping_] { return stopping_ != stopping; });
  }
}

}  // namespace warmline::server
