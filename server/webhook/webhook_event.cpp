#include "server/webhook/webhook_event.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include <fmt/format.h>

#include "server/json_writer.hpp"

namespace warmline::server {

std::string_view to_string(WebhookEventType type) { return kWebhookEventNames[static_cast<size_t>(type)]; }

std::optional<WebhookEventType> webhook_event_type(std::string_view name) {
  const auto it = std::find(kWebhookEventNames.begin(), kWebhookEventNames.end(), name);
  if (it == kWebhookEventNames.end()) return std::nullopt;
  return static_cast<WebhookEventType>(it - kWebhookEventNames.begin());
}

WebhookEvent make_webhook_event(WebhookEventType type, std::string_view call_id, uint64_t sequence, RecordTime at,
                                std::string_view data_json) {
  WebhookEvent e{.id = fmt::format("{}.{}", call_id, sequence), .call_id = std::string(call_id),
                 .sequence = sequence, .body = {}};
  JsonWriter w;
  w.begin_object()
      .field("id", e.id)
      .field("type", to_string(type))
      .field("timestamp", format_record_time(at))
      .field("call_id", call_id)
      .field("sequence", sequence)
      .key("data")
      .json(data_json)
      .end_object();
  e.body = w.take();
  return e;
}

std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  // One-shot HMAC over the two parts: the message is "<timestamp>.<body>", built once per attempt
  // on the sender's thread (never on a shard).
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &len);
  std::string out = "sha256=";
  for (unsigned i = 0; i < len; ++i) out += fmt::format("{:02x}", mac[i]);
  return out;
}

WebhookVerdict webhook_verdict(int status) {
  if (status >= 200 && status < 300) return WebhookVerdict::kDelivered;
  if (status == 0 || status == 408 || status == 429 || status >= 500) return WebhookVerdict::kRetry;
  return WebhookVerdict::kGiveUp;
}

std::optional<std::chrono::milliseconds> webhook_retry_delay(const WebhookRetryPolicy& policy, unsigned failed_attempts) {
  if (failed_attempts >= policy.max_attempts) return std::nullopt;
  auto delay = policy.first_retry;
  for (unsigned i = 1; i < failed_attempts && delay < policy.max_retry; ++i) delay *= 2;
  return std::min(delay, policy.max_retry);
}

}  // namespace warmline::server
