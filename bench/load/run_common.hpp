#pragma once
// Pieces both run modes share: /proc CPU windows, percentiles for the
// report, the progress line, and small parsers.
#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>

#include "bench/load/histogram.hpp"
#include "bench/load/proc_stats.hpp"
#include "bench/load/report.hpp"

namespace warmline::load {

Percentiles percentiles_of(const LatencyHistogram& h);
std::string utc_now();            // "2025-01-31 12:34"
std::string load_average();       // the first three fields of /proc/loadavg
bool raise_fd_limit(uint64_t needed, std::string& error);  // soft RLIMIT_NOFILE up to the hard one
std::optional<sockaddr_in> parse_endpoint(const std::string& ip_port);  // IPv4 "a.b.c.d:port"

// CPU seconds of a process (and RSS) between begin() and end(). pid 0 = this process; kNone = no
// process (nothing is sampled, valid() stays false).
class CpuWindow {
 public:
  static constexpr int kNone = -1;
  explicit CpuWindow(int pid) : pid_(pid) {}
  void begin() {
    if (pid_ != kNone) first_ = sample_process(pid_);
  }
  void end() {
    if (pid_ != kNone) last_ = sample_process(pid_);
  }
  bool valid() const { return first_ && last_; }
  double cpu_s() const { return valid() ? last_->cpu_s - first_->cpu_s : 0; }
  int64_t rss_kib() const { return last_ ? last_->rss_kib : -1; }

 private:
  int pid_;
  std::optional<ProcSample> first_, last_;
};

// The peer's RSS before any call, for RSS per call: nullopt (and nothing to do) when pid is 0; false
// with a reason naming `flag` when the process does not exist.
bool peer_baseline(int pid, const char* flag, std::optional<int64_t>& rss_kib, std::string& error);

// Percent of `sent` that did not arrive (never negative: duplicates do not make up for losses).
double loss_pct(uint64_t sent, uint64_t received);

// Fills the peer's CPU/RSS columns of a result from its window (and the RSS before any call).
void fill_peer(RunResult& r, const CpuWindow& peer, std::optional<int64_t> rss_before, double window_s);

}  // namespace warmline::load
