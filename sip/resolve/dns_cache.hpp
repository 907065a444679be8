// The resolver's answer cache: one entry per (type, name) question, kept for the answer's TTL on a
// clock the owner passes in (tests move it by hand), at most `capacity` entries (the least recently
// used goes first). Negative answers (NXDOMAIN, NODATA) are kept too, for the owner's negative TTL
// (RFC 2308), so a host without NAPTR or SRV does not cost three queries on every call.
//
// Threading: one cache per Resolver, i.e. per shard; no locks.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "sip/resolve/dns_answer.hpp"

namespace warmline::sip {

class DnsCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  DnsCache(size_t capacity, Clock clock);

  static std::string key(RecordType type, std::string_view name);  // case-insensitive on the name

  // The answer if it is cached and not yet expired; an expired entry is dropped here.
  std::shared_ptr<const DnsAnswer> find(const std::string& key);
  // A TTL of zero stores nothing (RFC 1035 §3.2.1: use only for the transaction in progress).
  void store(const std::string& key, std::shared_ptr<const DnsAnswer> answer, std::chrono::seconds ttl);

  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const DnsAnswer> answer;
    std::chrono::steady_clock::time_point expires;
  };
  size_t capacity_;
  Clock clock_;
  std::list<Entry> entries_;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace warmline::sip
