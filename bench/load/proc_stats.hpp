#pragma once
// CPU and memory of a process from /proc (Linux proc(5)), for the gateway's, the relay's and the
// generator's own figures.
#include <cstdint>
#include <optional>
#include <string_view>

namespace warmline::load {

struct ProcSample {
  double cpu_s = 0;        // utime + stime, seconds (clock ticks / sysconf(_SC_CLK_TCK))
  int64_t rss_kib = 0;     // VmRSS
};

// pid 0 = this process. nullopt when the process is gone or /proc is unreadable.
std::optional<ProcSample> sample_process(int pid);

// Pure parsers (unit-tested): the utime+stime ticks of a /proc/PID/stat line (the command name may
// hold spaces and parentheses, so fields are counted after the last ')'), and VmRSS in KiB from
// /proc/PID/status.
std::optional<uint64_t> parse_stat_cpu_ticks(std::string_view stat);
std::optional<int64_t> parse_status_rss_kib(std::string_view status);

}  // namespace warmline::load
