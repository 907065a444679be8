// Second pass of the config loader: checks that sections agree with each other. Runs on the filled
// structs; lines come from the key paths the first pass remembered.
#include "server/config_internal.hpp"
#include "server/targets.hpp"
#include "sip/uri.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace warmline::server::config_detail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Reports the second and later uses of a name (case-insensitive: "Sales" and "sales" would be
// indistinguishable to an AI asking for a transfer).
class UniqueNames {
 public:
  UniqueNames(Problems& problems, std::string_view what) : problems_(problems), what_(what) {}
  void add(const std::string& name, const std::string& key_path) {
    if (name.empty()) return;
    auto [it, inserted] = seen_.emplace(lower(name), key_path);
    if (!inserted) problems_.add_at(key_path, fmt::format("{} '{}' is already used by {}", what_, name, it->second));
  }

 private:
  Problems& problems_;
  std::string what_;
  std::map<std::string, std::string> seen_;
};

bool trunk_exists(const Config& config, const std::string& name) { return find_trunk(config, name) != nullptr; }

// A caller ID must be one the trunk lets us present (when the trunk lists any).
void check_caller_id(const Config& config, Problems& problems, const std::string& caller_id,
                     const std::string& trunk, const std::string& key_path) {
  const TrunkConfig* t = find_trunk(config, trunk);
  if (caller_id.empty() || t == nullptr || t->caller_ids.empty()) return;
  if (std::find(t->caller_ids.begin(), t->caller_ids.end(), caller_id) == t->caller_ids.end())
    problems.add_at(key_path, fmt::format("{} is not one of trunk {}'s caller_ids", caller_id, trunk));
}

void validate_trunks_and_pbxs(const Config& config, Problems& problems) {
  UniqueNames trunks(problems, "trunk name");
  for (size_t i = 0; i < config.trunks.size(); ++i) trunks.add(config.trunks[i].name, fmt::format("trunk[{}].name", i));
  // A trunk's codecs are a choice among what the node runs: a codec [media] leaves out has no
  // transcoding path here.
  const auto& media = config.media.codecs;
  for (size_t i = 0; i < config.trunks.size(); ++i)
    for (size_t j = 0; j < config.trunks[i].codecs.size(); ++j)
      if (std::find(media.begin(), media.end(), config.trunks[i].codecs[j]) == media.end())
        problems.add_at(fmt::format("trunk[{}].codecs[{}]", i, j),
                        fmt::format("'{}' is not one of [media] codecs", config.trunks[i].codecs[j]));
  UniqueNames pbxs(problems, "pbx name");
  for (size_t i = 0; i < config.pbxs.size(); ++i) {
    const PbxConfig& pbx = config.pbxs[i];
    const std::string path = fmt::format("pbx[{}]", i);
    pbxs.add(pbx.name, path + ".name");
    if (!pbx.trunk.empty() && !trunk_exists(config, pbx.trunk))
      problems.add_at(path + ".trunk", fmt::format("'{}' is not a configured trunk", pbx.trunk));
    std::map<std::string, size_t> numbers;
    for (size_t j = 0; j < pbx.extensions.size(); ++j) {
      const std::string& number = pbx.extensions[j].number;
      auto [it, inserted] = numbers.emplace(number, j);
      if (!inserted && !number.empty())
        problems.add_at(fmt::format("{}.extension[{}].number", path, j),
                        fmt::format("extension {} is already {}.extension[{}]", number, path, it->second));
    }
  }
}

void validate_targets(const Config& config, const AgentConfig& agent, const std::string& path, Problems& problems) {
  UniqueNames names(problems, "target name or alias");
  for (size_t j = 0; j < agent.targets.size(); ++j) {
    const TargetConfig& t = agent.targets[j];
    const std::string tpath = fmt::format("{}.target[{}]", path, j);
    names.add(t.name, tpath + ".name");
    for (size_t k = 0; k < t.aliases.size(); ++k) names.add(t.aliases[k], fmt::format("{}.aliases[{}]", tpath, k));
    if (!t.via.empty() && !trunk_exists(config, t.via)) {
      problems.add_at(tpath + ".via", fmt::format("'{}' is not a configured trunk", t.via));
      continue;
    }
    const std::string via = t.via.empty() && t.uri.starts_with("tel:") ? agent.trunk : t.via;
    if (t.uri.starts_with("tel:") && via.empty())
      problems.add_at(tpath + ".uri", "a tel: target needs a trunk to dial through (set via, or configure a [[trunk]])");
    const TrunkConfig* trunk = find_trunk(config, via);
    // Dialled through a trunk (a number, or any URI with its own via): the trunk needs an address.
    if (trunk != nullptr && (t.uri.starts_with("tel:") || !t.via.empty()) && trunk->address.host.empty())
      problems.add_at(tpath + ".via", fmt::format("trunk {} has no address to dial through", via));
    check_caller_id(config, problems, t.caller_id, via, tpath + ".caller_id");
  }
}

