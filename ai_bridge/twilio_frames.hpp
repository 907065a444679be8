#pragma once
// Twilio Media Streams frames (DESIGN.md "AI WebSocket — Twilio Media Streams"), byte for byte the
// shapes Twilio sends and accepts, so bots written for Twilio connect to warmline unchanged:
//
// warmline → agent (TwilioEncoder):
//   {"event":"connected","protocol":"Call","version":"1.0.0"}
//   {"event":"start","sequenceNumber":"1","start":{"accountSid","streamSid","callSid","tracks":["inbound"],
//    "customParameters":{...},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},
//    "streamSid":"MZ..."}
//   {"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"20",
//    "payload":"<base64 µ-law>"},"streamSid":"MZ..."}
//   {"event":"mark","sequenceNumber":"4","streamSid":"MZ...","mark":{"name":"m1"}}
//   {"event":"dtmf","sequenceNumber":"5","streamSid":"MZ...","dtmf":{"track":"inbound_track","digit":"1"}}
//   {"event":"stop","sequenceNumber":"6","streamSid":"MZ...","stop":{"accountSid","callSid"}}
// Numbers that Twilio sends as strings (sequenceNumber, chunk, timestamp) are strings here too: bots
// compare them as strings.
//
// agent → warmline (TwilioDecoder): "media" (base64 µ-law), "mark" (with or without a name), "clear",
// and the warmline extension {"event":"transfer",...} with the fields of the native transfer message.
// Agents are untrusted: a malformed frame becomes a ProtocolError (the call goes on), never an
// exception or a crash; unknown events become TwilioUnknown.
//
// Steady state allocates nothing: the encoder writes into a buffer it keeps, the decoder parses with
// one simdjson parser and base64-decodes into one buffer, both reused from frame to frame.
// Thread: one encoder and one decoder per connection, used on that connection's shard thread only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ai_bridge/base64.hpp"
#include "ai_bridge/native_protocol.hpp"

namespace warmline::ai {

// ---------------------------------------------------------------------------------------------------
// warmline → agent

struct TwilioStreamIds {
  std::string stream_sid;   // "MZ..." — names this stream in every frame
  std::string call_sid;     // "CA..." — the call (warmline's call id)
  std::string account_sid;  // "AC..." — the agent's configured account (bots log it; may be empty)
};

class TwilioEncoder {
 public:
  explicit TwilioEncoder(TwilioStreamIds ids);

  // Each call builds one frame and returns a view of it, valid until the next call on this encoder
  // (push it to the WriteQueue, which copies). The sequenceNumber counts every frame but "connected",
  // from 1; the media chunk counts media frames, from 1.
  std::string_view connected();
  // customParameters: from/to and the agent's configured values, in the order given.
  std::string_view start(std::span<const std::pair<std::string, std::string>> custom_parameters);
  // One packet of the caller's µ-law audio; `timestamp_ms`: its time since the stream started.
  std::string_view media(std::span<const std::uint8_t> mulaw, std::uint64_t timestamp_ms);
  // Sent back when the audio queued before the agent's mark has been played (or cleared).
  std::string_view mark(std::string_view name);
  std::string_view dtmf(char digit);
  std::string_view stop();

  const TwilioStreamIds& ids() const { return ids_; }

 private:
  void begin(std::string_view event, bool with_sequence);
  void add_stream_sid();

  TwilioStreamIds ids_;
  std::string frame_;
  std::uint64_t sequence_ = 0;
  std::uint64_t chunk_ = 0;
};

// ---------------------------------------------------------------------------------------------------
// agent → warmline

// Views into the decoder's buffers: valid until the next decode() on the same decoder.
struct TwilioMedia { std::span<const std::uint8_t> mulaw; };
struct TwilioMark { std::string_view name; };  // empty when the agent gave none
struct TwilioClear {};
struct TwilioUnknown { std::string_view event; };

using TwilioCommand =
    std::variant<TwilioMedia, TwilioMark, TwilioClear, TransferRequest, TwilioUnknown, ProtocolError>;

// A text frame bigger than this is refused (kErrorTooLarge): ≈ 12 s of µ-law in one media frame, far
// more than bots send (20 ms to a few hundred ms), and the bound on the decoder's buffers.
inline constexpr std::size_t kMaxTwilioFrameBytes = 128 * 1024;

class TwilioDecoder {
 public:
  TwilioDecoder();
  ~TwilioDecoder();
  TwilioDecoder(TwilioDecoder&&) noexcept;
  TwilioDecoder& operator=(TwilioDecoder&&) noexcept;

  TwilioCommand decode(std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warmline::ai
