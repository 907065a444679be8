// Plivo audio streams, bidirectional (<Stream bidirectional="true" contentType="audio/x-mulaw;rate=8000">),
// in the shapes Plivo documents, so bots written for Plivo (Pipecat's PlivoFrameSerializer, which detects
// Plivo by "start.streamId" and "start.callId") connect to warmline unchanged. Sources:
//   https://plivo.com/docs/voice-agents/audio-streaming/concepts/audio-streaming-reference (every frame,
//   with its JSON schema: counters and chunk are numbers, timestamps strings)
//   https://plivo.com/docs/voice/xml/the-stream-element/checkpoint-event (checkpoint → playedStream)
//   https://plivo.com/docs/voice/audio-streaming/audio-streaming (the message list, sendDTMF)
//
// warmline → agent:
//   {"event":"start","sequenceNumber":1,"start":{"callId","streamId","accountId","tracks":["inbound"],
//    "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000}},"extra_headers":"from=...;to=...;k=v"}
//   {"event":"media","sequenceNumber":2,"streamId":"...","media":{"track":"inbound",
//    "timestamp":"1705312200000","chunk":1,"payload":"<base64 µ-law>"},"extra_headers":"..."}
//   {"event":"playedStream","sequenceNumber":3,"streamId":"...","name":"cp1"}   (a checkpoint played)
//   {"event":"clearedAudio","sequenceNumber":4,"streamId":"..."}               (after a clearAudio)
//   {"event":"dtmf","sequenceNumber":5,"streamId":"...","dtmf":{"track":"inbound","digit":"5",
//    "timestamp":"1705312250000"},"extra_headers":"..."}
// Timestamps are Unix milliseconds, as Plivo sends them: media's is the stream's start on the wall clock
// plus the chunk's time from the samples sent (steady, no jitter); dtmf's is the wall clock. Plivo sends
// no stop frame (the socket just closes) and acknowledges no cleared checkpoint one by one, so stop() and
// mark(kCleared) send nothing and cleared() sends clearedAudio.
//
// agent → warmline: "playAudio" (media.contentType "audio/x-mulaw" and media.sampleRate 8000, the number
// or the string, with base64 media.payload: warmline plays µ-law 8 kHz for Plivo, so the documented
// audio/x-l16 is refused naming the field), "checkpoint" (name), "clearAudio", "sendDTMF" ("dtmf":
// digits), and the warmline extension frames (ai_bridge/dialect.hpp). The streamId bots put in their
// frames is not checked: there is one stream per socket.
//
// Mapping: callId = the call's id (bots hand it back to DELETE .../Call/{id}/), accountId = the
// configured account, extra_headers = from, to and the configured values as Plivo writes them
// ("k=v;k=v"; Plivo's own are [A-Za-z0-9] only, warmline's are passed as given, JSON-escaped).
#include <simdjson.h>

#include <chrono>
#include <charconv>

#include "ai_bridge/base64.hpp"
#include "ai_bridge/dialect_codecs.hpp"
#include "ai_bridge/dialect_json.hpp"
#include "ai_bridge/json_escape.hpp"

namespace warmline::ai {
namespace {

namespace dom = simdjson::dom;
using namespace dialect;

constexpr std::string_view kContentType = "audio/x-mulaw";
constexpr std::int64_t kSampleRate = 8000;

std::uint64_t unix_ms_now() {
  return static_cast<std::uint64_t>(
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// "from=+2711...;to=100;k=v" as a JSON string (quotes included), written once per stream.
std::string extra_headers_json(const DialectStart& start) {
  std::string plain = "from=" + start.call.from + ";to=" + start.call.to;
  for (const auto& [key, value] : start.custom_parameters) plain += ";" + key + "=" + value;
  std::string json;
  append_json_string(json, plain);
  return json;
}

class PlivoCodec final : public DialectCodec {
 public:
  explicit PlivoCodec(DialectStart start)
      : start_(std::move(start)),
        stream_id_field_(string_field("streamId", start_.stream_id)),
        extra_headers_(extra_headers_json(start_)),
        stream_start_ms_(unix_ms_now()) {
    // A 20 ms media frame is ≈ 330 bytes plus the stream id and extra_headers; start above it so
    // steady-state frames never grow the buffer.
    frame_.reserve(512 + start_.stream_id.size() + extra_headers_.size());
  }

  Dialect dialect() const override { return Dialect::kPlivo; }
  WireAudio audio() const override { return {WireEncoding::kMulaw, 8000, false}; }

  std::vector<std::string> opening() override {
    stream_start_ms_ = unix_ms_now();
    begin("start");
    frame_ += R"(,"start":{"callId":)";
    append_json_string(frame_, start_.call.id);
    add_string(frame_, "streamId", start_.stream_id);
    add_string(frame_, "accountId", start_.account_id);
    frame_ += R"(,"tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000}})";
    add_extra_headers();
    return {std::string(finish().bytes)};
  }

  WireFrame media(std::span<const std::uint8_t> mulaw, std::uint64_t timestamp_ms) override {
    begin("media");
    add_stream_id();
    frame_ += R"(,"media":{"track":"inbound")";
    add_number_string(frame_, "timestamp", stream_start_ms_ + timestamp_ms);
    add_number(frame_, "chunk", ++chunk_);
    frame_ += R"(,"payload":")";
    append_base64(frame_, mulaw);
    frame_ += "\"}";
    add_extra_headers();
    return finish();
  }

  // A checkpoint whose audio has played; the ones a clearAudio discarded get no frame of their own.
  WireFrame mark(std::string_view name, MarkEvent event) override {
    if (event == MarkEvent::kCleared) return {};
    begin("playedStream");
    add_stream_id();
    add_string(frame_, "name", name);
    return finish();
  }

