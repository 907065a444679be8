#include "sip/transaction/non_invite_client.hpp"

#include <algorithm>

namespace warmline::sip::transaction {

namespace non_invite_client {

Step transition(State state, Event event) {
  switch (state) {
    case State::kTrying:
      // §17.1.2.2: "If timer E fires while still in this state, the timer is reset, but this time with
      // a value of MIN(2*T1, T2)" (and so on, doubling up to T2).
      if (event == Event::kTimerE) return {State::kTrying, kRetransmitDoubling};
      // "If a provisional response is received while in the Trying state, the response MUST be passed
      // to the TU, and then the client transaction SHOULD move to the Proceeding state."
      if (event == Event::kProvisional) return {State::kProceeding, kPassUp};
      break;
    case State::kProceeding:
      // "If timer E fires while in the Proceeding state, the request MUST be passed to the transport
      // layer for retransmission, and timer E MUST be reset with a value of T2 seconds."
      if (event == Event::kTimerE) return {State::kProceeding, kRetransmitAtT2};
      if (event == Event::kProvisional) return {State::kProceeding, kPassUp};
      break;
    case State::kCompleted:
      // "The Completed state exists to buffer any additional response retransmissions"; timer K ends it.
      if (event == Event::kTimerK) return {State::kTerminated, kNone};
      return {state, kNone};
    case State::kTerminated:
      return {state, kNone};
  }
  // Shared by Trying and Proceeding.
  switch (event) {
    // "If Timer F fires while the client transaction is still in the Trying state [or Proceeding], the
    // client transaction SHOULD inform the TU about the timeout, and then it SHOULD enter the
    // Terminated state."
    case Event::kTimerF: return {State::kTerminated, kTimeout | kStopEF};
    // "If a final response (status codes 200-699) is received while in the Trying [or Proceeding]
    // state, the response MUST be passed to the TU, and the client transaction MUST transition to
    // the Completed state" (timer K = T4 for unreliable transports).
    case Event::kFinal: return {State::kCompleted, kPassUp | kStopEF | kStartK};
    case Event::kTransportError: return {State::kTerminated, kTransportFailed | kStopEF};
    default: return {state, kNone};
  }
}

}  // namespace non_invite_client

using namespace non_invite_client;

NonInviteClientTx::NonInviteClientTx(Env& env, TxId id, Message request, Endpoint destination,
                                     ResponseHandler handler)
    : ClientTx(std::move(request), std::move(destination), std::move(handler)),
      env_(env),
      timers_(env, id),
      interval_e_(env.config.t1) {}

void NonInviteClientTx::start() {
  // §17.1.2.2: timer F at 64*T1, timer E at T1 (unreliable transport only).
  if (!is_stream(destination_.protocol)) timers_.arm(kTimerE, interval_e_);
  timers_.arm(kTimerF, env_.config.timeout());
  send_request();
}

void NonInviteClientTx::send_request() {
  if (env_.transport.send(request_, destination_)) apply(Event::kTransportError, nullptr);
}

void NonInviteClientTx::on_response(const Message& response, const Endpoint&) {
  apply(is_provisional(response.status_code) ? Event::kProvisional : Event::kFinal, &response);
}

void NonInviteClientTx::on_timer(int slot) {
  timers_.fired(slot);
  static constexpr Event kEvents[] = {Event::kTimerE, Event::kTimerF, Event::kTimerK};
  if (slot >= 0 && slot < 3) apply(kEvents[slot], nullptr);
}

void NonInviteClientTx::apply(Event event, const Message* response) {
  Step step = transition(state_, event);
  state_ = step.next;
  unsigned a = step.actions;
  if (a & kStopEF) {
    timers_.cancel(kTimerE);
    timers_.cancel(kTimerF);
  }
  if (a & kStartK) timers_.arm(kTimerK, env_.config.t4);
  if (a & (kRetransmitDoubling | kRetransmitAtT2)) {
    interval_e_ = (a & kRetransmitAtT2) ? env_.config.t2 : std::min(2 * interval_e_, env_.config.t2);
    timers_.arm(kTimerE, interval_e_);
    send_request();
  }
  if ((a & kPassUp) && response && handler_) handler_(*response);
  if (a & kTimeout) synthesize(408);
  if (a & kTransportFailed) synthesize(503);
}

}  // namespace warmline::sip::transaction
