#include "ai_bridge/dialect_json.hpp"

#include <charconv>

#include "ai_bridge/base64.hpp"
#include "ai_bridge/json_escape.hpp"

namespace warmline::ai::dialect {

namespace dom = simdjson::dom;

void append_number(std::string& out, std::uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

namespace {
void add_key(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}
}  // namespace

void add_number_string(std::string& out, std::string_view key, std::uint64_t n) {
  add_key(out, key);
  out += '"';
  append_number(out, n);
  out += '"';
}

void add_number(std::string& out, std::string_view key, std::uint64_t n) {
  add_key(out, key);
  append_number(out, n);
}

void add_string(std::string& out, std::string_view key, std::string_view value) {
  add_key(out, key);
  append_json_string(out, value);
}

std::string string_field(std::string_view key, std::string_view value) {
  std::string out;
  add_string(out, key, value);
  return out;
}

void add_string_map(std::string& out, std::string_view key,
                    std::span<const std::pair<std::string, std::string>> values) {
  add_key(out, key);
  out += '{';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, values[i].first);
    out += ':';
    append_json_string(out, values[i].second);
  }
  out += '}';
}

void append_transfer_fields(std::string& out, const TransferEvent& event) {
  out += "\"id\":";
  append_json_string(out, event.id);
  add_string(out, "state", to_string(event.state));
  if (!event.target.empty()) add_string(out, "target", event.target);
  if (event.state == TransferState::kEnded) add_string(out, "result", to_string(event.result));
  if (event.sip_status != 0) add_number(out, "sip_status", static_cast<std::uint64_t>(event.sip_status));
  if (!event.reason.empty()) add_string(out, "reason", event.reason);
  if (!event.strategy.empty()) add_string(out, "strategy", event.strategy);
  if (event.channels != 0) add_number(out, "channels", static_cast<std::uint64_t>(event.channels));
}

void append_error_fields(std::string& out, std::string_view code, std::string_view message) {
  out += "\"code\":";
  append_json_string(out, code);
  add_string(out, "message", message);
}

void open_frame(std::string& out, std::string_view event) {
  out.clear();
  out += "{\"event\":\"";
  out += event;
  out += '"';
}

void add_inbound_media(std::string& out, std::uint64_t chunk, std::uint64_t timestamp_ms,
                       std::span<const std::uint8_t> audio) {
  out += R"(,"media":{"track":"inbound")";
  add_number_string(out, "chunk", chunk);
  add_number_string(out, "timestamp", timestamp_ms);
  out += R"(,"payload":")";
  append_base64(out, audio);
  out += "\"}";
}

void add_mark(std::string& out, std::string_view name) {
  out += R"(,"mark":{"name":)";
  append_json_string(out, name);
  out += '}';
}

void add_transfer(std::string& out, const TransferEvent& event) {
  out += R"(,"transfer":{)";
  append_transfer_fields(out, event);
  out += '}';
}

void add_error(std::string& out, std::string_view code, std::string_view message) {
  out += R"(,"error":{)";
  append_error_fields(out, code, message);
  out += '}';
}

ProtocolError make_error(std::string_view code, std::string message) {
  return ProtocolError{std::string(code), std::move(message)};
}

std::string_view missing_or_invalid(simdjson::error_code err) {
  return err == simdjson::NO_SUCH_FIELD ? kErrorMissingField : kErrorInvalidField;
}

std::variant<Frame, ProtocolError> parse_frame(dom::parser& parser, std::string_view text, std::string_view event_key) {
  if (text.size() > kMaxDialectFrameBytes) {
    return make_error(kErrorTooLarge, "text frame of " + std::to_string(text.size()) + " bytes exceeds " +
                                          std::to_string(kMaxDialectFrameBytes));
  }
  dom::element root;
  if (const auto err = parser.parse(text.data(), text.size()).get(root); err != simdjson::SUCCESS) {
    return make_error(kErrorInvalidJson, std::string("frame is not valid JSON: ") + simdjson::error_message(err));
  }
  Frame frame;
  if (root.get_object().get(frame.object) != simdjson::SUCCESS) {
    return make_error(kErrorInvalidJson, "frame must be a JSON object");
  }
  if (const auto err = frame.object[event_key].get_string().get(frame.event); err != simdjson::SUCCESS) {
    return make_error(missing_or_invalid(err), "\"" + std::string(event_key) +
                                                   (err == simdjson::NO_SUCH_FIELD ? "\" is missing" : "\" must be a string"));
  }
  return frame;
}