  WireFrame cleared() override {
    begin("clearedAudio");
    add_stream_id();
    return finish();
  }

  WireFrame dtmf(char digit, std::uint32_t) override {
    begin("dtmf");
    add_stream_id();
    frame_ += R"(,"dtmf":{"track":"inbound","digit":)";
    append_json_string(frame_, std::string_view(&digit, 1));
    add_number_string(frame_, "timestamp", unix_ms_now());
    frame_ += '}';
    add_extra_headers();
    return finish();
  }

  WireFrame stop(std::string_view) override { return {}; }

  WireFrame transfer_event(const TransferEvent& event) override {
    begin("transfer");
    add_stream_id();
    add_transfer(frame_, event);
    return finish();
  }

  WireFrame error(std::string_view code, std::string_view message) override {
    begin("error");
    add_stream_id();
    add_error(frame_, code, message);
    return finish();
  }

  DialectCommand decode_text(std::string_view text) override {
    auto parsed = parse_frame(parser_, text);
    if (auto* e = std::get_if<ProtocolError>(&parsed)) return Command{std::move(*e)};
    const auto [obj, event] = std::get<Frame>(parsed);
    if (event == "playAudio") return play_audio(obj);
    if (event == "checkpoint") return checkpoint(obj);
    if (event == "clearAudio") return Command{Clear{}};
    if (event == "sendDTMF") return send_dtmf(obj);
    return extension_or_unknown(event, obj, text);
  }

 private:
  void begin(std::string_view event) {
    open_frame(frame_, event);
    add_number(frame_, "sequenceNumber", ++sequence_);
  }
  void add_stream_id() { frame_ += stream_id_field_; }
  void add_extra_headers() {
    frame_ += R"(,"extra_headers":)";
    frame_ += extra_headers_;
  }
  WireFrame finish() {
    frame_ += '}';
    return {frame_, false};
  }

  DialectCommand play_audio(dom::object obj) {
    dom::object media;
    if (const auto err = obj["media"].get_object().get(media); err != simdjson::SUCCESS)
      return Command{make_error(missing_or_invalid(err), "playAudio: \"media\" must be an object")};
    std::string_view content_type;
    if (const auto err = media["contentType"].get_string().get(content_type); err != simdjson::SUCCESS) {
      return Command{make_error(missing_or_invalid(err), "playAudio: \"media.contentType\" must be a string")};
    }
    if (content_type != kContentType) {
      return Command{make_error(kErrorInvalidField, "playAudio: \"media.contentType\" is \"" +
                                                        std::string(content_type.substr(0, kMaxNameBytes)) +
                                                        "\"; this stream plays audio/x-mulaw only")};
    }
    dom::element rate;
    if (media["sampleRate"].get(rate) != simdjson::SUCCESS)
      return Command{make_error(kErrorMissingField, "playAudio: \"media.sampleRate\" is missing")};
    if (!is_sample_rate(rate)) {
      return Command{make_error(kErrorInvalidField, "playAudio: \"media.sampleRate\" must be 8000 (audio/x-mulaw)")};
    }
    auto payload = decode_payload(media, "payload", "media.payload", audio_);
    if (auto* e = std::get_if<ProtocolError>(&payload)) return Command{std::move(*e)};
    return WireMedia{std::get<std::span<const std::uint8_t>>(payload)};
  }

  // 8000, as a number or (as one of Plivo's own examples writes it) a string.
  static bool is_sample_rate(dom::element rate) {
    std::int64_t n = 0;
    if (rate.get_int64().get(n) == simdjson::SUCCESS) return n == kSampleRate;
    std::string_view s;
    if (rate.get_string().get(s) != simdjson::SUCCESS) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    return ec == std::errc() && end == s.data() + s.size() && n == kSampleRate;
  }

  static DialectCommand checkpoint(dom::object obj) {
    std::string_view name;
    if (const auto err = obj["name"].get_string().get(name); err != simdjson::SUCCESS)
      return Command{make_error(missing_or_invalid(err), "checkpoint: \"name\" must be a string")};
    if (auto e = check_mark_name(name, "name")) return Command{std::move(*e)};
    return Command{Mark{std::string(name)}};
  }

  static DialectCommand send_dtmf(dom::object obj) {
    std::string_view digits;
    if (const auto err = obj["dtmf"].get_string().get(digits); err != simdjson::SUCCESS)
      return Command{make_error(missing_or_invalid(err), "sendDTMF: \"dtmf\" must be a string of digits")};
    auto checked = dtmf_digits(digits, "sendDTMF: \"dtmf\"");
    if (auto* e = std::get_if<ProtocolError>(&checked)) return Command{std::move(*e)};
    return Command{SendDtmf{std::get<std::string>(std::move(checked))}};
  }

  DialectStart start_;
  std::string stream_id_field_;  // ,"streamId":"..." — in every frame, escaped once
  std::string extra_headers_;        // the JSON string, quotes included
  std::uint64_t stream_start_ms_;    // Unix ms when the stream opened: media timestamps count from it
  std::string frame_;
  std::uint64_t sequence_ = 0;       // every frame, from 1
  std::uint64_t chunk_ = 0;          // media frames, from 1
  dom::parser parser_{kMaxDialectFrameBytes};
  std::vector<std::uint8_t> audio_;  // grows to the largest payload seen, never shrinks
};

}  // namespace

std::unique_ptr<DialectCodec> make_plivo_codec(DialectStart start) {
  return std::make_unique<PlivoCodec>(std::move(start));
}

}  // namespace warmline::ai
