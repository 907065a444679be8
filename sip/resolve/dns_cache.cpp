#include "sip/resolve/dns_cache.hpp"

namespace warmline::sip {

DnsCache::DnsCache(size_t capacity, Clock clock) : capacity_(capacity), clock_(std::move(clock)) {}

std::string DnsCache::key(RecordType type, std::string_view name) {
  std::string k(to_string(type));
  k += ' ';
  for (char c : name) k += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  if (k.size() > 1 && k.back() == '.') k.pop_back();  // "pbx.test." and "pbx.test" are one name
  return k;
}

std::shared_ptr<const DnsAnswer> DnsCache::find(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  if (clock_() >= it->second->expires) {
    entries_.erase(it->second);
    index_.erase(it);
    return nullptr;
  }
  entries_.splice(entries_.begin(), entries_, it->second);
  return entries_.front().answer;
}

void DnsCache::store(const std::string& key, std::shared_ptr<const DnsAnswer> answer, std::chrono::seconds ttl) {
  if (ttl <= std::chrono::seconds::zero() || capacity_ == 0) return;
  const auto expires = clock_() + ttl;
  if (auto it = index_.find(key); it != index_.end()) {
    it->second->answer = std::move(answer);
    it->second->expires = expires;
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  if (entries_.size() >= capacity_) {
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
  entries_.push_front(Entry{key, std::move(answer), expires});
  index_.emplace(key, entries_.begin());
}

}  // namespace warmline::sip
