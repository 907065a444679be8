// INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) with the Accepted state of RFC 6026 §8.4.
#pragma once

#include <chrono>

#include "sip/transaction/common.hpp"

namespace warmline::sip::transaction {

namespace invite_client {

enum class State { kCalling, kProceeding, kCompleted, kAccepted, kTerminated };
enum class Event { kProvisional, kSuccess, kFailure, kTimerA, kTimerB, kTimerD, kTimerM, kTransportError };
enum Action : unsigned {
  kNone = 0,
  kRetransmit = 1u << 0,     // resend the INVITE, double timer A
  kPassUp = 1u << 1,         // hand the response to the TU
  kPassStray = 1u << 2,      // 2xx retransmission: to the UA core, not the transaction's TU handler
  kSendAck = 1u << 3,        // ACK for a non-2xx final (§17.1.1.3)
  kStopAB = 1u << 4,
  kStartD = 1u << 5,
  kStartM = 1u << 6,
  kTimeout = 1u << 7,        // synthesize 408
  kTransportFailed = 1u << 8 // synthesize 503
};
struct Step {
  State next;
  unsigned actions;
};
// The pure transition table; the class below only executes the actions.
Step transition(State state, Event event);

}  // namespace invite_client

class InviteClientTx final : public ClientTx {
 public:
  enum Timer { kTimerA, kTimerB, kTimerD, kTimerM };

  InviteClientTx(Env& env, TxId id, Message invite, Endpoint destination, ResponseHandler handler);
  void start() override;
  void on_response(const Message& response, const Endpoint& from) override;
  void on_timer(int slot) override;
  bool terminated() const override { return state_ == invite_client::State::kTerminated; }
  bool cancellable() const override { return state_ == invite_client::State::kProceeding; }
  bool awaiting_response() const override { return state_ == invite_client::State::kCalling; }
  // Called when a CANCEL for this INVITE went out: §9.1 gives the INVITE 64*T1 more for its final.
  void guard_cancel();
  invite_client::State state() const { return state_; }

 private:
  void on_transport_error() override { apply(invite_client::Event::kTransportError, nullptr, nullptr); }
  void apply(invite_client::Event event, const Message* response, const Endpoint* from);
  void send_invite();
  void send_ack(const Message& response);

  Env& env_;
  TxTimers timers_;
  invite_client::State state_ = invite_client::State::kCalling;
  std::chrono::milliseconds interval_a_;
};

}  // namespace warmline::sip::transaction
