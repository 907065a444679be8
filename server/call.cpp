// The call's lifecycle and the wiring between its leg, mix plan and transfer.
#include "server/call.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cassert>

#include "media/g711.hpp"
#include "server/agent/dialect_agent_channel.hpp"
#include "server/agent/native_agent_channel.hpp"
#include "sip/uri.hpp"

namespace warmline::server {

namespace {

// The user part of a URI (unescaped) when it has one — the number, for a carrier — else the URI.
std::string party(const sip::NameAddr& na) {
  if (na.uri.is_sip() && !na.uri.user.empty()) {
    std::string user = sip::uri_unescape(na.uri.user);
    return user.substr(0, user.find(';'));
  }
  return na.uri.to_string();
}

std::string_view ringback_country(Ringback r) {
  switch (r) {
    case Ringback::us: return "us";
    case Ringback::etsi: return "etsi";
    case Ringback::uk: return "uk";
  }
  return "us";
}

}  // namespace

std::string_view to_string(CallState state) {
  switch (state) {
    case CallState::kRinging: return "ringing";
    case CallState::kAnswered: return "answered";
    case CallState::kActive: return "active";
    case CallState::kBridged: return "bridged";
    case CallState::kEnded: return "ended";
  }
  return "ended";
}

Call::Call(CallContext& ctx, const AgentConfig& agent, std::string id)
    : ctx_(ctx), agent_config_(agent), id_(std::move(id)) {}

// A call that never ended (the shard stops with it still up) is recorded as ended by the shutdown.
Call::~Call() {
  if (ctx_.ladders) ctx_.ladders->forget(*ladder_);
  if (!recorded_ && transfer_running()) transfer_records_.push_back(transfer_->record());  // no end yet
  send_record("shutdown");
  stop_recording();
}

void Call::assert_on_shard() const { assert(ctx_.shard.on_shard()); }

CallSnapshot Call::snapshot() const {
  assert_on_shard();
  return make_snapshot();
}

CallSnapshot Call::make_snapshot() const {
  CallSnapshot s{.id = id_, .from = from_, .to = to_, .agent = agent_config_.name,
                 .state = std::string(to_string(state_)), .started_at = started_at_, .transfer = std::nullopt,
                 .recording = recording_path_, .recording_active = recorder_ != nullptr};
  if (transfer_ && !transfer_->current().name.empty()) {
    const TransferRecord& r = transfer_->record();
    s.transfer = TransferSnapshot{transfer_->id(), transfer_->current().name, transfer_->last_state(),
                                  transfer_->result() ? std::string(to_string(*transfer_->result())) : "",
                                  transfer_->last_status(), std::string(ai::to_string(r.mode)),
                                  r.requested_at, r.answered_at, r.bridged_at, transfer_->phases()};
  }
  // A REFER of the caller's side (call_caller_refer.cpp), when it is the latest transfer.
  const TransferRecord& cr = caller_refer_record_;
  if (!cr.id.empty() && (!s.transfer || cr.requested_at >= s.transfer->requested_at)) {
    const TransferPhase& now = caller_refer_phases_.back();  // "requested" at least
    s.transfer = TransferSnapshot{cr.id, cr.targets_tried.front(), now.phase,
                                  cr.result ? std::string(to_string(*cr.result)) : "", now.sip_status,
                                  std::string(ai::to_string(cr.mode)), cr.requested_at, cr.answered_at, cr.bridged_at,
                                  caller_refer_phases_};
  }
  return s;
}

int Call::start(sip::ServerTransaction tx, const sip::Message& invite, const TrunkConfig* trunk,
                const sip::LocalMediaCaps& caps, std::string& reason) {
  assert_on_shard();
  trunk_ = trunk;
  // The INVITE came in before the call existed; the rest of leg a's messages come through the tap.
  ladder_->add(invite, "a", false);
  if (ctx_.ladders) ctx_.ladders->watch(invite.call_id, ladder_, "a");
  from_ = party(invite.from);
  to_ = party(invite.to);
  for (const auto& h : invite.headers)
    if (h.name.size() > 2 && (h.name[0] == 'X' || h.name[0] == 'x') && h.name[1] == '-')
      x_headers_.emplace_back(h.name, h.value);

  Leg::UasOptions lo{
      .trunk = trunk,
      .caps = caps,
      .agent_rate = agent_sample_rate(agent_config_),
      .agent_payload_codecs = agent_payload_codecs(agent_config_),
      .ringback = media::national_tone(ringback_country(ctx_.config.media.ringback), media::ToneKind::kRingback),
  };
  int status = 0;
  caller_ = Leg::accept_invite(ctx_, *this, tx, invite, std::move(lo), status, reason);
  if (!caller_) return status;
  bridge_.attach_caller(&caller_->media());
  if (agent_config_.record) start_recording();
  caller_->ring(trunk ? trunk->provisional : Provisional::ringing);
  spdlog::info("call {}: {} -> {} (agent {}, {}{}, sip call-id {})", id_, from_, to_, agent_config_.name,
               caller_->codec_name(), caller_->late_offer() ? ", late offer" : "", invite.call_id);
  emit_webhook(WebhookEventType::kCallStarted);  // before the agent: its failure may end the call at once
  if (is_sip_agent(agent_config_)) dial_sip_agent();
  else connect_agent();
  return 0;
}

void Call::answer() {
  if (state_ != CallState::kRinging) return;
  if (!caller_->answer()) return;  // the INVITE transaction is gone (cancelled meanwhile)
  state_ = CallState::kAnswered;
  if (!transfer_running()) bridge_.set(MixPlan::talking());
  emit_webhook(WebhookEventType::kCallAnswered);
}

void Call::on_leg_confirmed(Leg&) {
  if (state_ == CallState::kAnswered) state_ = CallState::kActive;
}

void Call::on_leg_bye(Leg&) {
  // A REFER of the caller's side: its referrer may leave once it has our 202 (RFC 3515 §2.4.7); the
  // dial goes on, and once it has answered the call is the agent's and the new party's.
  if (caller_replaced_ || caller_refer_running()) {
    spdlog::info("call {}: the caller's side hung up after its REFER{}", id_,
                 caller_replaced_ ? "" : "; its dial goes on");
    return;
  }
  std::string_view reason = "caller_hangup";
  if (transfer_running()) {
    transfer_->on_caller_bye();  // may report completed ("unconfirmed")
    if (transfer_->result() == TransferResult::kCompleted) reason = "transferred";
  }
  finish(reason);
}

void Call::on_leg_cancelled(Leg&) {
  // The call never existed for the AI beyond its start.
  finish("caller_cancelled");
}

void Call::on_leg_failed(Leg&, std::string_view why) {
  if (caller_replaced_) return;  // the caller's side is being let go: the call is the new party's
  spdlog::warn("call {}: caller's leg failed: {}; ending the call", id_, why);
  hangup(why);
}

void Call::on_leg_dtmf(Leg&, char digit, uint32_t duration_ms) {
  // Bridged: the caller's SIP INFO key presses go to the target as RFC 4733 events (RTP events cross
  // the bridge in the media itself and never come here).
  if (state_ == CallState::kBridged && target_) {
    const char digits[1] = {digit};
    target_->media().send_dtmf(std::string_view(digits, 1));
    return;
  }
  if (agent_) agent_->send_dtmf(digit, duration_ms);
}

void Call::on_leg_notify(Leg& leg, sip::ServerTransaction& tx, const sip::Message& notify) {
  if (transfer_) return transfer_->on_notify(tx, notify);
  // RFC 6665 §4.1.3: a NOTIFY for a subscription we do not have.
  sip::Message r = sip::make_response(notify, 481, "Subscription Does Not Exist");
  r.to.set_tag(leg.dialog().local_tag);
  tx.respond(std::move(r));
}

void Call::on_leg_audio(Leg&, std::span<const int16_t> pcm) {
  // The caller's leg decodes for the agent only while the plan says the agent hears the caller.
  if (agent_mix_) return agent_mix_->push(AgentMix::Side::kCaller, pcm);
  if (agent_) agent_->send_audio(pcm);
}

void Call::on_leg_payload(Leg&, std::span<const uint8_t> payload) {
  // Only while the caller's leg is not bridged (LegMedia): the agent hears the caller alone.
  if (agent_ && agent_->takes_payload(caller_->codec_name())) return agent_->send_payload(payload);
  // The channel cannot take this codec as it is (it never happens while both follow the agent's
  // config, which offers only G.711 at 8 kHz, the agent's rate): decode it here.
  std::array<int16_t, 1500> pcm;
  const size_t n = caller_->codec_name() == "PCMA" ? media::g711::decode_alaw(payload.first(std::min(payload.size(), pcm.size())), pcm)
                                                   : media::g711::decode_ulaw(payload.first(std::min(payload.size(), pcm.size())), pcm);
  on_leg_audio(*caller_, std::span<const int16_t>(pcm.data(), n));
}

void Call::on_leg_mark(Leg&, std::string_view name, ai::MarkEvent event) {
  if (agent_) agent_->send_mark(name, event);
}

void Call::on_leg_playout_drained(Leg&) { after_agent_audio(); }

void Call::on_leg_playout_overflow(Leg&, uint64_t dropped_total) {
  // Counted (warmline_agent_audio_dropped_samples_total) and said once per call; never silent.
  ctx_.metrics.agent_audio_dropped.fetch_add(dropped_total - overflow_counted_, std::memory_order_relaxed);
  const bool first = overflow_counted_ == 0;
  overflow_counted_ = dropped_total;
  if (first) {
    spdlog::warn("call {}: the agent sends audio faster than it plays and beyond the playout capacity; "
                 "the excess is dropped (further drops of this call are only counted)", id_);
  }
}

bool Call::agent_audio_pending() const { return pending_speech_ > 0 || !agent_party().playout_empty(); }

uint32_t Call::agent_audio_queued_ms() const { return agent_party().playout_queued_ms(); }

void Call::after_agent_audio() {
  if (state_ == CallState::kEnded || agent_audio_pending()) return;
  if (transfer_ && transfer_->waiting_for_playout()) return transfer_->on_agent_audio_done();
  if (script_) script_->on_audio_done();
  if (after_playout_ != AfterPlayout::kNothing) hangup(agent_connected() ? "agent_hangup" : "agent_unreachable");
}

TransferStart Call::request_transfer(ai::TransferRequest request) {
  assert_on_shard();
  using Code = TransferRefusal::Code;
  if (request.id.empty()) request.id = "t" + std::to_string(++transfer_seq_);
  TransferStart out{.id = request.id, .refusal = std::nullopt};
  if (state_ == CallState::kEnded) {
    out.refusal = TransferRefusal{Code::kNotActive, "the call has ended"};
  } else if (state_ == CallState::kRinging) {
    out.refusal = TransferRefusal{Code::kNotActive, "the call is not answered yet"};
  } else if (state_ == CallState::kBridged) {
    // The caller talks to the target now; a new transfer would part them (its mix plan) mid-call.
    out.refusal = TransferRefusal{Code::kNotActive, "the call is bridged to its transfer target"};
  } else if (transfer_running()) {
    out.refusal = TransferRefusal{Code::kTransferInProgress, "transfer " + transfer_->id() + " is still running"};
  } else if (caller_refer_running()) {
    out.refusal = TransferRefusal{Code::kTransferInProgress, "the caller's REFER " + caller_refer_record_.id +
                                                                 " is still running"};
  } else if (caller_replaced_) {
    // Transfers move the caller's leg; the party the agent talks to now is a leg warmline placed.
    out.refusal = TransferRefusal{Code::kNotActive, "the caller's side transferred the call by REFER; the "
                                                    "party reached cannot be transferred again"};
  } else if (request.introduce && request.mode != ai::TransferMode::kWarm) {
    out.refusal = TransferRefusal{Code::kInvalidField, "introduce needs mode \"warm\" (the agent is still there "
                                                       "when the target accepts)"};
  } else if (request.after_bridge == ai::AfterBridge::kListen && request.mode == ai::TransferMode::kSemi) {
    out.refusal = TransferRefusal{Code::kInvalidField, "after_bridge \"listen\" does not go with mode \"semi\" "
                                                       "(the agent leaves as the target rings)"};
  }
  if (out.refusal) return out;
  auto transfer = std::make_unique<Transfer>(
      ctx_, *caller_, bridge_, static_cast<TransferListener&>(*this),
      TransferOptions{.id = request.id,
                          .chain = TransferChain(std::move(request.targets), agent_config_.decline_is_final),
                          .agent = &agent_config_,
                          .caller_trunk = trunk_,
                          .reports_to_agent = request.id != "default_forward" || agent_connected(),
                          .ring_timeout_s = request.ring_timeout_s,
                          .headers = std::move(request.headers),
                          .leg_records = &leg_b_records_,
                          .ladder = ladder_,
                          .mode = request.mode,
                          .briefing = request.mode == ai::TransferMode::kWarm || request.mode == ai::TransferMode::kReplaces
                                      ? request.briefing
                                      : std::string(),
                          .screening = request.screening,
                          .hold = request.hold});
  // Installed before it starts: a REFER that goes out at once reports through transfer_.
  std::unique_ptr<Transfer> previous = std::move(transfer_);
  transfer_ = std::move(transfer);
  if (auto refusal = transfer_->start()) {
    transfer_->abort();
    transfer_ = std::move(previous);
    out.refusal = std::move(refusal);
    return out;
  }
  // Kept, not destroyed: this may run inside the previous transfer's own callback (a default_forward
  // started from its on_transfer_finished), whose frames are still on the stack.
  retired_transfer_ = std::move(previous);
  introduce_ = request.introduce;
  after_bridge_ = request.after_bridge;
  ctx_.metrics.transfers_started.fetch_add(1, std::memory_order_relaxed);
  return out;
}

TransferControlResult Call::control_transfer(std::string_view id, TransferControl what, std::string& why) {
  assert_on_shard();
  const bool named = transfer_ && (id.empty() || id == transfer_->id());
  const std::string which = id.empty() ? std::string("no transfer") : "no transfer '" + std::string(id) + "'";
  if (what == TransferControl::kComplete) {
    if (named && agent_after_bridge_ == AgentAfterBridge::kThreeWay) {
      complete_introduce();
      return TransferControlResult::kApplied;
    }
    if (named && transfer_running()) {
      why = "transfer.complete: transfer " + transfer_->id() + " has no three-way to complete yet (one with "
            "\"introduce\": true, once the target has accepted)";
      return TransferControlResult::kNotNow;
    }
    why = "transfer.complete: " + which + " is in a three-way";
    return TransferControlResult::kNoTransfer;
  }
  const bool accept = what == TransferControl::kAccept;
  const char* name = accept ? "transfer.accept" : "transfer.cancel";
  if (!named || !transfer_running()) {
    why = std::string(name) + ": " + which + " is running";
    return TransferControlResult::kNoTransfer;
  }
  if (accept ? transfer_->agent_accept() : transfer_->agent_cancel()) return TransferControlResult::kApplied;
  why = std::string(name) + ": transfer " + transfer_->id() +
        (accept ? " is not waiting for an accept (a warm transfer with screening \"agent\" is, from its answered "
                  "event on; a consult, from its consulting event on)"
                : " cannot be cancelled any more (a REFER has gone out)");
  return TransferControlResult::kNotNow;
}

void Call::report_transfer(const TransferUpdate& update) {
  if (!transfer_ || !transfer_->reports_to_agent() || !agent_ || agent_left_) return;
  ai::TransferState state = update.kind == TransferUpdate::Kind::kEnded ? ai::TransferState::kEnded
                            : update.state == "ringing"                  ? ai::TransferState::kRinging
                            : update.state == "answered"                 ? ai::TransferState::kAnswered
                            : update.state == "consulting"               ? ai::TransferState::kConsulting
                                                                         : ai::TransferState::kDialing;
  // A replaces transfer's end says how the caller reached the target: the PBX (refer) or our bridge (dial).
  const bool says_strategy = state == ai::TransferState::kEnded && transfer_->mode() == ai::TransferMode::kReplaces &&
                             update.result == TransferResult::kCompleted;
  agent_->send_transfer(ai::TransferEvent{.id = transfer_->id(), .state = state, .target = transfer_->current().name,
                                          .result = update.result, .sip_status = update.sip_status,
                                          .reason = update.reason,
                                          .strategy = says_strategy ? to_string(transfer_->record().strategy)
                                                                    : std::string_view()});
}

void Call::on_transfer_progress(const TransferUpdate& update) {
  if (refer_in() && refer_notifier_ && update.state == "ringing") refer_notifier_->progress(update.sip_status);
  emit_webhook(WebhookEventType::kTransferUpdated);
  report_transfer(update);
}

// Semi-attended: the agent's part ends as the target rings; for it the transfer is complete. The call
// goes on: the caller is put through when the target answers, and if it does not, the agent's
// default_forward or the fallback message takes over (the agent is gone).
void Call::on_transfer_handed_over(const TransferUpdate& update) {
  if (!agent_connected()) return;
  agent_->send_transfer(ai::TransferEvent{.id = transfer_->id(), .state = ai::TransferState::kEnded,
                                          .target = transfer_->current().name, .result = TransferResult::kCompleted,
                                          .sip_status = update.sip_status,
                                          .reason = "the target rings; the caller is handed over"});
  agent_->send_stop("transferred");
  agent_->close();
  agent_left_ = true;
}

void Call::on_transfer_finished(const TransferUpdate& update) {
  transfer_records_.push_back(transfer_->record());
  emit_webhook(WebhookEventType::kTransferUpdated);
  count_transfer_end(transfer_->record(), update.result);
  if (refer_in()) return refer_in_finished(update);
  const bool caller_gone = state_ == CallState::kEnded || caller_->state() == Leg::State::kTerminated;
  // A bridged target: bridge_target tells the agent (after a three-way, only at its transfer.complete).
  if (update.result == TransferResult::kCompleted && !caller_gone) {
    if (auto leg = transfer_->take_answered_leg()) return bridge_target(std::move(leg), update);
  }
  report_transfer(update);
  // The caller hung up, or we did (API, agent): the call's own ending says the rest (the stop reason,
  // "transferred" when the caller's BYE came after an accepted REFER); nothing more is dialled.
  if (caller_gone) return;
  if (update.result == TransferResult::kCompleted) {
    caller_->hang_up();
    finish("transferred");
    return;
  }
  after_failed_transfer();
}

void Call::count_transfer_end(const TransferRecord& record, TransferResult result) {
  ctx_.metrics.transfers_by_result[static_cast<size_t>(result)].fetch_add(1, std::memory_order_relaxed);
  ctx_.metrics.transfers_by_strategy[static_cast<size_t>(record.strategy)][static_cast<size_t>(result)].fetch_add(
      1, std::memory_order_relaxed);
  if (result == TransferResult::kCompleted)
    ctx_.metrics.transfer_setup.observe(std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now() - record.requested_at));
}

