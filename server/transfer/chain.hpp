// The chain policy (DESIGN.md "Transfers", chain): which target comes next and when to stop, and where
// the caller goes once a whole transfer has failed. Pure functions and values: unit-tested alone.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "server/config.hpp"
#include "server/transfer/outcome.hpp"

namespace warmline::server {

class TransferChain {
 public:
  explicit TransferChain(std::vector<std::string> targets, bool decline_is_final = true)
      : targets_(std::move(targets)), decline_is_final_(decline_is_final) {}

  const std::vector<std::string>& targets() const { return targets_; }
  // The next target to try (in the order given), or nullopt once every one was tried.
  std::optional<std::string> next();
  size_t tried() const { return next_; }
  // Whether an attempt that ended with `result` moves on to the next target: busy, no answer,
  // unreachable, rejected, timeout and failed do; 603 Decline is final (unless configured otherwise);
  // completed, cancelled and caller_hung_up end the transfer whatever is left.
  bool moves_on(TransferResult result) const;
  bool has_next() const { return next_ < targets_.size(); }

 private:
  std::vector<std::string> targets_;
  size_t next_ = 0;
  bool decline_is_final_ = true;
};

// Where the caller goes when a transfer has failed (DESIGN.md: never left in silence).
enum class AfterFailure {
  kBackToAgent,        // the conversation with the AI goes on; it got the structured result
  kDefaultForward,     // a new transfer to the agent's default_forward
  kFallbackAndHangUp,  // the fallback message, then BYE
};
// `agent_connected`: the agent's socket is still open; `was_default_forward`: the failed transfer was
// already the forward (it is not tried twice).
AfterFailure after_failure(const AgentConfig& agent, bool agent_connected, bool was_default_forward);

}  // namespace warmline::server
