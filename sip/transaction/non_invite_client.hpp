// Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6).
#pragma once

#include <chrono>

#include "sip/transaction/common.hpp"

namespace warmline::sip::transaction {

namespace non_invite_client {

enum class State { kTrying, kProceeding, kCompleted, kTerminated };
enum class Event { kProvisional, kFinal, kTimerE, kTimerF, kTimerK, kTransportError };
enum Action : unsigned {
  kNone = 0,
  kRetransmitDoubling = 1u << 0,  // resend, E = min(2E, T2)
  kRetransmitAtT2 = 1u << 1,      // resend, E = T2
  kPassUp = 1u << 2,
  kStopEF = 1u << 3,
  kStartK = 1u << 4,
  kTimeout = 1u << 5,             // synthesize 408
  kTransportFailed = 1u << 6,     // synthesize 503
};
struct Step {
  State next;
  unsigned actions;
};
Step transition(State state, Event event);

}  // namespace non_invite_client

class NonInviteClientTx final : public ClientTx {
 public:
  enum Timer { kTimerE, kTimerF, kTimerK };

  NonInviteClientTx(Env& env, TxId id, Message request, Endpoint destination, ResponseHandler handler);
  void start() override;
  void on_response(const Message& response, const Endpoint& from) override;
  void on_timer(int slot) override;
  bool terminated() const override { return state_ == non_invite_client::State::kTerminated; }
  bool cancellable() const override { return false; }  // §9.1: CANCEL is for INVITE only here
  bool awaiting_response() const override { return state_ == non_invite_client::State::kTrying; }
  non_invite_client::State state() const { return state_; }

 private:
  void on_transport_error() override { apply(non_invite_client::Event::kTransportError, nullptr); }
  void apply(non_invite_client::Event event, const Message* response);
  void send_request();

  Env& env_;
  TxTimers timers_;
  non_invite_client::State state_ = non_invite_client::State::kTrying;
  std::chrono::milliseconds interval_e_;
};

}  // namespace warmline::sip::transaction
