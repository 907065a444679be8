#include "sip/resolve/records.hpp"

#include <algorithm>
#include <tuple>

#include "sip/message.hpp"  // iequals

namespace warmline::sip {

bool naptr_service_transport(std::string_view service, bool secure, TargetTransport& out) {
  // §4.1: "a client resolving a SIPS URI MUST discard any services that do not contain 'SIPS'".
  if (iequals(service, "SIPS+D2T")) {
    out = TargetTransport::kTls;
    return true;
  }
  if (secure) return false;
  if (iequals(service, "SIP+D2U")) {
    out = TargetTransport::kUdp;
    return true;
  }
  if (iequals(service, "SIP+D2T")) {
    out = TargetTransport::kTcp;
    return true;
  }
  return false;  // SIP+D2S (SCTP), SIPS+D2S, E2U, ...: not ours
}

std::vector<SrvQuery> select_naptr(std::vector<NaptrRecord> records, bool secure,
                                   std::span<const TargetTransport> supported) {
  struct Usable {
    const NaptrRecord* record;
    TargetTransport transport;
  };
  std::vector<Usable> usable;
  for (const NaptrRecord& r : records) {
    TargetTransport t;
    // Only terminal "S" rules lead to SRV; "A"/"U"/"P" rules and regexps are other applications'.
    if (!iequals(r.flags, "s") || !r.regexp.empty() || r.replacement.empty()) continue;
    if (!naptr_service_transport(r.service, secure, t)) continue;
    if (std::find(supported.begin(), supported.end(), t) == supported.end()) continue;
    usable.push_back({&r, t});
  }
  if (usable.empty()) return {};
  std::stable_sort(usable.begin(), usable.end(), [](const Usable& a, const Usable& b) {
    if (a.record->order != b.record->order) return a.record->order < b.record->order;
    return a.record->preference < b.record->preference;
  });
  std::vector<SrvQuery> out;
  const uint16_t lowest_order = usable.front().record->order;
  for (const Usable& u : usable) {
    if (u.record->order != lowest_order) break;
    SrvQuery q{u.record->replacement, u.transport};
    if (std::find(out.begin(), out.end(), q) == out.end()) out.push_back(std::move(q));
  }
  return out;
}

std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records, const SrvDraw& random) {
  if (records.size() == 1 && (records[0].target == "." || records[0].target.empty())) return {};
  std::erase_if(records, [](const SrvRecord& r) { return r.target.empty() || r.target == "."; });
  std::stable_sort(records.begin(), records.end(),
                   [](const SrvRecord& a, const SrvRecord& b) { return a.priority < b.priority; });
  // A source that returns more than asked is clamped rather than trusted.
  const auto draw = [&](uint32_t max) { return std::min(random(max), max); };
  std::vector<SrvRecord> out;
  out.reserve(records.size());
  auto group_begin = records.begin();
  while (group_begin != records.end()) {
    auto group_end = std::find_if(group_begin, records.end(),
                                  [&](const SrvRecord& r) { return r.priority != group_begin->priority; });
    std::vector<SrvRecord> group(std::make_move_iterator(group_begin), std::make_move_iterator(group_end));
    // Zero weights first (RFC 2782), the rest in a fixed order of our own rather than the answer's:
    // the RFC allows any, and servers rotate their answers, so a fixed order makes a given draw
    // always pick the same record (tests inject the draw).
    std::sort(group.begin(), group.end(), [](const SrvRecord& a, const SrvRecord& b) {
      return std::make_tuple(a.weight != 0, std::string_view(a.target), a.port) <
             std::make_tuple(b.weight != 0, std::string_view(b.target), b.port);
    });
    while (group.size() > 1) {
      uint32_t sum = 0;
      for (const SrvRecord& r : group) sum += r.weight;
      size_t chosen = 0;
      if (sum == 0) {
        chosen = draw(static_cast<uint32_t>(group.size() - 1));  // no preference: any order, spread load
      } else {
        // The running-sum value 0 belongs to the zero-weight records at the front; without any, 0
        // would only inflate the first record's share, so the draw starts at 1 and each record is
        // picked in exact proportion to its weight.
        const uint32_t pick = group.front().weight == 0 ? draw(sum) : 1 + draw(sum - 1);
        uint32_t running = 0;
        for (chosen = 0; chosen + 1 < group.size(); ++chosen) {
          running += group[chosen].weight;
          if (running >= pick) break;
        }
      }
      out.push_back(std::move(group[chosen]));
      group.erase(group.begin() + static_cast<std::ptrdiff_t>(chosen));
    }
    if (!group.empty()) out.push_back(std::move(group.front()));
    group_begin = group_end;
  }
  return out;
}

}  // namespace warmline::sip
