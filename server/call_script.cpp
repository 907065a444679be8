// The call script runner (call_script.hpp), and the call's side of it: Call::run_script checks a
// script against the call before anything runs, and binds the script's actions to the call.
#include "server/call_script.hpp"

#include <spdlog/spdlog.h>

#include "server/call.hpp"
#include "server/targets.hpp"

namespace warmline::server {

CallScript::CallScript(sip::TimerService& timers, std::vector<ScriptStep> steps, ScriptActions actions)
    : timers_(timers), steps_(std::move(steps)), actions_(std::move(actions)) {}

CallScript::~CallScript() { cancel_timer(); }

std::optional<TransferRefusal> CallScript::start() {
  const auto self = shared_from_this();  // a step may drop the last other reference to the script
  starting_ = true;
  advance();
  starting_ = false;
  return std::exchange(start_refusal_, std::nullopt);
}

void CallScript::stop() {
  stopped_ = true;
  cancel_timer();
}

void CallScript::on_audio_done() {
  if (stopped_ || wait_ != Wait::kAudio || actions_.audio_pending()) return;
  cancel_timer();
  wait_ = Wait::kNone;
  quiet_ = true;
  advance();
}

// Runs steps until one waits. An action may call back into the script (a failed synthesis reports
// "audio done" at once): running_ keeps that from nesting, and the loop sees the new state itself.
void CallScript::advance() {
  if (running_) return;
  const auto self = shared_from_this();  // an action may end the call, which drops its reference to us
  running_ = true;
  while (!stopped_ && wait_ == Wait::kNone && next_ < steps_.size()) {
    if (!run(steps_[next_])) break;
  }
  running_ = false;
}

bool CallScript::run(ScriptStep& step) {
  if (auto* say = std::get_if<ScriptSay>(&step)) {
    ++next_;
    actions_.say(say->text);
    return true;
  }
  // Every other step comes after the audio before it.
  if (!quiet_) {
    if (actions_.audio_pending()) {
      wait_for_audio();
      return false;
    }
  }
  quiet_ = false;
  ++next_;
  if (auto* transfer = std::get_if<ScriptTransfer>(&step)) {
    auto refusal = actions_.transfer(std::move(transfer->request), !starting_);
    if (refusal && starting_) start_refusal_ = std::move(refusal);
    return true;
  }
  if (auto* pause = std::get_if<ScriptPause>(&step)) {
    wait_ = Wait::kPause;
    schedule(pause->length, [this] {
      wait_ = Wait::kNone;
      advance();
    });
    return false;
  }
  next_ = steps_.size();  // a hang-up is the end, whatever follows it
  actions_.hangup();
  return false;
}

// Until on_audio_done, or — for audio that never stops coming — until what is queued now has had time
// to play. Speech still being synthesised is not in the queue yet: then the bound is measured again
// when it runs out (by then the clip may be queued).
void CallScript::wait_for_audio() {
  constexpr std::chrono::milliseconds kMargin{100};
  wait_ = Wait::kAudio;
  const bool speaking = actions_.speech_pending();
  schedule(std::chrono::milliseconds(actions_.audio_queued_ms()) + kMargin, [this, speaking] {
    if (speaking) return wait_for_audio();
    spdlog::debug("call script: the agent's audio keeps coming; going on after what was queued");
    wait_ = Wait::kNone;
    quiet_ = true;
    advance();
  });
}

void CallScript::schedule(std::chrono::milliseconds delay, std::function<void()> then) {
  cancel_timer();
  std::weak_ptr<CallScript> weak = weak_from_this();
  timer_ = timers_.schedule(delay, [weak, then = std::move(then)] {
    const auto self = weak.lock();
    if (!self || self->stopped_) return;
    self->timer_ = sip::kNoTimer;
    then();
  });
}

void CallScript::cancel_timer() {
  if (timer_ == sip::kNoTimer) return;
  timers_.cancel(timer_);
  timer_ = sip::kNoTimer;
}

// ---------------------------------------------------------------------------------------------------
// The call's side

std::optional<TransferRefusal> Call::check_script(const std::vector<ScriptStep>& steps) const {
  using Code = TransferRefusal::Code;
  if (state_ == CallState::kEnded) return TransferRefusal{Code::kNotActive, "the call has ended"};
  if (state_ == CallState::kRinging) return TransferRefusal{Code::kNotActive, "the call is not answered yet"};
  if (state_ == CallState::kBridged)
    return TransferRefusal{Code::kNotActive, "the call is bridged to its transfer target"};
  if (transfer_running())
    return TransferRefusal{Code::kTransferInProgress, "transfer " + transfer_->id() + " is still running"};
  if (caller_refer_running())
    return TransferRefusal{Code::kTransferInProgress, "the caller's REFER " + caller_refer_record_.id + " is still running"};
  if (caller_replaced_)
    return TransferRefusal{Code::kNotActive, "the caller's side transferred the call by REFER"};
  for (const ScriptStep& step : steps) {
    if (std::holds_alternative<ScriptSay>(step) && !ctx_.speech)
      return TransferRefusal{Code::kNotSupported, "text-to-speech is not available on this gateway"};
    const auto* t = std::get_if<ScriptTransfer>(&step);
    if (!t) continue;
    if (t->refer_only && !(trunk_ && trunk_->accepts_refer))
      return TransferRefusal{Code::kNotSupported, "a REFER needs the caller's trunk to accept one (accepts_refer = true)" +
                                                      (trunk_ ? " on trunk " + trunk_->name : std::string())};
    if (t->request.targets.empty()) return TransferRefusal{Code::kMissingField, "no target"};
    for (const std::string& target : t->request.targets) {
      TargetResult r = resolve_target(agent_config_, ctx_.config, target);
      if (!r.ok()) return std::move(r.error);
      if (!t->caller_id.empty() && r.target->caller_id != t->caller_id)
        return TransferRefusal{Code::kInvalidField,
                               "caller ID " + t->caller_id + " cannot be presented to " + target + ": warmline presents " +
                                   (r.target->caller_id.empty() ? std::string("none") : r.target->caller_id) +
                                   " there (the target's or the agent's caller_id)"};
    }
  }
  return std::nullopt;
}

std::optional<TransferRefusal> Call::run_script(std::vector<ScriptStep> steps) {
  assert_on_shard();
  if (auto refusal = check_script(steps)) return refusal;
  if (script_) script_->stop();  // the new script replaces it, as a new TwiML document does on Twilio
  ScriptActions actions{
      .say = [this](const std::string& text) { say(text); },
      .audio_pending = [this] { return agent_audio_pending(); },
      .speech_pending = [this] { return pending_speech_ > 0; },
      .audio_queued_ms = [this] { return agent_audio_queued_ms(); },
      .transfer = [this](ai::TransferRequest request, bool tell_agent) -> std::optional<TransferRefusal> {
        const std::string first = request.targets.empty() ? std::string() : request.targets.front();
        TransferStart started = request_transfer(std::move(request));
        if (started.refusal && tell_agent && agent_connected())
          agent_->send_transfer(ai::TransferEvent{.id = started.id, .state = ai::TransferState::kEnded, .target = first,
                                                  .result = TransferResult::kFailed, .sip_status = 0,
                                                  .reason = started.refusal->reason()});
        return std::move(started.refusal);
      },
      .hangup = [this] { hangup("api_hangup"); },
  };
  script_ = std::make_shared<CallScript>(ctx_.timers, std::move(steps), std::move(actions));
  return script_->start();
}

}  // namespace warmline::server
