// What a transfer can come to, as types that know their own wire forms (after livekit/sip's errors.go):
//
// - TransferResult (the AI protocol's `result`): how a transfer that started ended. It knows its metric
//   label, and the SIP status of the target's answer maps to it in one place.
// - TransferRefusal: why a transfer was refused before anything was dialled. It knows the API error
//   code, the HTTP status of POST /v1/calls/{id}/transfer and the message for the AI — no string codes
//   compared anywhere else.
#pragma once

#include <string>
#include <string_view>

#include "ai_bridge/native_protocol.hpp"

namespace warmline::server {

using TransferResult = ai::TransferResult;
using ai::to_string;

// Maps the final SIP status of the *target's* answer (a bridged dial's final response, or the status
// line of a REFER's final NOTIFY sipfrag) to a result:
// 2xx completed; 486/600 busy; 603 declined; 480/408/487 no answer (the target did not pick up);
// 404/410/484/502/503/504/604 unreachable; everything else failed.
TransferResult result_for_target_status(int sip_status);

// The Prometheus label value of warmline_transfers_total{result=...}.
std::string_view metric_label(TransferResult result);

struct TransferRefusal {
  enum class Code {
    kUnknownTarget,       // not an agent target, PBX extension or allowed number
    kNumberNotAllowed,    // an E.164 number outside the agent's allow_patterns
    kInvalidNumber,       // not E.164
    kNoTrunk,             // a number with no trunk to dial it through
    kMissingField,        // no targets
    kInvalidField,        // options that do not go together (introduce without warm, ...)
    kTransferInProgress,  // one transfer at a time per call
    kNotActive,           // the call has ended
    kNotSupported,        // a mode or strategy this version cannot perform
  };
  Code code = Code::kUnknownTarget;
  std::string message;

  std::string_view api_code() const;  // "unknown_target", ... (API error code, AI `reason` prefix)
  int http_status() const;            // 422 for the request's content, 409 for the call's state, 501
  std::string reason() const { return std::string(api_code()) + ": " + message; }
};

}  // namespace warmline::server
