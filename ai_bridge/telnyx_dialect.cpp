// Telnyx media streaming, bidirectional RTP mode ("stream_bidirectional_mode": "rtp"), in the shapes
// Telnyx documents, so bots written for Telnyx (Pipecat's TelnyxFrameSerializer, which detects Telnyx
// by a top-level "stream_id" and "start.call_control_id") connect to warmline unchanged. Sources:
//   https://developers.telnyx.com/docs/voice/programmable-voice/media-streaming (frame examples)
//   https://developers.telnyx.com/api-reference/websockets/stream-call-media-over-websocket (AsyncAPI:
//   start.custom_parameters, marks returned by a clear)
//
// warmline → agent (counters are JSON strings, as Telnyx sends them):
//   {"event":"connected","version":"1.0.0"}
//   {"event":"start","sequence_number":"1","start":{"user_id","call_control_id","call_session_id","from",
//    "to","custom_parameters":{...},"media_format":{"encoding":"PCMU"|"PCMA","sample_rate":8000,
//    "channels":1}},"stream_id":"..."}            (custom_parameters only when some are configured)
//   {"event":"media","sequence_number":"2","media":{"track":"inbound","chunk":"1","timestamp":"0",
//    "payload":"<base64 RTP payload>"},"stream_id":"..."}
//   {"event":"mark","stream_id":"...","sequence_number":"3","mark":{"name":"m1"}}  (played, or returned
//    by a clear: Telnyx sends the same frame for both)
//   {"event":"dtmf","stream_id":"...","occurred_at":"2025-06-05T08:54:19.698408Z","sequence_number":"4",
//    "dtmf":{"digit":"1"}}
//   {"event":"stop","sequence_number":"5","stop":{"user_id","call_control_id"},"stream_id":"..."}
//   {"event":"error","payload":{"code":100003,"title":"malformed_frame","detail":"..."},"stream_id":"...",
//    "error":{"code":"invalid_field","message":"..."}}  (Telnyx's error frame; "error" is warmline's
//    code and message, as the other dialects carry them)
//
// agent → warmline: "media" (media.payload: base64 in the stream's encoding), "mark" (with or without
// a name), "clear", and the warmline extension frames (ai_bridge/dialect.hpp).
//
// Mapping: call_control_id = the call's id (bots hand it back to /v2/calls/{id}/actions/...);
// call_session_id = the call's id too (warmline has one session per call); user_id = the configured
// account (may be empty); custom_parameters = the configured values. Not sent: "tags" and
// "client_state" (warmline has no such call-control state), connected's
// "x-telnyx-streaming-auth-token" (no stream auth token).
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "ai_bridge/dialect_codecs.hpp"
#include "ai_bridge/dialect_json.hpp"
#include "ai_bridge/json_escape.hpp"

namespace warmline::ai {
namespace {

namespace dom = simdjson::dom;
using namespace dialect;

// Telnyx's error codes (the media streaming guide's table): a frame warmline refused is Telnyx's
// "malformed_frame"; anything else its "unknown_error".
constexpr std::uint64_t kTelnyxMalformedFrame = 100003;
constexpr std::uint64_t kTelnyxUnknownError = 100002;

// ,"key":"2025-06-05T08:54:19.698408Z" — UTC with microseconds, like Telnyx's occurred_at.
void add_utc_time(std::string& out, std::string_view key, std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900,
                              utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                              static_cast<int>(us % 1'000'000));
  add_string(out, key, std::string_view(text, n > 0 ? static_cast<std::size_t>(n) : 0));
}

class TelnyxCodec final : public DialectCodec {
 public:
  explicit TelnyxCodec(DialectStart start)
      : start_(std::move(start)),
        stream_id_field_(string_field("stream_id", start_.stream_id)),
        encoding_(start_.encoding == WireEncoding::kAlaw ? WireEncoding::kAlaw : WireEncoding::kMulaw) {
    // A 20 ms media frame is ≈ 330 bytes plus the stream id; start above it so steady-state frames
    // never grow the buffer.
    frame_.reserve(512 + start_.stream_id.size());
  }

  Dialect dialect() const override { return Dialect::kTelnyx; }
  // PCMU or PCMA as the stream asked (DialectStart.encoding); anything else is PCMU, Telnyx's default.
  WireAudio audio() const override { return {encoding_, 8000, false}; }

