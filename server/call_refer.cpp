// A REFER from the bridged target (RFC 3515, warmline as the transferee; docs/sip.md "REFER received"):
// the party on leg b — typically an AI platform reached over SIP, or a PBX — asks us to put the caller
// through to someone else. check_refer (transfer/refer_in.hpp) decides whether we act on it at all;
// then:
//
//   202 Accepted -> NOTIFY 100 Trying -> a Transfer of mode refer_in (a bridged dial of the Refer-To;
//   the caller hears ringback, then the new target's early media) -> NOTIFY 18x as it rings
//   -> answered: the caller is bridged to the new leg, the final NOTIFY (200 OK) goes to the referrer,
//      and once it is answered, our BYE (the referrer may hang up first: that is fine too)
//   -> failed: the final NOTIFY carries the failure, and the caller is bridged back to the referrer
//      (or, if it hung up meanwhile, goes where any failed transfer goes: agent, default_forward,
//      fallback message). The caller is never dropped.
//
// The transfer is recorded like any other (mode refer_in, strategy dial) and shows in GET /v1/calls.
#include <spdlog/spdlog.h>

#include "server/call.hpp"

namespace warmline::server {

void Call::on_target_refer(OutboundLeg& leg, sip::ServerTransaction& tx, const sip::Message& refer) {
  assert_on_shard();
  // Only the leg the caller talks to may move the caller (not a referrer whose transfer runs).
  if (&leg != target_.get() || state_ != CallState::kBridged)
    return leg.answer(tx, refer, 403, "Forbidden - REFER not accepted");
  ReferCheck check = check_refer(agent_config_, ctx_.config, leg.trunk(), refer);
  if (!check.ok()) {
    spdlog::info("call {}: REFER from the transfer target refused: {} {}{}{}", id_, check.status, check.reason,
                 check.detail.empty() ? "" : ": ", check.detail);
    return leg.answer(tx, refer, check.status, check.reason);
  }
  std::vector<sip::Header> extra;
  if (!check.subscription) extra.push_back({"Refer-Sub", "false"});  // RFC 4488 §4: honoured
  leg.answer(tx, refer, 202, "Accepted", extra);
  start_refer_in(check, refer.cseq.number);
}

void Call::start_refer_in(const ReferCheck& check, uint32_t refer_cseq) {
  spdlog::info("call {}: the transfer target REFERs the caller to {} ({}, {})", id_, check.target->name,
               check.target->uri, check.warm ? "warm" : "cold");
  referrer_ = std::move(target_);  // the bridge keeps its media until the dial's plan parts them
  // The NOTIFYs go to the referrer's dialog whether it is kept aside (referrer_) or has the caller
  // back after a failure (target_); a leg the call no longer holds gets none.
  OutboundLeg* referrer = referrer_.get();
  refer_notifier_ = std::make_unique<ReferNotifier>(
      refer_cseq, check.subscription, [this, referrer](const ReferNotify& content, std::function<void(int)> answered) {
        if (referrer != referrer_.get() && referrer != target_.get()) return false;
        auto notify = referrer->new_request("NOTIFY");
        if (!notify) return false;
        fill_notify(*notify, content);
        return referrer->send_request(std::move(*notify), [answered = std::move(answered)](const sip::Message& r) {
          if (r.status_code >= 200) answered(r.status_code);
        });
      });
  refer_notifier_->accepted();
  introduce_ = false;
  auto transfer = std::make_unique<Transfer>(
      ctx_, *caller_, bridge_, static_cast<TransferListener&>(*this),
      TransferOptions{.id = "r" + std::to_string(++transfer_seq_),
                      .chain = TransferChain({check.requested}, agent_config_.decline_is_final),
                      .agent = &agent_config_,
                      .caller_trunk = trunk_,
                      .reports_to_agent = agent_connected() && !agent_left_,
                      .ring_timeout_s = 0,
                      .headers = {},  // never the REFER's: nothing of it reaches our INVITE but the target
                      .leg_records = &leg_b_records_,
                      .ladder = ladder_,
                      .mode = ai::TransferMode::kReferIn,
                      .briefing = check.warm && check.consult ? std::string(ai::kConsultBriefing) : std::string(),
                      .screening = check.warm ? check.screening : ai::Screening::kNone,
                      .hold = check.warm ? check.hold : ai::HoldAudio::kRingback,
                      .warm_refer_in = check.warm,
                      .consult_with = check.warm ? &referrer_->media() : nullptr});
  std::unique_ptr<Transfer> previous = std::move(transfer_);
  transfer_ = std::move(transfer);
  retired_transfer_ = std::move(previous);
  ctx_.metrics.transfers_started.fetch_add(1, std::memory_order_relaxed);
  // It cannot be refused now (check_refer resolved the target); were it so, it ends as failed.
  if (auto refusal = transfer_->start()) {
    spdlog::warn("call {}: REFER transfer refused: {}", id_, refusal->message);
    transfer_->abort();
    refer_in_finished(TransferUpdate{TransferUpdate::Kind::kEnded, "ended", TransferResult::kFailed, 0, refusal->message});
  }
}

void Call::refer_in_finished(const TransferUpdate& update) {
  if (refer_notifier_) refer_notifier_->finished(update.result, update.sip_status, update.reason);
  const bool caller_gone = state_ == CallState::kEnded || caller_->state() == Leg::State::kTerminated;
  if (caller_gone) return;  // the call's own ending hangs up the referrer
  if (update.result == TransferResult::kCompleted) {
    if (auto leg = transfer_->take_answered_leg()) {
      bridge_target(std::move(leg), update);
      // The referrer is done with once it has heard how it ended (RFC 3515 §2.4.7).
      if (refer_notifier_) refer_notifier_->on_done([this] { release_referrer(); });
      else release_referrer();
      return;
    }
  }
  report_transfer(update);
  if (referrer_ && !referrer_->ended()) {
    spdlog::info("call {}: the REFER's transfer failed ({}); the caller goes back to the referrer", id_,
                 to_string(update.result));
    target_ = std::move(referrer_);
    bridge_.attach_target(&target_->media());
    bridge_.set(agent_after_bridge_ == AgentAfterBridge::kListening ? MixPlan::listening() : MixPlan::target());
    return;
  }
  // The referrer hung up while the transfer ran: as after any failed transfer.
  spdlog::info("call {}: the REFER's transfer failed ({}) and the referrer has gone", id_, to_string(update.result));
  if (referrer_ && bridge_.target() == &referrer_->media()) bridge_.attach_target(nullptr);
  state_ = CallState::kActive;
  after_failed_transfer();
}

void Call::referrer_left() {
  // Its BYE is answered; the leg has ended. Kept (not destroyed: this runs inside its callback).
  spdlog::info("call {}: the referrer hung up", id_);
  if (bridge_.target() == &referrer_->media()) bridge_.attach_target(nullptr);
  // A warm transfer's consult ends with it: its BYE puts the caller through (docs/sip.md).
  if (transfer_running() && refer_in()) transfer_->referrer_left();
}

// A warm transfer a REFER asked for: the referrer's `#` accepts (ends its consult, puts the caller
// through), its `*` cancels (the caller comes back to it). Other keys, and keys at other times, do
// nothing here (while bridged they also reach the other leg as RFC 4733 events).
void Call::on_target_dtmf(OutboundLeg& leg, char digit, uint32_t duration_ms) {
  assert_on_shard();
  // The party a REFER of the caller's side reached talks to the agent: its keys are the agent's.
  if (caller_replaced_ && &leg == target_.get()) {
    if (agent_connected() && state_ != CallState::kEnded) agent_->send_dtmf(digit, duration_ms);
    return;
  }
  if (&leg != referrer_.get() || !transfer_running() || !refer_in() || !transfer_->warm_refer_in()) return;
  if (digit == '#') {
    spdlog::info("call {}: the referrer accepts the transfer (#)", id_);
    transfer_->agent_accept();
  } else if (digit == '*') {
    spdlog::info("call {}: the referrer cancels the transfer (*)", id_);
    transfer_->agent_cancel();
  }
}

void Call::release_referrer() {
  if (!referrer_ || referrer_->ended()) return;
  spdlog::info("call {}: the REFER's transfer completed; hanging up the referrer", id_);
  referrer_->hang_up();
}

}  // namespace warmline::server
