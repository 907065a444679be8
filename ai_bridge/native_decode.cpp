// Decoder for agent → warmline text frames (simdjson DOM with error codes: no exceptions).
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <variant>

#include "ai_bridge/dialect_json.hpp"
#include "ai_bridge/native_protocol.hpp"

namespace warmline::ai {
namespace {

namespace dom = simdjson::dom;

constexpr std::size_t kMaxHeaderValueBytes = 1024;

// Wire names of the transfer options: one table per enum, used to parse and to print.
constexpr std::array<std::pair<std::string_view, TransferMode>, 4> kModes = {
    {{"cold", TransferMode::kCold}, {"warm", TransferMode::kWarm}, {"semi", TransferMode::kSemi},
     {"replaces", TransferMode::kReplaces}}};
constexpr std::array<std::pair<std::string_view, Screening>, 3> kScreenings = {
    {{"none", Screening::kNone}, {"dtmf", Screening::kDtmf}, {"agent", Screening::kAgent}}};
constexpr std::array<std::pair<std::string_view, HoldAudio>, 3> kHolds = {
    {{"music", HoldAudio::kMusic}, {"ringback", HoldAudio::kRingback}, {"silence", HoldAudio::kSilence}}};
constexpr std::array<std::pair<std::string_view, AfterBridge>, 2> kAfterBridges = {
    {{"leave", AfterBridge::kLeave}, {"listen", AfterBridge::kListen}}};

template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<std::string_view, Enum>, N>& names, Enum value) {
  for (const auto& [name, e] : names) {
    if (e == value) return name;
  }
  return names.front().first;
}

ProtocolError make_error(std::string_view code, std::string message) {
  return ProtocolError{std::string(code), std::move(message)};
}

// Reads typed fields of one frame and keeps the first problem found, so the agent is told exactly
// which field is wrong ("transfer: \"targets\" must be ...").
class FieldReader {
 public:
  FieldReader(dom::object obj, std::string_view context) : obj_(obj), context_(context) {}

