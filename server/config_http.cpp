// The HTTP API's token ([server] http_token) as it reaches the rest of the config: the provider REST
// paths of an agent without its own api_key authenticate with it, and an API listening beyond
// loopback without it is warned about.
#include <fmt/format.h>

#include "server/config_internal.hpp"

namespace warmline::server::config_detail {
namespace {

bool has_rest_paths(AgentProtocol p) {
  return p == AgentProtocol::twilio || p == AgentProtocol::telnyx || p == AgentProtocol::plivo;
}

bool is_loopback(const std::string& host) { return host.starts_with("127.") || host == "::1"; }

}  // namespace

void apply_http_token(Config& config, Problems& problems) {
  const std::string& token = config.server.http_token;
  if (token.empty()) return;
  for (size_t i = 0; i < config.agents.size(); ++i) {
    AgentConfig& agent = config.agents[i];
    if (!has_rest_paths(agent.protocol) || !agent.api_key.empty()) continue;
    // Twilio and Plivo authenticate as account_id:key (HTTP Basic): without an account id a bot has
    // no user name to send.
    if (agent.protocol != AgentProtocol::telnyx && agent.account_id.empty()) {
      problems.add_at(fmt::format("agent[{}].protocol", i),
                      fmt::format("[server] http_token is set, so this agent's {} REST paths authenticate as "
                                  "account_id:http_token (it has no api_key of its own): set account_id",
                                  to_string(agent.protocol)));
      continue;
    }
    agent.api_key = token;
  }
}

std::vector<ConfigError> warnings(const Config& config, const Problems& problems) {
  std::vector<ConfigError> out;
  if (config.server.http_token.empty() && !is_loopback(config.server.http.host)) {
    out.push_back(ConfigError{problems.file(), problems.line_of("server.http"), "server.http",
                              fmt::format("warning: the HTTP API listens on {} beyond loopback without "
                                          "http_token: anyone who reaches it can hang up and transfer calls",
                                          config.server.http.host)});
  }
  return out;
}

}  // namespace warmline::server::config_detail
