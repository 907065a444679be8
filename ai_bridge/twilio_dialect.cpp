// Twilio Media Streams (https://www.twilio.com/docs/voice/media-streams/websocket-messages), byte for
// byte the shapes Twilio sends and accepts, so bots written for Twilio connect to warmline unchanged:
//
// warmline → agent:
//   {"event":"connected","protocol":"Call","version":"1.0.0"}
//   {"event":"start","sequenceNumber":"1","start":{"accountSid","streamSid","callSid","tracks":["inbound"],
//    "customParameters":{...},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},
//    "streamSid":"MZ..."}
//   {"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"20",
//    "payload":"<base64 µ-law>"},"streamSid":"MZ..."}
//   {"event":"mark","sequenceNumber":"4","streamSid":"MZ...","mark":{"name":"m1"}}  (played or cleared)
//   {"event":"dtmf","sequenceNumber":"5","streamSid":"MZ...","dtmf":{"track":"inbound_track","digit":"1"}}
//   {"event":"stop","sequenceNumber":"6","streamSid":"MZ...","stop":{"accountSid","callSid"}}
// Numbers that Twilio sends as strings (sequenceNumber, chunk, timestamp) are strings here too: bots
// compare them as strings.
//
// agent → warmline: "media" (base64 µ-law), "mark" (with or without a name), "clear", and the
// extension frames (ai_bridge/dialect.hpp). The streamSid bots put in their frames is not checked:
// there is one stream per socket.
#include <simdjson.h>

#include "ai_bridge/dialect_codecs.hpp"
#include "ai_bridge/dialect_json.hpp"
#include "ai_bridge/json_escape.hpp"

namespace warmline::ai {
namespace {

namespace dom = simdjson::dom;
using namespace dialect;

class TwilioCodec final : public DialectCodec {
 public:
  explicit TwilioCodec(DialectStart start)
      : start_(std::move(start)), stream_sid_field_(string_field("streamSid", start_.stream_id)) {
    // A 20 ms media frame is ≈ 330 bytes; start above it so steady-state frames never grow the buffer.
    frame_.reserve(512);
  }

  Dialect dialect() const override { return Dialect::kTwilio; }
  WireAudio audio() const override { return {WireEncoding::kMulaw, 8000, false}; }

  std::vector<std::string> opening() override {
    std::vector<std::string> frames;
    frames.emplace_back(R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
    begin("start");
    frame_ += R"(,"start":{"accountSid":)";
    append_json_string(frame_, start_.account_id);
    add_string(frame_, "streamSid", start_.stream_id);
    add_string(frame_, "callSid", start_.call.id);
    frame_ += R"(,"tracks":["inbound"])";
    std::vector<std::pair<std::string, std::string>> params;
    params.reserve(start_.custom_parameters.size() + 2);
    params.emplace_back("from", start_.call.from);
    params.emplace_back("to", start_.call.to);
    params.insert(params.end(), start_.custom_parameters.begin(), start_.custom_parameters.end());
    add_string_map(frame_, "customParameters", params);
    frame_ += R"(,"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}})";
    add_stream_sid();
    frame_ += '}';
    frames.push_back(frame_);
    return frames;
  }

  WireFrame media(std::span<const std::uint8_t> mulaw, std::uint64_t timestamp_ms) override {
    begin("media");
    add_inbound_media(frame_, ++chunk_, timestamp_ms, mulaw);
    add_stream_sid();
    return finish();
  }

  // Twilio answers a clear with the marks it discarded: the same frame as a played one.
  WireFrame mark(std::string_view name, MarkEvent) override {
    begin("mark");
    add_stream_sid();
    add_mark(frame_, name);
    return finish();
  }

  WireFrame cleared() override { return {}; }

  WireFrame dtmf(char digit, std::uint32_t) override {
    begin("dtmf");
    add_stream_sid();
    frame_ += R"(,"dtmf":{"track":"inbound_track","digit":)";
    append_json_string(frame_, std::string_view(&digit, 1));
    frame_ += '}';
    return finish();
  }

  WireFrame stop(std::string_view) override {
    begin("stop");
    add_stream_sid();
    frame_ += R"(,"stop":{"accountSid":)";
    append_json_string(frame_, start_.account_id);
    add_string(frame_, "callSid", start_.call.id);
    frame_ += '}';
    return finish();
  }

  WireFrame transfer_event(const TransferEvent& event) override {
    begin("transfer");
    add_stream_sid();
    add_transfer(frame_, event);
    return finish();
  }

  WireFrame error(std::string_view code, std::string_view message) override {
    begin("error");
    add_stream_sid();
    add_error(frame_, code, message);
    return finish();
  }

  DialectCommand decode_text(std::string_view text) override {
    return decode_media_mark_clear(parser_, text, audio_);
  }

 private:
  void begin(std::string_view event) {
    open_frame(frame_, event);
    add_number_string(frame_, "sequenceNumber", ++sequence_);
  }
  void add_stream_sid() { frame_ += stream_sid_field_; }
  WireFrame finish() {
    frame_ += '}';
    return {frame_, false};
  }

  DialectStart start_;
  std::string stream_sid_field_;  // ,"streamSid":"MZ..." — in every frame, escaped once
  std::string frame_;
  std::uint64_t sequence_ = 0;  // every frame but "connected", from 1
  std::uint64_t chunk_ = 0;     // media frames, from 1
  dom::parser parser_{kMaxDialectFrameBytes};
  std::vector<std::uint8_t> audio_;  // grows to the largest media payload seen, never shrinks
};

}  // namespace

std::unique_ptr<DialectCodec> make_twilio_codec(DialectStart start) {
  return std::make_unique<TwilioCodec>(std::move(start));
}

}  // namespace warmline::ai