  // nullopt when absent (an error when `required`) or wrong.
  std::optional<std::string_view> string(std::string_view key, std::size_t max_bytes, bool required) {
    dom::element value;
    if (!lookup(key, required, value)) return std::nullopt;
    std::string_view s;
    if (value.get_string().get(s) != simdjson::SUCCESS) {
      fail(kErrorInvalidField, quoted(key) + " must be a string");
      return std::nullopt;
    }
    if (s.size() > max_bytes) {
      fail(kErrorTooLarge, quoted(key) + " is longer than " + std::to_string(max_bytes) + " bytes");
      return std::nullopt;
    }
    if (required && s.empty()) {
      fail(kErrorInvalidField, quoted(key) + " must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<bool> boolean(std::string_view key) {
    dom::element value;
    if (!lookup(key, false, value)) return std::nullopt;
    bool b = false;
    if (value.get_bool().get(b) != simdjson::SUCCESS) {
      fail(kErrorInvalidField, quoted(key) + " must be true or false");
      return std::nullopt;
    }
    return b;
  }

  std::optional<int> integer(std::string_view key, int min, int max) {
    dom::element value;
    if (!lookup(key, false, value)) return std::nullopt;
    std::int64_t n = 0;
    if (value.get_int64().get(n) != simdjson::SUCCESS || n < min || n > max) {
      fail(kErrorInvalidField,
           quoted(key) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return static_cast<int>(n);
  }

  // Present-and-of-this-type lookups for arrays and objects; nullopt when absent or wrong.
  std::optional<dom::array> array(std::string_view key) {
    dom::element value;
    if (!lookup(key, false, value)) return std::nullopt;
    dom::array a;
    if (value.get_array().get(a) != simdjson::SUCCESS) {
      fail(kErrorInvalidField, quoted(key) + " must be an array");
      return std::nullopt;
    }
    return a;
  }
  std::optional<dom::object> object(std::string_view key) {
    dom::element value;
    if (!lookup(key, false, value)) return std::nullopt;
    dom::object o;
    if (value.get_object().get(o) != simdjson::SUCCESS) {
      fail(kErrorInvalidField, quoted(key) + " must be an object");
      return std::nullopt;
    }
    return o;
  }

  void fail(std::string_view code, std::string message) {
    if (!error_) error_ = make_error(code, std::string(context_) + ": " + std::move(message));
  }
  bool failed() const { return error_.has_value(); }
  ProtocolError take_error() { return std::move(*error_); }

  static std::string quoted(std::string_view key) { return "\"" + std::string(key) + "\""; }

 private:
  bool lookup(std::string_view key, bool required, dom::element& out) {
    if (failed()) return false;
    const auto err = obj_[key].get(out);
    if (err == simdjson::SUCCESS && !out.is_null()) return true;
    if (required) fail(kErrorMissingField, "missing " + quoted(key));
    return false;  // absent or null: treated as not given
  }

  dom::object obj_;
  std::string_view context_;
  std::optional<ProtocolError> error_;
};

bool is_dtmf_digit(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

std::variant<std::string, ProtocolError> checked_dtmf_digits(std::string_view digits, std::string_view field) {
  if (digits.empty()) return make_error(kErrorInvalidField, std::string(field) + " must not be empty");
  if (digits.size() > kMaxDtmfDigits) {
    return make_error(kErrorTooLarge, std::string(field) + " is longer than " + std::to_string(kMaxDtmfDigits) + " bytes");
  }
  std::string out(digits);
  for (char& c : out) {
    if (c >= 'a' && c <= 'd') c = static_cast<char>(c - 'a' + 'A');
    if (!is_dtmf_digit(c)) {
      return make_error(kErrorInvalidField,
                        std::string(field) + " may only hold 0-9, *, # and A-D, not '" + std::string(1, c) + "'");
    }
  }
  return out;
}

Command decode_dtmf(FieldReader& r) {
  auto digits = r.string("digits", kMaxDtmfDigits, true);
  if (!digits) return r.take_error();
  auto checked = checked_dtmf_digits(*digits, "dtmf: \"digits\"");
  if (auto* e = std::get_if<ProtocolError>(&checked)) return std::move(*e);
  return SendDtmf{std::get<std::string>(std::move(checked))};
}

// Maps a string field onto an enum through a name table; absent keeps `out` (the default).
template <class Enum, std::size_t N>
void read_enum(FieldReader& r, std::string_view key, const std::array<std::pair<std::string_view, Enum>, N>& names,
               Enum& out) {
  auto value = r.string(key, kMaxNameBytes, false);
  if (!value) return;
  for (const auto& [name, e] : names) {
    if (name == *value) {
      out = e;
      return;
    }
  }
  std::string allowed;
  for (const auto& entry : names) allowed += (allowed.empty() ? "" : ", ") + std::string(entry.first);
  r.fail(kErrorInvalidField, FieldReader::quoted(key) + " must be one of " + allowed + ", not \"" +
                                 std::string(*value) + "\"");
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

// Headers the dialog layer owns: an agent setting them could break or hijack the new leg.
bool is_reserved_header(std::string_view name) {
  static constexpr std::array<std::string_view, 16> kReserved = {
      "via", "from", "to", "call-id", "cseq", "contact", "max-forwards", "content-length",
      "content-type", "route", "record-route", "authorization", "proxy-authorization", "refer-to",
      "replaces", "p-asserted-identity"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return name.size() == 1 ||  // compact forms (RFC 3261 §7.3.3)
         std::find(kReserved.begin(), kReserved.end(), lower) != kReserved.end();
}

void read_headers(FieldReader& r, std::map<std::string, std::string>& out) {
  auto headers = r.object("headers");
  if (!headers) return;
  for (auto [name, value] : *headers) {
    std::string_view v;
    if (out.size() == kMaxTransferHeaders) {
      return r.fail(kErrorTooLarge, "more than " + std::to_string(kMaxTransferHeaders) + " headers");
    }
    if (name.empty() || name.size() > kMaxNameBytes || !std::all_of(name.begin(), name.end(), is_token_char)) {
      return r.fail(kErrorInvalidField, "header name \"" + std::string(name.substr(0, kMaxNameBytes)) +
                                            "\" is not a SIP token");
    }
    if (is_reserved_header(name)) {
      return r.fail(kErrorInvalidField, "header \"" + std::string(name) + "\" may not be set by the agent");
    }
    if (value.get_string().get(v) != simdjson::SUCCESS || v.size() > kMaxHeaderValueBytes ||
        v.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return r.fail(kErrorInvalidField, "header \"" + std::string(name) +
                                            "\" must be a string of at most 1024 bytes without CR, LF or NUL");
    }
    out.insert_or_assign(std::string(name), std::string(v));
  }
}

void read_targets(FieldReader& r, std::vector<std::string>& out) {
  const auto targets = r.array("targets");
  if (r.failed()) return;
  if (!targets || targets->size() == 0) {
    return r.fail(kErrorMissingField, "a transfer needs a non-empty \"targets\" array");
  }
  if (targets->size() > kMaxTransferTargets) {
    return r.fail(kErrorTooLarge, "more than " + std::to_string(kMaxTransferTargets) + " targets");
  }
  for (dom::element target : *targets) {
    std::string_view s;
    if (target.get_string().get(s) != simdjson::SUCCESS || s.empty() || s.size() > kMaxNameBytes) {
      return r.fail(kErrorInvalidField, "each of \"targets\" must be a non-empty string of at most " +
                                            std::to_string(kMaxNameBytes) + " bytes");
    }
    out.emplace_back(s);
  }
}

std::variant<TransferRequest, ProtocolError> decode_transfer(FieldReader& r) {
  TransferRequest t;
  if (auto id = r.string("id", kMaxNameBytes, false)) t.id = *id;
  read_enum(r, "mode", kModes, t.mode);
  read_targets(r, t.targets);
  if (auto briefing = r.string("briefing", kMaxSayBytes, false)) t.briefing = *briefing;
  read_enum(r, "screening", kScreenings, t.screening);
  read_enum(r, "hold", kHolds, t.hold);
  if (auto timeout = r.integer("ring_timeout_s", 1, kMaxRingTimeoutS)) t.ring_timeout_s = *timeout;
  if (auto introduce = r.boolean("introduce")) t.introduce = *introduce;
  read_enum(r, "after_bridge", kAfterBridges, t.after_bridge);
  read_headers(r, t.headers);
  if (r.failed()) return r.take_error();
  return t;
}

template <class T>
Command decode_named(FieldReader& r, std::string_view key, std::size_t max_bytes, bool required = true) {
  auto value = r.string(key, max_bytes, required);
  if (r.failed()) return r.take_error();
  return T{std::string(value.value_or(std::string_view()))};
}

Command decode_typed(dom::object obj, std::string_view type) {
  FieldReader r(obj, type);
  if (type == "clear") return Clear{};
  if (type == "hangup") return Hangup{};
  if (type == "mark") return decode_named<Mark>(r, "name", kMaxNameBytes);
  if (type == "say") return decode_named<Say>(r, "text", kMaxSayBytes);
  if (type == "dtmf") return decode_dtmf(r);
  // The transfer controls name their transfer by "id", or, without one, the transfer running now.
  if (type == "transfer.accept") return decode_named<TransferAccept>(r, "id", kMaxNameBytes, false);
  if (type == "transfer.cancel") return decode_named<TransferCancel>(r, "id", kMaxNameBytes, false);
  if (type == "transfer.complete") return decode_named<TransferComplete>(r, "id", kMaxNameBytes, false);
  if (type == "transfer") {
    auto t = decode_transfer(r);
    if (auto* e = std::get_if<ProtocolError>(&t)) return std::move(*e);
    return std::get<TransferRequest>(std::move(t));
  }
  return Unknown{std::string(type.substr(0, kMaxNameBytes))};
}

Command decode_object(dom::object obj) {
  std::string_view type;
  const auto err = obj["type"].get_string().get(type);
  if (err == simdjson::NO_SUCH_FIELD) return make_error(kErrorMissingField, "frame has no \"type\"");
  if (err != simdjson::SUCCESS) return make_error(kErrorInvalidField, "\"type\" must be a string");
  return decode_typed(obj, type);
}

// Parses `text` into an object, or explains why it is not one.
std::variant<dom::object, ProtocolError> parse_object(dom::parser& parser, std::string_view text) {
  if (text.size() > kMaxTextFrameBytes) {
    return make_error(kErrorTooLarge, "text frame of " + std::to_string(text.size()) + " bytes exceeds " +
                                          std::to_string(kMaxTextFrameBytes));
  }
  dom::element root;
  if (const auto err = parser.parse(text.data(), text.size()).get(root); err != simdjson::SUCCESS) {
    return make_error(kErrorInvalidJson, std::string("frame is not valid JSON: ") + simdjson::error_message(err));
  }
  dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return make_error(kErrorInvalidJson, "frame must be a JSON object");
  }
  return obj;
}

}  // namespace

namespace dialect {
Command decode_native_command(dom::object object, std::string_view type) { return decode_typed(object, type); }
std::variant<std::string, ProtocolError> dtmf_digits(std::string_view digits, std::string_view field) {
  return checked_dtmf_digits(digits, field);
}
}  // namespace dialect

struct CommandDecoder::Impl {
  dom::parser parser{kMaxTextFrameBytes};
};

CommandDecoder::CommandDecoder() : impl_(std::make_unique<Impl>()) {}
CommandDecoder::~CommandDecoder() = default;
CommandDecoder::CommandDecoder(CommandDecoder&&) noexcept = default;
CommandDecoder& CommandDecoder::operator=(CommandDecoder&&) noexcept = default;

Command CommandDecoder::decode(std::string_view text) {
  auto parsed = parse_object(impl_->parser, text);
  if (auto* e = std::get_if<ProtocolError>(&parsed)) return std::move(*e);
  return decode_object(std::get<dom::object>(parsed));
}

std::variant<TransferRequest, ProtocolError> parse_transfer_request(std::string_view json) {
  dom::parser parser{kMaxTextFrameBytes};
  auto parsed = parse_object(parser, json);
  if (auto* e = std::get_if<ProtocolError>(&parsed)) return std::move(*e);
  const auto obj = std::get<dom::object>(parsed);
  std::string_view type;
  if (const auto err = obj["type"].get(type); err != simdjson::NO_SUCH_FIELD &&
                                              (err != simdjson::SUCCESS || type != "transfer")) {
    return make_error(kErrorInvalidField, "transfer: \"type\" must be \"transfer\" when given");
  }
  FieldReader r(obj, "transfer");
  return decode_transfer(r);
}

std::string_view to_string(TransferMode mode) {
  return mode == TransferMode::kReferIn ? std::string_view("refer_in") : name_of(kModes, mode);
}
std::string_view to_string(Screening screening) { return name_of(kScreenings, screening); }
std::string_view to_string(HoldAudio hold) { return name_of(kHolds, hold); }
std::string_view to_string(AfterBridge after) { return name_of(kAfterBridges, after); }

}  // namespace warmline::ai