// A SIP agent (docs/sip.md "SIP agents") is dialled through a trunk, never straight to whatever host
// its URI names: its `trunk`, else the trunk whose address is the URI's host (and port, when both give
// one). The trunk needs an address, and a sips: agent a TLS trunk. Sets agent.trunk to the trunk found.
void validate_sip_agent(const Config& config, AgentConfig& agent, const std::string& path, Problems& problems) {
  auto uri = sip::parse_uri(agent.url);
  if (!uri) return;  // the first pass said what is wrong with it
  if (agent.trunk.empty()) {
    for (const TrunkConfig& t : config.trunks) {
      if (!iequals(t.address.host, uri->host)) continue;
      if (t.address.port != 0 && uri->port != 0 && t.address.port != uri->port) continue;
      agent.trunk = t.name;
      break;
    }
    if (agent.trunk.empty()) {
      const std::string where = uri->port ? fmt::format("{}:{}", uri->host, uri->port) : uri->host;
      problems.add_at(path + ".url", fmt::format("a sip: agent is dialled through a trunk: set trunk, or use the address "
                                                 "of a configured [[trunk]] (none has address {})", where));
      return;
    }
  }
  const TrunkConfig* trunk = find_trunk(config, agent.trunk);
  if (trunk == nullptr) return;  // validate_agent reports the unknown name
  if (trunk->address.host.empty())
    problems.add_at(path + ".trunk", fmt::format("trunk {} has no address to dial the agent through", trunk->name));
  if (uri->scheme == "sips" && trunk->transport != Transport::tls)
    problems.add_at(path + ".url", fmt::format("a sips: agent needs a trunk with transport = \"tls\" (trunk {} is {})",
                                               trunk->name, to_string(trunk->transport)));
}

void validate_agent(Config& config, AgentConfig& agent, const std::string& path, Problems& problems) {
  if (is_sip_agent(agent)) validate_sip_agent(config, agent, path, problems);
  if (!agent.trunk.empty() && !trunk_exists(config, agent.trunk)) {
    problems.add_at(path + ".trunk", fmt::format("'{}' is not a configured trunk", agent.trunk));
    agent.trunk.clear();
  } else if (agent.trunk.empty() && !config.trunks.empty()) {
    agent.trunk = config.trunks.front().name;  // documented default: numbers go out through the first trunk
  }
  if (!agent.allow_patterns.empty() && agent.trunk.empty())
    problems.add_at(path + ".allow_patterns", "dialling numbers needs a trunk (set trunk, or configure a [[trunk]])");
  else if (const TrunkConfig* t = find_trunk(config, agent.trunk); t && !agent.allow_patterns.empty() && t->address.host.empty())
    problems.add_at(path + ".allow_patterns", fmt::format("numbers are dialled through trunk {}, which has no address", t->name));
  check_caller_id(config, problems, agent.caller_id, agent.trunk, path + ".caller_id");
  validate_targets(config, agent, path, problems);
  if (!agent.default_forward.empty()) {
    TargetResult r = resolve_target(agent, config, agent.default_forward);
    if (!r.ok()) problems.add_at(path + ".default_forward", r.error.message);
  } else if (agent.on_failure == OnFailure::default_forward) {
    problems.add_at(path + ".on_failure", "is default_forward but the agent has no default_forward");
  }
}

}  // namespace

void validate_references(Config& config, Problems& problems) {
  validate_trunks_and_pbxs(config, problems);
  UniqueNames agents(problems, "agent name");
  std::map<std::string, std::string> numbers;  // number -> agent name that claimed it
  for (size_t i = 0; i < config.agents.size(); ++i) {
    AgentConfig& agent = config.agents[i];
    const std::string path = fmt::format("agent[{}]", i);
    agents.add(agent.name, path + ".name");
    for (size_t j = 0; j < agent.numbers.size(); ++j) {
      auto [it, inserted] = numbers.emplace(agent.numbers[j], agent.name);
      if (!inserted)
        problems.add_at(fmt::format("{}.numbers[{}]", path, j),
                        fmt::format("number '{}' is already routed to agent {}", agent.numbers[j], it->second));
    }
    validate_agent(config, agent, path, problems);
  }
}

}  // namespace warmline::server::config_detail
