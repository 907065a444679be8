#include "server/call_json.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace warmline::server {

std::string api_time(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::seconds>(t));
}

void write_call_json(JsonWriter& w, const CallSnapshot& c) {
  w.begin_object()
      .field("id", c.id).field("from", c.from).field("to", c.to).field("agent", c.agent).field("state", c.state)
      .field("started_at", api_time(c.started_at));
  w.key("transfer");
  if (!c.transfer) {
    w.null();
  } else {
    const TransferSnapshot& t = *c.transfer;
    w.begin_object().field("id", t.id).field("mode", t.mode).field("target", t.target).field("state", t.state);
    if (!t.result.empty()) w.field("result", t.result);
    if (t.sip_status) w.field("sip_status", t.sip_status);
    w.field("requested_at", api_time(t.requested_at));
    if (t.answered_at) w.field("answered_at", api_time(*t.answered_at));
    if (t.bridged_at) w.field("bridged_at", api_time(*t.bridged_at));
    w.key("phases").begin_array();
    for (const TransferPhase& p : t.phases) {
      w.begin_object().field("phase", p.phase).field("at", format_record_time(p.at)).field("target", p.target);
      if (p.sip_status) w.field("sip_status", p.sip_status);
      if (!p.result.empty()) w.field("result", p.result);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  write_recording_json(w, c);
  w.end_object();
}

void write_recording_json(JsonWriter& w, const CallSnapshot& c) {
  w.key("recording");
  if (c.recording.empty()) return (void)w.null();
  w.begin_object().field("path", c.recording).field("state", c.recording_active ? "recording" : "stopped").end_object();
}

}  // namespace warmline::server
