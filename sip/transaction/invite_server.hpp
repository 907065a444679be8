// INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) with the Accepted state of RFC 6026 §7.1,
// which keeps the transaction alive after a 2xx so INVITE retransmissions are absorbed instead of
// reaching the TU as new calls.
#pragma once

#include <chrono>
#include <optional>

#include "sip/transaction/common.hpp"

namespace warmline::sip::transaction {

namespace invite_server {

enum class State { kProceeding, kCompleted, kConfirmed, kAccepted, kTerminated };
enum class Event {
  kRequest,       // INVITE retransmission
  kAck,           // ACK matching this transaction (a non-2xx final was sent)
  kTu1xx,
  kTu2xx,
  kTuFailure,     // 300-699 from the TU
  kTimerTrying,   // 200 ms without a TU response
  kTimerG,
  kTimerH,
  kTimerI,
  kTimerL,
  kTransportError,
};
enum Action : unsigned {
  kNone = 0,
  kSend = 1u << 0,          // send the TU's response and remember it
  kResendLast = 1u << 1,    // retransmit the last response sent (if any)
  kSend100 = 1u << 2,
  kStopTrying = 1u << 3,
  kStartGH = 1u << 4,
  kDoubleG = 1u << 5,       // G = min(2G, T2)
  kStopGH = 1u << 6,
  kStartI = 1u << 7,
  kStartL = 1u << 8,
  kReject = 1u << 9,        // the TU's response is not allowed in this state
};
struct Step {
  State next;
  unsigned actions;
};
Step transition(State state, Event event);

}  // namespace invite_server

class InviteServerTx final : public ServerTx {
 public:
  enum Timer { kTimerTrying, kTimerG, kTimerH, kTimerI, kTimerL };

  InviteServerTx(Env& env, TxId id, Message invite, Endpoint source);
  void start();  // arms the 100 Trying timer
  void on_request(const Message& request) override;
  bool respond(const Message& response) override;
  void on_timer(int slot) override;
  bool terminated() const override { return state_ == invite_server::State::kTerminated; }
  bool awaiting_final() const override { return state_ == invite_server::State::kProceeding; }
  invite_server::State state() const { return state_; }

 private:
  unsigned apply(invite_server::Event event, const Message* response);
  void send(const Message& response);

  Env& env_;
  TxTimers timers_;
  invite_server::State state_ = invite_server::State::kProceeding;
  std::chrono::milliseconds interval_g_;
};

}  // namespace warmline::sip::transaction
