#include "bench/load/run_common.hpp"

#include <arpa/inet.h>
#include <sys/resource.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <fstream>

namespace warmline::load {

Percentiles percentiles_of(const LatencyHistogram& h) {
  return {h.count(), h.percentile_ns(50) / 1e3, h.percentile_ns(90) / 1e3, h.percentile_ns(99) / 1e3,
          static_cast<double>(h.max_ns()) / 1e3};
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  if (!(in >> a >> b >> c)) return "?";
  return a + " " + b + " " + c;
}

bool raise_fd_limit(uint64_t needed, std::string& error) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return true;
  if (lim.rlim_cur >= needed) return true;
  lim.rlim_cur = lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= needed ? needed : lim.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur < needed) {
    error = "need " + std::to_string(needed) + " file descriptors, the hard limit is " +
            std::to_string(lim.rlim_max) + " (raise it with ulimit -Hn)";
    return false;
  }
  return true;
}

std::optional<sockaddr_in> parse_endpoint(const std::string& ip_port) {
  const auto colon = ip_port.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  const std::string ip = ip_port.substr(0, colon);
  uint16_t port = 0;
  const char* end = ip_port.data() + ip_port.size();
  auto [p, ec] = std::from_chars(ip_port.data() + colon + 1, end, port);
  if (ec != std::errc() || p != end || port == 0 || inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1)
    return std::nullopt;
  a.sin_port = htons(port);
  return a;
}

bool peer_baseline(int pid, const char* flag, std::optional<int64_t>& rss_kib, std::string& error) {
  if (pid == 0) return true;
  auto s = sample_process(pid);
  if (!s) {
    error = std::string(flag) + " " + std::to_string(pid) + ": no such process";
    return false;
  }
  rss_kib = s->rss_kib;
  return true;
}

double loss_pct(uint64_t sent, uint64_t received) {
  if (sent == 0) return 0;
  return 100.0 * (static_cast<double>(sent) - static_cast<double>(std::min(sent, received))) / static_cast<double>(sent);
}

void fill_peer(RunResult& r, const CpuWindow& peer, std::optional<int64_t> rss_before, double window_s) {
  if (!peer.valid() || window_s <= 0) return;
  r.peer_cpu_cores = peer.cpu_s() / window_s;
  r.peer_rss_kib = peer.rss_kib();
  if (r.calls_up == 0) return;
  r.peer_cpu_pct_per_call = r.peer_cpu_cores * 100 / r.calls_up;
  if (rss_before) r.peer_rss_kib_per_call = static_cast<double>(peer.rss_kib() - *rss_before) / r.calls_up;
}

}  // namespace warmline::load
