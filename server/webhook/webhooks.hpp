// The gateway's webhook sender from [webhooks] (docs/webhooks.md): the HTTP client and the sender
// thread, wired together. Created at start-up, before any call.
#pragma once

#include <memory>

#include "server/config.hpp"
#include "server/webhook/webhook_sender.hpp"

namespace warmline::server {

// Null when [webhooks] url is not set (webhooks are off).
std::unique_ptr<WebhookSender> make_webhook_sender(const WebhooksConfig& config, WebhookMetrics& metrics);

}  // namespace warmline::server
