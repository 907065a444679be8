#include "bench/load/proc_stats.hpp"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace warmline::load {

namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::optional<uint64_t> parse_stat_cpu_ticks(std::string_view stat) {
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // After "pid (comm)": field 3 is state; utime and stime are fields 14 and 15.
  std::string_view rest = stat.substr(close + 1);
  uint64_t ticks = 0;
  int field = 2;
  size_t i = 0;
  while (i < rest.size() && field < 15) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\n') ++j;
    if (j == i) return std::nullopt;
    ++field;
    if (field == 14 || field == 15) {
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(rest.data() + i, rest.data() + j, v);
      if (ec != std::errc() || p != rest.data() + j) return std::nullopt;
      ticks += v;
    }
    i = j;
  }
  if (field < 15) return std::nullopt;
  return ticks;
}

std::optional<int64_t> parse_status_rss_kib(std::string_view status) {
  const auto at = status.find("\nVmRSS:");
  if (at == std::string_view::npos) return std::nullopt;
  size_t i = at + 7;
  while (i < status.size() && (status[i] == ' ' || status[i] == '\t')) ++i;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(status.data() + i, status.data() + status.size(), v);
  if (ec != std::errc() || std::string_view(p, status.data() + status.size()).substr(0, 3) != " kB")
    return std::nullopt;
  return v;
}

std::optional<ProcSample> sample_process(int pid) {
  const std::string base = pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid);
  auto stat = read_file(base + "/stat");
  auto status = read_file(base + "/status");
  if (!stat || !status) return std::nullopt;
  auto ticks = parse_stat_cpu_ticks(*stat);
  auto rss = parse_status_rss_kib(*status);
  if (!ticks || !rss) return std::nullopt;
  return ProcSample{static_cast<double>(*ticks) / static_cast<double>(sysconf(_SC_CLK_TCK)), *rss};
}

}  // namespace warmline::load