std::variant<std::span<const std::uint8_t>, ProtocolError> decode_payload(dom::object object, std::string_view key,
                                                                          std::string_view field_name,
                                                                          std::vector<std::uint8_t>& buffer) {
  std::string_view payload;
  if (const auto err = object[key].get_string().get(payload); err != simdjson::SUCCESS) {
    return make_error(missing_or_invalid(err), "\"" + std::string(field_name) + "\" must be a base64 string");
  }
  if (buffer.size() < base64_decoded_max(payload.size())) buffer.resize(base64_decoded_max(payload.size()));
  const auto n = decode_base64(payload, buffer);
  if (!n) return make_error(kErrorInvalidField, "\"" + std::string(field_name) + "\" is not base64");
  return std::span<const std::uint8_t>(buffer.data(), *n);
}

DialectCommand decode_media_frame(dom::object obj, std::vector<std::uint8_t>& buffer) {
  dom::object media;
  if (const auto err = obj["media"].get_object().get(media); err != simdjson::SUCCESS)
    return Command{make_error(missing_or_invalid(err), "media: \"media\" must be an object")};
  auto payload = decode_payload(media, "payload", "media.payload", buffer);
  if (auto* e = std::get_if<ProtocolError>(&payload)) return Command{std::move(*e)};
  return WireMedia{std::get<std::span<const std::uint8_t>>(payload)};
}

DialectCommand decode_mark_frame(dom::object obj) {
  dom::element mark;
  if (obj["mark"].get(mark) == simdjson::NO_SUCH_FIELD) return Command{Mark{}};
  dom::object fields;
  if (mark.get_object().get(fields) != simdjson::SUCCESS)
    return Command{make_error(kErrorInvalidField, "mark: \"mark\" must be an object")};
  std::string_view name;
  if (const auto err = fields["name"].get_string().get(name); err == simdjson::NO_SUCH_FIELD) return Command{Mark{}};
  else if (err != simdjson::SUCCESS) return Command{make_error(kErrorInvalidField, "mark: \"mark.name\" must be a string")};
  if (auto e = check_mark_name(name, "mark.name")) return Command{std::move(*e)};
  return Command{Mark{std::string(name)}};
}

DialectCommand decode_media_mark_clear(dom::parser& parser, std::string_view text, std::vector<std::uint8_t>& audio,
                                       std::size_t sample_bytes) {
  auto parsed = parse_frame(parser, text);
  if (auto* e = std::get_if<ProtocolError>(&parsed)) return Command{std::move(*e)};
  const auto [obj, event] = std::get<Frame>(parsed);
  if (event == "media") {
    auto media = decode_media_frame(obj, audio);
    if (const auto* m = std::get_if<WireMedia>(&media); m && m->audio.size() % sample_bytes != 0) {
      return Command{make_error(kErrorInvalidField, "media: \"media.payload\" holds " +
                                                        std::to_string(m->audio.size()) + " bytes, not whole " +
                                                        std::to_string(sample_bytes * 8) + "-bit samples")};
    }
    return media;
  }
  if (event == "mark") return decode_mark_frame(obj);
  if (event == "clear") return Command{Clear{}};
  return extension_or_unknown(event, obj, text);
}

Command extension_or_unknown(std::string_view event, dom::object obj, std::string_view text) {
  if (auto ext = decode_extension(event, obj, text)) return std::move(*ext);
  return Unknown{std::string(event.substr(0, kMaxNameBytes))};
}

std::optional<Command> decode_extension(std::string_view event, dom::object object, std::string_view) {
  if (event == "transfer" || event == "transfer.accept" || event == "transfer.cancel" ||
      event == "transfer.complete" || event == "hangup") {
    return decode_native_command(object, event);
  }
  return std::nullopt;
}

std::optional<ProtocolError> check_mark_name(std::string_view name, std::string_view field_name) {
  if (name.size() <= kMaxNameBytes) return std::nullopt;
  return make_error(kErrorTooLarge,
                    "\"" + std::string(field_name) + "\" is longer than " + std::to_string(kMaxNameBytes) + " bytes");
}

}  // namespace warmline::ai::dialect
