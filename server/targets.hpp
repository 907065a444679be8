// Where a transfer may go, and who may send us calls: the toll-fraud rules of DESIGN.md in code.
//
// warmline dials only what configuration names: an agent's targets, a PBX's extensions, or numbers
// matching the agent's allow_patterns (or its default_forward). Anything else the AI asks for is
// refused with a message the AI can act on. Inbound calls are accepted only from a trunk's CIDRs.
//
// Pure functions over a loaded Config; safe on any thread (they only read).
#pragma once

#include "server/config.hpp"
#include "server/transfer/outcome.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace warmline::server {

enum class TargetKind { named, extension, queue, ring_group, number };
std::string_view to_string(TargetKind kind);

struct ResolvedTarget {
  std::string name;       // the target's configured name, the extension's name (or number), or the number
  std::string uri;        // sip:/sips: URI, or tel:+E164 for numbers (dial it through via_trunk)
  std::string via_trunk;  // trunk name; empty = send to the URI's host directly
  std::string caller_id;  // E.164 to present in From; empty = none configured
  TargetKind kind = TargetKind::named;
  unsigned ring_timeout_s = 0;  // the target's own; 0 = the agent's
};

// unknown_target | number_not_allowed | invalid_number | no_trunk, with a message for the AI and the
// logs, e.g. "'Craig' is not one of agent demo's targets ...".
using TargetError = TransferRefusal;

struct TargetResult {
  std::optional<ResolvedTarget> target;
  TargetError error;  // meaningful when !target
  bool ok() const { return target.has_value(); }
};

// Order: the agent's targets by name or alias (case-insensitive) or exact URI, then PBX extensions by
// number, name or alias, then E.164 numbers (`+27...` or `tel:+27...`, visual separators allowed)
// that match the agent's allow_patterns or equal its default_forward. Everything else is refused.
TargetResult resolve_target(const AgentConfig& agent, const Config& config, std::string_view requested);

// True when `pattern` ("+2711*" prefix, or an exact number) admits `e164`.
bool number_matches_pattern(std::string_view e164, std::string_view pattern);

bool cidr_contains(const Cidr& cidr, const IpAddress& address);
// True when `address` is inside one of the trunk's source_cidrs. An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d, what a dual-stack socket reports) is matched as the IPv4 address.
bool source_allowed(const TrunkConfig& trunk, const IpAddress& address);
bool source_allowed(const TrunkConfig& trunk, std::string_view address);  // false if not an address
// The first trunk whose CIDRs contain `address`, or nullptr (= not from a known trunk).
const TrunkConfig* find_trunk_by_source(const Config& config, const IpAddress& address);

const TrunkConfig* find_trunk(const Config& config, std::string_view name);
// The agent whose `numbers` holds the inbound Request-URI user part (exact match), or nullptr.
const AgentConfig* find_agent_for_number(const Config& config, std::string_view user);

}  // namespace warmline::server
