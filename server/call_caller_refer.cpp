// A REFER on the caller's own dialog (RFC 3515, warmline as the transferee; docs/sip.md "REFER from
// the caller's side"): the caller's trunk — a PBX whose user passes the AI on to someone else, a
// carrier's blind transfer — asks us to call the Refer-To and to leave the caller's dialog. Acted on
// only when the caller's trunk has accepts_refer_from_peer and the agent talks to the caller (answered
// and ACKed, no transfer running, not bridged); check_refer resolves the Refer-To by the same rules as
// any target of the agent (nothing unconfigured is dialled). Then:
//
//   202 Accepted -> NOTIFY 100 Trying -> a bridged dial of the Refer-To (BridgedDial, as for any
//   transfer target: caller ID, P-Asserted-Identity the original caller) while the agent goes on
//   talking to the caller; the agent hears `transfer` events of id "caller-refer-<n>"
//   -> 18x: NOTIFY 18x, `ringing`
//   -> answered: the agent talks to the new party from now on (target_ with MixPlan::referred: its
//      audio, marks, keys and BYE are the agent's), `ended` `completed`; the final NOTIFY (200) goes to
//      the caller's side and, once it is answered, our BYE
//   -> failed: the final NOTIFY carries the failure; the agent, still with the caller, hears `ended`
//      with the result. If the caller's side has hung up meanwhile, the call ends (nobody is left).
//
// The caller's side may hang up at any time after the 202 (a blind transfer's PBX often does so at
// once): the dial goes on (RFC 3515 §2.4.7 lets the referrer leave), and the call lives on with it.
#include <spdlog/spdlog.h>

#include "server/agent/native_agent_channel.hpp"
#include "server/call.hpp"

