// Webhook events (docs/webhooks.md): the signature against vectors computed outside warmline, the
// event document, and the retry policy. No clock, no network.
#include "server/webhook/webhook_event.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

namespace warmline::server {
namespace {

using namespace std::chrono_literals;

// Both vectors computed with Python's hmac module, as docs/webhooks.md tells receivers to check:
//   hmac.new(b"whsec_test", b'1765000000.{"id":"c0-abc.1","type":"call.started"}', hashlib.sha256).hexdigest()
//   hmac.new(b"", b"0.", hashlib.sha256).hexdigest()
TEST(WebhookSignatureTest, MatchesAnIndependentlyComputedHmacSha256OfTimestampDotBody) {
  EXPECT_EQ(webhook_signature("whsec_test", "1765000000", R"({"id":"c0-abc.1","type":"call.started"})"),
            "sha256=120e7e7c238863522a2742ff666e7d04efbee1997cc35cdfa023a46f0a3ec5ee");
  EXPECT_EQ(webhook_signature("", "0", ""), "sha256=b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3");
}

TEST(WebhookSignatureTest, ChangesWithTheSecretTheTimestampAndTheBody) {
  const std::string base = webhook_signature("s", "1", "{}");
  EXPECT_NE(webhook_signature("t", "1", "{}"), base);
  EXPECT_NE(webhook_signature("s", "2", "{}"), base);
  EXPECT_NE(webhook_signature("s", "1", "{ }"), base);
}

TEST(WebhookEventTest, TheDocumentCarriesIdTypeTimestampCallIdSequenceAndData) {
  const auto at = std::chrono::sys_days{std::chrono::year{2026} / 12 / 5} + 7h + 23min + 3s + 123ms;
  const WebhookEvent e = make_webhook_event(WebhookEventType::kTransferUpdated, "c1-xyz", 3, at, R"({"call":{"id":"c1-xyz"}})");
  EXPECT_EQ(e.id, "c1-xyz.3");
  EXPECT_EQ(e.call_id, "c1-xyz");
  EXPECT_EQ(e.sequence, 3u);
  EXPECT_EQ(e.body, R"({"id":"c1-xyz.3","type":"transfer.updated","timestamp":"2026-12-05T07:23:03.123Z",)"
                    R"("call_id":"c1-xyz","sequence":3,"data":{"call":{"id":"c1-xyz"}}})");
  simdjson::dom::parser parser;
  EXPECT_EQ(parser.parse(e.body).error(), simdjson::SUCCESS) << e.body;
}

TEST(WebhookEventTest, TypeNamesRoundTripAndUnknownNamesAreRefused) {
  for (size_t i = 0; i < kWebhookEventTypes; ++i) {
    const auto type = static_cast<WebhookEventType>(i);
    EXPECT_EQ(webhook_event_type(to_string(type)), type);
  }
  EXPECT_EQ(webhook_event_type("call.ringing"), std::nullopt);
  EXPECT_EQ(webhook_event_type(""), std::nullopt);
}

TEST(WebhookRetryTest, SuccessIsDeliveredServerErrorsAndTimeoutsRetryOtherClientErrorsAreGivenUp) {
  EXPECT_EQ(webhook_verdict(200), WebhookVerdict::kDelivered);
  EXPECT_EQ(webhook_verdict(204), WebhookVerdict::kDelivered);
  EXPECT_EQ(webhook_verdict(0), WebhookVerdict::kRetry);  // no answer: connect error, timeout
  EXPECT_EQ(webhook_verdict(408), WebhookVerdict::kRetry);
  EXPECT_EQ(webhook_verdict(429), WebhookVerdict::kRetry);
  EXPECT_EQ(webhook_verdict(500), WebhookVerdict::kRetry);
  EXPECT_EQ(webhook_verdict(503), WebhookVerdict::kRetry);
  EXPECT_EQ(webhook_verdict(400), WebhookVerdict::kGiveUp);
  EXPECT_EQ(webhook_verdict(401), WebhookVerdict::kGiveUp);  // e.g. the receiver refuses the signature
  EXPECT_EQ(webhook_verdict(404), WebhookVerdict::kGiveUp);
  EXPECT_EQ(webhook_verdict(301), WebhookVerdict::kGiveUp);  // redirects are not followed
}

TEST(WebhookRetryTest, BackoffDoublesFromTheFirstRetryUpToTheMaximumThenGivesUp) {
  const WebhookRetryPolicy policy{.first_retry = 1000ms, .max_retry = 30000ms, .max_attempts = 8};
  std::vector<std::optional<std::chrono::milliseconds>> delays;
  for (unsigned failed = 1; failed <= 8; ++failed) delays.push_back(webhook_retry_delay(policy, failed));
  using D = std::optional<std::chrono::milliseconds>;
  EXPECT_THAT(delays, ::testing::ElementsAre(D(1000ms), D(2000ms), D(4000ms), D(8000ms), D(16000ms), D(30000ms),
                                             D(30000ms), std::nullopt));
}

TEST(WebhookRetryTest, OneAttemptMeansNoRetry) {
  EXPECT_EQ(webhook_retry_delay({.first_retry = 1000ms, .max_retry = 30000ms, .max_attempts = 1}, 1), std::nullopt);
}

}  // namespace
}  // namespace warmline::server
