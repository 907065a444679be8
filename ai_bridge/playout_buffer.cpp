#include "ai_bridge/playout_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace warmline::ai {
namespace {

constexpr std::size_t kInitialMarkSlots = 4;

// Re-lays a ring out from index 0 in a larger vector (doubling, capped at `limit`, at least `needed`).
template <class T>
void grow_ring(std::vector<T>& ring, std::size_t& head, std::size_t count, std::size_t needed, std::size_t limit) {
  std::size_t capacity = ring.size();
  while (capacity < needed && capacity < limit) capacity = std::min(limit, capacity * 2);
  if (capacity == ring.size()) return;
  std::vector<T> bigger(capacity);
  for (std::size_t i = 0; i < count; ++i) bigger[i] = std::move(ring[(head + i) % ring.size()]);
  ring.swap(bigger);
  head = 0;
}

}  // namespace

PlayoutBuffer::PlayoutBuffer(Options options)
    : max_samples_(std::max<std::size_t>(options.capacity_samples, 1)),
      max_marks_(std::max<std::size_t>(options.max_pending_marks, 1)),
      samples_(std::clamp<std::size_t>(options.initial_samples, 1, max_samples_)),
      marks_(std::min(kInitialMarkSlots, max_marks_)),
      on_mark_(std::move(options.on_mark)) {}

PlayoutBuffer::PushResult PlayoutBuffer::push(std::span<const int16_t> samples) {
  if (samples.size() > samples_.size() - size_) grow_ring(samples_, head_, size_, size_ + samples.size(), max_samples_);
  const std::size_t capacity = samples_.size();
  const std::size_t accepted = std::min(samples.size(), capacity - size_);
  std::size_t tail = (head_ + size_) % capacity;
  std::size_t done = 0;
  while (done < accepted) {  // at most two copies: up to the end of the ring, then from its start
    const std::size_t n = std::min(accepted - done, capacity - tail);
    std::memcpy(&samples_[tail], samples.data() + done, n * sizeof(int16_t));
    done += n;
    tail = (tail + n) % capacity;
  }
  size_ += accepted;
  const std::size_t dropped = samples.size() - accepted;
  dropped_total_ += dropped;
  return {accepted, dropped};
}

bool PlayoutBuffer::mark(std::string_view name) {
  if (mark_count_ == marks_.size()) grow_ring(marks_, mark_head_, mark_count_, mark_count_ + 1, max_marks_);
  if (mark_count_ == marks_.size()) return false;
  PendingMark& slot = marks_[(mark_head_ + mark_count_) % marks_.size()];
  slot.name.assign(name);
  slot.position = read_pos_ + size_;
  ++mark_count_;
  return true;
}

void PlayoutBuffer::report_front_mark(MarkEvent event) {
  // Pop first and move the name out (a swap of two strings), so the callback may set a new mark (an
  // agent chaining marks) even into the slot just freed.
  reported_name_.swap(marks_[mark_head_].name);
  mark_head_ = (mark_head_ + 1) % marks_.size();
  --mark_count_;
  if (on_mark_) on_mark_(reported_name_, event);
}

std::size_t PlayoutBuffer::clear() {
  const std::size_t dropped = size_;
  read_pos_ += size_;
  head_ = (head_ + size_) % samples_.size();
  size_ = 0;
  while (mark_count_ > 0) report_front_mark(MarkEvent::kCleared);
  return dropped;
}

bool PlayoutBuffer::pull(std::span<int16_t> frame) {
  const std::size_t capacity = samples_.size();
  const std::size_t n = std::min(frame.size(), size_);
  std::size_t done = 0;
  while (done < n) {
    const std::size_t chunk = std::min(n - done, capacity - head_);
    std::memcpy(frame.data() + done, &samples_[head_], chunk * sizeof(int16_t));
    done += chunk;
    head_ = (head_ + chunk) % capacity;
  }
  std::fill(frame.begin() + static_cast<std::ptrdiff_t>(n), frame.end(), int16_t{0});
  size_ -= n;
  read_pos_ += n;
  while (mark_count_ > 0 && marks_[mark_head_].position <= read_pos_) report_front_mark(MarkEvent::kPlayed);
  return n > 0;
}

}  // namespace warmline::ai
