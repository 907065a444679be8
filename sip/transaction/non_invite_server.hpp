// Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8).
#pragma once

#include <optional>

#include "sip/transaction/common.hpp"

namespace warmline::sip::transaction {

namespace non_invite_server {

enum class State { kTrying, kProceeding, kCompleted, kTerminated };
enum class Event { kRequest, kTu1xx, kTuFinal, kTimerJ, kTransportError };
enum Action : unsigned {
  kNone = 0,
  kSend = 1u << 0,        // send the TU's response and remember it
  kResendLast = 1u << 1,  // retransmit the last response sent
  kStartJ = 1u << 2,
  kReject = 1u << 3,      // the TU's response is not allowed in this state
};
struct Step {
  State next;
  unsigned actions;
};
Step transition(State state, Event event);

}  // namespace non_invite_server

class NonInviteServerTx final : public ServerTx {
 public:
  enum Timer { kTimerJ };

  NonInviteServerTx(Env& env, TxId id, Message request, Endpoint source);
  void on_request(const Message& request) override;
  bool respond(const Message& response) override;
  void on_timer(int slot) override;
  bool terminated() const override { return state_ == non_invite_server::State::kTerminated; }
  bool awaiting_final() const override {
    return state_ == non_invite_server::State::kTrying || state_ == non_invite_server::State::kProceeding;
  }
  non_invite_server::State state() const { return state_; }

 private:
  unsigned apply(non_invite_server::Event event, const Message* response);

  Env& env_;
  TxTimers timers_;
  non_invite_server::State state_ = non_invite_server::State::kTrying;
};

}  // namespace warmline::sip::transaction
