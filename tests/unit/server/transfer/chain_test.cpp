// The chain policy: order, which results move on, and where the caller goes after a failed transfer.
#include "server/transfer/chain.hpp"

#include <gtest/gtest.h>

namespace warmline::server {
namespace {

TEST(TransferChain, HandsOutTheTargetsInOrderOnce) {
  TransferChain chain({"Support", "Sales", "101"});
  EXPECT_TRUE(chain.has_next());
  EXPECT_EQ(chain.next(), "Support");
  EXPECT_EQ(chain.next(), "Sales");
  EXPECT_EQ(chain.tried(), 2u);
  EXPECT_EQ(chain.next(), "101");
  EXPECT_FALSE(chain.has_next());
  EXPECT_EQ(chain.next(), std::nullopt);
  EXPECT_EQ(chain.tried(), 3u);
}

TEST(TransferChain, FailuresMoveOnButCompletionCancelAndHangUpDoNot) {
  TransferChain chain({"a", "b"});
  for (auto r : {TransferResult::kBusy, TransferResult::kNoAnswer, TransferResult::kUnreachable,
                 TransferResult::kRejected, TransferResult::kTimeout, TransferResult::kFailed})
    EXPECT_TRUE(chain.moves_on(r)) << to_string(r);
  for (auto r : {TransferResult::kCompleted, TransferResult::kCancelled, TransferResult::kCallerHungUp,
                 TransferResult::kDeclined})
    EXPECT_FALSE(chain.moves_on(r)) << to_string(r);
}

TEST(TransferChain, DeclineMovesOnWhenItIsNotFinal) {
  TransferChain chain({"a", "b"}, /*decline_is_final=*/false);
  EXPECT_TRUE(chain.moves_on(TransferResult::kDeclined));
  EXPECT_FALSE(chain.moves_on(TransferResult::kCallerHungUp));
}

AgentConfig agent(OnFailure on_failure, std::string default_forward) {
  AgentConfig a;
  a.on_failure = on_failure;
  a.default_forward = std::move(default_forward);
  return a;
}

TEST(AfterFailure, AConnectedAgentKeepsTheCallerUnlessConfiguredToForward) {
  EXPECT_EQ(after_failure(agent(OnFailure::agent, "Operator"), true, false), AfterFailure::kBackToAgent);
  EXPECT_EQ(after_failure(agent(OnFailure::default_forward, "Operator"), true, false), AfterFailure::kDefaultForward);
  EXPECT_EQ(after_failure(agent(OnFailure::default_forward, ""), true, false), AfterFailure::kBackToAgent);
  EXPECT_EQ(after_failure(agent(OnFailure::default_forward, "Operator"), true, true), AfterFailure::kBackToAgent)
      << "the forward itself failed: it is not tried twice";
}

TEST(AfterFailure, WithoutTheAgentTheCallerIsForwardedOrHearsTheFallback) {
  EXPECT_EQ(after_failure(agent(OnFailure::agent, "Operator"), false, false), AfterFailure::kDefaultForward);
  EXPECT_EQ(after_failure(agent(OnFailure::agent, "Operator"), false, true), AfterFailure::kFallbackAndHangUp);
  EXPECT_EQ(after_failure(agent(OnFailure::agent, ""), false, false), AfterFailure::kFallbackAndHangUp);
}

}  // namespace
}  // namespace warmline::server
