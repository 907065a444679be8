#include "server/transfer/warm_gate.hpp"

namespace warmline::server {

using Kind = WarmGateAction::Kind;

WarmGateAction WarmGate::on_answered() {
  if (state_ != State::kIdle) return {};
  if (briefing_ == ai::kConsultBriefing) {
    state_ = State::kConsulting;
    return {Kind::kConsult, "", ""};
  }
  if (!briefing_.empty()) {
    state_ = State::kBriefing;
    return {Kind::kSpeak, briefing_, ""};
  }
  return screen();
}

WarmGateAction WarmGate::on_spoken() {
  if (state_ == State::kBriefing) return screen();
  if (state_ == State::kPrompting) {
    state_ = State::kAwaitingKey;
    return {Kind::kAwaitKey, "", ""};
  }
  return {};
}

WarmGateAction WarmGate::screen() {
  switch (screening_) {
    case ai::Screening::kNone: return accept();
    case ai::Screening::kDtmf:
      state_ = State::kPrompting;
      return {Kind::kSpeak, kPrompt, ""};
    case ai::Screening::kAgent:
      if (early_accept_) return accept();
      state_ = State::kAwaitingAgent;
      return {Kind::kAwaitAgent, "", ""};
  }
  return accept();
}

WarmGateAction WarmGate::on_dtmf(char digit) {
  // A key pressed while the prompt still plays counts too: people answer before the end of a prompt.
  if (state_ != State::kAwaitingKey && state_ != State::kPrompting) return {};
  if (digit == '1') return accept();
  if (digit == '2') return decline("the target declined (pressed 2)");
  return {};
}

WarmGateAction WarmGate::on_key_timeout() {
  if (state_ != State::kAwaitingKey) return {};
  return decline("the target pressed no key within " + std::to_string(kKeyTimeout.count()) + " s");
}

WarmGateAction WarmGate::on_agent_accept() {
  // Ending a consult is the agent's decision: the target is put through, or asked with the prompt.
  if (state_ == State::kConsulting) return screening_ == ai::Screening::kDtmf ? screen() : accept();
  // The agent has the `answered` event and may accept at once, while its briefing still plays.
  if (state_ == State::kBriefing && screening_ == ai::Screening::kAgent) {
    early_accept_ = true;
    return {Kind::kNoted, "", ""};
  }
  if (state_ != State::kAwaitingAgent) return {};
  return accept();
}

WarmGateAction WarmGate::on_agent_cancel() {
  if (!deciding()) return {};
  state_ = State::kDeclined;
  return {Kind::kCancel, "", "cancelled by the agent"};
}

WarmGateAction WarmGate::on_agent_lost() {
  // Only the agent's own gate needs the agent; the others go on without it. A consult cut short goes
  // on to the screening as if the agent had finished talking.
  if (state_ == State::kConsulting && screening_ != ai::Screening::kAgent) return screen();
  if (state_ == State::kConsulting) return decline("the agent was lost during the consult");
  if (state_ != State::kAwaitingAgent) return {};
  return decline("the agent was lost before it accepted");
}

WarmGateAction WarmGate::accept() {
  state_ = State::kAccepted;
  return {Kind::kAccept, "", ""};
}

WarmGateAction WarmGate::decline(std::string reason) {
  state_ = State::kDeclined;
  return {Kind::kDecline, "", std::move(reason)};
}

}  // namespace warmline::server
