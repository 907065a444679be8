// A call record (call_record.hpp) as JSON, the webhooks' `call.ended` `data.record`: the CDR's own
// rows (record_rows.hpp, the column order of docs/cdr.md) bound to JSON members named like the
// columns, so the record a receiver gets and the one in the database cannot drift apart.
#pragma once

#include "server/cdr/call_record.hpp"
#include "server/json_writer.hpp"

namespace warmline::server {

// {"id":..,"agent":..,"from_party":..,..,"legs":[{"call_id":..,"role":"a",..}],"transfers":[{..}]}:
// NULL columns are null; targets_tried and attempts are JSON arrays, not text.
void write_record_json(JsonWriter& w, const CallRecord& record);

}  // namespace warmline::server
