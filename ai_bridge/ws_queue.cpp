#include "ai_bridge/ws_queue.hpp"

#include <algorithm>

namespace warmline::ai {

WriteQueue::WriteQueue(Limits limits) : limits_(limits), slots_(std::max<std::size_t>(limits.max_messages, 1)) {
  spare_.reserve(kSpareBuffers);
}

bool WriteQueue::push_text(std::string_view text, bool front_in_flight, bool audio) {
  return push({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, false, audio, front_in_flight);
}

bool WriteQueue::push_binary(std::span<const std::uint8_t> data, bool front_in_flight) {
  return push(data, true, true, front_in_flight);
}

bool WriteQueue::push(std::span<const std::uint8_t> data, bool binary, bool audio, bool front_in_flight) {
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
  if (slot.bytes.capacity() == 0 && !spare_.empty()) {  // a recycled buffer: no allocation
    slot.bytes.swap(spare_.back());
    spare_.pop_back();
  }
  slot.bytes.assign(data.begin(), data.end());
  slot.binary = binary;
  slot.audio = audio;
  if (audio) slot.queued_at = std::chrono::steady_clock::now();  // coalesced frames keep the oldest's
  ++count_;
  bytes_ += data.size();
  return true;
}

void WriteQueue::pop() {
  if (count_ == 0) return;
  Message& m = slots_[head_];
  bytes_ -= m.bytes.size();
  // The buffer goes to the spare pool rather than staying in its slot: the ring cycles through all of
  // its slots, and buffers kept per slot would add up to max_messages frames per call. A few spares
  // serve the steady state (one write in flight, one queued); oversized ones (from coalescing a
  // backlog) are freed.
  m.bytes.clear();
  if (spare_.size() < kSpareBuffers && m.bytes.capacity() <= kMaxSpareBytes) {
    spare_.emplace_back();
    spare_.back().swap(m.bytes);
  } else {
    std::vector<std::uint8_t>().swap(m.bytes);
  }
  head_ = (head_ + 1) % slots_.size();
  --count_;
}

std::size_t WriteQueue::retained_capacity() const {
  std::size_t total = 0;
  for (const auto& m : slots_) total += m.bytes.capacity();
  for (const auto& b : spare_) total += b.capacity();
  return total;
}

}  // namespace warmline::ai
