#include "server/run_command.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "server/config.hpp"
#include "server/gateway.hpp"

namespace warmline::server {

int run_command(const std::string& config_path) {
  auto loaded = load_config(config_path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::cerr << format_config_error(e) << "\n";
    return 2;
  }
  // One line per event, with the shard thread; calls put their id first in every message.
  auto logger = spdlog::stderr_color_mt("warmline");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [t%t] %v");
  logger->set_level(spdlog::level::from_str(loaded.config->server.log_level));
  spdlog::set_default_logger(logger);
  spdlog::flush_on(spdlog::level::info);
  for (const auto& w : loaded.warnings) spdlog::warn("{}", format_config_error(w));
  Gateway gateway(std::move(*loaded.config));
  return gateway.run();
}

}  // namespace warmline::server
