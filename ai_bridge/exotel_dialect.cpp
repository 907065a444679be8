// Exotel AgentStream, the bidirectional (Voicebot applet) stream: the shapes Exotel sends and accepts, so
// bots written for Exotel (Pipecat's ExotelFrameSerializer and the like) connect to warmline unchanged.
// Source: https://developer.exotel.com/docs/agentstream/websocket-protocol (frames, field names and
// types), https://developer.exotel.com/docs/agentstream/stream-voicebot-applet (audio format).
//
// warmline → agent (every frame but "connected" carries sequence_number and stream_sid; numbers that
// Exotel sends as strings are strings here too):
//   {"event":"connected"}
//   {"event":"start","sequence_number":"1","stream_sid":"MZ..","start":{"stream_sid","call_sid",
//    "account_sid","from","to","custom_parameters":{...},
//    "media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"}}}
//   {"event":"media","sequence_number":"3","stream_sid":"MZ..","media":{"chunk":"2","timestamp":"200",
//    "payload":"<base64 PCM>"}}
//   {"event":"dtmf","sequence_number":"7","stream_sid":"MZ..","dtmf":{"digit":"5","duration":"100"}}
//   {"event":"mark","sequence_number":"15","stream_sid":"MZ..","mark":{"name":"m1"}}  (played or cleared)
//   {"event":"stop","sequence_number":"16","stream_sid":"MZ..","stop":{"call_sid","account_sid",
//    "reason":"callended"|"stopped"}}
// Audio is raw/slin: 16-bit signed little-endian PCM, mono, 8 kHz, base64 in JSON text frames.
// custom_parameters carries the agent's configured values (Exotel: the query parameters of the bot's
// URL); from/to are fields of "start" of their own. stop.reason is "stopped" when the call goes on
// without the bot (a completed transfer), "callended" otherwise.
//
// agent → warmline: "media" ({"event":"media","stream_sid":"MZ..","media":{"payload":"<base64>"}}),
// "mark" ({"mark":{"name":"m1"}}, with or without a name), "clear", and the extension frames
// (ai_bridge/dialect.hpp). The stream id bots put in their frames (stream_sid, or streamSid as Pipecat
// writes it) is not checked: there is one stream per socket. A media payload of an odd number of bytes is
// refused (invalid_field): Exotel's chunks are whole samples (multiples of 320 bytes).
#include <simdjson.h>

#include "ai_bridge/base64.hpp"
#include "ai_bridge/dialect_codecs.hpp"
#include "ai_bridge/dialect_json.hpp"
#include "ai_bridge/json_escape.hpp"

namespace warmline::ai {
namespace {

using namespace dialect;

class ExotelCodec final : public DialectCodec {
 public:
  explicit ExotelCodec(DialectStart start)
      : start_(std::move(start)), stream_sid_field_(string_field("stream_sid", start_.stream_id)) {
    // 100 ms of 8 kHz L16 (the chunk Exotel itself sends) is ≈ 2.3 KB as a media frame; start above it so
    // steady-state frames never grow the buffer.
    frame_.reserve(4096);
  }

  Dialect dialect() const override { return Dialect::kExotel; }
  WireAudio audio() const override { return {WireEncoding::kL16, 8000, false}; }

  std::vector<std::string> opening() override {
    std::vector<std::string> frames;
    frames.emplace_back(R"({"event":"connected"})");
    begin("start");
    frame_ += R"(,"start":{"stream_sid":)";
    append_json_string(frame_, start_.stream_id);
    add_string(frame_, "call_sid", start_.call.id);
    add_string(frame_, "account_sid", start_.account_id);
    add_string(frame_, "from", start_.call.from);
    add_string(frame_, "to", start_.call.to);
    add_string_map(frame_, "custom_parameters", start_.custom_parameters);
    frame_ += R"(,"media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"}})";
    frames.push_back(std::string(finish().bytes));
    return frames;
  }

  WireFrame media(std::span<const std::uint8_t> pcm, std::uint64_t timestamp_ms) override {
    begin("media");
    frame_ += R"(,"media":{"chunk":")";
    append_number(frame_, ++chunk_);
    frame_ += '"';
    add_number_string(frame_, "timestamp", timestamp_ms);
    frame_ += R"(,"payload":")";
    append_base64(frame_, pcm);
    frame_ += "\"}";
    return finish();
  }

  // A cleared mark is reported like a played one (as Twilio does): the bot's bookkeeping sees every mark.
  WireFrame mark(std::string_view name, MarkEvent) override {
    begin("mark");
    frame_ += R"(,"mark":{"name":)";
    append_json_string(frame_, name);
    frame_ += '}';
    return finish();
  }

  WireFrame cleared() override { return {}; }

  WireFrame dtmf(char digit, std::uint32_t duration_ms) override {
    begin("dtmf");
    frame_ += R"(,"dtmf":{"digit":)";
    append_json_string(frame_, std::string_view(&digit, 1));
    add_number_string(frame_, "duration", duration_ms);
    frame_ += '}';
    return finish();
  }

  WireFrame stop(std::string_view reason) override {
    begin("stop");
    frame_ += R"(,"stop":{"call_sid":)";
    append_json_string(frame_, start_.call.id);
    add_string(frame_, "account_sid", start_.account_id);
    add_string(frame_, "reason", reason == "transferred" ? "stopped" : "callended");
    frame_ += '}';
    return finish();
  }

  WireFrame transfer_event(const TransferEvent& event) override {
    begin("transfer");
    add_transfer(frame_, event);
    return finish();
  }

  WireFrame error(std::string_view code, std::string_view message) override {
    begin("error");
    add_error(frame_, code, message);
    return finish();
  }

  DialectCommand decode_text(std::string_view text) override {
    return decode_media_mark_clear(parser_, text, audio_, 2);
  }

 private:
  // {"event":"<event>","sequence_number":"N","stream_sid":"..." — the frame's fields follow.
  void begin(std::string_view event) {
    frame_.clear();
    frame_ += "{\"event\":\"";
    frame_ += event;
    frame_ += '"';
    add_number_string(frame_, "sequence_number", ++sequence_);
    frame_ += stream_sid_field_;
  }
  WireFrame finish() {
    frame_ += '}';
    return {frame_, false};
  }

  DialectStart start_;
  std::string stream_sid_field_;  // ,"stream_sid":"..." — in every frame, escaped once
  std::string frame_;
  std::uint64_t sequence_ = 0;  // every frame but "connected", from 1
  std::uint64_t chunk_ = 0;     // media frames, from 1
  simdjson::dom::parser parser_{kMaxDialectFrameBytes};
  std::vector<std::uint8_t> audio_;  // grows to the largest media payload seen, never shrinks
};

}  // namespace

std::unique_ptr<DialectCodec> make_exotel_codec(DialectStart start) {
  return std::make_unique<ExotelCodec>(std::move(start));
}

}  // namespace warmline::ai
