// Vonage Voice API WebSocket (NCCO "connect" to an endpoint of type "websocket", content-type
// audio/l16;rate=16000): the frames Vonage sends and accepts, so bots written for Vonage (its samples,
// Pipecat's VonageFrameSerializer) connect to warmline unchanged.
// Source: https://developer.vonage.com/en/voice/voice-api/concepts/websockets
//
// warmline → agent:
//   text, first: {"event":"websocket:connected","content-type":"audio/l16;rate=16000",<headers>}
//     Vonage puts the NCCO endpoint's "headers" at the top level of this frame. warmline's headers are
//     "uuid" (the call id: Vonage's call uuid), "from", "to", then the agent's configured values; a
//     configured value named like one of these (or "event", "content-type") is left out.
//   binary: the caller's audio, raw 16-bit signed little-endian PCM, mono, 16 kHz (640 bytes a 20 ms).
//   text: {"event":"websocket:dtmf","digit":"5","duration":260}  (duration in ms, a number)
//   text: {"event":"websocket:notify","payload":{...}}  once the audio sent before the agent's notify has
//     been played; the payload is the agent's, byte for byte.
//   text: {"event":"websocket:cleared"}  after a clear has been carried out.
//   Vonage has no stop frame: the socket just closes (stop() is empty). Marks discarded by a clear are
//   not reported one by one (only websocket:cleared).
//
// agent → warmline:
//   binary: audio in the same format. Samples are 2 bytes; a frame of an odd length keeps its last byte
//     for the next frame (the agent's audio is one byte stream), until a clear drops it.
//   text: {"action":"clear"}, {"action":"notify","payload":<any JSON value, object in the docs>}; the
//     payload's JSON text (at most kMaxNameBytes) is the mark's name. Other actions are Unknown.
//   text: the extension frames ({"event":"transfer",...}, ai_bridge/dialect.hpp): frames without "action"
//     are read by their "event". Extension events go back as {"event":"transfer","transfer":{...}} and
//     {"event":"error","error":{...}} (Vonage frames carry no stream id).
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "ai_bridge/dialect_codecs.hpp"
#include "ai_bridge/dialect_json.hpp"
#include "ai_bridge/json_escape.hpp"

namespace warmline::ai {
namespace {

namespace dom = simdjson::dom;
namespace ondemand = simdjson::ondemand;
using namespace dialect;

// The opening frame's own keys: a configured value of the same name would make a duplicate key.
constexpr std::array<std::string_view, 5> kOpeningKeys = {"event", "content-type", "uuid", "from", "to"};

class VonageCodec final : public DialectCodec {
 public:
  explicit VonageCodec(DialectStart start) : start_(std::move(start)) {
    // 20 ms of 16 kHz L16 is 640 bytes; agents and the channel may use longer chunks. Start well above
    // so steady-state frames never grow the buffer.
    frame_.reserve(4096);
  }

  Dialect dialect() const override { return Dialect::kVonage; }
  WireAudio audio() const override { return {WireEncoding::kL16, 16000, true}; }

  std::vector<std::string> opening() override {
    std::string frame = R"({"event":"websocket:connected","content-type":"audio/l16;rate=16000")";
    add_string(frame, "uuid", start_.call.id);
    add_string(frame, "from", start_.call.from);
    add_string(frame, "to", start_.call.to);
    for (const auto& [key, value] : start_.custom_parameters) {
      if (std::find(kOpeningKeys.begin(), kOpeningKeys.end(), key) != kOpeningKeys.end()) continue;
      frame += ',';
      append_json_string(frame, key);
      frame += ':';
      append_json_string(frame, value);
    }
    frame += '}';
    std::vector<std::string> frames;
    frames.push_back(std::move(frame));
    return frames;
  }

  WireFrame media(std::span<const std::uint8_t> pcm, std::uint64_t) override {
    frame_.assign(reinterpret_cast<const char*>(pcm.data()), pcm.size());
    return {frame_, true};
  }

  // Names come from decode_text's notify: the payload's JSON text, echoed as it came. A name that is not
  // a JSON value (none should reach here) goes as a JSON string, so the frame stays valid JSON.
  WireFrame mark(std::string_view name, MarkEvent event) override {
    if (event == MarkEvent::kCleared) return {};
    frame_.assign(R"({"event":"websocket:notify","payload":)");
    dom::element parsed;
    if (!name.empty() && parser_.parse(name.data(), name.size()).get(parsed) == simdjson::SUCCESS) {
      frame_ += name;
    } else {
      append_json_string(frame_, name);
    }
    return finish();
  }

  WireFrame cleared() override {
    frame_.assign(R"({"event":"websocket:cleared"})");
    return {frame_, false};
  }

  WireFrame dtmf(char digit, std::uint32_t duration_ms) override {
    frame_.assign(R"({"event":"websocket:dtmf","digit":)");
    append_json_string(frame_, std::string_view(&digit, 1));
    add_number(frame_, "duration", duration_ms);
    return finish();
  }

  WireFrame stop(std::string_view) override { return {}; }

  WireFrame transfer_event(const TransferEvent& event) override {
    frame_.assign(R"({"event":"transfer")");
    add_transfer(frame_, event);
    return finish();
  }

