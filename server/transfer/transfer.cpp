#include "server/transfer/transfer.hpp"

#include <spdlog/spdlog.h>

#include <cassert>

#include "server/agent/native_agent_channel.hpp"
#include "server/leg/leg.hpp"
#include "sip/event.hpp"
#include "sip/parser.hpp"
#include "sip/uri.hpp"
#include "sip/usage/digest_retry.hpp"

namespace warmline::server {

// RFC 3325: who the caller is as their network asserted it (the first P-Asserted-Identity value, a sip:
// or tel: URI), else their From user part. An anonymous caller's From says "anonymous"; the asserted
// identity is what the person answering should see (their Privacy header goes along with it).
std::string caller_identity(const Leg& caller) {
  if (auto pai = sip::parse_name_addr_list(caller.history().asserted_identity); pai && !pai->empty()) {
    const sip::Uri& uri = pai->front().uri;
    if (uri.is_sip() && !uri.user.empty()) return uri.user;
    if (uri.scheme == "tel" && !uri.opaque.empty()) return uri.opaque.substr(0, uri.opaque.find(';'));
  }
  return caller.dialog().remote_uri.user;
}

Transfer::Transfer(CallContext& ctx, Leg& caller, Bridge& bridge, TransferListener& listener,
                           TransferOptions options)
    : ctx_(ctx), caller_(caller), bridge_(bridge), listener_(listener), options_(std::move(options)) {
  record_.id = options_.id;
  record_.mode = options_.mode;
  record_.strategy = TransferStrategy::kRefer;
  record_.requested_at = std::chrono::system_clock::now();
  phases_.push_back({.phase = "requested", .target = {}, .at = record_.requested_at, .sip_status = 0, .result = {}});
}

Transfer::~Transfer() { cancel_timer(); }

void Transfer::assert_on_shard() const { assert(ctx_.shard.on_shard()); }

std::optional<TransferRefusal> Transfer::start() {
  assert_on_shard();
  if (options_.chain.targets().empty()) return TransferRefusal{TransferRefusal::Code::kMissingField, "targets is empty"};
  for (const auto& t : options_.chain.targets()) {
    auto r = resolve_target(*options_.agent, ctx_.config, t);
    if (!r.ok()) return r.error;
  }
  return start_next();
}

std::optional<TransferRefusal> Transfer::start_next() {
  auto target = options_.chain.next();
  if (!target) return TransferRefusal{TransferRefusal::Code::kMissingField, "no target left"};
  auto r = resolve_target(*options_.agent, ctx_.config, *target);
  if (!r.ok()) return r.error;
  current_ = *r.target;
  refer_ = ColdRefer{};
  // The caller's side performs a REFER only when its trunk accepts one; otherwise we dial.
  // Warm and semi transfers always dial: warmline keeps the caller until the target takes the call.
  strategy_ = !warm() && !semi() && !refer_in() && (!options_.caller_trunk || options_.caller_trunk->accepts_refer) ? TransferStrategy::kRefer
                                                                                         : TransferStrategy::kDial;
  if (listener_.agent_audio_pending()) {
    waiting_playout_ = true;  // on_agent_audio_done starts it as soon as the audio has played: no fixed delay
    bound_playout_wait();
  } else {
    begin_attempt();
  }
  return std::nullopt;
}

void Transfer::on_agent_audio_done() {
  assert_on_shard();
  if (waiting_playout_ && !done_ && !listener_.agent_audio_pending()) begin_attempt();
}

// An agent that keeps streaming (silence, comfort noise, an echo) never lets the queue drain, and the
// transfer would wait for ever: it waits for what is queued when it starts, plus a margin for the
// media clock, and then goes. Speech still being synthesised is not queued yet: a bound measured while
// some was is measured again when it runs out (the speech may have been queued meanwhile).
void Transfer::bound_playout_wait() {
  constexpr uint32_t kMarginMs = 100;
  std::weak_ptr<bool> alive = alive_;
  const bool speaking = listener_.agent_speech_pending();
  const auto wait = std::chrono::milliseconds(listener_.agent_audio_queued_ms() + kMarginMs);
  timeout_ = ctx_.timers.schedule(wait, [this, alive, speaking] {
    if (alive.expired()) return;
    timeout_ = sip::kNoTimer;
    if (!waiting_playout_ || done_) return;
    if (speaking) return bound_playout_wait();
    spdlog::info("transfer {}: the agent's audio keeps coming; starting after what was queued", options_.id);
    begin_attempt();
  });
}

void Transfer::begin_attempt() {
  cancel_timer();  // the bound on the playout wait
  waiting_playout_ = false;
  if (strategy_ == TransferStrategy::kRefer) return send_refer();
  start_dial();
}

void Transfer::start_dial() {
  strategy_ = TransferStrategy::kDial;
  record_.strategy = TransferStrategy::kDial;
  bridge_.set(waiting_plan());
  const unsigned ring_s = options_.ring_timeout_s > 0 ? static_cast<unsigned>(options_.ring_timeout_s)
                          : current_.ring_timeout_s > 0 ? current_.ring_timeout_s
                                                        : options_.agent->ring_timeout_s;
  DialRequest request{.target = current_,
                      .ring_timeout = std::chrono::seconds(ring_s),
                      .caller_user = caller_identity(caller_),
                      .privacy = caller_.history().privacy,
                      .first_codec = caller_.codec_name(),
                      .headers = options_.headers,
                      .leg_records = options_.leg_records,
                      .ladder = options_.ladder,
                      .agent_rate = agent_sample_rate(*options_.agent),
                      .trace_correlation = caller_.dialog().call_id};
  if (dial_) old_dial_ = std::move(dial_);  // its own callback may be what brought us here
  dial_ = std::make_unique<BridgedDial>(ctx_, *this, std::move(request));
  // A REFER's fallback dials the target the REFER named: still one target tried (two attempts).
  if (refer_.state() == ColdRefer::State::kIdle) record_.targets_tried.push_back(current_.name);
  spdlog::info("transfer {}: bridged dial to {} ({})", options_.id, current_.name, current_.uri);
  progress(TransferUpdate{TransferUpdate::Kind::kProgress, "dialing", TransferResult::kFailed, 0, ""});
  if (!done_) dial_->start();
}

void Transfer::on_dial_progress(const TransferUpdate& update) {
  assert_on_shard();
  if (done_) return;
  progress(update);
  if (semi() && !handed_over_ && update.state == "ringing") {
    handed_over_ = true;
    spdlog::info("transfer {}: {} rings; the agent hands the caller over (semi)", options_.id, current_.name);
    listener_.on_transfer_handed_over(update);
  }
}

void Transfer::on_dial_early_media(OutboundLeg& leg) {
  assert_on_shard();
  if (done_ || early_media_ || warm()) return;  // a warm transfer's caller stays on hold
  // DESIGN.md: while the target rings the caller hears ringback, or its early media once there is some.
  early_media_ = true;
  bridge_.attach_target(&leg.media());
  bridge_.set(MixPlan::target());
}

void Transfer::unbridge_early_media() {
  if (!early_media_) return;
  early_media_ = false;
  bridge_.attach_target(nullptr);
  if (!done_) bridge_.set(waiting_plan());
}

void Transfer::on_dial_ended(const TransferUpdate& update) {
  assert_on_shard();
  if (done_) return;
  if (update.result == TransferResult::kCompleted) answered_leg_ = dial_->take_leg();
  else unbridge_early_media();
  if (update.result == TransferResult::kCompleted && warm() && answered_leg_) return start_gate();
  attempt_ended(update);
}

bool Transfer::refer_fallback(const TransferUpdate& update) {
  // The caller's side refused the REFER itself, or never said how it ended: dial the target ourselves.
  // (A REFER with Replaces has its own fallback, the bridge: replaces_ended.)
  if (replaces() || strategy_ != TransferStrategy::kRefer || options_.agent->refer_fallback != ReferFallback::dial) return false;
  if (update.result != TransferResult::kRejected && update.result != TransferResult::kTimeout) return false;
  if (caller_.state() == Leg::State::kTerminated) return false;
  spdlog::info("transfer {} to {}: REFER {} ({} {}); falling back to a bridged dial", options_.id, current_.name,
               to_string(update.result), update.sip_status, update.reason);
  start_dial();
  return true;
}

void Transfer::send_refer() {
  bridge_.set(MixPlan::transferring());
  sip::Message refer = caller_.new_request("REFER");
  refer.add_header("Refer-To", "<" + current_.uri + ">");
  refer.add_header("Referred-By", "<" + caller_.dialog().local_uri.to_string() + ">");
  refer_challenges_ = 0;
  send_refer_request(std::move(refer));
  spdlog::info("transfer {}: REFER to {} ({})", options_.id, current_.name, current_.uri);
  record_.targets_tried.push_back(current_.name);
  progress(refer_.on_refer_sent());
}

void Transfer::send_refer_request(sip::Message refer) {
  refer_cseq_ = refer.cseq.number;
  refer_sent_ = refer;
  std::weak_ptr<bool> alive = alive_;
  // refer_timeout_s runs from the first REFER of the attempt (its retry with credentials keeps it).
  if (timeout_ == sip::kNoTimer) {
    auto timeout = std::chrono::seconds(options_.agent->refer_timeout_s);
    timeout_ = ctx_.timers.schedule(std::chrono::duration_cast<std::chrono::milliseconds>(timeout), [this, alive] {
      if (alive.expired()) return;
      timeout_ = sip::kNoTimer;
      apply(refer_.on_timeout());
    });
  }
  caller_.send(std::move(refer), [this, alive](const sip::Message& response) {
    if (!alive.expired()) on_refer_response(response);
  });
}

void Transfer::on_refer_response(const sip::Message& response) {
  if (done_ || response.cseq.number != refer_cseq_) return;
  if (sip::is_digest_challenge(response) && retry_refer(response)) return;
  apply(refer_.on_refer_response(response.status_code, response.reason));
}

bool Transfer::retry_refer(const sip::Message& challenge) {
  // Some carriers challenge REFER (RFC 3261 §22.2). The DigestClient decides whether a second
  // challenge deserves an answer (stale=true only); the count bounds it whatever a server sends.
  if (refer_challenges_ >= sip::kMaxChallengeAnswers || caller_.state() == Leg::State::kTerminated) return false;
  std::optional<sip::Message> retry = caller_.answer_challenge(refer_sent_, challenge);
  if (!retry) return false;
  ++refer_challenges_;
  spdlog::info("transfer {}: REFER challenged ({}); sent again with credentials, CSeq {}", options_.id,
               challenge.status_code, retry->cseq.number);
  // RFC 3515 §2.4.6: the NOTIFYs' Event id is the CSeq of the REFER that was accepted, this one; a
  // NOTIFY naming the challenged one is answered 481 from now on.
  send_refer_request(std::move(*retry));
  return true;
}

void Transfer::on_notify(sip::ServerTransaction& tx, const sip::Message& req) {
  assert_on_shard();
  auto event_id = sip::refer_event_id(req.header("Event"));
  if (!event_id || done_ || refer_.state() == ColdRefer::State::kIdle ||
      (*event_id != 0 && *event_id != refer_cseq_)) {
    // RFC 6665 §4.1.3: a NOTIFY for a subscription we do not have.
    sip::Message r = sip::make_response(req, 481, "Subscription Does Not Exist");
    r.to.set_tag(caller_.dialog().local_tag);
    tx.respond(std::move(r));
    return;
  }
  sip::Message ok = sip::make_response(req, 200, "OK");
  ok.to.set_tag(caller_.dialog().local_tag);
  tx.respond(std::move(ok));
  auto status = sip::parse_sipfrag_status(req.body);
  const bool terminated = req.header("Subscription-State").starts_with("terminated");
  if (!status) {
    if (terminated) apply(refer_.on_notify(0, "", true));
    return;
  }
  apply(refer_.on_notify(*status, sip::sipfrag_reason(req.body), terminated));
}

void Transfer::on_caller_bye() {
  assert_on_shard();
  if (done_) return;
  waiting_playout_ = false;
  if (gate_running()) {
    release_target("the caller hung up");
    return apply(TransferUpdate{TransferUpdate::Kind::kEnded, "ended", TransferResult::kCallerHungUp, 0, "caller hung up"});
  }
  if (strategy_ == TransferStrategy::kDial && dial_ && !dial_->done())
    return dial_->stop(TransferResult::kCallerHungUp, "caller hung up");  // CANCELs leg b
  auto update = refer_.on_caller_bye();
  if (!update) update = TransferUpdate{TransferUpdate::Kind::kEnded, "ended", TransferResult::kCallerHungUp, 0,
                                       "caller hung up"};
  apply(update);
}

void Transfer::cancel(std::string_view why) {
  assert_on_shard();
  if (done_) return;
  waiting_playout_ = false;
  if (gate_running()) release_target(why);
  else if (strategy_ == TransferStrategy::kDial && dial_ && !dial_->done())
    return dial_->stop(TransferResult::kCancelled, std::string(why));
  apply(TransferUpdate{TransferUpdate::Kind::kEnded, "ended", TransferResult::kCancelled, 0, std::string(why)});
}

void Transfer::abort() {
  assert_on_shard();
  if (!done_ && !record_.ended_at) {  // the call ended under a running transfer: we ended it
    record_.result = TransferResult::kCancelled;
    record_.ended_at = std::chrono::system_clock::now();
  }
  cancel_timer();
  waiting_playout_ = false;
  done_ = true;
  alive_.reset();
  unbridge_early_media();
  if (gate_ && answered_leg_ && !record_.bridged_at) release_target("the call ended");
  if (dial_ && !dial_->done()) dial_->stop(TransferResult::kCancelled, "the call ended");  // CANCEL/BYE leg b
}

void Transfer::cancel_timer() {
  if (timeout_ != sip::kNoTimer) ctx_.timers.cancel(timeout_);
  timeout_ = sip::kNoTimer;
}

void Transfer::apply(const std::optional<TransferUpdate>& update) {
  if (!update || done_) return;
  if (update->kind == TransferUpdate::Kind::kProgress) return progress(*update);
  attempt_ended(*update);
}

void Transfer::add_phase(TransferPhase phase) {
  if (!phases_.empty() && phase.phase != "ended" && phases_.back().phase == phase.phase &&
      phases_.back().target == phase.target)
    return;  // the same step told again (a second 180)
  // Full: the last slot keeps being replaced, so the end always shows.
  if (phases_.size() >= kTransferPhasesCap) phases_.pop_back();
  phases_.push_back(std::move(phase));
}

void Transfer::progress(const TransferUpdate& update) {
  add_phase({.phase = update.state, .target = current_.name, .at = std::chrono::system_clock::now(),
             .sip_status = update.sip_status, .result = {}});
  last_state_ = update.state;
  last_status_ = update.sip_status;
  listener_.on_transfer_progress(update);
}

void Transfer::attempt_ended(const TransferUpdate& update) {
  cancel_timer();
  if (replacing_) return replaces_ended(update);  // records its REFER and goes on below or bridges
  const auto now = std::chrono::system_clock::now();
  // An attempt is one REFER or dial that went out (not one still waiting for the agent's audio).
  if (strategy_ == TransferStrategy::kDial || refer_.state() != ColdRefer::State::kIdle)
    record_.attempts.push_back(
        {.target = current_.uri, .sip_status = update.sip_status, .result = update.result, .strategy = strategy_});
  const TransferPhase ended_phase{.phase = "ended", .target = current_.name, .at = now,
                                  .sip_status = update.sip_status, .result = std::string(to_string(update.result))};
  if (update.result != TransferResult::kCompleted) add_phase(ended_phase);
  if (refer_fallback(update)) return;
  if (update.result == TransferResult::kCompleted) {
    // The caller's side connects caller and target itself as the target answers: for REFER, the
    // answer and the bridge are the same moment.
    if (!record_.answered_at) record_.answered_at = now;  // a warm target answered before its accept
    record_.bridged_at = now;
    add_phase({.phase = "bridged", .target = current_.name, .at = now, .sip_status = update.sip_status, .result = {}});
    add_phase(ended_phase);
  }
  spdlog::info("transfer {} to {}: {} {} {}", options_.id, current_.name, to_string(update.result), update.sip_status,
               update.reason);
  // Chains: the policy says whether this outcome moves on; the listener hears one final outcome for
  // the whole chain (the last target's).
  if (options_.chain.moves_on(update.result) && options_.chain.has_next() && caller_.state() != Leg::State::kTerminated) {
    bridge_.set(MixPlan::talking());
    if (!start_next()) return;
  }
  done_ = true;
  last_state_ = update.state;
  last_status_ = update.sip_status;
  result_ = update.result;
  record_.result = update.result;
  record_.ended_at = now;
  if (update.result != TransferResult::kCompleted) bridge_.set(MixPlan::talking());
  listener_.on_transfer_finished(update);
}

}  // namespace warmline::server
