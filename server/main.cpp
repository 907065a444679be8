// warmline's command line (DESIGN.md "Command line"):
//   warmline --config FILE        run the gateway; SIGTERM/SIGINT drain, a second signal stops at once
//   warmline check-config FILE    validate a config (exit 0, or 2 with FILE:LINE: key: problem lines)
//   warmline parse-sip FILE       parse one raw SIP message (exit 0 valid, 1 invalid)
//   warmline --version
#include <iostream>
#include <string>
#include <string_view>

#include "server/check_config_command.hpp"
#include "server/run_command.hpp"
#include "sip/parse_sip_command.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: warmline --config FILE\n"
    "       warmline check-config FILE\n"
    "       warmline parse-sip FILE\n"
    "       warmline --version\n";

}  // namespace

int main(int argc, char** argv) {
  std::string_view cmd = argc > 1 ? argv[1] : "";
  if (cmd == "--version" || cmd == "version") {
    std::cout << "warmline " << WARMLINE_VERSION << "\n";
    return 0;
  }
  if (argc == 3 && cmd == "check-config")
    return warmline::server::check_config_command(argv[2], std::cout, std::cerr);
  if (argc == 3 && cmd == "parse-sip") return warmline::sip::parse_sip_command(argv[2], std::cout, std::cerr);
  if (argc == 3 && cmd == "--config") return warmline::server::run_command(argv[2]);
  if (cmd == "--help" || cmd == "-h") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << kUsage;
  return 2;
}
