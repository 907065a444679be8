// warmline-load: drives N concurrent calls into a running warmline (or RTP through a relay) and
// reports the latency, loss and CPU it measured. See bench/README.md, "Load generator".
#include <cstdio>
#include <string>
#include <vector>

#include "bench/load/options.hpp"
#include "bench/load/report.hpp"
#include "bench/load/runs.hpp"

int main(int argc, char** argv) {
  using namespace warmline::load;
  auto parsed = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  if (parsed.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.options) {
    std::fprintf(stderr, "warmline-load: %s\n%s", parsed.error.c_str(), usage().c_str());
    return 2;
  }
  const Options& o = *parsed.options;
  std::string error;
  auto result = o.rtp_relay.empty() ? run_gateway(o, error) : run_relay(o, error);
  if (!result) {
    std::fprintf(stderr, "warmline-load: %s\n", error.c_str());
    return 1;
  }
  std::fputs(summary(*result).c_str(), stdout);
  if (!o.report_dir.empty() && !write_report(o.report_dir, *result, error)) {
    std::fprintf(stderr, "warmline-load: %s\n", error.c_str());
    return 1;
  }
  // Exit 3 when the run did not go as asked (failed calls, or cut short), so scripts can tell.
  return result->aborted || result->failed + result->timeouts > 0 ? 3 : 0;
}
