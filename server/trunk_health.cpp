#include "server/trunk_health.hpp"

#include <algorithm>

namespace warmline::server {

std::string uri_host(const std::string& host) {
  return host.find(':') != std::string::npos && !host.starts_with('[') ? "[" + host + "]" : host;
}

std::string address_text(const HostPort& a) {
  if (a.host.empty()) return "";
  return a.port ? uri_host(a.host) + ":" + std::to_string(a.port) : uri_host(a.host);
}

TrunkHealth::TrunkHealth(const Config& config) {
  for (const TrunkConfig& t : config.trunks) {
    if (t.ping_interval_s == 0 || t.address.host.empty()) continue;
    gauges_.push_back(std::make_unique<Gauge>());
    gauges_.back()->trunk = t.name;
  }
}

TrunkHealth::Gauge* TrunkHealth::gauge(std::string_view trunk) {
  for (auto& g : gauges_)
    if (g->trunk == trunk) return g.get();
  return nullptr;
}

void TrunkHealth::set_down(std::string_view trunk, const sip::Endpoint& server, bool down) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(down_.begin(), down_.end(), [&](const Down& d) { return d.trunk == trunk && d.server == server; });
  if (down && it == down_.end()) down_.push_back(Down{std::string(trunk), server});
  else if (!down && it != down_.end()) down_.erase(it);
}

bool TrunkHealth::is_down(std::string_view trunk, const sip::Endpoint& server) const {
  std::lock_guard lock(mutex_);
  return std::any_of(down_.begin(), down_.end(), [&](const Down& d) { return d.trunk == trunk && d.server == server; });
}

void TrunkHealth::order(std::string_view trunk, std::vector<sip::Target>& targets) const {
  std::lock_guard lock(mutex_);
  auto known_down = [&](const sip::Target& t) {
    const sip::Endpoint e = t.endpoint();
    return std::any_of(down_.begin(), down_.end(), [&](const Down& d) { return d.trunk == trunk && d.server == e; });
  };
  std::stable_partition(targets.begin(), targets.end(), [&](const sip::Target& t) { return !known_down(t); });
}

}  // namespace warmline::server
