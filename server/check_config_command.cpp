#include "server/check_config_command.hpp"

#include "server/config.hpp"

namespace warmline::server {

int check_config_command(const std::string& path, std::ostream& out, std::ostream& err) {
  const LoadResult result = load_config(path);
  for (const ConfigError& w : result.warnings) err << format_config_error(w) << '\n';
  if (result.ok()) {
    out << path << ": ok\n";
    return 0;
  }
  for (const ConfigError& e : result.errors) err << format_config_error(e) << '\n';
  return 2;
}

}  // namespace warmline::server
