#include "sip/usage/reliable_provisional.hpp"

#include <vector>

#include "sip/parser_grammar.hpp"

namespace warmline::sip {

namespace {

constexpr uint64_t kMaxSeq = 0xFFFFFFFFull;  // §7.1 / §7.2: 32-bit sequence numbers

// The one value of a single-valued header; nullopt when absent or given more than once (a message
// with two RSeq headers cannot be matched safely, so it is treated as malformed).
std::optional<std::string_view> single_header(const Message& m, std::string_view name) {
  const Header* found = nullptr;
  for (const auto& h : m.headers) {
    if (!iequals(h.name, name)) continue;
    if (found) return std::nullopt;
    found = &h;
  }
  if (!found) return std::nullopt;
  return grammar::trim(found->value);
}

}  // namespace

bool has_option_tag(const Message& m, std::string_view header, std::string_view tag) {
  for (const auto& h : m.headers) {
    if (!iequals(h.name, header)) continue;
    std::vector<std::string_view> parts;
    if (!grammar::split_commas(h.value, parts)) continue;
    for (auto p : parts)
      if (iequals(grammar::trim(p), tag)) return true;
  }
  return false;
}

ReliableMode reliable_mode(const Message& invite) {
  if (has_option_tag(invite, "Require", k100rel)) return ReliableMode::kRequired;
  if (has_option_tag(invite, "Supported", k100rel)) return ReliableMode::kSupported;
  return ReliableMode::kNever;
}

std::optional<uint32_t> parse_rseq(const Message& response) {
  auto value = single_header(response, "RSeq");
  if (!value) return std::nullopt;
  auto n = grammar::parse_uint(*value, kMaxSeq);
  if (!n || *n == 0) return std::nullopt;
  return static_cast<uint32_t>(*n);
}

std::optional<RAck> parse_rack(const Message& prack) {
  auto value = single_header(prack, "RAck");
  if (!value) return std::nullopt;
  std::string_view rest = *value;
  auto next_word = [&rest]() {
    grammar::skip_lws(rest);
    size_t end = 0;
    while (end < rest.size() && !grammar::is_wsp(rest[end])) ++end;
    std::string_view word = rest.substr(0, end);
    rest.remove_prefix(end);
    return word;
  };
  auto rseq = grammar::parse_uint(next_word(), kMaxSeq);
  auto cseq = grammar::parse_uint(next_word(), kMaxSeq);
  std::string_view method = next_word();
  grammar::skip_lws(rest);
  if (!rseq || *rseq == 0 || !cseq || !grammar::is_token(method) || !rest.empty()) return std::nullopt;
  return RAck{static_cast<uint32_t>(*rseq), static_cast<uint32_t>(*cseq), std::string(method)};
}

std::string to_string(const RAck& rack) {
  return std::to_string(rack.rseq) + ' ' + std::to_string(rack.cseq) + ' ' + rack.method;
}

std::optional<uint32_t> reliable_rseq(const Message& response) {
  // §4: "If the response is a 100 (Trying) ..., this option tag MUST be ignored".
  if (response.status_code <= 100 || response.status_code >= 200) return std::nullopt;
  if (!has_option_tag(response, "Require", k100rel)) return std::nullopt;
  return parse_rseq(response);
}

ReliableProvisionals::ReliableProvisionals(TimerService& timers, TimerConfig config, uint32_t first_rseq, Send send,
                                           GiveUp give_up)
    : timers_(timers),
      config_(config),
      next_rseq_(first_rseq ? first_rseq : 1),
      send_(std::move(send)),
      give_up_(std::move(give_up)) {}

ReliableProvisionals::~ReliableProvisionals() { cancel_timers(); }

bool ReliableProvisionals::send(Message response) {
  if (pending_ || response.status_code <= 100 || response.status_code >= 200) return false;
  // §3: "The provisional response MUST ... contain a Require header field containing the option tag
  // 100rel, and MUST include an RSeq header field." Each new one is one higher (§3, §7.1).
  response.add_header("Require", std::string(k100rel));
  response.add_header("RSeq", std::to_string(next_rseq_));
  if (!send_(response)) return false;
  pending_ = Pending{std::move(response), next_rseq_, config_.t1};
  ++next_rseq_;
  // §3: "The reliable provisional response is passed to the transaction layer periodically with an
  // interval that starts at T1 seconds and doubles for each retransmission." "If a reliable
  // provisional response is retransmitted for 64*T1 seconds without reception of a corresponding
  // PRACK, the UAS SHOULD reject the original request with a 5xx response."
  retransmit_ = timers_.schedule(pending_->interval, [this] { retransmit(); });
  expire_ = timers_.schedule(config_.timeout(), [this] { expire(); });
  return true;
}

bool ReliableProvisionals::matches(const RAck& rack) const {
  // §3: "the UAS ... knows that the response was received if the RAck header field matches the RSeq
  // and CSeq of the response" (Call-ID and tags: the dialog already matched).
  return pending_ && rack.rseq == pending_->rseq && rack.cseq == pending_->response.cseq.number &&
         rack.method == pending_->response.cseq.method;
}

bool ReliableProvisionals::acknowledge(const RAck& rack) {
  if (!matches(rack)) return false;  // the owner answers 481
  cancel_timers();
  pending_.reset();
  return true;
}

void ReliableProvisionals::stop() { cancel_timers(); }

void ReliableProvisionals::retransmit() {
  retransmit_ = kNoTimer;
  if (!pending_) return;
  pending_->interval *= 2;
  // A transaction that can send no more (it went final or away) ends the retransmissions.
  if (!send_(pending_->response)) return cancel_timers();
  retransmit_ = timers_.schedule(pending_->interval, [this] { retransmit(); });
}

void ReliableProvisionals::expire() {
  expire_ = kNoTimer;
  cancel_timers();
  // The owner's handler may answer the INVITE and end the leg; nothing of ours is touched after it.
  if (pending_ && give_up_) give_up_();
}

void ReliableProvisionals::cancel_timers() {
  if (retransmit_ != kNoTimer) timers_.cancel(retransmit_);
  if (expire_ != kNoTimer) timers_.cancel(expire_);
  retransmit_ = kNoTimer;
  expire_ = kNoTimer;
}

}  // namespace warmline::sip
