#include "sip/transaction/invite_server.hpp"

#include <algorithm>

#include "sip/builders.hpp"

namespace warmline::sip::transaction {

namespace invite_server {

Step transition(State state, Event event) {
  switch (state) {
    case State::kProceeding:
      switch (event) {
        // §17.2.1: "the server transaction MUST generate a 100 (Trying) response unless it knows that
        // the TU will generate a provisional or final response within 200 ms".
        case Event::kTimerTrying: return {State::kProceeding, kSend100};
        // "If a request retransmission is received while in the "Proceeding" state, the most recent
        // provisional response that was received from the TU MUST be passed to the transport layer".
        case Event::kRequest: return {State::kProceeding, kResendLast};
        case Event::kTu1xx: return {State::kProceeding, kSend | kStopTrying};
        // RFC 6026 §7.1: "If, while in the "Proceeding" state, the TU passes a 2xx response ... the
        // server transaction MUST ... enter the "Accepted" state" (timer L = 64*T1).
        case Event::kTu2xx: return {State::kAccepted, kSend | kStopTrying | kStartL};
        // §17.2.1: "If ... the TU passes a response with status code from 300 to 699 ... the state
        // machine MUST enter the "Completed" state, and MUST set Timer G to fire in T1 seconds"
        // (timer H at 64*T1).
        case Event::kTuFailure: return {State::kCompleted, kSend | kStopTrying | kStartGH};
        case Event::kTransportError: return {State::kTerminated, kStopTrying};
        default: return {state, kNone};
      }
    case State::kCompleted:
      switch (event) {
        // "If timer G fires, the response is passed to the transport layer once more ... and timer G
        // is set to fire in MIN(2*T1, T2) seconds."
        case Event::kTimerG: return {State::kCompleted, kResendLast | kDoubleG};
        // "while in the "Completed" state, if a request retransmission is received, the server SHOULD
        // pass the response to the transport for retransmission."
        case Event::kRequest: return {State::kCompleted, kResendLast};
        // "If an ACK is received while the server transaction is in the "Completed" state, the server
        // transaction MUST transition to the "Confirmed" state" (timer I = T4 for UDP).
        case Event::kAck: return {State::kConfirmed, kStopGH | kStartI};
        // "If timer H fires while in the "Completed" state, ... the server transaction MUST transition
        // to the "Terminated" state" (the TU already moved on after its final response).
        case Event::kTimerH: return {State::kTerminated, kStopGH};
        case Event::kTransportError: return {State::kTerminated, kStopGH};
        case Event::kTu1xx:
        case Event::kTu2xx:
        case Event::kTuFailure: return {state, kReject};
        default: return {state, kNone};
      }
    case State::kConfirmed:
      // "The purpose of the "Confirmed" state is to absorb any additional ACK messages"; timer I ends it.
      if (event == Event::kTimerI) return {State::kTerminated, kNone};
      if (event == Event::kTu1xx || event == Event::kTu2xx || event == Event::kTuFailure)
        return {state, kReject};
      return {state, kNone};
    case State::kAccepted:
      // RFC 6026 §7.1: retransmitted INVITEs are absorbed ("MUST NOT be passed to the TU"); the TU core's
      // own 2xx retransmissions (§13.3.1.4) go out through the transaction; timer L ends it.
      if (event == Event::kTu2xx) return {State::kAccepted, kSend};
      if (event == Event::kTimerL) return {State::kTerminated, kNone};
      if (event == Event::kTu1xx || event == Event::kTuFailure) return {state, kReject};
      return {state, kNone};
    case State::kTerminated:
      if (event == Event::kTu1xx || event == Event::kTu2xx || event == Event::kTuFailure)
        return {state, kReject};
      return {state, kNone};
  }
  return {state, kNone};
}

}  // namespace invite_server

using namespace invite_server;

InviteServerTx::InviteServerTx(Env& env, TxId id, Message invite, Endpoint source)
    : ServerTx(std::move(invite), std::move(source)), env_(env), timers_(env, id), interval_g_(env.config.t1) {}

void InviteServerTx::start() { timers_.arm(kTimerTrying, env_.config.trying_delay); }

void InviteServerTx::on_request(const Message& request) {
  apply(request.method == "ACK" ? Event::kAck : Event::kRequest, nullptr);
}

bool InviteServerTx::respond(const Message& response) {
  int code = response.status_code;
  Event event = is_provisional(code) ? Event::kTu1xx : is_success(code) ? Event::kTu2xx : Event::kTuFailure;
  return (apply(event, &response) & kReject) == 0;
}

void InviteServerTx::on_timer(int slot) {
  timers_.fired(slot);
  static constexpr Event kEvents[] = {Event::kTimerTrying, Event::kTimerG, Event::kTimerH, Event::kTimerI,
                                      Event::kTimerL};
  if (slot >= 0 && slot < 5) apply(kEvents[slot], nullptr);
}

unsigned InviteServerTx::apply(Event event, const Message* response) {
  Step step = transition(state_, event);
  state_ = step.next;
  unsigned a = step.actions;
  if (a & kStopTrying) timers_.cancel(kTimerTrying);
  if (a & kStopGH) {
    timers_.cancel(kTimerG);
    timers_.cancel(kTimerH);
  }
  if (a & kStartGH) {
    // §17.2.1: timer G retransmits the final response over an unreliable transport only.
    if (!is_stream(source_.protocol)) timers_.arm(kTimerG, interval_g_);
    timers_.arm(kTimerH, env_.config.timeout());
  }
  if (a & kDoubleG) {
    interval_g_ = std::min(2 * interval_g_, env_.config.t2);
    timers_.arm(kTimerG, interval_g_);
  }
  if (a & kStartI) timers_.arm(kTimerI, env_.config.t4);
  if (a & kStartL) timers_.arm(kTimerL, env_.config.timeout());
  if (a & kSend100) send(make_response(request_, 100, "Trying"));
  if ((a & kSend) && response) send(*response);
  if ((a & kResendLast) && last_response_) (void)env_.transport.send(*last_response_, reply_to());
  return a;
}

void InviteServerTx::send(const Message& response) {
  last_response_ = response;
  // §17.2.4: a failure to send is a transport error; the transaction ends.
  if (env_.transport.send(response, reply_to())) apply(Event::kTransportError, nullptr);
}

}  // namespace warmline::sip::transaction
