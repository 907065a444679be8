#pragma once
// What every decoder fuzz target (tests/fuzz/*_decode_fuzz.cpp) checks besides "no crash, no sanitizer
// report": the decoded command keeps the limits ai_bridge/native_protocol.hpp promises (names, digits,
// targets, header values without CR/LF/NUL, known error codes), decoded audio fits the input, and every
// frame warmline would write back from it (the mark's echo, the error frame, the transfer event, the
// audio's media frame) is valid JSON. A failed check prints what and aborts: a finding, like a
// sanitizer's, that libFuzzer saves as a crash input and the corpus replay test turns into a failure.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <variant>

#include "ai_bridge/dialect.hpp"
#include "ai_bridge/native_protocol.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace warmline::fuzz {

// A frame a codec wrote: empty (no such frame), binary, or text that parses as JSON.
inline void require_frame(const ai::WireFrame& frame, const char* what) {
  if (!frame.empty() && !frame.binary) require(is_json(frame.bytes), what);
}

inline bool valid_header_value(std::string_view v) {
  return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// The limits of native_protocol.hpp on a decoded command, whichever decoder made it.
inline void check_limits(const ai::Command& command) {
  using namespace ai;
  if (const auto* e = std::get_if<ProtocolError>(&command)) {
    require(e->code == kErrorInvalidJson || e->code == kErrorMissingField || e->code == kErrorInvalidField ||
                e->code == kErrorTooLarge,
            "ProtocolError code is not one of the kError* codes");
    require(!e->message.empty(), "ProtocolError without a message");
  } else if (const auto* m = std::get_if<Mark>(&command)) {
    require(m->name.size() <= kMaxNameBytes, "mark name over kMaxNameBytes");
  } else if (const auto* u = std::get_if<Unknown>(&command)) {
    require(u->type.size() <= kMaxNameBytes, "unknown type over kMaxNameBytes");
  } else if (const auto* s = std::get_if<Say>(&command)) {
    require(s->text.size() <= kMaxSayBytes, "say text over kMaxSayBytes");
  } else if (const auto* d = std::get_if<SendDtmf>(&command)) {
    require(!d->digits.empty() && d->digits.size() <= kMaxDtmfDigits, "DTMF digits empty or too many");
    require(d->digits.find_first_not_of("0123456789*#ABCD") == std::string::npos, "DTMF digit outside 0-9*#A-D");
  } else if (const auto* t = std::get_if<TransferRequest>(&command)) {
    require(!t->targets.empty() && t->targets.size() <= kMaxTransferTargets, "transfer targets empty or too many");
    for (const auto& target : t->targets) require(target.size() <= kMaxNameBytes, "transfer target too long");
    require(t->id.size() <= kMaxNameBytes, "transfer id too long");
    require(t->ring_timeout_s >= 0 && t->ring_timeout_s <= kMaxRingTimeoutS, "ring timeout out of range");
    require(t->headers.size() <= kMaxTransferHeaders, "too many transfer headers");
    for (const auto& [name, value] : t->headers) {
      require(!name.empty() && valid_header_value(name) && valid_header_value(value), "header injection");
    }
  } else if (const auto* a = std::get_if<TransferAccept>(&command)) {
    require(a->id.size() <= kMaxNameBytes, "transfer.accept id too long");
  } else if (const auto* c = std::get_if<TransferCancel>(&command)) {
    require(c->id.size() <= kMaxNameBytes, "transfer.cancel id too long");
  } else if (const auto* k = std::get_if<TransferComplete>(&command)) {
    require(k->id.size() <= kMaxNameBytes, "transfer.complete id too long");
  }
}

// Sums the bytes, so a view into freed or foreign memory is read (and reported by ASan).
inline std::uint32_t touch(std::span<const std::uint8_t> bytes) {
  std::uint32_t sum = 0;
  for (std::uint8_t b : bytes) sum += b;
  return sum;
}

// One decoded DialectCommand: its limits, then the frames the codec writes back from it.
inline void check_dialect_command(ai::DialectCodec& codec, const ai::DialectCommand& decoded, std::size_t input_size,
                                  bool binary_input) {
  using namespace ai;
  if (const auto* media = std::get_if<WireMedia>(&decoded)) {
    // base64 yields at most 3 bytes per 4 characters; a binary frame at most itself and one kept byte.
    const std::size_t bound = binary_input ? input_size + 1 : input_size / 4 * 3;
    require(media->audio.size() <= bound, "decoded audio larger than its frame allows");
    volatile std::uint32_t sum = touch(media->audio);
    (void)sum;
    require_frame(codec.media(media->audio, 0), "media frame of the decoded audio is not JSON");
    return;
  }
  const Command& command = std::get<Command>(decoded);
  check_limits(command);
  if (const auto* e = std::get_if<ProtocolError>(&command)) {
    require_frame(codec.error(e->code, e->message), "error frame is not JSON");
  } else if (const auto* m = std::get_if<Mark>(&command)) {
    require_frame(codec.mark(m->name, MarkEvent::kPlayed), "played mark frame is not JSON");
    require_frame(codec.mark(m->name, MarkEvent::kCleared), "cleared mark frame is not JSON");
  } else if (std::holds_alternative<Clear>(command)) {
    require_frame(codec.cleared(), "cleared frame is not JSON");
  } else if (const auto* d = std::get_if<SendDtmf>(&command)) {
    require_frame(codec.dtmf(d->digits[0], 100), "dtmf frame is not JSON");
  } else if (const auto* t = std::get_if<TransferRequest>(&command)) {
    const TransferEvent event{.id = t->id, .state = TransferState::kDialing, .target = t->targets.front()};
    require_frame(codec.transfer_event(event), "transfer event frame is not JSON");
  }
}

// Feeds `data` to `codec` as a text frame, then as a binary frame, checking both results.
inline int feed_dialect(ai::DialectCodec* codec, const std::uint8_t* data, std::size_t size) {
  if (codec == nullptr) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_dialect_command(*codec, codec->decode_text(text), size, false);
  check_dialect_command(*codec, codec->decode_binary({data, size}), size, true);
  return 0;
}

// A codec of `dialect` made once per process (state such as Vonage's kept odd byte carries over from
// one input to the next, as on a connection), with ids shaped like the provider's.
inline ai::DialectCodec* process_codec(ai::Dialect dialect) {
  static std::unique_ptr<ai::DialectCodec> codec = [dialect] {
    ai::DialectStart start;
    start.call.id = "CA6f51a6a3b1c7e1f9bb39d6a9d7ae8b10";
    start.call.from = "+27115550100";
    start.call.to = "100";
    start.stream_id = "MZ18ad3ab5a668481ce02b83e7395059f0";
    start.account_id = "AC25e16e9a716a4a1786a7c83f58e30482";
    start.custom_parameters = {{"lang", "en"}};
    auto made = ai::make_dialect_codec(dialect, std::move(start));
    require(made != nullptr, "this build has no codec for the target's dialect");
    made->opening();
    return made;
  }();
  return codec.get();
}

}  // namespace warmline::fuzz
