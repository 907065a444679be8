#include "sip/resolve/target_list.hpp"

#include <algorithm>

namespace warmline::sip {

TargetList::TargetList(std::vector<Target> targets)
    : targets_(std::move(targets)), failed_(targets_.size(), false) {}

const Target* TargetList::current() const {
  return position_ < targets_.size() ? &targets_[position_] : nullptr;
}

const Target* TargetList::next() {
  if (position_ < targets_.size()) mark_failed(targets_[position_]);
  return current();
}

void TargetList::mark_failed(const Target& target) {
  const Target copy = target;  // `target` may be an element of targets_
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i] == copy) failed_[i] = true;
  }
  skip_failed();
}

size_t TargetList::remaining() const {
  return static_cast<size_t>(std::count(failed_.begin(), failed_.end(), false));
}

void TargetList::skip_failed() {
  while (position_ < targets_.size() && failed_[position_]) ++position_;
}

}  // namespace warmline::sip
