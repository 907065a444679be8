#include "server/transfer/cold_refer.hpp"

#include <gtest/gtest.h>

namespace warmline::server {
namespace {

ColdRefer sent() {
  ColdRefer p;
  auto ev = p.on_refer_sent();
  EXPECT_EQ(ev.state, "dialing");
  return p;
}

TEST(ColdRefer, AcceptedThenTryingThenOkCompletes) {
  auto p = sent();
  EXPECT_FALSE(p.on_refer_response(202, "Accepted"));
  EXPECT_EQ(p.state(), ColdRefer::State::kAccepted);
  EXPECT_FALSE(p.on_notify(100, "Trying", false));
  auto ev = p.on_notify(200, "OK", true);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->kind, TransferUpdate::Kind::kEnded);
  EXPECT_EQ(ev->result, TransferResult::kCompleted);
  EXPECT_EQ(ev->sip_status, 200);
  EXPECT_TRUE(p.done());
}

TEST(ColdRefer, The202AloneIsNotSuccess) {
  auto p = sent();
  EXPECT_FALSE(p.on_refer_response(202, "Accepted"));
  EXPECT_FALSE(p.done());
  auto ev = p.on_timeout();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->result, TransferResult::kTimeout);
}

TEST(ColdRefer, RefusedReferIsRejectedWithStatus) {
  auto p = sent();
  auto ev = p.on_refer_response(603, "Decline");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->result, TransferResult::kRejected);
  EXPECT_EQ(ev->sip_status, 603);
  EXPECT_EQ(ev->reason, "Decline");
}

TEST(ColdRefer, BusySipfragIsBusy) {
  auto p = sent();
  p.on_refer_response(202, "Accepted");
  auto ev = p.on_notify(486, "Busy Here", true);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->result, TransferResult::kBusy);
  EXPECT_EQ(ev->sip_status, 486);
}

TEST(ColdRefer, RingingSipfragIsProgress) {
  auto p = sent();
  p.on_refer_response(202, "Accepted");
  auto ev = p.on_notify(180, "Ringing", false);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->kind, TransferUpdate::Kind::kProgress);
  EXPECT_EQ(ev->state, "ringing");
}

TEST(ColdRefer, NotifyBefore202ImpliesAcceptance) {
  auto p = sent();
  auto ev = p.on_notify(200, "OK", true);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->result, TransferResult::kCompleted);
  EXPECT_FALSE(p.on_refer_response(202, "Accepted"));  // late 202 after the end: nothing more
}

TEST(ColdRefer, NoResponseAtAllIsTimeout) {
  auto p = sent();
  auto ev = p.on_refer_response(408, "Request Timeout");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->result, TransferResult::kTimeout);
}

TEST(ColdRefer, ByeAfterAcceptIsCompletedBeforeIsHangup) {
  auto a = sent();
  a.on_refer_response(202, "Accepted");
  auto ev = a.on_caller_bye();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->result, TransferResult::kCompleted);

  auto b = sent();
  ev = b.on_caller_bye();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->result, TransferResult::kCallerHungUp);
}

TEST(ColdRefer, EventsAfterEndAreIgnored) {
  auto p = sent();
  p.on_refer_response(603, "Decline");
  EXPECT_FALSE(p.on_notify(200, "OK", true));
  EXPECT_FALSE(p.on_timeout());
  EXPECT_FALSE(p.on_caller_bye());
}

TEST(TransferResult, StatusMapping) {
  EXPECT_EQ(result_for_target_status(200), TransferResult::kCompleted);
  EXPECT_EQ(result_for_target_status(486), TransferResult::kBusy);
  EXPECT_EQ(result_for_target_status(600), TransferResult::kBusy);
  EXPECT_EQ(result_for_target_status(603), TransferResult::kDeclined);
  EXPECT_EQ(result_for_target_status(480), TransferResult::kNoAnswer);
  EXPECT_EQ(result_for_target_status(404), TransferResult::kUnreachable);
  EXPECT_EQ(result_for_target_status(503), TransferResult::kUnreachable);
  EXPECT_EQ(result_for_target_status(500), TransferResult::kFailed);
  EXPECT_EQ(to_string(TransferResult::kNoAnswer), "no_answer");
  EXPECT_EQ(to_string(TransferResult::kCallerHungUp), "caller_hung_up");
}

}  // namespace
}  // namespace warmline::server
