// The warm part of a transfer (transfer.hpp): the caller on hold while the target is dialled, then
// the WarmGate on the answered target's leg — the briefing spoken to it, the accept gate — before the
// attempt completes and the call bridges caller and target.
#include <spdlog/spdlog.h>

#include "server/agent/native_agent_channel.hpp"
#include "server/leg/leg.hpp"
#include "server/shard.hpp"
#include "server/transfer/transfer.hpp"

namespace warmline::server {

MixPlan Transfer::waiting_plan() const {
  return warm() ? MixPlan::holding(options_.hold) : MixPlan::transferring();
}

void Transfer::start_gate() {
  answered_leg_->set_observer(*this);
  record_.answered_at = std::chrono::system_clock::now();
  gate_.emplace(options_.briefing, options_.screening);
  spdlog::info("transfer {}: {} answered; briefing {}, screening {}", options_.id, current_.name,
               options_.briefing.empty()                      ? "none"
               : options_.briefing == ai::kConsultBriefing    ? "by the agent (consult)"
                                                              : "spoken",
               ai::to_string(options_.screening));
  progress(TransferUpdate{TransferUpdate::Kind::kProgress, "answered", TransferResult::kFailed, 200, "OK"});
  if (!done_) act(gate_->on_answered());
}

void Transfer::act(const WarmGateAction& action) {
  using Kind = WarmGateAction::Kind;
  if (consulting_ && gate_ && !gate_->consulting()) end_consult();
  switch (action.kind) {
    case Kind::kConsult: return start_consult();
    case Kind::kNone:
    case Kind::kNoted:       // applies when the briefing has played
    case Kind::kAwaitAgent:  // the agent has the "answered" event; its accept or cancel comes
      return;
    case Kind::kSpeak: return speak_to_target(action.text);
    case Kind::kAwaitKey: {
      std::weak_ptr<bool> alive = alive_;
      cancel_timer();
      timeout_ = ctx_.timers.schedule(std::chrono::duration_cast<std::chrono::milliseconds>(WarmGate::kKeyTimeout),
                                      [this, alive] {
                                        if (alive.expired()) return;
                                        timeout_ = sip::kNoTimer;
                                        if (gate_) act(gate_->on_key_timeout());
                                      });
      return;
    }
    case Kind::kAccept:
      spdlog::info("transfer {}: {} accepted", options_.id, current_.name);
      return accept_target();
    case Kind::kDecline:
      release_target(action.reason);
      return attempt_ended(TransferUpdate{TransferUpdate::Kind::kEnded, "ended", TransferResult::kDeclined, 0,
                                          action.reason});
    case Kind::kCancel:
      release_target(action.reason);
      return attempt_ended(TransferUpdate{TransferUpdate::Kind::kEnded, "ended", TransferResult::kCancelled, 0,
                                          action.reason});
  }
}

// Rendered off the shard like the agent's `say`, then played on leg b's own playout; its end comes
// back as on_target_audio_played. Without a speech engine the text is skipped (logged), so a gate
// never waits for audio that cannot come.
void Transfer::speak_to_target(const std::string& text) {
  if (!ctx_.speech) {
    spdlog::warn("transfer {}: no text-to-speech on this gateway; not speaking to {}", options_.id, current_.name);
    if (gate_) act(gate_->on_spoken());
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  Shard& shard = ctx_.shard;
  ctx_.speech->say(
      text, agent_sample_rate(*options_.agent), [&shard](std::function<void()> fn) { shard.post(std::move(fn)); },
      [this, alive](std::shared_ptr<const media::AudioClip> clip) {
        if (alive.expired() || !gate_running()) return;
        if (clip && !clip->samples.empty()) return answered_leg_->media().push_agent_samples(clip->samples);
        spdlog::warn("transfer {}: speech for {} failed; going on without it", options_.id, current_.name);
        act(gate_->on_spoken());
      });
}

// The agent now hears the target (its leg decodes for the agent) and speaks to it; the caller stays
// on hold and is not heard by either.
void Transfer::start_consult() {
  if (options_.warm_refer_in) {
    // The referrer consults: its media and the target's are joined; the caller stays on hold. A
    // referrer that has gone meanwhile cannot: as after an agent lost.
    if (!options_.consult_with) return act(gate_->on_agent_lost());
    consulting_ = true;
    options_.consult_with->bridge_to(&answered_leg_->media());
    spdlog::info("transfer {}: the referrer consults {}", options_.id, current_.name);
    progress(TransferUpdate{TransferUpdate::Kind::kProgress, "consulting", TransferResult::kFailed, 0, ""});
    return;
  }
  consulting_ = true;
  bridge_.attach_target(&answered_leg_->media());
  bridge_.set(MixPlan::consulting(options_.hold));
  spdlog::info("transfer {}: consulting {}", options_.id, current_.name);
  progress(TransferUpdate{TransferUpdate::Kind::kProgress, "consulting", TransferResult::kFailed, 0, ""});
}

void Transfer::end_consult() {
  if (!consulting_) return;
  consulting_ = false;
  if (options_.warm_refer_in) {
    if (options_.consult_with) options_.consult_with->bridge_to(nullptr);
    return;
  }
  bridge_.set(MixPlan::holding(options_.hold));
  bridge_.attach_target(nullptr);
  // What the agent still had queued for the target was part of the consult.
  if (answered_leg_) answered_leg_->media().clear();
}

void Transfer::release_target(std::string_view why) {
  cancel_timer();
  end_consult();
  if (!answered_leg_) return;
  spdlog::info("transfer {}: releasing {} ({})", options_.id, current_.name, why);
  answered_leg_->hang_up();  // BYE; no callback afterwards
  released_leg_ = std::move(answered_leg_);
}

bool Transfer::agent_accept() {
  assert_on_shard();
  if (done_ || !gate_running()) return false;
  const auto action = gate_->on_agent_accept();
  if (action.kind == WarmGateAction::Kind::kNone) return false;
  act(action);
  return true;
}

bool Transfer::agent_cancel() {
  assert_on_shard();
  if (done_) return false;
  if (gate_running()) {
    act(gate_->on_agent_cancel());
    return true;
  }
  // A REFER that has gone out cannot be called back: the caller's side acts on it alone.
  if (strategy_ == TransferStrategy::kRefer && refer_.state() != ColdRefer::State::kIdle) return false;
  cancel("cancelled by the agent");
  return true;
}

void Transfer::on_agent_lost() {
  assert_on_shard();
  if (options_.warm_refer_in) return;  // the referrer, not the agent, decides this one
  if (!done_ && gate_running()) act(gate_->on_agent_lost());
}

void Transfer::referrer_left() {
  assert_on_shard();
  if (!options_.warm_refer_in) return;
  end_consult();
  options_.consult_with = nullptr;
  if (!done_ && gate_running()) act(gate_->on_agent_lost());
}

void Transfer::on_target_bye(OutboundLeg& leg) {
  assert_on_shard();
  if (done_ || &leg != answered_leg_.get()) return;
  end_consult();
  released_leg_ = std::move(answered_leg_);  // its dialog is over; the object may be on the stack
  if (replacing_) {
    // A PBX that has joined caller and target hangs up on leg b, perhaps before its final NOTIFY: the
    // REFER's own outcome (NOTIFY, the caller's BYE, refer_timeout) says how the transfer ended.
    spdlog::info("transfer {}: {} left while the REFER with Replaces runs; waiting for its outcome", options_.id,
                 current_.name);
    return;
  }
  cancel_timer();
  attempt_ended(TransferUpdate{TransferUpdate::Kind::kEnded, "ended", TransferResult::kFailed, 0,
                               "the target hung up before the caller was put through"});
}

void Transfer::on_target_dtmf(OutboundLeg& leg, char digit, uint32_t) {
  assert_on_shard();
  if (!done_ && gate_running() && &leg == answered_leg_.get()) act(gate_->on_dtmf(digit));
}

void Transfer::on_target_audio(OutboundLeg& leg, std::span<const int16_t> pcm) {
  if (consulting_ && !done_ && &leg == answered_leg_.get()) listener_.on_consult_audio(pcm);
}

void Transfer::on_target_mark(OutboundLeg& leg, std::string_view name, ai::MarkEvent event) {
  if (consulting_ && !done_ && &leg == answered_leg_.get()) listener_.on_consult_mark(name, event);
}

void Transfer::on_target_audio_played(OutboundLeg& leg) {
  assert_on_shard();
  if (!done_ && gate_running() && &leg == answered_leg_.get()) act(gate_->on_spoken());
}

}  // namespace warmline::server
