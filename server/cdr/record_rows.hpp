// The column values of a call record's rows, in the column order of docs/cdr.md, for any store: each
// store passes its own binder, which has text(), text_or_null(), time() (a time or an optional one:
// NULL when unset) and status() (NULL for 0). SQLite binds them to a prepared statement, PostgreSQL
// turns them into text parameters; the order is written once, here.
#pragma once

#include "server/cdr/call_record.hpp"

namespace warmline::server {

// calls: id, agent, from_party, to_party, started_at, answered_at, ended_at, end_reason, recording
template <class Row>
Row& call_row(Row& row, const CallRecord& r) {
  row.text(r.id).text(r.agent).text(r.from).text(r.to).time(r.started_at).time(r.answered_at).time(r.ended_at)
      .text(r.end_reason).text_or_null(r.recording);
  return row;
}

// legs: call_id, role, direction, remote_uri, trunk, sip_call_id, from_uri, to_uri, pai, codec,
// started_at, answered_at, ended_at, final_status, hangup_side
template <class Row>
Row& leg_row(Row& row, const CallRecord& r, const LegRecord& leg) {
  row.text(r.id)
      .text(to_string(leg.role))
      .text(to_string(leg.direction))
      .text(leg.remote_uri)
      .text_or_null(leg.trunk)
      .text(leg.sip_call_id)
      .text(leg.from_uri)
      .text(leg.to_uri)
      .text_or_null(leg.pai)
      .text_or_null(leg.codec)
      .time(leg.started_at)
      .time(leg.answered_at)
      .time(leg.ended_at)
      .status(leg.final_status)
      .text_or_null(to_string(leg.hangup_side));
  return row;
}

// transfers: call_id, transfer_id, mode, targets_tried, strategy, attempts, result, requested_at,
// answered_at, bridged_at, ended_at
template <class Row>
Row& transfer_row(Row& row, const CallRecord& r, const TransferRecord& t) {
  row.text(r.id)
      .text(t.id)
      .text(ai::to_string(t.mode))
      .text(targets_json(t))
      .text(to_string(t.strategy))
      .text(attempts_json(t))
      .text_or_null(t.result ? ai::to_string(*t.result) : std::string_view())
      .time(t.requested_at)
      .time(t.answered_at)
      .time(t.bridged_at)
      .time(t.ended_at);
  return row;
}

}  // namespace warmline::server
