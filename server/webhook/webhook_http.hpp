// The HTTP client of the webhook sender: one POST per call of post(), a fresh connection each time
// (http:// or https:// with OpenSSL; certificate and host name verified unless tls_verify is off),
// bounded as a whole by `timeout`. Beast stays inside webhook_http.cpp (BUILD-NOTES.md: compile cost).
// Thread: the webhook sender's only; it runs its own small io_context, never a shard's.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace warmline::server {

struct WebhookUrl {
  bool secure = false;  // https://
  std::string host, port, target;
};
// http://host[:port][/path][?query] or https://...; nullopt when it is not such a URL.
std::optional<WebhookUrl> parse_webhook_url(std::string_view url);

class WebhookHttpClient {
 public:
  WebhookHttpClient(WebhookUrl url, bool tls_verify, std::chrono::milliseconds timeout);
  ~WebhookHttpClient();
  WebhookHttpClient(const WebhookHttpClient&) = delete;
  WebhookHttpClient& operator=(const WebhookHttpClient&) = delete;

  // The response's status, or 0 with `error` set (matches WebhookPost).
  int post(const std::string& body, const std::string& timestamp, const std::string& signature, std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warmline::server
