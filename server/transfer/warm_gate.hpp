// What happens between a warm transfer's target answering and the caller being put through (DESIGN.md
// "Transfers", warm): the briefing spoken to the target, then the accept gate (`screening`). A pure
// state machine like ColdRefer: inputs are what happened (the target answered, what was spoken has
// played, a key the target pressed, the key timeout, the agent's transfer.accept / transfer.cancel, the
// agent lost), outputs are what the transfer must do next. No I/O, no timers.
//
//   answered -> [briefing text: speak it to the target, wait until it has played]
//               [briefing "agent", a consult: the agent talks with the target until its transfer.accept
//                (which ends the consult and counts as the agent's accept) or transfer.cancel; an agent
//                lost meanwhile ends the consult as if it had accepted, except with screening agent]
//            -> screening none:  accept
//               screening dtmf:  speak the prompt, then wait for a key (kKeyTimeout): 1 accepts,
//                                2 declines, no key declines, other keys are ignored
//               screening agent: wait for the agent's transfer.accept / transfer.cancel (an accept
//                                sent during the briefing is kept for its end); an agent lost
//                                meanwhile declines (nobody is left to decide)
#pragma once

#include <chrono>
#include <string>

#include "ai_bridge/native_protocol.hpp"

namespace warmline::server {

struct WarmGateAction {
  enum class Kind {
    kNone,         // nothing to do (an input that does not apply now)
    kSpeak,        // speak `text` to the target; call on_spoken() once it has played
    kAwaitKey,     // wait for the target's key, at most kKeyTimeout (then on_key_timeout())
    kAwaitAgent,   // tell the agent the target answered; wait for its accept or cancel
    kAccept,       // put the caller through
    kDecline,      // release the target; the attempt ends as `declined` (`reason` says why)
    kCancel,       // the agent cancelled: release the target; the transfer ends as `cancelled`
    kNoted,        // the agent's accept came during the briefing: it applies once the briefing has played
    kConsult,      // re-point the agent's stream to the target until the gate leaves kConsulting
  };
  Kind kind = Kind::kNone;
  std::string text;    // kSpeak
  std::string reason;  // kDecline, kCancel
};

class WarmGate {
 public:
  static constexpr std::chrono::seconds kKeyTimeout{10};
  static constexpr const char* kPrompt =
      "You have a transferred call. Press 1 to accept it, or 2 to decline.";

  enum class State {
    kIdle, kBriefing, kConsulting, kPrompting, kAwaitingKey, kAwaitingAgent, kAccepted, kDeclined
  };

  // `briefing`: text to speak, empty for none, or ai::kConsultBriefing for a consult.
  WarmGate(std::string briefing, ai::Screening screening) : briefing_(std::move(briefing)), screening_(screening) {}

  State state() const { return state_; }
  bool consulting() const { return state_ == State::kConsulting; }
  bool deciding() const { return state_ != State::kIdle && state_ != State::kAccepted && state_ != State::kDeclined; }

  WarmGateAction on_answered();
  WarmGateAction on_spoken();
  WarmGateAction on_dtmf(char digit);
  WarmGateAction on_key_timeout();
  WarmGateAction on_agent_accept();
  WarmGateAction on_agent_cancel();
  WarmGateAction on_agent_lost();

 private:
  WarmGateAction screen();
  WarmGateAction accept();
  WarmGateAction decline(std::string reason);

  std::string briefing_;
  ai::Screening screening_;
  State state_ = State::kIdle;
  bool early_accept_ = false;  // the agent accepted while the briefing played
};

}  // namespace warmline::server
