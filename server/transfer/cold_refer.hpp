// The REFER strategy of a cold transfer as a pure state machine (RFC 3515, DESIGN.md "Transfers"):
// inputs are what the SIP side saw (the REFER's final response, each NOTIFY's sipfrag status, the
// refer timeout, the caller's BYE); outputs are the events the AI must receive. No I/O, no timers:
// the call owns those and feeds this, so every path is unit-tested without a network.
//
// Success is a final 2xx in a NOTIFY sipfrag — never the 202 alone (a 202 only means the transferee
// will try). A refused REFER, a final non-2xx sipfrag, or no final NOTIFY before refer_timeout all end
// the transfer with the caller still on the line, back with the AI.
#pragma once

#include <optional>
#include <string>

#include "server/transfer/outcome.hpp"

namespace warmline::server {

struct TransferUpdate {
  enum class Kind { kProgress, kEnded };
  Kind kind = Kind::kProgress;
  std::string state;           // progress: "dialing" | "ringing" | "answered"; ended: "ended"
  TransferResult result = TransferResult::kFailed;  // ended only
  int sip_status = 0;          // 0 when no SIP status applies (timeout, unknown target)
  std::string reason;
};

class ColdRefer {
 public:
  enum class State { kIdle, kReferSent, kAccepted, kDone };

  State state() const { return state_; }
  bool done() const { return state_ == State::kDone; }

  // The REFER went out: the AI hears "dialing".
  TransferUpdate on_refer_sent();
  // Final response to the REFER. 2xx (202 normally) = accepted, no event yet; anything else ends the
  // transfer as rejected (a 401/407 comes here only when it is not answered: no credentials for the
  // caller's trunk, or ours were refused); a 408 that the transaction synthesised (no answer at all)
  // ends it as timeout.
  std::optional<TransferUpdate> on_refer_response(int status, const std::string& reason);
  // A NOTIFY with a sipfrag status. 100 -> nothing; 180/183 -> ringing; 2xx -> completed;
  // >= 300 -> ended with the mapped result. `terminated` (Subscription-State: terminated) without a
  // final status ends the transfer as failed.
  std::optional<TransferUpdate> on_notify(int sipfrag_status, const std::string& reason, bool terminated);
  // refer_timeout expired without a final NOTIFY.
  std::optional<TransferUpdate> on_timeout();
  // The caller's side sent BYE. After the REFER was accepted, many carriers and PBXs hang up on us as
  // soon as they have taken the call over, without a final NOTIFY: that is reported as completed
  // (reason says it was not confirmed). Before acceptance it is caller_hung_up.
  std::optional<TransferUpdate> on_caller_bye();

 private:
  TransferUpdate end(TransferResult result, int status, std::string reason);
  State state_ = State::kIdle;
};

}  // namespace warmline::server
