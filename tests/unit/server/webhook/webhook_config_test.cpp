// [webhooks] in the config (docs/webhooks.md, docs/configuration.md): accepted values, defaults, and
// every refusal with its line and key path, as check-config prints them.
#include "server/config.hpp"
#include "server/webhook/webhook_http.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warmline::server {
namespace {

using ::testing::ElementsAre;

const std::string kFile = std::string(WARMLINE_TEST_DATA) + "/config/inline.toml";

LoadResult load(std::string_view text) {
  EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOOK_SECRET") return "s3cret";
    return std::nullopt;
  };
  return load_config_text(text, kFile, env);
}

std::vector<std::string> errors(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(format_config_error(e).substr(kFile.size()));
  return out;
}

TEST(WebhookConfigTest, OffByDefault) {
  LoadResult r = load("");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->webhooks.url, "");
}

TEST(WebhookConfigTest, AllKeysWithTheSecretFromTheEnvironment) {
  LoadResult r = load(R"([webhooks]
url = "https://hooks.example.com:8443/warmline?x=1"
secret = "${HOOK_SECRET}"
events = ["call.ended", "transfer.updated"]
timeout_s = 5
max_queue = 50
max_attempts = 3
tls_verify = false
)");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : format_config_error(r.errors[0]));
  const WebhooksConfig& w = r.config->webhooks;
  EXPECT_EQ(w.url, "https://hooks.example.com:8443/warmline?x=1");
  EXPECT_EQ(w.secret, "s3cret");
  EXPECT_THAT(w.events, ElementsAre("call.ended", "transfer.updated"));
  EXPECT_EQ(w.timeout_s, 5u);
  EXPECT_EQ(w.max_queue, 50u);
  EXPECT_EQ(w.max_attempts, 3u);
  EXPECT_FALSE(w.tls_verify);
}

TEST(WebhookConfigTest, DefaultsVerifyTlsAndSendEveryEvent) {
  LoadResult r = load("[webhooks]\nurl = \"https://hooks.example.com/\"\nsecret = \"k\"\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.config->webhooks.tls_verify);
  EXPECT_TRUE(r.config->webhooks.events.empty());
  EXPECT_EQ(r.config->webhooks.timeout_s, 10u);
  EXPECT_EQ(r.config->webhooks.max_attempts, 8u);
}

TEST(WebhookConfigTest, ABadUrlIsRefusedOnItsLine) {
  for (const char* url : {"ftp://x/", "http://", "hooks.example.com/x", "http://a b/", "http://h:0/", "http://h:99999/",
                          "http://user@h/"}) {
    LoadResult r = load(std::string("[webhooks]\nsecret = \"k\"\n\nurl = \"") + url + "\"\n");
    ASSERT_EQ(r.errors.size(), 1u) << url;
    EXPECT_EQ(r.errors[0].line, 4) << url;
    EXPECT_EQ(r.errors[0].key_path, "webhooks.url");
    EXPECT_THAT(r.errors[0].message, ::testing::HasSubstr("is not an http:// or https:// URL")) << url;
  }
}

TEST(WebhookConfigTest, RefusalsNameTheKey) {
  EXPECT_THAT(errors(load("[webhooks]\nurl = \"http://127.0.0.1:9/\"\n")),
              ElementsAre(":1: webhooks.secret: required with url: every event is signed with it (use \"${ENV_VAR}\")"));
  EXPECT_THAT(errors(load("[webhooks]\nsecret = \"k\"\n")), ElementsAre(":1: webhooks.url: missing (required)"));
  EXPECT_THAT(errors(load("[webhooks]\nurl = \"http://h/\"\nsecret = \"k\"\nevents = [\"call.started\", \"call.rang\", "
                          "\"call.started\"]\n")),
              ElementsAre(":4: webhooks.events[1]: 'call.rang' is not one of: call.started, call.answered, "
                          "transfer.updated, call.ended",
                          ":4: webhooks.events[2]: 'call.started' is listed twice"));
  EXPECT_THAT(errors(load("[webhooks]\nurl = \"http://h/\"\nsecret = \"k\"\ntls_verify = false\n")),
              ElementsAre(":4: webhooks.tls_verify: only for an https:// url"));
  EXPECT_THAT(errors(load("[webhooks]\nurl = \"http://h/\"\nsecret = \"k\"\ntimeout_s = 0\nmax_attempts = 31\n")),
              ElementsAre(":4: webhooks.timeout_s: must be from 1 to 300, got 0",
                          ":5: webhooks.max_attempts: must be from 1 to 30, got 31"));
  EXPECT_THAT(errors(load("[webhooks]\nurl = \"http://h/\"\nsecret = \"k\"\nretries = 3\n")),
              ElementsAre(":4: webhooks.retries: unknown key"));
}

TEST(WebhookUrlTest, HostPortAndTargetWithTheSchemesDefaultPort) {
  auto u = parse_webhook_url("http://127.0.0.1:8099/hook?a=1");
  ASSERT_TRUE(u);
  EXPECT_EQ((std::tuple{u->secure, u->host, u->port, u->target}), (std::tuple{false, std::string("127.0.0.1"),
                                                                               std::string("8099"), std::string("/hook?a=1")}));
  u = parse_webhook_url("https://[::1]");
  ASSERT_TRUE(u);
  EXPECT_EQ((std::tuple{u->secure, u->host, u->port, u->target}),
            (std::tuple{true, std::string("::1"), std::string("443"), std::string("/")}));
  EXPECT_FALSE(parse_webhook_url("ws://h/"));
  EXPECT_FALSE(parse_webhook_url("http://h/#frag"));
}

}  // namespace
}  // namespace warmline::server
