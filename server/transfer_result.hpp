// The structured outcome of a transfer (DESIGN.md "Transfers"): what the AI receives as `result`.
#pragma once

#include <string_view>

namespace warmline::server {

enum class TransferResult {
  kCompleted, kBusy, kDeclined, kNoAnswer, kUnreachable, kRejected, kTimeout, kCancelled,
  kCallerHungUp, kFailed,
};

std::string_view to_string(TransferResult r);

// Maps the final SIP status of the *target's* answer (a bridged dial's final response, or the status
// line of a REFER's final NOTIFY sipfrag) to a result:
// 2xx completed; 486/600 busy; 603 declined; 480/408/487 no answer (the target did not pick up);
// 404/410/484/502/503/504/604 unreachable; everything else failed.
TransferResult result_for_target_status(int sip_status);

}  // namespace warmline::server
