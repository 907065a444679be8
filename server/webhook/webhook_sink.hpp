// Where a shard hands a call's webhook events (CallContext::webhooks). The gateway's sink is the
// webhook sender (webhook_sender.hpp), which delivers off the shard; unit tests use an in-memory sink.
#pragma once

#include "server/webhook/webhook_event.hpp"

namespace warmline::server {

class WebhookSink {
 public:
  virtual ~WebhookSink() = default;
  // Whether [webhooks] events selects `type`: a call builds an event's JSON only when it is wanted.
  virtual bool wants(WebhookEventType type) const = 0;
  // Takes one event. Called on a shard's thread: it must return at once, never wait for I/O (a full
  // queue drops its oldest event and counts it).
  virtual void submit(WebhookEvent&& event) = 0;
};

}  // namespace warmline::server
