#include "sip/transaction/non_invite_server.hpp"

namespace warmline::sip::transaction {

namespace non_invite_server {

Step transition(State state, Event event) {
  switch (state) {
    case State::kTrying:
      // §17.2.2: "Once in the "Trying" state, any further request retransmissions are discarded."
      if (event == Event::kRequest) return {state, kNone};
      break;
    case State::kProceeding:
      // "If a retransmission of the request is received while in the "Proceeding" state, the most
      // recently sent provisional response MUST be passed to the transport layer for retransmission."
      if (event == Event::kRequest) return {state, kResendLast};
      break;
    case State::kCompleted:
      // "While in the "Completed" state, the server transaction MUST pass the final response to the
      // transport layer for retransmission whenever a retransmission of the request is received. Any
      // other final responses passed by the TU to the server transaction MUST be discarded".
      if (event == Event::kRequest) return {state, kResendLast};
      // "The server transaction remains in this state until Timer J fires, at which point it MUST
      // transition to the "Terminated" state."
      if (event == Event::kTimerJ) return {State::kTerminated, kNone};
      if (event == Event::kTu1xx || event == Event::kTuFinal) return {state, kReject};
      return {state, kNone};
    case State::kTerminated:
      if (event == Event::kTu1xx || event == Event::kTuFinal) return {state, kReject};
      return {state, kNone};
  }
  // Shared by Trying and Proceeding.
  switch (event) {
    // "While in the "Trying" state, if the TU passes a provisional response to the server transaction,
    // the server transaction MUST enter the "Proceeding" state."
    case Event::kTu1xx: return {State::kProceeding, kSend};
    // "If the TU passes a final response (status codes 200-699) to the server while in the "Trying"
    // [or "Proceeding"] state, the transaction MUST enter the "Completed" state" (timer J = 64*T1).
    case Event::kTuFinal: return {State::kCompleted, kSend | kStartJ};
    // §17.2.4: a transport failure terminates the transaction.
    case Event::kTransportError: return {State::kTerminated, kNone};
    default: return {state, kNone};
  }
}

}  // namespace non_invite_server

using namespace non_invite_server;

NonInviteServerTx::NonInviteServerTx(Env& env, TxId id, Message request, Endpoint source)
    : ServerTx(std::move(request), std::move(source)), env_(env), timers_(env, id) {}

void NonInviteServerTx::on_request(const Message&) { apply(Event::kRequest, nullptr); }

bool NonInviteServerTx::respond(const Message& response) {
  Event event = is_provisional(response.status_code) ? Event::kTu1xx : Event::kTuFinal;
  return (apply(event, &response) & kReject) == 0;
}

void NonInviteServerTx::on_timer(int slot) {
  timers_.fired(slot);
  if (slot == kTimerJ) apply(Event::kTimerJ, nullptr);
}

unsigned NonInviteServerTx::apply(Event event, const Message* response) {
  Step step = transition(state_, event);
  state_ = step.next;
  unsigned a = step.actions;
  if (a & kStartJ) timers_.arm(kTimerJ, env_.config.timeout());
  if ((a & kSend) && response) {
    last_response_ = *response;
    if (env_.transport.send(*response, reply_to())) apply(Event::kTransportError, nullptr);
  }
  if ((a & kResendLast) && last_response_) (void)env_.transport.send(*last_response_, reply_to());
  return a;
}

}  // namespace warmline::sip::transaction