// The caller is still here after a failed transfer: back with the AI, forwarded, or the fallback
// message (DESIGN.md: a caller is never left in silence).
void Call::after_failed_transfer() {
  switch (after_failure(agent_config_, agent_connected(), transfer_->id() == "default_forward")) {
    case AfterFailure::kBackToAgent: return;  // the conversation with the AI simply goes on
    case AfterFailure::kFallbackAndHangUp: return play_fallback_and_hang_up();
    case AfterFailure::kDefaultForward: {
      ai::TransferRequest fwd;
      fwd.id = "default_forward";
      fwd.targets = {agent_config_.default_forward};
      auto started = request_transfer(std::move(fwd));
      if (started.ok()) return;
      spdlog::warn("call {}: default_forward {} refused: {}", id_, agent_config_.default_forward,
                   started.refusal->message);
      if (!agent_connected()) play_fallback_and_hang_up();
      return;
    }
  }
}

void Call::hangup(std::string_view reason) {
  assert_on_shard();
  if (state_ == CallState::kEnded) return;
  if (caller_) caller_->hang_up();
  // Our own hang-up: whatever the REFER had reached, the transfer did not hand the caller over.
  if (transfer_running()) transfer_->cancel("the call was hung up");
  finish(reason);
}

void Call::finish(std::string_view stop_reason) {
  if (state_ == CallState::kEnded) return;
  state_ = CallState::kEnded;
  if (script_) script_->stop();
  const bool transfer_unfinished = transfer_running();
  if (transfer_) transfer_->abort();
  if (agent_dial_) agent_dial_->stop(TransferResult::kCallerHungUp, "the call ended");  // CANCEL the SIP agent
  if (caller_refer_running()) {
    // CANCEL the dial a caller's REFER asked for. Only warmline's side ends the call while it runs (the
    // caller's BYE leaves it going): it was cancelled.
    caller_refer_dial_->stop(TransferResult::kCancelled, "the call was hung up");
    if (!caller_refer_record_.result) {
      caller_refer_record_.result = TransferResult::kCancelled;
      caller_refer_record_.attempts.back().result = TransferResult::kCancelled;
      caller_refer_record_.ended_at = std::chrono::system_clock::now();
      transfer_records_.push_back(caller_refer_record_);
      caller_refer_step("ended", TransferUpdate{TransferUpdate::Kind::kEnded, "ended", TransferResult::kCancelled, 0,
                                                "the call was hung up"});
    }
  }
  if (transfer_unfinished) transfer_records_.push_back(transfer_->record());
  bridge_.set(MixPlan::ended());  // also parts caller and target
  if (caller_ && caller_->state() != Leg::State::kTerminated) caller_->hang_up();
  if (target_) target_->hang_up();
  if (referrer_) referrer_->hang_up();
  stop_recording();  // the file ends with the call (what was queued is still written)
  spdlog::info("call {}: ended ({})", id_, stop_reason);
  send_record(stop_reason);
  ctx_.on_call_ended(*this);
  // A three-way that ends before the agent's transfer.complete: its transfer did put the caller
  // through, and the agent hears so before the stop.
  if (completion_ && agent_after_bridge_ == AgentAfterBridge::kThreeWay)
    report_transfer(*std::exchange(completion_, std::nullopt));
  if (agent_ && agent_->state() != AgentChannel::State::kClosed) {
    agent_->send_stop(stop_reason);
    agent_->close();  // after the queued stop; on_agent_closed then releases the call
    return;
  }
  maybe_release();
}

// The call object stays alive until the agent's socket has flushed the stop and closed, and until a
// BYE that waits for the caller's ACK has gone: both come back here.
void Call::maybe_release() {
  if (released_ || state_ != CallState::kEnded) return;
  if (agent_ && agent_->state() != AgentChannel::State::kClosed) return;
  if (caller_ && caller_->bye_pending()) return;
  released_ = true;
  ctx_.on_call_released(*this);
}

void Call::on_leg_closed(Leg&) { maybe_release(); }

}  // namespace warmline::server
