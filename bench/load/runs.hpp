#pragma once
// The two run modes. Each runs on the calling thread (plus, for the gateway mode, the agent's
// thread), bounded by --max-runtime-s, and returns the result for the report; nullopt with a reason
// when it cannot start (a port in use, no io_uring, a bad pairs file).
#include <optional>
#include <string>

#include "bench/load/options.hpp"
#include "bench/load/report.hpp"

namespace warmline::load {

// SIP + RTP into a running warmline, playing the agent too.
std::optional<RunResult> run_gateway(const Options& options, std::string& error);
// RTP through a relay (rtpengine): leg A -> relay -> leg B, per the pairs file.
std::optional<RunResult> run_relay(const Options& options, std::string& error);

}  // namespace warmline::load
