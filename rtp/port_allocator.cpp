#include "rtp/port_allocator.hpp"

namespace warmline::rtp {
namespace {

uint32_t first_even(PortRange range) { return range.min + (range.min & 1u); }

}  // namespace

size_t rtp_port_count(PortRange range) {
  const uint32_t first = first_even(range);
  if (range.max == 0 || first + 1 > range.max) return 0;
  return (range.max - 1 - first) / 2 + 1;  // p = first, first+2, ... while p + 1 <= max
}

std::vector<PortRange> split_range(PortRange range, size_t n) {
  std::vector<PortRange> slices;
  if (n == 0) return slices;
  const size_t total = rtp_port_count(range);
  uint32_t next = first_even(range);
  for (size_t i = 0; i < n; ++i) {
    const size_t count = total / n + (i < total % n ? 1 : 0);
    if (count == 0) {
      slices.push_back(PortRange{1, 0});  // empty
      continue;
    }
    const uint32_t last_rtcp = next + static_cast<uint32_t>(count) * 2 - 1;
    slices.push_back(PortRange{static_cast<uint16_t>(next), static_cast<uint16_t>(last_rtcp)});
    next = last_rtcp + 1;
  }
  return slices;
}

PortAllocator::PortAllocator(PortRange range)
    : range_(range), first_(static_cast<uint16_t>(first_even(range))) {
  const size_t count = rtp_port_count(range);
  in_use_.assign(count, false);
  free_.resize(count);
  for (size_t i = 0; i < count; ++i) free_[i] = static_cast<uint16_t>(first_ + i * 2);
  free_count_ = count;
}

size_t PortAllocator::index_of(uint16_t port) const {
  if (port < first_ || (port - first_) % 2 != 0) return capacity();
  const size_t index = (port - first_) / 2;
  return index < capacity() ? index : capacity();
}

std::optional<uint16_t> PortAllocator::allocate() {
  if (free_count_ == 0) return std::nullopt;
  const uint16_t port = free_[head_];
  head_ = (head_ + 1) % free_.size();
  --free_count_;
  in_use_[index_of(port)] = true;
  return port;
}

void PortAllocator::release(uint16_t port) {
  const size_t index = index_of(port);
  if (index == capacity() || !in_use_[index]) return;
  in_use_[index] = false;
  free_[(head_ + free_count_) % free_.size()] = port;
  ++free_count_;
}

}  // namespace warmline::rtp
