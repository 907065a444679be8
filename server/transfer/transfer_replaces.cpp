// The end of an attended transfer with Replaces (transfer.hpp, mode "replaces"; RFC 3891, RFC 5589 §7;
// docs/transfers.md). Up to the accept it is a warm transfer: the target is dialled on leg b, the
// caller is on hold, the briefing or consult and the accept gate run. At the accept:
//
//   leg b went out through the caller's own trunk, and that trunk accepts_refer
//      -> REFER on the caller's dialog, Refer-To: <leg b's remote target?Replaces=<leg b's Call-ID;
//         to-tag=the target's tag;from-tag=ours>>, Referred-By; the caller stays on hold
//      -> NOTIFY sipfrag progress as for a cold REFER (ColdRefer; refer_timeout)
//      -> final 2xx (or the caller's side hanging up after its 202): completed, strategy refer. The PBX
//         has joined caller and target; warmline sends BYE on leg b at once unless the PBX already
//         ended it, and the call hangs up the caller's dialog as after a cold REFER.
//      -> refused (a 4xx-6xx to the REFER, 405/501 included), a final non-2xx NOTIFY, or no final
//         NOTIFY within refer_timeout, with caller and leg b both still up: warmline bridges them
//         itself, as warm does (completed, strategy dial; the event's reason says why).
//   any other trunk (or none): no REFER, the bridge at once (completed, strategy dial, with the reason).
//
// Nothing here runs unless the mode is replaces; a warm transfer's accept bridges as before.
#include <spdlog/spdlog.h>

#include "server/leg/leg.hpp"
#include "server/transfer/transfer.hpp"
#include "sip/replaces.hpp"

namespace warmline::server {

void Transfer::accept_target() {
  if (!replaces()) {
    return attempt_ended(
        TransferUpdate{TransferUpdate::Kind::kEnded, "ended", TransferResult::kCompleted, 200, "accepted"});
  }
  if (std::string why = replaces_refusal(); !why.empty()) return bridge_answered("bridged by warmline: " + why);
  send_replaces_refer();
}

std::string Transfer::replaces_refusal() const {
  const TrunkConfig* trunk = options_.caller_trunk;
  if (!trunk) return "the caller did not come in through a trunk";
  if (!trunk->accepts_refer) return "the caller's trunk " + trunk->name + " does not accept REFER";
  if (!answered_leg_->trunk() || answered_leg_->trunk()->name != trunk->name)
    return "the target was not reached through the caller's trunk " + trunk->name;
  const sip::Dialog* dialog = answered_leg_->dialog();
  if (!dialog || dialog->remote_tag.empty() || !dialog->remote_target.is_sip())
    return "the target's dialog cannot be named in a Replaces";
  return {};
}

void Transfer::send_replaces_refer() {
  cancel_timer();
  const sip::Dialog& leg_b = *answered_leg_->dialog();
  const sip::Uri refer_to = sip::replaces_target(leg_b.remote_target, leg_b.id());
  sip::Message refer = caller_.new_request("REFER");
  refer.add_header("Refer-To", "<" + refer_to.to_string() + ">");
  refer.add_header("Referred-By", "<" + caller_.dialog().local_uri.to_string() + ">");
  strategy_ = TransferStrategy::kRefer;
  record_.strategy = TransferStrategy::kRefer;
  replacing_ = true;
  refer_ = ColdRefer{};
  refer_challenges_ = 0;
  send_refer_request(std::move(refer));
  spdlog::info("transfer {}: REFER with Replaces to join the caller with {} (leg b {})", options_.id, current_.name,
               leg_b.call_id);
  refer_.on_refer_sent();  // the agent already heard "answered": no second "dialing"
}

void Transfer::replaces_ended(const TransferUpdate& update) {
  replacing_ = false;
  if (update.result == TransferResult::kCompleted) {
    // The PBX has joined caller and target: leg b is done with (the PBX may have ended it already).
    if (answered_leg_) {
      spdlog::info("transfer {}: the PBX joined the caller with {}; leaving leg b", options_.id, current_.name);
      answered_leg_->hang_up();
      released_leg_ = std::move(answered_leg_);
    }
    return attempt_ended(update);
  }
  const bool both_up = answered_leg_ && !answered_leg_->ended() && caller_.state() != Leg::State::kTerminated;
  const bool ours = update.result == TransferResult::kCancelled || update.result == TransferResult::kCallerHungUp;
  if (both_up && !ours) {
    record_.attempts.push_back({.target = current_.uri, .sip_status = update.sip_status, .result = update.result,
                                .strategy = TransferStrategy::kRefer});
    std::string why = "bridged by warmline: the REFER with Replaces ended " + std::string(to_string(update.result));
    if (update.sip_status) why += " (" + std::to_string(update.sip_status) + " " + update.reason + ")";
    else if (!update.reason.empty()) why += " (" + update.reason + ")";
    return bridge_answered(std::move(why));
  }
  if (answered_leg_) release_target(update.reason);
  attempt_ended(update);
}

void Transfer::bridge_answered(std::string why) {
  spdlog::info("transfer {}: {}", options_.id, why);
  strategy_ = TransferStrategy::kDial;
  record_.strategy = TransferStrategy::kDial;
  attempt_ended(TransferUpdate{TransferUpdate::Kind::kEnded, "ended", TransferResult::kCompleted, 200, std::move(why)});
}

}  // namespace warmline::server