  WireFrame error(std::string_view code, std::string_view message) override {
    frame_.assign(R"({"event":"error")");
    add_error(frame_, code, message);
    return finish();
  }

  DialectCommand decode_text(std::string_view text) override {
    auto parsed = parse_frame(parser_, text, "action");
    if (auto* e = std::get_if<ProtocolError>(&parsed)) {
      if (e->code != kErrorMissingField) return Command{std::move(*e)};
      return event_in(text);
    }
    const auto [obj, action] = std::get<Frame>(parsed);
    if (action == "clear") {
      has_odd_byte_ = false;  // it belonged to audio the clear discards
      return Command{Clear{}};
    }
    if (action == "notify") return Command{notify_in(obj, text)};
    return Command{Unknown{std::string(action.substr(0, kMaxNameBytes))}};
  }

  DialectCommand decode_binary(std::span<const std::uint8_t> data) override {
    if (!has_odd_byte_) {
      if (data.size() % 2 == 0) return WireMedia{data};
      odd_byte_ = data.back();
      has_odd_byte_ = true;
      return WireMedia{data.first(data.size() - 1)};
    }
    if (data.empty()) return WireMedia{};
    // The kept byte, then this frame up to a whole number of samples.
    const std::size_t whole = (data.size() + 1) & ~std::size_t{1};
    if (audio_.size() < whole) audio_.resize(whole);
    audio_[0] = odd_byte_;
    std::memcpy(audio_.data() + 1, data.data(), whole - 1);
    has_odd_byte_ = whole - 1 < data.size();
    if (has_odd_byte_) odd_byte_ = data.back();
    return WireMedia{std::span<const std::uint8_t>(audio_.data(), whole)};
  }

 private:
  WireFrame finish() {
    frame_ += '}';
    return {frame_, false};
  }

  // A text frame without "action": the extension frames, keyed by "event".
  DialectCommand event_in(std::string_view text) {
    auto parsed = parse_frame(parser_, text, "event");
    if (auto* e = std::get_if<ProtocolError>(&parsed)) {
      if (e->code == kErrorMissingField) e->message = "\"action\" is missing";
      return Command{std::move(*e)};
    }
    const auto [obj, event] = std::get<Frame>(parsed);
    if (auto ext = decode_extension(event, obj, text)) return std::move(*ext);
    return Command{Unknown{std::string(event.substr(0, kMaxNameBytes))}};
  }

  // {"action":"notify","payload":...}: the payload's JSON text exactly as the agent wrote it, read with
  // simdjson's On-Demand API (the DOM keeps values, not their text). Notifies are a few per utterance.
  Command notify_in(dom::object obj, std::string_view text) {
    dom::element payload;
    if (obj["payload"].get(payload) != simdjson::SUCCESS)
      return make_error(kErrorMissingField, "notify: \"payload\" is missing");
    const std::size_t padded = text.size() + simdjson::SIMDJSON_PADDING;
    if (notify_text_.size() < padded) notify_text_.resize(padded);
    std::memcpy(notify_text_.data(), text.data(), text.size());
    std::string_view raw;
    if (!raw_payload(std::string_view(notify_text_.data(), text.size()), raw))
      return make_error(kErrorInvalidField, "notify: \"payload\" could not be read (an escaped key?)");
    if (auto e = check_mark_name(raw, "payload")) return std::move(*e);
    return Mark{std::string(raw)};
  }

  // The text of the frame's first "payload" member, without surrounding whitespace. `text` lies in
  // notify_text_, padded as On-Demand needs; the frame was already validated by the DOM parser.
  bool raw_payload(std::string_view text, std::string_view& raw) {
    ondemand::document doc;
    ondemand::value value;
    ondemand::json_type type;
    if (ondemand_.iterate(text.data(), text.size(), notify_text_.size()).get(doc) != simdjson::SUCCESS ||
        doc.find_field_unordered("payload").get(value) != simdjson::SUCCESS ||
        value.type().get(type) != simdjson::SUCCESS) {
      return false;
    }
    simdjson::error_code err = simdjson::SUCCESS;
    if (type == ondemand::json_type::object) {
      ondemand::object object;
      err = value.get_object().get(object);
      if (!err) err = object.raw_json().get(raw);
    } else if (type == ondemand::json_type::array) {
      ondemand::array array;
      err = value.get_array().get(array);
      if (!err) err = array.raw_json().get(raw);
    } else {
      raw = value.raw_json_token();  // a scalar's token runs up to the next structural character
    }
    if (err) return false;
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r'))
      raw.remove_suffix(1);
    return !raw.empty();
  }

  DialectStart start_;
  std::string frame_;
  dom::parser parser_{kMaxDialectFrameBytes};
  ondemand::parser ondemand_{kMaxDialectFrameBytes};
  std::string notify_text_;  // a notify frame, padded for On-Demand; grows to the largest seen
  std::vector<std::uint8_t> audio_;  // a binary frame behind a kept odd byte; grows, never shrinks
  std::uint8_t odd_byte_ = 0;
  bool has_odd_byte_ = false;
};

}  // namespace

std::unique_ptr<DialectCodec> make_vonage_codec(DialectStart start) {
  return std::make_unique<VonageCodec>(std::move(start));
}

}  // namespace warmline::ai
