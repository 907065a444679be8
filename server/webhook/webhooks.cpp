#include "server/webhook/webhooks.hpp"

#include <spdlog/spdlog.h>

#include "server/webhook/webhook_http.hpp"

namespace warmline::server {

std::unique_ptr<WebhookSender> make_webhook_sender(const WebhooksConfig& config, WebhookMetrics& metrics) {
  if (config.url.empty()) {
    spdlog::info("webhooks are off ([webhooks] url is not set)");
    return nullptr;
  }
  auto url = parse_webhook_url(config.url);  // checked by the config loader
  if (!url) return nullptr;
  WebhookSenderOptions options{.secret = config.secret, .events = {}, .queue_capacity = config.max_queue,
                               .policy = {.max_attempts = config.max_attempts}};
  options.events.fill(config.events.empty());
  for (const auto& name : config.events)
    if (auto type = webhook_event_type(name)) options.events[static_cast<size_t>(*type)] = true;
  // The client lives in the post function, which only the sender's thread calls.
  auto client = std::make_shared<WebhookHttpClient>(*url, config.tls_verify, std::chrono::seconds(config.timeout_s));
  spdlog::info("webhooks: {}://{}:{}{}", url->secure ? "https" : "http", url->host, url->port, url->target);
  return std::make_unique<WebhookSender>(
      [client](const std::string& body, const std::string& timestamp, const std::string& signature, std::string& error) {
        return client->post(body, timestamp, signature, error);
      },
      metrics, std::move(options));
}

}  // namespace warmline::server
