// URL parsing for the webhook client; no Beast here, so the config checker and tests use it cheaply.
#include "ai_bridge/ws_client.hpp"
#include "server/webhook/webhook_http.hpp"

namespace warmline::server {

std::optional<WebhookUrl> parse_webhook_url(std::string_view url) {
  // Same authority and path rules as the agent's ws:// URLs: the scheme is the only difference.
  const bool secure = url.starts_with("https://");
  if (!secure && !url.starts_with("http://")) return std::nullopt;
  for (char c : url)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '#') return std::nullopt;
  const auto ws = ai::parse_ws_url((secure ? "wss://" : "ws://") + std::string(url.substr(secure ? 8 : 7)));
  if (!ws) return std::nullopt;
  return WebhookUrl{.secure = ws->secure, .host = ws->host, .port = ws->port, .target = ws->target};
}

}  // namespace warmline::server
