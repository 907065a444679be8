#include "ai_bridge/dialect.hpp"

#include "ai_bridge/dialect_json.hpp"
#include "ai_bridge/dialect_codecs.hpp"

namespace warmline::ai {

std::string_view to_string(Dialect dialect) {
  switch (dialect) {
    case Dialect::kTwilio: return "twilio";
    case Dialect::kTelnyx: return "telnyx";
    case Dialect::kPlivo: return "plivo";
    case Dialect::kExotel: return "exotel";
    case Dialect::kVonage: return "vonage";
  }
  return "twilio";
}

DialectCommand DialectCodec::decode_binary(std::span<const std::uint8_t> data) {
  return Command{dialect::make_error(kErrorInvalidField, "binary frames (" + std::to_string(data.size()) +
                                                             " bytes) are not part of the " +
                                                             std::string(to_string(dialect())) + " protocol")};
}

std::unique_ptr<DialectCodec> make_dialect_codec(Dialect dialect, DialectStart start) {
  switch (dialect) {
    case Dialect::kTwilio: return make_twilio_codec(std::move(start));
    case Dialect::kTelnyx: return make_telnyx_codec(std::move(start));
    case Dialect::kPlivo: return make_plivo_codec(std::move(start));
    case Dialect::kExotel: return make_exotel_codec(std::move(start));
    case Dialect::kVonage: return make_vonage_codec(std::move(start));
  }
  return nullptr;
}

}  // namespace warmline::ai
