// RTP port allocation: even ports for RTP, the next odd one reserved for RTCP (RFC 3550 §11).
//
// Thread: not thread-safe by design. Each shard owns one allocator over its own disjoint slice of the
// configured range (split_range), so no lock is ever needed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace warmline::rtp {

struct PortRange {
  uint16_t min = 0;
  uint16_t max = 0;   // inclusive
  bool operator==(const PortRange&) const = default;
};

// Number of RTP ports (even p with p+1 <= max) in the range.
size_t rtp_port_count(PortRange range);

// Splits a range into n disjoint slices with as equal a number of RTP ports as possible (the first
// slices get one more when it does not divide). Each slice starts on an even port. When there are
// fewer RTP ports than n, the last slices are empty (min > max) and their allocators hand out nothing.
std::vector<PortRange> split_range(PortRange range, size_t n);

class PortAllocator {
 public:
  explicit PortAllocator(PortRange range);

  // An even port whose odd neighbour is also ours, or nullopt when all are taken. Ports are reused
  // least-recently-released first, so a late packet for an ended call rarely reaches a new one.
  std::optional<uint16_t> allocate();
  // Returns a port; ignores ports that are not ours or not allocated (a double release is harmless).
  void release(uint16_t port);

  size_t capacity() const { return in_use_.size(); }
  size_t available() const { return free_count_; }
  PortRange range() const { return range_; }

 private:
  size_t index_of(uint16_t port) const;  // capacity() when not one of ours

  PortRange range_;
  uint16_t first_ = 0;               // first even port
  std::vector<bool> in_use_;         // by index (port - first_) / 2
  std::vector<uint16_t> free_;       // ring buffer of free ports (FIFO)
  size_t head_ = 0;
  size_t free_count_ = 0;
};

}  // namespace warmline::rtp
