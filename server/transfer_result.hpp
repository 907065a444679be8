// The structured outcome of a transfer (DESIGN.md "Transfers"): what the AI receives as `result`.
// The enum itself belongs to the AI protocol (ai_bridge/native_protocol.hpp); this adds the mapping
// from SIP statuses, which is the server's knowledge.
#pragma once

#include "ai_bridge/native_protocol.hpp"

namespace warmline::server {

using TransferResult = ai::TransferResult;
using ai::to_string;

// Maps the final SIP status of the *target's* answer (a bridged dial's final response, or the status
// line of a REFER's final NOTIFY sipfrag) to a result:
// 2xx completed; 486/600 busy; 603 declined; 480/408/487 no answer (the target did not pick up);
// 404/410/484/502/503/504/604 unreachable; everything else failed.
TransferResult result_for_target_status(int sip_status);

}  // namespace warmline::server
