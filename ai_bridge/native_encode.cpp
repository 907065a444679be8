// Encoders for warmline → agent frames of the native protocol. Control messages only (a handful per
// call), so building a fresh std::string per frame is fine; audio never comes through here.
#include "ai_bridge/json_escape.hpp"
#include "ai_bridge/native_protocol.hpp"

namespace warmline::ai {
namespace {

// Writes `"key":` followed by a JSON string value.
void add_string(std::string& out, std::string_view key, std::string_view value) {
  append_json_string(out, key);
  out += ':';
  append_json_string(out, value);
}

void add_int(std::string& out, std::string_view key, long long value) {
  append_json_string(out, key);
  out += ':';
  out += std::to_string(value);
}

std::string begin_frame(std::string_view type) {
  std::string out = "{";
  add_string(out, "type", type);
  return out;
}

}  // namespace

std::string_view to_string(MarkEvent event) {
  return event == MarkEvent::kPlayed ? "played" : "cleared";
}

std::string_view to_string(TransferState state) {
  switch (state) {
    case TransferState::kDialing: return "dialing";
    case TransferState::kRinging: return "ringing";
    case TransferState::kAnswered: return "answered";
    case TransferState::kConsulting: return "consulting";
    case TransferState::kBridged: return "bridged";
    case TransferState::kEnded: return "ended";
  }
  return "ended";
}

std::string_view to_string(TransferResult result) {
  switch (result) {
    case TransferResult::kCompleted: return "completed";
    case TransferResult::kBusy: return "busy";
    case TransferResult::kDeclined: return "declined";
    case TransferResult::kNoAnswer: return "no_answer";
    case TransferResult::kUnreachable: return "unreachable";
    case TransferResult::kRejected: return "rejected";
    case TransferResult::kTimeout: return "timeout";
    case TransferResult::kCancelled: return "cancelled";
    case TransferResult::kCallerHungUp: return "caller_hung_up";
    case TransferResult::kFailed: return "failed";
  }
  return "failed";
}

std::string encode_start(const CallInfo& call, int sample_rate) {
  std::string out = begin_frame("start");
  out += R"(,"call":{)";
  add_string(out, "id", call.id);
  out += ',';
  add_string(out, "from", call.from);
  out += ',';
  add_string(out, "to", call.to);
  out += R"(,"headers":{)";
  for (std::size_t i = 0; i < call.headers.size(); ++i) {
    if (i != 0) out += ',';
    add_string(out, call.headers[i].first, call.headers[i].second);
  }
  out += R"(}},"audio":{"encoding":"L16",)";
  add_int(out, "sample_rate", sample_rate);
  out += "}}";
  return out;
}

std::string encode_dtmf(char digit, int duration_ms) {
  std::string out = begin_frame("dtmf");
  out += ',';
  add_string(out, "digit", std::string_view(&digit, 1));
  out += ',';
  add_int(out, "duration_ms", duration_ms);
  out += '}';
  return out;
}

std::string encode_mark(std::string_view name, MarkEvent event) {
  std::string out = begin_frame("mark");
  out += ',';
  add_string(out, "name", name);
  out += ',';
  add_string(out, "event", to_string(event));
  out += '}';
  return out;
}

std::string encode_transfer_event(const TransferEvent& event) {
  std::string out = begin_frame("transfer");
  out += ',';
  add_string(out, "id", event.id);
  out += ',';
  add_string(out, "state", to_string(event.state));
  if (!event.target.empty()) {
    out += ',';
    add_string(out, "target", event.target);
  }
  if (event.state == TransferState::kEnded) {
    out += ',';
    add_string(out, "result", to_string(event.result));
  }
  if (event.sip_status != 0) {
    out += ',';
    add_int(out, "sip_status", event.sip_status);
  }
  if (!event.reason.empty()) {
    out += ',';
    add_string(out, "reason", event.reason);
  }
  if (!event.strategy.empty()) {
    out += ',';
    add_string(out, "strategy", event.strategy);
  }
  if (event.channels != 0) {
    out += ',';
    add_int(out, "channels", event.channels);
  }
  out += '}';
  return out;
}

std::string encode_stop(std::string_view reason) {
  std::string out = begin_frame("stop");
  out += ',';
  add_string(out, "reason", reason);
  out += '}';
  return out;
}

std::string encode_error(std::string_view code, std::string_view message) {
  std::string out = begin_frame("error");
  out += ',';
  add_string(out, "code", code);
  out += ',';
  add_string(out, "message", message);
  out += '}';
  return out;
}

}  // namespace warmline::ai
