// Webhook events (docs/webhooks.md): what a shard hands the webhook sender, the JSON document around
// an event's data, its signature, and the retry policy. Pure functions, no I/O, no clock: the sender
// (webhook_sender.hpp) and the unit tests call them.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/cdr/call_record.hpp"

namespace warmline::server {

enum class WebhookEventType { kCallStarted, kCallAnswered, kTransferUpdated, kCallEnded };
inline constexpr size_t kWebhookEventTypes = 4;
inline constexpr std::array<std::string_view, kWebhookEventTypes> kWebhookEventNames = {
    "call.started", "call.answered", "transfer.updated", "call.ended"};

std::string_view to_string(WebhookEventType type);
std::optional<WebhookEventType> webhook_event_type(std::string_view name);

// One event, ready to POST. Built on the call's shard; the sender only signs and sends `body`.
struct WebhookEvent {
  std::string id;        // "<call id>.<sequence>": unique, stable over retries (receivers de-duplicate by it)
  std::string call_id;
  uint64_t sequence = 0;  // per call, from 1, in the order the call produced its events
  std::string body;       // the JSON document
};

// {"id":..,"type":..,"timestamp":"2026-...Z","call_id":..,"sequence":n,"data":<data_json>}.
// `data_json` is a JSON object already written (JsonWriter).
WebhookEvent make_webhook_event(WebhookEventType type, std::string_view call_id, uint64_t sequence, RecordTime at,
                                std::string_view data_json);

// The X-Warmline-Signature value: "sha256=" and the lowercase hex HMAC-SHA256, keyed with `secret`, of
// "<timestamp>.<body>" (timestamp: the X-Warmline-Timestamp value, Unix seconds as decimal text).
std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

// What one POST's outcome means. `status` 0: no HTTP answer (connect error, TLS error, timeout).
// 2xx delivered; 0, 408, 429 and 5xx retried; any other status (4xx: the receiver refuses this
// event, e.g. a bad signature) is given up at once, since sending it again cannot change the answer.
enum class WebhookVerdict { kDelivered, kRetry, kGiveUp };
WebhookVerdict webhook_verdict(int status);

struct WebhookRetryPolicy {
  std::chrono::milliseconds first_retry{1000};  // after the first failed attempt; doubles each time
  std::chrono::milliseconds max_retry{30000};
  unsigned max_attempts = 8;  // attempts in all, the first included
};

// The wait before attempt `failed_attempts + 1`, or nullopt when the event is given up (the policy's
// attempts are spent). `failed_attempts` >= 1.
std::optional<std::chrono::milliseconds> webhook_retry_delay(const WebhookRetryPolicy& policy, unsigned failed_attempts);

}  // namespace warmline::server
