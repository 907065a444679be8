#pragma once
// What every dialect codec shares (ai_bridge/dialect.hpp): writing JSON frames into a kept buffer,
// parsing an agent frame and reading its event name, base64 media payloads, the extension frames, and
// the native transfer event's fields. Included by the codecs' .cpp files only.

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ai_bridge/dialect.hpp"

namespace warmline::ai::dialect {

// ---- writing (each appends to `out`; strings are JSON-escaped)
void append_number(std::string& out, std::uint64_t n);
// ,"key":"123" — providers that send counters as JSON strings (Twilio, Plivo, Exotel timestamps)
void add_number_string(std::string& out, std::string_view key, std::uint64_t n);
// ,"key":123
void add_number(std::string& out, std::string_view key, std::uint64_t n);
// ,"key":"value"
void add_string(std::string& out, std::string_view key, std::string_view value);
// ,"key":"value" as a string of its own: a field every frame repeats (the stream id), escaped once.
std::string string_field(std::string_view key, std::string_view value);
// ,"key":{"k1":"v1",...}
void add_string_map(std::string& out, std::string_view key,
                    std::span<const std::pair<std::string, std::string>> values);
// "id":"t1","state":"ended",... — the native transfer event's fields, no braces, no leading comma.
void append_transfer_fields(std::string& out, const TransferEvent& event);
// "code":"...","message":"..." — no braces, no leading comma.
void append_error_fields(std::string& out, std::string_view code, std::string_view message);

// Clears `out` and starts a frame: {"event":"<event>" — the caller adds the fields and the last brace.
void open_frame(std::string& out, std::string_view event);
// ,"media":{"track":"inbound","chunk":"1","timestamp":"20","payload":"<base64>"} — the caller's audio
// as the dialects that took Twilio's shape send it (Twilio, Telnyx, Exotel): counters as strings.
void add_inbound_media(std::string& out, std::uint64_t chunk, std::uint64_t timestamp_ms,
                       std::span<const std::uint8_t> audio);
// ,"mark":{"name":"m1"}
void add_mark(std::string& out, std::string_view name);
// ,"transfer":{<the native transfer event's fields>} — the extension frame's body.
void add_transfer(std::string& out, const TransferEvent& event);
// ,"error":{"code":"...","message":"..."} — warmline's error, as every dialect's error frame carries it.
void add_error(std::string& out, std::string_view code, std::string_view message);

// ---- reading
ProtocolError make_error(std::string_view code, std::string message);
// kErrorMissingField for NO_SUCH_FIELD, else kErrorInvalidField.
std::string_view missing_or_invalid(simdjson::error_code err);

// A parsed agent frame: its object and the string under `event_key` ("event", or Vonage's "action").
struct Frame {
  simdjson::dom::object object;
  std::string_view event;
};
// Refuses frames over kMaxDialectFrameBytes (kErrorTooLarge), text that is not a JSON object
// (kErrorInvalidJson) and a missing or non-string event (kErrorMissingField / kErrorInvalidField).
std::variant<Frame, ProtocolError> parse_frame(simdjson::dom::parser& parser, std::string_view text,
                                               std::string_view event_key = "event");

// Base64 `field` of `object` (a dotted name for messages, e.g. "media.payload") into `buffer` (grown
// to the largest payload seen, never shrunk). The span views `buffer`.
std::variant<std::span<const std::uint8_t>, ProtocolError> decode_payload(simdjson::dom::object object,
                                                                          std::string_view key,
                                                                          std::string_view field_name,
                                                                          std::vector<std::uint8_t>& buffer);

// {"media":{"payload":"<base64>"}} — the agent's audio in Twilio, Telnyx and Exotel: WireMedia viewing
// `buffer`, or a ProtocolError naming the field.
DialectCommand decode_media_frame(simdjson::dom::object object, std::vector<std::uint8_t>& buffer);
// {"mark":{"name":"m1"}} — Twilio, Telnyx and Exotel; a mark without a name (or without "mark") is a
// Mark with an empty name.
DialectCommand decode_mark_frame(simdjson::dom::object object);

// Digits the agent asks to send (a-d upper-cased), or a ProtocolError naming `field` (e.g.
// "sendDTMF: \"dtmf\""): empty, longer than kMaxDtmfDigits, or a character outside 0-9 * # A-D. Shared
// with the native decoder (ai_bridge/native_decode.cpp).
std::variant<std::string, ProtocolError> dtmf_digits(std::string_view digits, std::string_view field);

// The agent frames of the dialects that took Twilio's shape (Twilio, Telnyx, Exotel): "media"
// (decode_media_frame, into `audio`; a payload that is not a whole number of `sample_bytes`-byte
// samples is refused), "mark" (decode_mark_frame), "clear", the extension frames, and Unknown for any
// other event.
DialectCommand decode_media_mark_clear(simdjson::dom::parser& parser, std::string_view text,
                                       std::vector<std::uint8_t>& audio, std::size_t sample_bytes = 1);
// The extension frame `event` names (decode_extension), else Unknown.
Command extension_or_unknown(std::string_view event, simdjson::dom::object object, std::string_view text);

// The extension frames, in any dialect: {"event":"transfer",...native transfer fields},
// {"event":"transfer.accept"|"transfer.cancel"|"transfer.complete","id":"t1"}, {"event":"hangup"}.
// nullopt when `event` is none of them. `text` is the whole frame (the transfer's fields are read
// from it by the native parser).
std::optional<Command> decode_extension(std::string_view event, simdjson::dom::object object, std::string_view text);

// The native decoder's reading of `object` as a frame of type `type` (ai_bridge/native_decode.cpp).
Command decode_native_command(simdjson::dom::object object, std::string_view type);

// A mark name the playout buffer can carry: a ProtocolError when longer than kMaxNameBytes.
std::optional<ProtocolError> check_mark_name(std::string_view name, std::string_view field_name);

}  // namespace warmline::ai::dialect
