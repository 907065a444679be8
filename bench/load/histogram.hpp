#pragma once
// A fixed-bucket latency histogram with one writer thread and any number of readers (progress and the
// report read it while the writer runs): buckets are relaxed atomics, so recording is a load and a
// store, no lock and no allocation.
//
// Buckets: 1 us wide up to 2 ms, 50 us up to 100 ms, 5 ms up to 10 s, then one overflow bucket, so the
// percentiles that matter (sub-millisecond media latency) are exact to 1 us and setup times (tens of
// ms) to 50 us.
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace warmline::load {

class LatencyHistogram {
 public:
  struct Tier {
    int64_t limit_ns;  // exclusive upper bound of the tier
    int64_t width_ns;  // bucket width inside it
  };
  static constexpr std::array<Tier, 3> kTiers{{{2'000'000, 1'000}, {100'000'000, 50'000},
                                               {10'000'000'000, 5'000'000}}};
  static constexpr size_t kBuckets = 2000 + 1960 + 1980 + 1;  // the last one is overflow

  // Negative values (a clock step) land in bucket 0 and are counted apart.
  void record(int64_t ns) {
    if (ns < 0) {
      bump(negative_);
      ns = 0;
    }
    bump(buckets_[bucket_of(ns)]);
    bump(count_);
    if (ns > max_.load(std::memory_order_relaxed)) max_.store(ns, std::memory_order_relaxed);
    sum_.store(sum_.load(std::memory_order_relaxed) + ns, std::memory_order_relaxed);
  }

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t negative() const { return negative_.load(std::memory_order_relaxed); }
  int64_t max_ns() const { return max_.load(std::memory_order_relaxed); }
  int64_t mean_ns() const {
    const uint64_t n = count();
    return n ? sum_.load(std::memory_order_relaxed) / static_cast<int64_t>(n) : 0;
  }

  // The p-th percentile (0 < p <= 100): the middle of the bucket that holds the sample of rank
  // ceil(p/100 * count); 0 when empty; the overflow bucket reports the maximum seen.
  int64_t percentile_ns(double p) const;

  static size_t bucket_of(int64_t ns);
  static int64_t bucket_low_ns(size_t bucket);
  static int64_t bucket_width_ns(size_t bucket);

 private:
  static void bump(std::atomic<uint64_t>& a) {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> negative_{0};
  std::atomic<int64_t> max_{0};
  std::atomic<int64_t> sum_{0};
};

inline size_t LatencyHistogram::bucket_of(int64_t ns) {
  size_t base = 0;
  int64_t low = 0;
  for (const Tier& t : kTiers) {
    if (ns < t.limit_ns) return base + static_cast<size_t>((ns - low) / t.width_ns);
    base += static_cast<size_t>((t.limit_ns - low) / t.width_ns);
    low = t.limit_ns;
  }
  return kBuckets - 1;
}

inline int64_t LatencyHistogram::bucket_low_ns(size_t bucket) {
  size_t base = 0;
  int64_t low = 0;
  for (const Tier& t : kTiers) {
    const auto n = static_cast<size_t>((t.limit_ns - low) / t.width_ns);
    if (bucket < base + n) return low + static_cast<int64_t>(bucket - base) * t.width_ns;
    base += n;
    low = t.limit_ns;
  }
  return low;
}

inline int64_t LatencyHistogram::bucket_width_ns(size_t bucket) {
  size_t base = 0;
  int64_t low = 0;
  for (const Tier& t : kTiers) {
    const auto n = static_cast<size_t>((t.limit_ns - low) / t.width_ns);
    if (bucket < base + n) return t.width_ns;
    base += n;
    low = t.limit_ns;
  }
  return 0;
}

inline int64_t LatencyHistogram::percentile_ns(double p) const {
  const uint64_t n = count();
  if (n == 0) return 0;
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += buckets_[b].load(std::memory_order_relaxed);
    if (seen >= rank) {
      if (b == kBuckets - 1) return max_ns();
      return bucket_low_ns(b) + bucket_width_ns(b) / 2;
    }
  }
  return max_ns();
}

}  // namespace warmline::load
