// A call as JSON, the one shape for GET /v1/calls (api.cpp) and the webhooks' `data.call`
// (call_webhooks.cpp): a receiver and an API client read the same fields.
#pragma once

#include "server/call.hpp"
#include "server/json_writer.hpp"

namespace warmline::server {

// "2026-12-05T07:23:03Z": the API's times (UTC, whole seconds).
std::string api_time(std::chrono::system_clock::time_point t);

void write_call_json(JsonWriter& w, const CallSnapshot& call);
// "recording": {"path": ..., "state": "recording" | "stopped"}, or null when the call has none.
void write_recording_json(JsonWriter& w, const CallSnapshot& call);

}  // namespace warmline::server
