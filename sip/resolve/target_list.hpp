// Walking a resolved target list the way RFC 3263 §4.3 asks: try the first target; a 503, a
// transaction timeout or a transport error (ICMP unreachable) from it moves to the next, skipping any
// entry already known to have failed (the same address can be listed under two SRV names).
//
// Threading: a plain value, owned by whoever dials (one call's leg), on that call's shard.
#pragma once

#include <cstddef>
#include <vector>

#include "sip/resolve/target.hpp"

namespace warmline::sip {

class TargetList {
 public:
  TargetList() = default;
  explicit TargetList(std::vector<Target> targets);

  // The target to use now, or nullptr once every target has failed.
  const Target* current() const;
  // Marks the current target failed and moves to the next that has not failed; returns it, or
  // nullptr when none is left.
  const Target* next();
  // Marks every entry equal to `target` failed (a failure reported late, or learned elsewhere);
  // moves on if it was the current one.
  void mark_failed(const Target& target);

  bool exhausted() const { return current() == nullptr; }
  size_t size() const { return targets_.size(); }
  size_t remaining() const;  // targets not failed, the current one included
  const std::vector<Target>& targets() const { return targets_; }
  bool failed(size_t index) const { return failed_.at(index); }

 private:
  void skip_failed();

  std::vector<Target> targets_;
  std::vector<bool> failed_;
  size_t position_ = 0;
};

}  // namespace warmline::sip
