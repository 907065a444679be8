// `warmline --config FILE`: load the config (problems are printed like check-config and exit 2), set
// up logging, run the gateway until it has drained.
#pragma once

#include <string>

namespace warmline::server {

int run_command(const std::string& config_path);

}  // namespace warmline::server
