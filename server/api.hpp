// The HTTP API (DESIGN.md "HTTP API"). Handlers run on the control thread; anything about a call is
// posted to the call's shard (the shard index is part of the call id) and answered from there through
// the deferred Responder, so no call state is ever touched from the wrong thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "server/http_router.hpp"
#include "server/shard_runtime.hpp"

namespace boost::asio {
class io_context;
}

namespace warmline::server {

struct ApiContext {
  boost::asio::io_context& control;
  std::vector<ShardRuntime*> shards;
  const std::atomic<bool>& draining;
  std::function<void()> begin_drain;
  std::function<bool()> resume;  // false: the node is exiting and cannot resume
  const CdrMetrics* cdr = nullptr;  // the CDR writer's counters (zero when records are off)
  std::string token{};  // [server] http_token: required as a Bearer token on /v1/* when not empty
  const RecordingMetrics* recordings = nullptr;  // the recordings' writer's counters (zero when none)
  const WebhookMetrics* webhooks = nullptr;  // the webhook sender's counters (zero when webhooks are off)
};

// The guard make_api_router installs when `token` is set: /v1/* needs `Authorization: Bearer <token>`
// (compared in constant time), else 401 with WWW-Authenticate. Other paths (health, metrics, the
// provider REST paths with their own credentials) pass.
HttpRouter::Guard api_token_guard(std::string token);

HttpRouter make_api_router(ApiContext ctx);

// "c3-abc..." -> 3 (the shard that owns the call), or nullopt for an id that cannot be ours.
std::optional<unsigned> shard_of_call_id(std::string_view id, size_t shard_count);

}  // namespace warmline::server
