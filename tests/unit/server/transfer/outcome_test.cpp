// The typed outcome of a transfer: every refusal knows its API code, HTTP status and message for the AI;
// the target's SIP status maps to one result in one place; every result has its metric label.
#include "server/transfer/outcome.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>

#include "server/metrics.hpp"

namespace warmline::server {
namespace {

using Code = TransferRefusal::Code;

struct RefusalCase {
  Code code;
  std::string_view api_code;
  int http_status;
};

void PrintTo(const RefusalCase& p, std::ostream* os) { *os << p.api_code; }

class RefusalTest : public ::testing::TestWithParam<RefusalCase> {};

TEST_P(RefusalTest, KnowsItsApiCodeHttpStatusAndReason) {
  const RefusalCase& p = GetParam();
  TransferRefusal r{p.code, "what went wrong"};
  EXPECT_EQ(r.api_code(), p.api_code);
  EXPECT_EQ(r.http_status(), p.http_status);
  EXPECT_EQ(r.reason(), std::string(p.api_code) + ": what went wrong");
}

INSTANTIATE_TEST_SUITE_P(
    EveryCode, RefusalTest,
    ::testing::Values(RefusalCase{Code::kUnknownTarget, "unknown_target", 422},
                      RefusalCase{Code::kNumberNotAllowed, "number_not_allowed", 422},
                      RefusalCase{Code::kInvalidNumber, "invalid_number", 422},
                      RefusalCase{Code::kNoTrunk, "no_trunk", 422},
                      RefusalCase{Code::kMissingField, "missing_field", 422},
                      RefusalCase{Code::kTransferInProgress, "transfer_in_progress", 409},
                      RefusalCase{Code::kNotActive, "not_active", 409},
                      RefusalCase{Code::kNotSupported, "not_supported", 501}));

TEST(TargetStatus, MapsEveryDocumentedStatusToItsResult) {
  struct {
    int status;
    TransferResult result;
  } const cases[] = {
      {200, TransferResult::kCompleted},   {202, TransferResult::kCompleted},   {299, TransferResult::kCompleted},
      {486, TransferResult::kBusy},        {600, TransferResult::kBusy},        {603, TransferResult::kDeclined},
      {408, TransferResult::kNoAnswer},    {480, TransferResult::kNoAnswer},    {487, TransferResult::kNoAnswer},
      {404, TransferResult::kUnreachable}, {410, TransferResult::kUnreachable}, {484, TransferResult::kUnreachable},
      {502, TransferResult::kUnreachable}, {503, TransferResult::kUnreachable}, {504, TransferResult::kUnreachable},
      {604, TransferResult::kUnreachable}, {400, TransferResult::kFailed},      {403, TransferResult::kFailed},
      {488, TransferResult::kFailed},      {500, TransferResult::kFailed},      {302, TransferResult::kFailed},
      {180, TransferResult::kFailed},      {0, TransferResult::kFailed},
  };
  for (const auto& c : cases) EXPECT_EQ(result_for_target_status(c.status), c.result) << c.status;
}

TEST(MetricLabel, EveryResultHasItsOwnProtocolName) {
  struct {
    TransferResult result;
    std::string_view label;
  } const cases[] = {
      {TransferResult::kCompleted, "completed"},   {TransferResult::kBusy, "busy"},
      {TransferResult::kDeclined, "declined"},     {TransferResult::kNoAnswer, "no_answer"},
      {TransferResult::kUnreachable, "unreachable"}, {TransferResult::kRejected, "rejected"},
      {TransferResult::kTimeout, "timeout"},       {TransferResult::kCancelled, "cancelled"},
      {TransferResult::kCallerHungUp, "caller_hung_up"}, {TransferResult::kFailed, "failed"},
  };
  std::set<std::string_view> seen;
  for (const auto& c : cases) {
    EXPECT_EQ(metric_label(c.result), c.label);
    seen.insert(metric_label(c.result));
    EXPECT_LT(static_cast<size_t>(c.result), kTransferResults) << "the metrics array has a slot for it";
  }
  EXPECT_EQ(seen.size(), kTransferResults);
}

}  // namespace
}  // namespace warmline::server
