#include "server/transfer/chain.hpp"

namespace warmline::server {

std::optional<std::string> TransferChain::next() {
  if (!has_next()) return std::nullopt;
  return targets_[next_++];
}

bool TransferChain::moves_on(TransferResult result) const {
  switch (result) {
    case TransferResult::kBusy:
    case TransferResult::kNoAnswer:
    case TransferResult::kUnreachable:
    case TransferResult::kRejected:
    case TransferResult::kTimeout:
    case TransferResult::kFailed: return true;
    case TransferResult::kDeclined: return !decline_is_final_;
    case TransferResult::kCompleted:
    case TransferResult::kCancelled:
    case TransferResult::kCallerHungUp: return false;
  }
  return false;
}

AfterFailure after_failure(const AgentConfig& agent, bool agent_connected, bool was_default_forward) {
  const bool can_forward = !agent.default_forward.empty() && !was_default_forward;
  if (!agent_connected) return can_forward ? AfterFailure::kDefaultForward : AfterFailure::kFallbackAndHangUp;
  if (agent.on_failure == OnFailure::default_forward && can_forward) return AfterFailure::kDefaultForward;
  return AfterFailure::kBackToAgent;
}

}  // namespace warmline::server
