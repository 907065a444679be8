#include "sip/transaction/invite_client.hpp"

#include "sip/builders.hpp"

namespace warmline::sip::transaction {

namespace invite_client {

Step transition(State state, Event event) {
  switch (state) {
    case State::kCalling:
      switch (event) {
        // §17.1.1.2: "When timer A fires, the client transaction MUST retransmit the request ... and
        // reset the timer with a value of 2*T1" (doubling each time).
        case Event::kTimerA: return {State::kCalling, kRetransmit};
        // "If the client transaction is still in the Calling state when timer B fires, the client
        // transaction SHOULD inform the TU that a timeout has occurred."
        case Event::kTimerB: return {State::kTerminated, kTimeout};
        // "If the client transaction receives a provisional response while in the Calling state, it
        // transitions to the Proceeding state ... should not retransmit the request any longer."
        case Event::kProvisional: return {State::kProceeding, kPassUp | kStopAB};
        default: break;
      }
      break;
    case State::kProceeding:
      if (event == Event::kProvisional) return {State::kProceeding, kPassUp};
      // §9.1: "If no final response has been received after 64*T1 seconds [after the CANCEL], the
      // client SHOULD consider the original transaction cancelled and SHOULD destroy the client
      // transaction handling the original request." The TU still gets its one final: a 408.
      if (event == Event::kTimerB) return {State::kTerminated, kTimeout};
      break;
    case State::kCompleted:
      // "Any retransmissions of the final response that are received while in the Completed state
      // MUST cause the ACK to be re-passed to the transport layer ... but the newly received response
      // MUST NOT be passed up to the TU."
      if (event == Event::kFailure) return {State::kCompleted, kSendAck};
      // "If timer D fires while the client transaction is in the Completed state, the client
      // transaction MUST move to the terminated state."
      if (event == Event::kTimerD) return {State::kTerminated, kNone};
      return {state, kNone};
    case State::kAccepted:
      // RFC 6026 §8.4: "any 2xx responses that match this client transaction ... MUST be passed up
      // to the TU" (the UA core, which ACKs each one); timer M ends the state.
      if (event == Event::kSuccess) return {State::kAccepted, kPassStray};
      if (event == Event::kTimerM) return {State::kTerminated, kNone};
      return {state, kNone};
    case State::kTerminated:
      return {state, kNone};
  }
  // Shared by Calling and Proceeding.
  switch (event) {
    // §17.1.1.2: "When in either the Calling or Proceeding states, reception of a response with status
    // code from 300-699 MUST cause the client transaction to transition to Completed ... generate an
    // ACK ... timer D".
    case Event::kFailure: return {State::kCompleted, kPassUp | kSendAck | kStopAB | kStartD};
    // RFC 6026 §8.4 replaces "2xx -> Terminated" with "2xx -> Accepted, start timer M".
    case Event::kSuccess: return {State::kAccepted, kPassUp | kStopAB | kStartM};
    // §8.1.3.1: a transport error is a 503 to the TU.
    case Event::kTransportError: return {State::kTerminated, kTransportFailed | kStopAB};
    default: return {state, kNone};
  }
}

}  // namespace invite_client

using namespace invite_client;

InviteClientTx::InviteClientTx(Env& env, TxId id, Message invite, Endpoint destination,
                               ResponseHandler handler)
    : ClientTx(std::move(invite), std::move(destination), std::move(handler)),
      env_(env),
      timers_(env, id),
      interval_a_(env.config.t1) {}

void InviteClientTx::start() {
  // §17.1.1.2: timer A at T1 (unreliable transport only: a stream does not lose the INVITE) and timer
  // B at 64*T1.
  if (!is_stream(destination_.protocol)) timers_.arm(kTimerA, interval_a_);
  timers_.arm(kTimerB, env_.config.timeout());
  send_invite();
}

void InviteClientTx::guard_cancel() {
  if (state_ == State::kProceeding) timers_.arm(kTimerB, env_.config.timeout());
}

void InviteClientTx::send_invite() {
  if (env_.transport.send(request_, destination_)) apply(Event::kTransportError, nullptr, nullptr);
}

void InviteClientTx::on_response(const Message& response, const Endpoint& from) {
  int code = response.status_code;
  Event event = is_provisional(code) ? Event::kProvisional
                : is_success(code)   ? Event::kSuccess
                                     : Event::kFailure;
  apply(event, &response, &from);
}

void InviteClientTx::on_timer(int slot) {
  timers_.fired(slot);
  static constexpr Event kEvents[] = {Event::kTimerA, Event::kTimerB, Event::kTimerD, Event::kTimerM};
  if (slot >= 0 && slot < 4) apply(kEvents[slot], nullptr, nullptr);
}

void InviteClientTx::apply(Event event, const Message* response, const Endpoint* from) {
  Step step = transition(state_, event);
  state_ = step.next;
  unsigned a = step.actions;
  if (a & kStopAB) {
    timers_.cancel(kTimerA);
    timers_.cancel(kTimerB);
  }
  if (a & kStartD) timers_.arm(kTimerD, env_.config.timeout());  // Table 4: >= 32 s for UDP
  if (a & kStartM) timers_.arm(kTimerM, env_.config.timeout());  // RFC 6026: 64*T1
  if (a & kRetransmit) {
    interval_a_ *= 2;
    timers_.arm(kTimerA, interval_a_);
    send_invite();
  }
  if ((a & kSendAck) && response) send_ack(*response);
  if ((a & kPassUp) && response && handler_) handler_(*response);
  if ((a & kPassStray) && response && env_.stray) env_.stray(*response, *from);
  if (a & kTimeout) synthesize(408);
  if (a & kTransportFailed) synthesize(503);
}

void InviteClientTx::send_ack(const Message& response) {
  // §17.1.1.3: the ACK shares the INVITE's branch, so it stays inside this transaction.
  (void)env_.transport.send(make_non_2xx_ack(request_, response), destination_);  // a lost ACK is repaired by the next final retransmission
}

}  // namespace warmline::sip::transaction
