// Cold transfer by REFER (RFC 3515, DESIGN.md "Transfers"): the REFER goes out on the caller's dialog
// as soon as the agent's queued audio ("transferring you now") has played; ringback plays meanwhile;
// NOTIFY sipfrag progress is matched by `Event: refer;id=<CSeq>`; a final 2xx ends the call (BYE,
// stop "transferred"), anything else gives the caller back to the AI with a structured result.
// With several targets they are tried in order; 603 Decline ends the chain.
#include <spdlog/spdlog.h>

#include "server/call.hpp"
#include "sip/parser.hpp"

namespace warmline::server {

namespace {

ai::TransferState agent_state(std::string_view state) {
  if (state == "ringing") return ai::TransferState::kRinging;
  if (state == "answered") return ai::TransferState::kAnswered;
  if (state == "ended") return ai::TransferState::kEnded;
  return ai::TransferState::kDialing;
}

// "SIP/2.0 486 Busy Here" -> "Busy Here"
std::string sipfrag_reason(std::string_view body) {
  auto eol = body.find_first_of("\r\n");
  std::string_view line = body.substr(0, eol);
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return {};
  auto sp2 = line.find(' ', sp1 + 1);
  return sp2 == std::string_view::npos ? std::string() : std::string(line.substr(sp2 + 1));
}

// `refer;id=12` -> 12; `refer` -> 0; anything else -> nullopt (not a refer event).
std::optional<uint32_t> refer_event_id(std::string_view event) {
  auto semi = event.find(';');
  std::string_view pkg = event.substr(0, semi);
  while (!pkg.empty() && pkg.back() == ' ') pkg.remove_suffix(1);
  if (!sip::iequals(pkg, "refer")) return std::nullopt;
  if (semi == std::string_view::npos) return 0;
  auto pos = event.find("id=", semi);
  if (pos == std::string_view::npos) return 0;
  uint32_t id = 0;
  for (size_t i = pos + 3; i < event.size() && event[i] >= '0' && event[i] <= '9'; ++i) id = id * 10 + (event[i] - '0');
  return id;
}

}  // namespace

TransferStart Call::request_transfer(ai::TransferRequest request) {
  if (state_ == CallState::kEnded) return {false, request.id, "not_active", "the call has ended"};
  if (transfer_ && !transfer_->progress.done())
    return {false, request.id, "transfer_in_progress", "transfer " + transfer_->id + " is still running"};
  if (request.mode != ai::TransferMode::kCold)
    return {false, request.id, "not_supported",
            std::string(ai::to_string(request.mode)) + " transfers are not available in this version; use cold"};
  if (request.targets.empty()) return {false, request.id, "missing_field", "targets is empty"};
  if (request.id.empty()) request.id = "t" + std::to_string(++transfer_seq_);

  // Every target must resolve before anything is dialled: a chain with a typo fails up front.
  for (const auto& t : request.targets) {
    auto r = resolve_target(agent_, ctx_.config, t);
    if (!r.ok()) return {false, request.id, r.error.code, r.error.message};
  }
  transfer_.emplace();
  transfer_->id = request.id;
  transfer_->targets = std::move(request.targets);
  ctx_.metrics.transfers_started.fetch_add(1, std::memory_order_relaxed);
  if (auto err = start_next_target()) {
    std::string id = transfer_->id;
    transfer_.reset();
    return {false, id, err->code, err->message};
  }
  return {true, transfer_->id, "", ""};
}

std::optional<TargetError> Call::start_next_target() {
  Transfer& t = *transfer_;
  auto r = resolve_target(agent_, ctx_.config, t.targets[t.next_target++]);
  if (!r.ok()) return r.error;
  t.current = *r.target;
  t.progress = ReferProgress{};
  // The trunk the caller came in on must accept REFER (the caller's side performs it). The bridged
  // dial that replaces REFER for trunks that refuse it needs outbound legs: not in this version.
  if (trunk_ && !trunk_->accepts_refer)
    return TargetError{"not_supported", "trunk " + trunk_->name + " does not accept REFER and bridged "
                                        "dialling is not available in this version"};
  media_->set_ringback(false);
  if (agent_audio_pending()) {
    t.waiting_playout = true;  // after_agent_audio sends it as soon as the audio has played: no fixed delay
  } else {
    send_refer();
  }
  return std::nullopt;
}

void Call::send_refer() {
  if (!transfer_ || state_ == CallState::kEnded) return;
  Transfer& t = *transfer_;
  t.waiting_playout = false;
  media_->clear();
  media_->set_ringback(true);
  sip::Message refer = dialog_.make_request("REFER");
  refer.add_header("Refer-To", "<" + t.current.uri + ">");
  refer.add_header("Referred-By", "<" + dialog_.local_uri.to_string() + ">");
  t.refer_cseq = refer.cseq.number;
  auto self = weak();
  ctx_.sip.send_request(std::move(refer), dialog_.next_hop(), [self](const sip::Message& response) {
    if (auto c = self.lock()) c->on_refer_response(response);
  });
  spdlog::info("call {}: transfer {}: REFER to {} ({})", id_, t.id, t.current.name, t.current.uri);
  auto timeout = std::chrono::seconds(agent_.refer_timeout_s);
  t.timeout = ctx_.timers.schedule(std::chrono::duration_cast<std::chrono::milliseconds>(timeout), [self] {
    auto c = self.lock();
    if (!c || !c->transfer_) return;
    c->transfer_->timeout = sip::kNoTimer;
    c->apply(c->transfer_->progress.on_timeout());
  });
  report_transfer(t.progress.on_refer_sent());
}

void Call::on_refer_response(const sip::Message& response) {
  if (!transfer_ || response.cseq.number != transfer_->refer_cseq) return;
  apply(transfer_->progress.on_refer_response(response.status_code, response.reason));
}

void Call::on_notify(sip::ServerTransaction& tx, const sip::Message& req) {
  auto event_id = refer_event_id(req.header("Event"));
  if (!event_id || !transfer_ || transfer_->progress.done() ||
      (*event_id != 0 && *event_id != transfer_->refer_cseq)) {
    // RFC 6665 §4.1.3: a NOTIFY for a subscription we do not have.
    tx.respond(481, "Subscription Does Not Exist", dialog_.local_tag);
    return;
  }
  tx.respond(200, "OK", dialog_.local_tag);
  auto status = sip::parse_sipfrag_status(req.body);
  const bool terminated = req.header("Subscription-State").starts_with("terminated");
  if (!status) {
    if (terminated) apply(transfer_->progress.on_notify(0, "", true));
    return;
  }
  apply(transfer_->progress.on_notify(*status, sipfrag_reason(req.body), terminated));
}

void Call::apply(const std::optional<TransferUpdate>& update) {
  if (!update || !transfer_) return;
  if (update->kind == TransferUpdate::Kind::kProgress) return report_transfer(*update);
  transfer_ended(*update);
}

void Call::transfer_ended(const TransferUpdate& update) {
  Transfer& t = *transfer_;
  if (t.timeout != sip::kNoTimer) ctx_.timers.cancel(t.timeout);
  t.timeout = sip::kNoTimer;
  media_->set_ringback(false);
  ctx_.metrics.transfers_by_result[static_cast<size_t>(update.result)].fetch_add(1, std::memory_order_relaxed);
  spdlog::info("call {}: transfer {} to {} ended: {} {} {}", id_, t.id, t.current.name, to_string(update.result),
               update.sip_status, update.reason);
  if (update.result == TransferResult::kCompleted) {
    report_transfer(update);
    if (state_ != CallState::kEnded) {
      send_bye();
      finish("transferred");
    }
    return;
  }
  if (state_ == CallState::kEnded) return report_transfer(update);
  // Chains: busy / no answer / unreachable move on; 603 Decline is final (DESIGN.md "chain").
  // The agent hears one final outcome for the whole chain: the last target's.
  if (update.result != TransferResult::kDeclined && t.next_target < t.targets.size()) {
    if (!start_next_target()) return;
  }
  report_transfer(update);
  if (!t.reports_to_agent || agent_gone_) return play_fallback_and_hang_up();
  if (agent_.on_failure == OnFailure::default_forward && !agent_.default_forward.empty() &&
      t.id != "default_forward") {
    ai::TransferRequest fwd;
    fwd.id = "default_forward";
    fwd.targets = {agent_.default_forward};
    transfer_.reset();
    if (request_transfer(std::move(fwd)).ok) return;
  }
  // Otherwise the conversation with the AI simply goes on.
}

void Call::report_transfer(const TransferUpdate& update) {
  if (!transfer_) return;
  Transfer& t = *transfer_;
  t.last_state = update.state;
  t.last_status = update.sip_status;
  if (update.kind == TransferUpdate::Kind::kEnded) t.result = std::string(to_string(update.result));
  if (!t.reports_to_agent) return;
  ai::TransferEvent ev{.id = t.id, .state = agent_state(update.state), .target = t.current.name,
                       .result = update.result, .sip_status = update.sip_status, .reason = update.reason};
  send_to_agent(ai::encode_transfer_event(ev));
}

}  // namespace warmline::server
