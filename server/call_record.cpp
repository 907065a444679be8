#include "server/call_record.hpp"

#include "server/call.hpp"
#include "server/leg/leg.hpp"

namespace warmline::server {

LegRecord leg_record(const Leg& leg, LegRole role, LegDirection direction, const TrunkConfig* trunk) {
  const sip::Dialog& d = leg.dialog();
  const Leg::History& h = leg.history();
  const bool in = direction == LegDirection::kIn;
  return LegRecord{
      .role = role,
      .direction = direction,
      .remote_uri = d.remote_target.to_string(),
      .trunk = trunk ? trunk->name : std::string(),
      .sip_call_id = d.call_id,
      .from_uri = in ? d.remote_uri.to_string() : d.local_uri.to_string(),
      .to_uri = in ? d.local_uri.to_string() : d.remote_uri.to_string(),
      .pai = h.asserted_identity,
      .codec = leg.codec_name(),
      .started_at = h.started_at,
      .answered_at = h.answered_at,
      .ended_at = h.ended_at,
      .final_status = h.final_status,
      .hangup_side = !h.ended_at ? HangupSide::kNone : h.ended_by_peer ? HangupSide::kRemote : HangupSide::kLocal,
  };
}

// Once per call: at its end (finish), or when it is destroyed without having ended (shutdown). A call
// whose INVITE was refused before it had a leg is no call and has no record.
void Call::send_record(std::string_view end_reason) {
  if (recorded_ || !caller_) return;
  recorded_ = true;
  const bool webhook = ctx_.webhooks && ctx_.webhooks->wants(WebhookEventType::kCallEnded);
  if (!ctx_.records && !webhook) return;
  CallRecord r{
      .id = id_,
      .agent = agent_config_.name,
      .from = from_,
      .to = to_,
      .started_at = started_at_,
      .answered_at = caller_->history().answered_at,
      .ended_at = std::chrono::system_clock::now(),
      .end_reason = std::string(end_reason),
      .legs = {},
      .transfers = std::move(transfer_records_),
      .recording = recording_path_,
  };
  r.legs.push_back(leg_record(*caller_, LegRole::kA, LegDirection::kIn, trunk_));
  for (auto& b : leg_b_records_) r.legs.push_back(std::move(b));  // every dialled attempt, in order
  leg_b_records_.clear();
  if (webhook) emit_webhook(WebhookEventType::kCallEnded, &r);
  if (ctx_.records) ctx_.records->submit(std::move(r));
}

}  // namespace warmline::server
