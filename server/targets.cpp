#include "server/targets.hpp"

#include "server/config_internal.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace warmline::server {
namespace {

using config_detail::iequals;

bool name_matches(std::string_view requested, const std::string& name, const std::vector<std::string>& aliases) {
  if (!name.empty() && iequals(requested, name)) return true;
  return std::any_of(aliases.begin(), aliases.end(), [&](const std::string& a) { return iequals(requested, a); });
}

// The From number: the target's own, else the agent's, else the first the trunk allows.
std::string pick_caller_id(const Config& config, const AgentConfig& agent, const std::string& own, const std::string& trunk) {
  if (!own.empty()) return own;
  if (!agent.caller_id.empty()) return agent.caller_id;
  const TrunkConfig* t = find_trunk(config, trunk);
  return t != nullptr && !t->caller_ids.empty() ? t->caller_ids.front() : std::string();
}

std::optional<ResolvedTarget> match_named(const AgentConfig& agent, const Config& config, std::string_view requested) {
  for (const TargetConfig& t : agent.targets) {
    if (!name_matches(requested, t.name, t.aliases) && requested != t.uri) continue;
    // A tel: target has no host of its own: it goes out through the agent's trunk unless it names one.
    std::string via = t.via.empty() && t.uri.starts_with("tel:") ? agent.trunk : t.via;
    std::string caller_id = pick_caller_id(config, agent, t.caller_id, via);
    return ResolvedTarget{t.name, t.uri, std::move(via), std::move(caller_id), TargetKind::named, t.ring_timeout_s};
  }
  return std::nullopt;
}

TargetKind kind_of(ExtensionKind kind) {
  switch (kind) {
    case ExtensionKind::queue: return TargetKind::queue;
    case ExtensionKind::ring_group: return TargetKind::ring_group;
    case ExtensionKind::extension: break;
  }
  return TargetKind::extension;
}

std::optional<ResolvedTarget> match_extension(const AgentConfig& agent, const Config& config, std::string_view requested) {
  for (const PbxConfig& pbx : config.pbxs) {
    for (const ExtensionConfig& ext : pbx.extensions) {
      if (requested != ext.number && !name_matches(requested, ext.name, ext.aliases)) continue;
      return ResolvedTarget{ext.name.empty() ? ext.number : ext.name, fmt::format("sip:{}@{}", ext.number, pbx.domain),
                            pbx.trunk, agent.caller_id, kind_of(ext.kind)};
    }
  }
  return std::nullopt;
}

// "tel:+27-11-555-0100;phone-context=..." -> "+27115550100": RFC 3966 visual separators dropped.
std::string normalize_number(std::string_view text) {
  if (text.size() >= 4 && iequals(text.substr(0, 4), "tel:")) text = text.substr(4, text.find(';') - 4);
  std::string out;
  for (char c : text)
    if (c != '-' && c != '.' && c != '(' && c != ')' && c != ' ') out += c;
  return out;
}

bool looks_like_number(std::string_view s) {
  return !s.empty() && (s[0] == '+' || std::isdigit(static_cast<unsigned char>(s[0]))) &&
         std::all_of(s.begin() + 1, s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

TargetResult match_number(const AgentConfig& agent, const Config& config, std::string_view requested) {
  const std::string number = normalize_number(requested);
  if (!config_detail::check_e164(number).empty()) {
    return {std::nullopt, {TargetError::Code::kInvalidNumber, fmt::format("'{}' is not an E.164 number ('+', country code, 8 to 15 digits)", requested)}};
  }
  const bool allowed = std::any_of(agent.allow_patterns.begin(), agent.allow_patterns.end(),
                                   [&](const std::string& p) { return number_matches_pattern(number, p); }) ||
                       (!agent.default_forward.empty() && normalize_number(agent.default_forward) == number);
  if (!allowed) {
    return {std::nullopt, {TargetError::Code::kNumberNotAllowed, fmt::format("{} does not match agent {}'s allow_patterns", number, agent.name)}};
  }
  if (agent.trunk.empty()) {
    return {std::nullopt, {TargetError::Code::kNoTrunk, fmt::format("agent {} has no trunk to dial {} through", agent.name, number)}};
  }
  ResolvedTarget target{number, "tel:" + number, agent.trunk, pick_caller_id(config, agent, "", agent.trunk), TargetKind::number};
  return {std::move(target), {}};
}

bool is_v4_mapped(const IpAddress& a) {
  return a.v6 && std::all_of(a.bytes.begin(), a.bytes.begin() + 10, [](uint8_t b) { return b == 0; }) &&
         a.bytes[10] == 0xff && a.bytes[11] == 0xff;
}

}  // namespace

std::string_view to_string(TargetKind kind) {
  switch (kind) {
    case TargetKind::named: return "named";
    case TargetKind::extension: return "extension";
    case TargetKind::queue: return "queue";
    case TargetKind::ring_group: return "ring_group";
    case TargetKind::number: return "number";
  }
  return "named";
}

TargetResult resolve_target(const AgentConfig& agent, const Config& config, std::string_view requested) {
  while (!requested.empty() && requested.front() == ' ') requested.remove_prefix(1);
  while (!requested.empty() && requested.back() == ' ') requested.remove_suffix(1);
  if (requested.empty()) return {std::nullopt, {TargetError::Code::kUnknownTarget, "no target given"}};
  if (auto t = match_named(agent, config, requested)) return {std::move(t), {}};
  if (auto t = match_extension(agent, config, requested)) return {std::move(t), {}};
  if (looks_like_number(normalize_number(requested))) return match_number(agent, config, requested);
  return {std::nullopt,
          {TargetError::Code::kUnknownTarget, fmt::format("'{}' is not one of agent {}'s targets or a PBX extension", requested, agent.name)}};
}

bool number_matches_pattern(std::string_view e164, std::string_view pattern) {
  if (pattern.ends_with('*')) return e164.starts_with(pattern.substr(0, pattern.size() - 1));
  return e164 == pattern;
}

bool cidr_contains(const Cidr& cidr, const IpAddress& address) {
  IpAddress a = address;
  if (is_v4_mapped(a) && !cidr.network.v6) {
    a = IpAddress::from_v4({a.bytes[12], a.bytes[13], a.bytes[14], a.bytes[15]});
  }
  if (a.v6 != cidr.network.v6) return false;
  const int full = cidr.prefix_len / 8;
  if (!std::equal(a.bytes.begin(), a.bytes.begin() + full, cidr.network.bytes.begin())) return false;
  const int rest = cidr.prefix_len % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (cidr.network.bytes[full] & mask);
}

bool source_allowed(const TrunkConfig& trunk, const IpAddress& address) {
  return std::any_of(trunk.source_cidrs.begin(), trunk.source_cidrs.end(),
                     [&](const Cidr& c) { return cidr_contains(c, address); });
}

bool source_allowed(const TrunkConfig& trunk, std::string_view address) {
  auto a = parse_ip_address(address);
  return a && source_allowed(trunk, *a);
}

const TrunkConfig* find_trunk_by_source(const Config& config, const IpAddress& address) {
  for (const TrunkConfig& t : config.trunks)
    if (source_allowed(t, address)) return &t;
  return nullptr;
}

const TrunkConfig* find_trunk(const Config& config, std::string_view name) {
  for (const TrunkConfig& t : config.trunks)
    if (t.name == name) return &t;
  return nullptr;
}

const AgentConfig* find_agent_for_number(const Config& config, std::string_view user) {
  for (const AgentConfig& a : config.agents)
    if (std::find(a.numbers.begin(), a.numbers.end(), user) != a.numbers.end()) return &a;
  return nullptr;
}

}  // namespace warmline::server
