// A token bucket per source address for new INVITEs ([server] invite_rate_per_source): each source
// may start `per_second` calls a second on average, in bursts of up to `per_second`. Beyond it the
// router answers 503 with Retry-After. Sources come only from trunks' CIDRs (the router screens the
// rest first); the table is still bounded: past kMaxSources, sources whose bucket has refilled (idle
// ones) are forgotten.
// Thread: InviteRateLimiter is one thread's. A node has one SharedInviteRateLimiter for all its shards:
// a new INVITE is handled on the shard that owns its Call-ID, so one source's calls spread over every
// shard, and a bucket per shard would let a source start `per_second` calls a second on each.
#pragma once

#include <algorithm>
#include <chrono>
#include <iterator>
#include <mutex>
#include <string>
#include <unordered_map>

namespace warmline::server {

class InviteRateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr size_t kMaxSources = 4096;

  // Takes one token for `source` at `per_second` (the config's; 0: no limit, always true); false when
  // its bucket is empty.
  bool allow(const std::string& source, TimePoint now, unsigned per_second) {
    if (per_second == 0) return true;
    if (per_second != rate_) buckets_.clear();  // a new rate starts every source afresh
    rate_ = per_second;
    if (buckets_.size() >= kMaxSources && !buckets_.contains(source)) forget_idle(now);
    auto [it, fresh] = buckets_.try_emplace(source, Bucket{static_cast<double>(rate_), now});
    Bucket& b = it->second;
    if (!fresh) refill(b, now);
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
  }

  size_t sources() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    TimePoint at;
  };
  void refill(Bucket& b, TimePoint now) const {
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(static_cast<double>(rate_), b.tokens + elapsed * rate_);
    b.at = now;
  }
  void forget_idle(TimePoint now) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      refill(it->second, now);
      it = it->second.tokens >= rate_ ? buckets_.erase(it) : std::next(it);
    }
  }

  unsigned rate_ = 0;
  std::unordered_map<std::string, Bucket> buckets_;
};

// The node's buckets, shared by every shard's router. The mutex is taken once per new INVITE from a
// trunk (never on the media path, nor for scanners: unknown sources are screened before).
class SharedInviteRateLimiter {
 public:
  bool allow(const std::string& source, InviteRateLimiter::TimePoint now, unsigned per_second) {
    std::lock_guard lock(mutex_);
    return limiter_.allow(source, now, per_second);
  }

 private:
  std::mutex mutex_;
  InviteRateLimiter limiter_;
};

}  // namespace warmline::server
