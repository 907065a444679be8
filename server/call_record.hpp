// Filling a call's record (server/cdr/call_record.hpp) from the pieces of a call: its legs' SIP facts
// and history, and its transfers' records. Kept out of call.cpp so the call stays a router.
// Thread: the call's shard.
#pragma once

#include "server/cdr/call_record.hpp"
#include "server/config.hpp"

namespace warmline::server {

class Leg;

// One leg's row. `direction` says how the dialog's URIs map to From/To: an inbound leg's remote URI
// is the From of the INVITE it received, an outbound leg's is the To of the INVITE it sent. `trunk`:
// the trunk the leg came in on or was dialled through (null: none).
LegRecord leg_record(const Leg& leg, LegRole role, LegDirection direction, const TrunkConfig* trunk);

}  // namespace warmline::server
