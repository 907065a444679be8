#include "ai_bridge/playout_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace warmline::ai {
namespace {

constexpr std::size_t kTypicalMarkNameBytes = 64;

}  // namespace

PlayoutBuffer::PlayoutBuffer(Options options)
    : samples_(std::max<std::size_t>(options.capacity_samples, 1)),
      marks_(std::max<std::size_t>(options.max_pending_marks, 1)),
      on_mark_(std::move(options.on_mark)) {
  // Reserve name storage up front so that setting a typical mark does not allocate.
  for (auto& m : marks_) m.name.reserve(kTypicalMarkNameBytes);
  reported_name_.reserve(kTypicalMarkNameBytes);
}

PlayoutBuffer::PushResult PlayoutBuffer::push(std::span<const int16_t> samples) {
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
  if (mark_count_ == marks_.size()) return false;
  PendingMark& slot = marks_[(mark_head_ + mark_count_) % marks_.size()];
  slot.name.assign(name);
  slot.position = read_pos_ + size_;
  ++mark_count_;
  return true;
}

void PlayoutBuffer::report_front_mark(MarkEvent event) {
  // Pop first and move the name out (a swap of two reserved strings: no allocation), so the callback
  // may set a new mark (an agent chaining marks) even into the slot just freed.
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
