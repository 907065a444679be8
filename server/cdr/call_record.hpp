// A call's record as plain data (DESIGN.md "Records", docs/cdr.md): what the shard knows when a call
// ends, moved to the CDR writer in one piece. Nothing here touches a database or a clock: the shard
// fills these structs (server/call_record.cpp for the caller's leg and cold transfers), the writer
// thread turns them into rows.
//
// Times are system_clock time points; the writer stores them as ISO-8601 UTC text with milliseconds
// (format_record_time). An unset optional time is NULL in the database: the thing never happened
// (a call that was never answered has no answered_at).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai_bridge/native_protocol.hpp"

namespace warmline::server {

using RecordTime = std::chrono::system_clock::time_point;

enum class LegRole { kA, kB };            // a: the caller's leg; b: a transfer target's leg
enum class LegDirection { kIn, kOut };    // in: the peer sent the INVITE; out: we did
enum class HangupSide { kNone, kLocal, kRemote };  // who ended the leg (kNone: not known, NULL)
enum class TransferStrategy { kRefer, kDial };     // REFER on the caller's dialog, or a bridged dial

std::string_view to_string(LegRole role);            // "a" | "b"
std::string_view to_string(LegDirection direction);  // "in" | "out"
std::string_view to_string(HangupSide side);         // "" | "local" | "remote"
std::string_view to_string(TransferStrategy strategy);  // "refer" | "dial"

// One SIP leg (one dialog). For an inbound leg the URIs and P-Asserted-Identity are what the peer's
// INVITE carried; for an outbound leg, what we sent.
struct LegRecord {
  LegRole role = LegRole::kA;
  LegDirection direction = LegDirection::kIn;
  std::string remote_uri;   // the peer's Contact (inbound) or the Request-URI we dialled (outbound)
  std::string trunk;        // the trunk's configured name; "" = none (NULL)
  std::string sip_call_id;
  std::string from_uri;
  std::string to_uri;
  std::string pai;          // P-Asserted-Identity header value; "" = none (NULL)
  std::string codec;        // negotiated codec name ("PCMU"); "" = none (NULL)
  RecordTime started_at{};  // INVITE received (in) or sent (out)
  std::optional<RecordTime> answered_at;  // 2xx sent (in) or received (out)
  std::optional<RecordTime> ended_at;
  int final_status = 0;     // final response to the INVITE: 200, 487, 480, ... (0 = none, NULL)
  HangupSide hangup_side = HangupSide::kNone;
};

// One try of one target inside a transfer.
struct TransferAttemptRecord {
  std::string target;  // the URI dialled or put in Refer-To
  int sip_status = 0;  // the final status the attempt came to (0: none, e.g. a timeout)
  ai::TransferResult result = ai::TransferResult::kFailed;
  TransferStrategy strategy = TransferStrategy::kRefer;  // how this attempt reached the target
};

struct TransferRecord {
  std::string id;  // the transfer's id ("t1", "default_forward", ...)
  ai::TransferMode mode = ai::TransferMode::kCold;
  // As the agent named them, in the order they were tried; a REFER's fallback dial of the same target
  // is one entry (attempts has both).
  std::vector<std::string> targets_tried;
  TransferStrategy strategy = TransferStrategy::kRefer;
  std::vector<TransferAttemptRecord> attempts;
  std::optional<ai::TransferResult> result;  // the whole transfer's (the last attempt's) result
  RecordTime requested_at{};
  std::optional<RecordTime> answered_at;  // a target answered
  std::optional<RecordTime> bridged_at;   // caller and target were connected
  std::optional<RecordTime> ended_at;
};

struct CallRecord {
  std::string id;      // the call's API id
  std::string agent;   // the agent's configured name
  std::string from;    // the caller (number, else URI), as the agent's `start` shows it
  std::string to;      // the number called
  RecordTime started_at{};
  std::optional<RecordTime> answered_at;
  RecordTime ended_at{};
  std::string end_reason;  // the agent's stop reason: caller_hangup, transferred, shutdown, ...
  std::vector<LegRecord> legs;
  std::vector<TransferRecord> transfers;
  std::string recording;  // the call's recording file; "" = not recorded (NULL)
};

// "2026-12-05T07:23:03.123Z": UTC, milliseconds, fixed width (so text order is time order), and a form
// that SQLite's date functions and PostgreSQL's timestamptz both read.
std::string format_record_time(RecordTime t);

// JSON text of the transfer's lists: ["Support","Sales"] and
// [{"target":"sip:...","sip_status":486,"result":"busy"}, ...].
std::string targets_json(const TransferRecord& transfer);
std::string attempts_json(const TransferRecord& transfer);

}  // namespace warmline::server
