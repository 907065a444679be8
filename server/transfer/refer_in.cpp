#include "server/transfer/refer_in.hpp"

#include <fmt/format.h>

#include <initializer_list>
#include <utility>

#include "sip/builders.hpp"
#include "sip/uri.hpp"

namespace warmline::server {

namespace {

constexpr const char* kActive = "active;expires=60";
constexpr const char* kTerminated = "terminated;reason=noresource";

ReferCheck refuse(int status, std::string reason, std::string detail) {
  ReferCheck c;
  c.status = status;
  c.reason = std::move(reason);
  c.detail = std::move(detail);
  return c;
}

// The status that says what a transfer without a final SIP status of its own came to.
int status_for(TransferResult result) {
  switch (result) {
    case TransferResult::kCompleted: return 200;
    case TransferResult::kBusy: return 486;
    case TransferResult::kDeclined: return 603;
    case TransferResult::kNoAnswer: return 480;
    case TransferResult::kUnreachable: return 404;
    case TransferResult::kRejected: return 403;
    case TransferResult::kTimeout: return 408;
    case TransferResult::kCancelled:
    case TransferResult::kCallerHungUp: return 487;
    case TransferResult::kFailed: break;
  }
  return 500;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <typename T>
bool pick(std::string_view value, std::initializer_list<std::pair<const char*, T>> choices, T& out) {
  for (const auto& [name, v] : choices)
    if (sip::iequals(value, name)) {
      out = v;
      return true;
    }
  return false;
}

// X-Warmline-Transfer into `c` (the agent's refer_in_mode is already there). "" when it is well formed,
// else what is wrong with it.
std::string read_mode_header(std::string_view value, ReferCheck& c) {
  value = trim(value);
  const size_t semi = value.find(';');
  const std::string_view mode = trim(value.substr(0, semi));
  if (sip::iequals(mode, "cold")) c.warm = false;
  else if (sip::iequals(mode, "warm")) c.warm = true;
  else return "the mode must be cold or warm, not '" + std::string(mode) + "'";
  std::string_view rest = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
  bool seen_hold = false, seen_briefing = false, seen_screening = false;
  while (semi != std::string_view::npos) {
    const size_t next = rest.find(';');
    const std::string_view param = trim(rest.substr(0, next));
    const size_t eq = param.find('=');
    const std::string_view name = trim(param.substr(0, eq));
    const std::string_view v = eq == std::string_view::npos ? std::string_view() : trim(param.substr(eq + 1));
    if (!c.warm) return "a cold transfer takes no parameters ('" + std::string(param) + "')";
    bool ok = false, repeated = false;
    if (sip::iequals(name, "hold")) {
      repeated = std::exchange(seen_hold, true);
      ok = pick<ai::HoldAudio>(v, {{"music", ai::HoldAudio::kMusic}, {"ringback", ai::HoldAudio::kRingback},
                                   {"silence", ai::HoldAudio::kSilence}}, c.hold);
    } else if (sip::iequals(name, "briefing")) {
      repeated = std::exchange(seen_briefing, true);
      ok = pick<bool>(v, {{"agent", true}, {"none", false}}, c.consult);
    } else if (sip::iequals(name, "screening")) {
      repeated = std::exchange(seen_screening, true);
      ok = pick<ai::Screening>(v, {{"none", ai::Screening::kNone}, {"dtmf", ai::Screening::kDtmf},
                                   {"agent", ai::Screening::kAgent}}, c.screening);
    } else {
      return "unknown parameter '" + std::string(name) + "'";
    }
    if (repeated) return "parameter '" + std::string(name) + "' given twice";
    if (!ok) return "'" + std::string(param) + "' is not a valid value";
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 1);
  }
  return "";
}

}  // namespace

ReferCheck check_refer(const AgentConfig& agent, const Config& config, const TrunkConfig* peer_trunk,
                       const sip::Message& refer) {
  // DESIGN.md toll-fraud rules: only a trunk configured for it may make us dial.
  if (!peer_trunk || !peer_trunk->accepts_refer_from_peer)
    return refuse(403, "Forbidden - REFER not accepted",
                  peer_trunk ? "trunk " + peer_trunk->name + " does not have accepts_refer_from_peer"
                             : "the peer is not reached through a trunk");
  // RFC 3515 §2.4.1: exactly one Refer-To.
  const sip::Header* header = nullptr;
  for (const auto& h : refer.headers) {
    if (!sip::iequals(h.name, "Refer-To")) continue;
    if (header) return refuse(400, "Bad Request - More Than One Refer-To", "");
    header = &h;
  }
  if (!header) return refuse(400, "Bad Request - Missing Refer-To", "");
  const sip::Header* mode_header = nullptr;
  for (const auto& h : refer.headers) {
    if (!sip::iequals(h.name, kTransferModeHeader)) continue;
    if (mode_header) return refuse(400, "Bad Request - Malformed X-Warmline-Transfer", "the header is given twice");
    mode_header = &h;
  }
  ReferCheck mode;
  mode.warm = agent.refer_in_mode == ReferInMode::warm;
  if (mode_header) {
    if (std::string error = read_mode_header(mode_header->value, mode); !error.empty())
      return refuse(400, "Bad Request - Malformed X-Warmline-Transfer", error);
  }
  auto list = sip::parse_name_addr_list(header->value);
  if (!list || list->size() != 1) return refuse(400, "Bad Request - Malformed Refer-To", header->value);
  const sip::Uri& uri = list->front().uri;
  if (!uri.headers.empty()) {
    // A Replaces (RFC 3891) asks us to take over another dialog: not something we do. Other embedded
    // headers would end up in our INVITE: never.
    for (const auto& p : uri.headers)
      if (sip::iequals(p.name, "Replaces")) return refuse(501, "Not Implemented - Replaces", header->value);
    return refuse(403, "Forbidden - Refer-To Headers Not Accepted", header->value);
  }
  if (!uri.is_sip() && uri.scheme != "tel")
    return refuse(403, "Forbidden - Refer-To Not Configured", "scheme " + uri.scheme + " is not dialled");

  // The whole URI (an agent target's exact uri, or tel:+E164), then a SIP URI's user part.
  std::vector<std::string> candidates{uri.to_string()};
  if (uri.is_sip() && !uri.user.empty()) {
    std::string user = sip::uri_unescape(uri.user);
    candidates.push_back(user.substr(0, user.find(';')));
  }
  std::string why;
  for (const auto& candidate : candidates) {
    auto r = resolve_target(agent, config, candidate);
    if (r.ok()) {
      ReferCheck c;
      c.requested = candidate;
      c.target = std::move(r.target);
      c.subscription = !sip::iequals(refer.header("Refer-Sub"), "false");
      c.warm = mode.warm;
      c.hold = mode.hold;
      c.consult = mode.consult;
      c.screening = mode.screening;
      return c;
    }
    why = r.error.reason();
  }
  return refuse(403, "Forbidden - Refer-To Not Configured", why);
}

std::string sipfrag_final(TransferResult result, int sip_status, std::string_view reason) {
  const int status = result == TransferResult::kCompleted ? 200 : sip_status >= 300 && sip_status < 700 ? sip_status
                                                                                                         : status_for(result);
  // A reason phrase of our own making (a local failure's) is not a SIP reason: the standard one.
  const bool theirs = sip_status == status && !reason.empty() && reason.find('\n') == std::string_view::npos &&
                      reason.find('\r') == std::string_view::npos && result != TransferResult::kCompleted;
  return fmt::format("SIP/2.0 {} {}\r\n", status, theirs ? reason : sip::reason_phrase(status));
}

void fill_notify(sip::Message& notify, const ReferNotify& content) {
  notify.set_header("Event", content.event);
  notify.set_header("Subscription-State", content.subscription_state);
  notify.content_type = "message/sipfrag;version=2.0";
  notify.body = content.body;
}

ReferNotifier::ReferNotifier(uint32_t refer_cseq, bool subscription, Send send)
    : cseq_(refer_cseq), subscription_(subscription), send_(std::move(send)) {
  if (!subscription_) done_ = true;
}

void ReferNotifier::on_done(std::function<void()> done) {
  if (done_) {
    if (done) done();
    return;
  }
  on_done_ = std::move(done);
}

void ReferNotifier::accepted() {
  queue({fmt::format("refer;id={}", cseq_), kActive, "SIP/2.0 100 Trying\r\n", false});
}

void ReferNotifier::progress(int status) {
  if (ringing_sent_ || status < 180 || status > 199) return;
  ringing_sent_ = true;
  queue({fmt::format("refer;id={}", cseq_), kActive,
         fmt::format("SIP/2.0 {} {}\r\n", status, sip::reason_phrase(status)), false});
}

void ReferNotifier::finished(TransferResult result, int sip_status, std::string_view reason) {
  queue({fmt::format("refer;id={}", cseq_), kTerminated, sipfrag_final(result, sip_status, reason), true});
}

void ReferNotifier::queue(ReferNotify notify) {
  if (!subscription_ || final_queued_ || done_) return;
  final_queued_ = notify.final;
  pending_.push_back(std::move(notify));
  if (!in_flight_) send_next();
}

void ReferNotifier::send_next() {
  if (pending_.empty()) return;
  ReferNotify next = std::move(pending_.front());
  pending_.pop_front();
  const bool final = next.final;
  in_flight_ = true;
  // The referrer answers each NOTIFY before the next goes (their order is the transfer's).
  std::weak_ptr<bool> alive = alive_;
  const bool sent = send_(next, [this, alive, final](int) {
    if (alive.expired()) return;
    in_flight_ = false;
    if (final) return finish();
    send_next();
  });
  if (!sent) {
    in_flight_ = false;
    pending_.clear();
    finish();
  }
}

void ReferNotifier::finish() {
  if (done_) return;
  done_ = true;
  if (auto done = std::move(on_done_)) done();
}

}  // namespace warmline::server
