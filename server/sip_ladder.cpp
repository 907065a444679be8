#include "server/sip_ladder.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace warmline::server {

namespace {

// At most kLadderTextCap bytes, on one line (a header value is one line already; a body is not).
std::string capped(std::string_view s) {
  s = s.substr(0, s.find_first_of("\r\n"));
  if (s.size() > kLadderTextCap) return std::string(s.substr(0, kLadderTextCap)) + "...";
  return std::string(s);
}

}  // namespace

std::string ladder_first_line(const sip::Message& m) {
  if (!m.is_request) return capped(fmt::format("{} {}", m.status_code, m.reason));
  return capped(fmt::format("{} {}", m.method, m.request_uri.to_string()));
}

std::string ladder_detail(const sip::Message& m) {
  if (!m.is_request) return {};
  if (m.method == "REFER") {
    const std::string_view refer_to = m.header("Refer-To");
    return refer_to.empty() ? std::string() : capped(fmt::format("Refer-To: {}", refer_to));
  }
  if (m.method == "NOTIFY") {
    std::string out = fmt::format("Event: {}", m.header("Event"));
    // A REFER's progress (RFC 3515 §2.4.5): the sipfrag's status line says how far the transfer got.
    if (m.content_type.starts_with("message/sipfrag")) {
      std::string_view body = m.body;
      out += " | ";
      out += body.substr(0, body.find_first_of("\r\n"));
    }
    return capped(out);
  }
  if (m.method == "INVITE") {
    std::string out = fmt::format("To: {}", m.to.uri.to_string());
    if (const std::string_view replaces = m.header("Replaces"); !replaces.empty())
      out += fmt::format(" | Replaces: {}", replaces);
    return capped(out);
  }
  return {};
}

void SipLadder::add(const sip::Message& m, std::string_view leg, bool outgoing,
                    std::chrono::system_clock::time_point at) {
  if (cap_ == 0) return;
  if (entries_.size() >= cap_) {
    entries_.pop_front();
    ++dropped_;
  }
  entries_.push_back(LadderEntry{.at = at, .leg = std::string(leg), .outgoing = outgoing,
                                 .first_line = ladder_first_line(m), .cseq = m.cseq.number,
                                 .cseq_method = capped(m.cseq.method), .detail = ladder_detail(m)});
}

std::string SipLadder::next_dialled_leg() const {
  const auto dialled = std::count_if(legs_.begin(), legs_.end(), [](const auto& l) { return l.second != "a"; });
  return fmt::format("b{}", dialled + 1);
}

void LadderIndex::watch(const std::string& call_id, const std::shared_ptr<SipLadder>& ladder, std::string leg) {
  if (!ladder || call_id.empty()) return;
  ladder->legs_.emplace_back(call_id, leg);
  by_call_id_[call_id] = Watch{ladder, std::move(leg)};
}

void LadderIndex::forget(const SipLadder& ladder) {
  for (const auto& [call_id, leg] : ladder.legs_) {
    auto it = by_call_id_.find(call_id);
    if (it == by_call_id_.end()) continue;
    const auto owner = it->second.ladder.lock();
    if (!owner || owner.get() == &ladder) by_call_id_.erase(it);
  }
}

void LadderIndex::on_message(const sip::Message& message, bool outgoing) {
  if (by_call_id_.empty()) return;
  auto it = by_call_id_.find(message.call_id);
  if (it == by_call_id_.end()) return;
  auto ladder = it->second.ladder.lock();
  if (!ladder) return (void)by_call_id_.erase(it);
  ladder->add(message, it->second.leg, outgoing);
}

}  // namespace warmline::server
