// `warmline check-config FILE` (DESIGN.md "Command line").
#pragma once

#include <ostream>
#include <string>

namespace warmline::server {

// Loads and validates the file. Valid: prints `FILE: ok` to `out`, returns 0. Invalid: prints every
// problem as `FILE:LINE: key.path: what is wrong`, one per line, to `err` and returns 2.
int check_config_command(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace warmline::server
