#pragma once
// One factory per dialect (each in its <dialect>_dialect.cpp); make_dialect_codec picks among them.

#include <memory>

#include "ai_bridge/dialect.hpp"

namespace warmline::ai {

std::unique_ptr<DialectCodec> make_twilio_codec(DialectStart start);
std::unique_ptr<DialectCodec> make_telnyx_codec(DialectStart start);
std::unique_ptr<DialectCodec> make_plivo_codec(DialectStart start);
std::unique_ptr<DialectCodec> make_exotel_codec(DialectStart start);
std::unique_ptr<DialectCodec> make_vonage_codec(DialectStart start);

}  // namespace warmline::ai