namespace warmline::server {

namespace {

constexpr std::string_view kReferPrefix = "caller-refer-";

bool asks_for_a_mode(const sip::Message& refer) {
  for (const auto& h : refer.headers)
    if (sip::iequals(h.name, kTransferModeHeader)) return true;
  return false;
}

}  // namespace

bool Call::caller_refer_running() const { return caller_refer_dial_ && !caller_refer_dial_->done(); }

void Call::on_leg_refer(Leg& leg, sip::ServerTransaction& tx, const sip::Message& refer) {
  assert_on_shard();
  // DESIGN.md toll-fraud rules: the trunk first, so that a trunk without the flag hears the same 403
  // whatever the call is doing.
  if (!trunk_ || !trunk_->accepts_refer_from_peer) return leg.respond(tx, refer, 403, "Forbidden - REFER not accepted");
  std::string_view why_not;
  if (state_ != CallState::kActive) why_not = state_ == CallState::kBridged ? "the call is bridged" : "the call is not confirmed";
  else if (agent_dial_) why_not = "the call's agent is reached over SIP";
  else if (caller_replaced_ || caller_refer_running()) why_not = "a REFER of this dialog already ran";
  else if (transfer_running()) why_not = "a transfer is running";
  else if (!agent_connected() || agent_left_) why_not = "the agent has gone";
  if (!why_not.empty()) {
    spdlog::info("call {}: REFER from the caller's side refused: {}", id_, why_not);
    return leg.respond(tx, refer, 403, "Forbidden - REFER not accepted now");
  }
  if (asks_for_a_mode(refer)) {
    // X-Warmline-Transfer (warm: hold, consult, accept gate) is for a leg b's REFER: here the referrer
    // is the one who leaves.
    spdlog::info("call {}: REFER from the caller's side with {} refused", id_, kTransferModeHeader);
    return leg.respond(tx, refer, 501, "Not Implemented - X-Warmline-Transfer On The Caller's Dialog");
  }
  ReferCheck check = check_refer(agent_config_, ctx_.config, trunk_, refer);
  if (!check.ok()) {
    spdlog::info("call {}: REFER from the caller's side refused: {} {}{}{}", id_, check.status, check.reason,
                 check.detail.empty() ? "" : ": ", check.detail);
    return leg.respond(tx, refer, check.status, check.reason);
  }
  std::vector<sip::Header> extra;
  if (!check.subscription) extra.push_back({"Refer-Sub", "false"});  // RFC 4488 §4: honoured
  leg.respond(tx, refer, 202, "Accepted", extra);

  caller_notifier_ = std::make_unique<ReferNotifier>(
      refer.cseq.number, check.subscription, [this](const ReferNotify& content, std::function<void(int)> answered) {
        if (!caller_ || caller_->state() == Leg::State::kTerminated) return false;
        sip::Message notify = caller_->new_request("NOTIFY");
        fill_notify(notify, content);
        caller_->send(std::move(notify), [answered = std::move(answered)](const sip::Message& r) {
          if (r.status_code >= 200) answered(r.status_code);
        });
        return true;
      });
  caller_notifier_->accepted();

  const ResolvedTarget& target = *check.target;
  caller_refer_record_ = TransferRecord{.id = std::string(kReferPrefix) + std::to_string(++caller_refer_seq_),
                                        .mode = ai::TransferMode::kReferIn,
                                        .targets_tried = {target.name},
                                        .strategy = TransferStrategy::kDial,
                                        .attempts = {TransferAttemptRecord{.target = target.uri,
                                                                           .sip_status = 0,
                                                                           .result = TransferResult::kFailed,
                                                                           .strategy = TransferStrategy::kDial}},
                                        .result = std::nullopt,
                                        .requested_at = std::chrono::system_clock::now(),
                                        .answered_at = std::nullopt,
                                        .bridged_at = std::nullopt,
                                        .ended_at = std::nullopt};
  spdlog::info("call {}: the caller's side REFERs the call to {} ({}); dialling it", id_, target.name, target.uri);
  const unsigned ring_s = target.ring_timeout_s > 0 ? target.ring_timeout_s : agent_config_.ring_timeout_s;
  DialRequest request{.target = target,
                      .ring_timeout = std::chrono::seconds(ring_s),
                      .caller_user = caller_identity(*caller_),
                      .privacy = caller_->history().privacy,
                      .first_codec = caller_->codec_name(),
                      .headers = {},  // never the REFER's: nothing of it reaches our INVITE but the target
                      .leg_records = &leg_b_records_,
                      .ladder = ladder_,
                      .agent_rate = agent_sample_rate(agent_config_),
                      .trace_correlation = caller_->dialog().call_id};
  ctx_.metrics.transfers_started.fetch_add(1, std::memory_order_relaxed);
  caller_refer_phases_ = {TransferPhase{.phase = "requested", .target = {}, .at = caller_refer_record_.requested_at,
                                        .sip_status = 0, .result = {}}};
  caller_refer_step("dialing", TransferUpdate{});
  report_caller_refer(ai::TransferState::kDialing, TransferUpdate{});
  caller_refer_dial_ = std::make_unique<BridgedDial>(ctx_, static_cast<DialListener&>(*this), std::move(request));
  caller_refer_dial_->start();  // a refusal before anything is sent comes back through on_dial_ended
}

void Call::caller_refer_progress(const TransferUpdate& update) {
  if (state_ == CallState::kEnded || update.state != "ringing") return;
  if (caller_notifier_) caller_notifier_->progress(update.sip_status);
  caller_refer_step("ringing", update);
  report_caller_refer(ai::TransferState::kRinging, update);
}

void Call::caller_refer_ended(const TransferUpdate& update) {
  assert_on_shard();
  if (state_ == CallState::kEnded) return;  // finish() stopped the dial
  const auto now = std::chrono::system_clock::now();
  TransferRecord& record = caller_refer_record_;
  record.attempts.back().sip_status = update.sip_status;
  record.attempts.back().result = update.result;
  record.result = update.result;
  record.ended_at = now;
  count_transfer_end(record, update.result);
  if (caller_notifier_) caller_notifier_->finished(update.result, update.sip_status, update.reason);
  const bool caller_gone = caller_->state() == Leg::State::kTerminated;
  std::unique_ptr<OutboundLeg> leg =
      update.result == TransferResult::kCompleted ? caller_refer_dial_->take_leg() : nullptr;
  if (!leg) {
    caller_refer_step("ended", update);
    transfer_records_.push_back(record);
    spdlog::info("call {}: the REFER of the caller's side failed ({} {}){}", id_, to_string(update.result),
                 update.sip_status, caller_gone ? "; the caller's side has gone: the call ends" : "");
    report_caller_refer(ai::TransferState::kEnded, update);
    if (caller_gone) finish("caller_hangup");
    return;
  }
  record.answered_at = now;
  record.bridged_at = now;
  caller_refer_step("answered", update);
  caller_refer_step("ended", update);
  transfer_records_.push_back(record);
  // The agent's party changes: what it had queued for the caller is dropped (Bridge::set), and from
  // now on its audio, marks and keys go to the new leg, whose audio, keys and BYE come to it.
  target_ = std::move(leg);
  target_->set_observer(*this);
  caller_replaced_ = true;
  bridge_.attach_target(&target_->media());
  bridge_.set(MixPlan::referred());
  if (recorder_ && caller_->media().pcm_rate_hz() == target_->media().pcm_rate_hz()) {
    // The recording follows the agent's conversation: left the new party, right the agent.
    caller_->media().set_recorder(nullptr);
    target_->media().set_recorder(recorder_.get());
  } else if (recorder_) {
    spdlog::info("call {}: the new party's audio rate differs from the caller's; the recording stops", id_);
    stop_recording();
  }
  spdlog::info("call {}: the agent now talks to {} ({}), reached by the caller's REFER", id_,
               record.targets_tried.front(), target_->codec_name());
  report_caller_refer(ai::TransferState::kEnded, update);
  // The caller's side is done with once it has heard how it ended (RFC 3515 §2.4.7).
  if (caller_notifier_) caller_notifier_->on_done([this] { release_caller(); });
  else release_caller();
}

void Call::release_caller() {
  if (state_ == CallState::kEnded || !caller_replaced_ || caller_->state() == Leg::State::kTerminated) return;
  spdlog::info("call {}: the caller's REFER completed; hanging up the caller's side", id_);
  caller_->hang_up();
}

// At most five steps (requested, dialing, ringing, answered, ended): far below kTransferPhasesCap.
void Call::caller_refer_step(std::string_view state, const TransferUpdate& update) {
  caller_refer_phases_.push_back(
      TransferPhase{.phase = std::string(state),
                    .target = caller_refer_record_.targets_tried.front(),
                    .at = std::chrono::system_clock::now(),
                    .sip_status = update.sip_status,
                    .result = state == "ended" ? std::string(to_string(update.result)) : std::string()});
  emit_webhook(WebhookEventType::kTransferUpdated);
}

void Call::report_caller_refer(ai::TransferState state, const TransferUpdate& update) {
  if (!agent_connected() || agent_left_) return;
  const bool ended = state == ai::TransferState::kEnded;
  std::string_view reason = update.reason;
  if (ended && update.result == TransferResult::kCompleted)
    reason = "the caller's side transferred the call by REFER: you now talk to the target";
  agent_->send_transfer(ai::TransferEvent{.id = caller_refer_record_.id, .state = state,
                                          .target = caller_refer_record_.targets_tried.front(),
                                          .result = update.result, .sip_status = update.sip_status,
                                          .reason = reason});
}

}  // namespace warmline::server
