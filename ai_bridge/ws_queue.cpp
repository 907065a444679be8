#include "ai_bridge/ws_queue.hpp"

#include <algorithm>

namespace warmline::ai {

WriteQueue::WriteQueue(Limits limits) : limits_(limits), slots_(std::max<std::size_t>(limits.max_messages, 1)) {}

bool WriteQueue::push_text(std::string_view text, bool front_in_flight) {
  return push({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, false, front_in_flight);
}

bool WriteQueue::push_binary(std::span<const std::uint8_t> data, bool front_in_flight) {
  return push(data, true, front_in_flight);
}

bool WriteQueue::push(std::span<const std::uint8_t> data, bool binary, bool front_in_flight) {
  if (bytes_ + data.size() > limits_.max_bytes) return false;
  const std::size_t settled = front_in_flight ? 1 : 0;  // messages that must not change
  if (binary && count_ > settled) {
    Message& tail = slots_[(head_ + count_ - 1) % slots_.size()];
    if (tail.binary && tail.bytes.size() + data.size() <= limits_.max_coalesced_bytes) {
      tail.bytes.insert(tail.bytes.end(), data.begin(), data.end());
      bytes_ += data.size();
      return true;
    }
  }
  if (count_ == slots_.size()) return false;
  Message& slot = slots_[(head_ + count_) % slots_.size()];
  slot.bytes.assign(data.begin(), data.end());  // reuses the slot's capacity
  slot.binary = binary;
  ++count_;
  bytes_ += data.size();
  return true;
}

void WriteQueue::pop() {
  if (count_ == 0) return;
  Message& m = slots_[head_];
  bytes_ -= m.bytes.size();
  m.bytes.clear();  // keeps the capacity for the next message
  head_ = (head_ + 1) % slots_.size();
  --count_;
}

}  // namespace warmline::ai
