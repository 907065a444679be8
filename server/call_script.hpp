// A short script of steps that a call runs in order on its shard: what a TwiML document given to
// Twilio's call update turns into (provider_twilio.cpp), and the single transfer of Telnyx's transfer
// action. The steps are the ones warmline can perform exactly:
//   say       speech (warmline's TTS), queued behind the audio already queued for the caller
//   pause     silence for a while, once the audio before it has played
//   transfer  a cold transfer (Call::request_transfer), once the audio before it has played; always
//             the last step. (A transfer waits for queued audio itself, but it cannot know how long
//             speech still being synthesised will be: "Transferring you" would be cut off.)
//   hangup    the end of the call, once the audio before it has played
// "Has played" is the call's hook (Call::after_agent_audio: the caller's playout drained and no speech
// is being synthesised); an agent that keeps streaming never lets it fire, so each wait is bounded by
// what was queued when it began plus a margin, as a transfer's own wait is (Transfer::bound_playout_wait).
//
// A script replaces the one still running (as Twilio's update replaces the running TwiML); it stops
// when its call ends. Thread: the call's shard. The script calls its call through ScriptActions and is
// told of played audio through on_audio_done(); it keeps itself alive while it runs a step, so a step
// that ends (and frees) the call cannot pull it out from under itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ai_bridge/native_protocol.hpp"
#include "server/transfer/outcome.hpp"
#include "sip/timer.hpp"

namespace warmline::server {

struct ScriptSay {
  std::string text;
};
struct ScriptPause {
  std::chrono::milliseconds length{1000};
};
struct ScriptTransfer {
  ai::TransferRequest request;  // a cold transfer (its mode is left kCold)
  // Non-empty: the caller ID the script asked for (TwiML callerId, Telnyx `from`). warmline presents the
  // one configured for each target (the target's, else the agent's caller_id): the script is refused
  // unless they are the same.
  std::string caller_id;
  bool refer_only = false;  // TwiML <Refer>: a SIP REFER, so the caller's trunk must accept one
};
struct ScriptHangup {};

using ScriptStep = std::variant<ScriptSay, ScriptPause, ScriptTransfer, ScriptHangup>;

// What a script does to its call. Call::run_script (call_script.cpp) binds these to the call.
struct ScriptActions {
  std::function<void(const std::string& text)> say;
  std::function<bool()> audio_pending;      // audio queued for the caller, or speech being synthesised
  std::function<bool()> speech_pending;     // speech being synthesised (its length is not known yet)
  std::function<uint32_t()> audio_queued_ms;
  // Starts the transfer; the refusal when nothing was started. `tell_agent`: a refusal also goes to the
  // agent as the transfer's ended event (the script ran on after its HTTP request was answered, so
  // nobody else would hear of it).
  std::function<std::optional<TransferRefusal>(ai::TransferRequest request, bool tell_agent)> transfer;
  std::function<void()> hangup;
};

class CallScript : public std::enable_shared_from_this<CallScript> {
 public:
  // Make one with std::make_shared (it hands out weak references to itself for its timer).
  CallScript(sip::TimerService& timers, std::vector<ScriptStep> steps, ScriptActions actions);
  ~CallScript();
  CallScript(const CallScript&) = delete;
  CallScript& operator=(const CallScript&) = delete;

  // Runs steps until one has to wait. The refusal of a transfer step that ran (and was refused)
  // before start() returned, so the HTTP answer can carry it.
  std::optional<TransferRefusal> start();
  // The call's audio has played (Call::after_agent_audio).
  void on_audio_done();
  // No further step runs (the call ended, or a new script replaced this one).
  void stop();
  bool done() const { return stopped_ || next_ >= steps_.size(); }

 private:
  enum class Wait { kNone, kAudio, kPause };
  void advance();
  bool run(ScriptStep& step);  // false: the step has to wait (it runs again when the wait is over)
  void wait_for_audio();
  void schedule(std::chrono::milliseconds delay, std::function<void()> then);
  void cancel_timer();

  sip::TimerService& timers_;
  std::vector<ScriptStep> steps_;
  ScriptActions actions_;
  size_t next_ = 0;
  Wait wait_ = Wait::kNone;
  bool quiet_ = false;      // the audio before steps_[next_] has played (pause, hangup)
  bool running_ = false;    // inside advance(): an action that calls back in does not re-enter
  bool starting_ = false;   // inside start()
  bool stopped_ = false;
  std::optional<TransferRefusal> start_refusal_;
  sip::TimerId timer_ = sip::kNoTimer;
};

}  // namespace warmline::server