  std::vector<std::string> opening() override {
    std::vector<std::string> frames;
    frames.emplace_back(R"({"event":"connected","version":"1.0.0"})");
    open("start");
    add_sequence();
    frame_ += R"(,"start":{"user_id":)";
    append_json_string(frame_, start_.account_id);
    add_string(frame_, "call_control_id", start_.call.id);
    add_string(frame_, "call_session_id", start_.call.id);
    add_string(frame_, "from", start_.call.from);
    add_string(frame_, "to", start_.call.to);
    if (!start_.custom_parameters.empty()) add_string_map(frame_, "custom_parameters", start_.custom_parameters);
    frame_ += R"(,"media_format":{"encoding":)";
    frame_ += encoding_ == WireEncoding::kAlaw ? R"("PCMA")" : R"("PCMU")";
    frame_ += R"(,"sample_rate":8000,"channels":1}})";
    add_stream_id();
    frames.emplace_back(finish().bytes);
    return frames;
  }

  WireFrame media(std::span<const std::uint8_t> audio, std::uint64_t timestamp_ms) override {
    open("media");
    add_sequence();
    add_inbound_media(frame_, ++chunk_, timestamp_ms, audio);
    add_stream_id();
    return finish();
  }

  // Telnyx returns the marks a clear discarded as it returns played ones: the same frame for both.
  WireFrame mark(std::string_view name, MarkEvent) override {
    open("mark");
    add_stream_id();
    add_sequence();
    add_mark(frame_, name);
    return finish();
  }

  WireFrame cleared() override { return {}; }

  WireFrame dtmf(char digit, std::uint32_t) override {
    open("dtmf");
    add_stream_id();
    add_utc_time(frame_, "occurred_at", std::chrono::system_clock::now());
    add_sequence();
    frame_ += R"(,"dtmf":{"digit":)";
    append_json_string(frame_, std::string_view(&digit, 1));
    frame_ += '}';
    return finish();
  }

  WireFrame stop(std::string_view) override {
    open("stop");
    add_sequence();
    frame_ += R"(,"stop":{"user_id":)";
    append_json_string(frame_, start_.account_id);
    add_string(frame_, "call_control_id", start_.call.id);
    frame_ += '}';
    add_stream_id();
    return finish();
  }

  WireFrame transfer_event(const TransferEvent& event) override {
    open("transfer");
    add_sequence();
    add_stream_id();
    add_transfer(frame_, event);
    return finish();
  }

  WireFrame error(std::string_view code, std::string_view message) override {
    const bool refused_frame = code == kErrorInvalidJson || code == kErrorMissingField ||
                               code == kErrorInvalidField || code == kErrorTooLarge;
    open("error");
    frame_ += R"(,"payload":{"code":)";
    append_number(frame_, refused_frame ? kTelnyxMalformedFrame : kTelnyxUnknownError);
    add_string(frame_, "title", refused_frame ? "malformed_frame" : "unknown_error");
    add_string(frame_, "detail", message);
    frame_ += '}';
    add_stream_id();
    add_error(frame_, code, message);
    return finish();
  }

  // Telnyx took Twilio's agent frames: media, mark and clear.
  DialectCommand decode_text(std::string_view text) override {
    return decode_media_mark_clear(parser_, text, audio_);
  }

 private:
  // Telnyx orders the fields differently from frame to frame; each encoder writes them in the
  // documented order with these pieces.
  void open(std::string_view event) { open_frame(frame_, event); }
  void add_sequence() { add_number_string(frame_, "sequence_number", ++sequence_); }
  void add_stream_id() { frame_ += stream_id_field_; }
  WireFrame finish() {
    frame_ += '}';
    return {frame_, false};
  }

  DialectStart start_;
  std::string stream_id_field_;  // ,"stream_id":"..." — in every frame, escaped once
  WireEncoding encoding_;
  std::string frame_;
  std::uint64_t sequence_ = 0;  // every frame but "connected" and "error", from 1
  std::uint64_t chunk_ = 0;     // media frames, from 1
  dom::parser parser_{kMaxDialectFrameBytes};
  std::vector<std::uint8_t> audio_;  // grows to the largest media payload seen, never shrinks
};

}  // namespace

std::unique_ptr<DialectCodec> make_telnyx_codec(DialectStart start) {
  return std::make_unique<TelnyxCodec>(std::move(start));
}

}  // namespace warmline::ai
