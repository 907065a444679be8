// Twilio Media Streams frames: encoders into one reused buffer, a simdjson DOM decoder with error codes
// (no exceptions), base64 on OpenSSL's block codec with the strictness checks it lacks.
#include "ai_bridge/twilio_frames.hpp"

#include <openssl/evp.h>
#include <simdjson.h>

#include <charconv>
#include <climits>
#include <cstring>

#include "ai_bridge/json_escape.hpp"

namespace warmline::ai {
namespace {

namespace dom = simdjson::dom;

void append_number(std::string& out, std::uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

// Twilio sends counters and timestamps as JSON strings: `"key":"123"`.
void add_number_string(std::string& out, std::string_view key, std::uint64_t n) {
  out += ",\"";
  out += key;
  out += "\":\"";
  append_number(out, n);
  out += '"';
}

ProtocolError make_error(std::string_view code, std::string message) {
  return ProtocolError{std::string(code), std::move(message)};
}

std::string_view missing_or_invalid(simdjson::error_code err) {
  return err == simdjson::NO_SUCH_FIELD ? kErrorMissingField : kErrorInvalidField;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// TwilioEncoder

TwilioEncoder::TwilioEncoder(TwilioStreamIds ids) : ids_(std::move(ids)) {
  // A 20 ms media frame is ≈ 330 bytes; start above it so steady-state frames never grow the buffer.
  frame_.reserve(512);
}

void TwilioEncoder::begin(std::string_view event, bool with_sequence) {
  frame_.clear();
  frame_ += "{\"event\":\"";
  frame_ += event;
  frame_ += '"';
  if (with_sequence) add_number_string(frame_, "sequenceNumber", ++sequence_);
}

void TwilioEncoder::add_stream_sid() {
  frame_ += ",\"streamSid\":";
  append_json_string(frame_, ids_.stream_sid);
}

std::string_view TwilioEncoder::connected() {
  begin("connected", false);
  frame_ += R"(,"protocol":"Call","version":"1.0.0"})";
  return frame_;
}

std::string_view TwilioEncoder::start(std::span<const std::pair<std::string, std::string>> custom_parameters) {
  begin("start", true);
  frame_ += R"(,"start":{"accountSid":)";
  append_json_string(frame_, ids_.account_sid);
  frame_ += ",\"streamSid\":";
  append_json_string(frame_, ids_.stream_sid);
  frame_ += ",\"callSid\":";
  append_json_string(frame_, ids_.call_sid);
  frame_ += R"(,"tracks":["inbound"],"customParameters":{)";
  for (std::size_t i = 0; i < custom_parameters.size(); ++i) {
    if (i > 0) frame_ += ',';
    append_json_string(frame_, custom_parameters[i].first);
    frame_ += ':';
    append_json_string(frame_, custom_parameters[i].second);
  }
  frame_ += R"(},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}})";
  add_stream_sid();
  frame_ += '}';
  return frame_;
}

std::string_view TwilioEncoder::media(std::span<const std::uint8_t> mulaw, std::uint64_t timestamp_ms) {
  begin("media", true);
  frame_ += R"(,"media":{"track":"inbound")";
  add_number_string(frame_, "chunk", ++chunk_);
  add_number_string(frame_, "timestamp", timestamp_ms);
  frame_ += R"(,"payload":")";
  append_base64(frame_, mulaw);
  frame_ += "\"}";
  add_stream_sid();
  frame_ += '}';
  return frame_;
}

std::string_view TwilioEncoder::mark(std::string_view name) {
  begin("mark", true);
  add_stream_sid();
  frame_ += R"(,"mark":{"name":)";
  append_json_string(frame_, name);
  frame_ += "}}";
  return frame_;
}

std::string_view TwilioEncoder::dtmf(char digit) {
  begin("dtmf", true);
  add_stream_sid();
  frame_ += R"(,"dtmf":{"track":"inbound_track","digit":)";
  append_json_string(frame_, std::string_view(&digit, 1));
  frame_ += "}}";
  return frame_;
}

std::string_view TwilioEncoder::stop() {
  begin("stop", true);
  add_stream_sid();
  frame_ += R"(,"stop":{"accountSid":)";
  append_json_string(frame_, ids_.account_sid);
  frame_ += ",\"callSid\":";
  append_json_string(frame_, ids_.call_sid);
  frame_ += "}}";
  return frame_;
}

// ---------------------------------------------------------------------------------------------------
// TwilioDecoder

struct TwilioDecoder::Impl {
  dom::parser parser{kMaxTwilioFrameBytes};
  std::vector<std::uint8_t> audio;  // grows to the largest media frame seen, never shrinks

  TwilioCommand media(dom::object obj);
  static TwilioCommand mark(dom::object obj);
};

TwilioCommand TwilioDecoder::Impl::media(dom::object obj) {
  dom::object media;
  if (const auto err = obj["media"].get(media); err != simdjson::SUCCESS) {
    return make_error(missing_or_invalid(err), "media: \"media\" must be an object");
  }
  std::string_view payload;
  if (const auto err = media["payload"].get(payload); err != simdjson::SUCCESS) {
    return make_error(missing_or_invalid(err), "media: \"media.payload\" must be a string");
  }
  if (audio.size() < base64_decoded_max(payload.size())) audio.resize(base64_decoded_max(payload.size()));
  const auto n = decode_base64(payload, audio);
  if (!n) return make_error(kErrorInvalidField, "media: \"media.payload\" is not base64");
  return TwilioMedia{std::span<const std::uint8_t>(audio.data(), *n)};
}

TwilioCommand TwilioDecoder::Impl::mark(dom::object obj) {
  dom::element mark;
  if (const auto err = obj["mark"].get(mark); err == simdjson::NO_SUCH_FIELD) return TwilioMark{};
  dom::object fields;
  if (mark.get_object().get(fields) != simdjson::SUCCESS) {
    return make_error(kErrorInvalidField, "mark: \"mark\" must be an object");
  }
  std::string_view name;
  if (const auto err = fields["name"].get(name); err == simdjson::NO_SUCH_FIELD) return TwilioMark{};
  else if (err != simdjson::SUCCESS) return make_error(kErrorInvalidField, "mark: \"mark.name\" must be a string");
  if (name.size() > kMaxNameBytes) {
    return make_error(kErrorTooLarge, "mark: \"mark.name\" is longer than " + std::to_string(kMaxNameBytes) + " bytes");
  }
  return TwilioMark{name};
}

TwilioDecoder::TwilioDecoder() : impl_(std::make_unique<Impl>()) {}
TwilioDecoder::~TwilioDecoder() = default;
TwilioDecoder::TwilioDecoder(TwilioDecoder&&) noexcept = default;
TwilioDecoder& TwilioDecoder::operator=(TwilioDecoder&&) noexcept = default;

TwilioCommand TwilioDecoder::decode(std::string_view text) {
  if (text.size() > kMaxTwilioFrameBytes) {
    return make_error(kErrorTooLarge, "text frame of " + std::to_string(text.size()) + " bytes exceeds " +
                                          std::to_string(kMaxTwilioFrameBytes));
  }
  dom::object obj;
  if (const auto err = impl_->parser.parse(text.data(), text.size()).get(obj); err != simdjson::SUCCESS) {
    return make_error(kErrorInvalidJson, std::string("frame is not a JSON object: ") + simdjson::error_message(err));
  }
  std::string_view event;
  if (const auto err = obj["event"].get(event); err == simdjson::NO_SUCH_FIELD) {
    return make_error(kErrorMissingField, "\"event\" is missing");
  } else if (err != simdjson::SUCCESS) {
    return make_error(kErrorInvalidField, "\"event\" must be a string");
  }
  if (event == "media") return impl_->media(obj);
  if (event == "mark") return Impl::mark(obj);
  if (event == "clear") return TwilioClear{};
  if (event == "transfer") {
    // The warmline extension: the native transfer message's fields (rare, so a fresh parse is fine).
    auto request = parse_transfer_request(text);
    if (auto* e = std::get_if<ProtocolError>(&request)) return std::move(*e);
    return std::move(std::get<TransferRequest>(request));
  }
  return TwilioUnknown{event.substr(0, kMaxNameBytes)};
}

}  // namespace warmline::ai
