#pragma once
// Provider dialects on the agent socket (DESIGN.md "AI WebSocket — provider dialects"): Twilio Media
// Streams, Telnyx, Plivo, Exotel and Vonage, each speaking exactly its provider's wire format so a bot
// written for that provider connects unchanged. One DialectCodec per connection turns warmline's events
// into the dialect's frames and the agent's frames into warmline's commands; the agent channel
// (server/agent/dialect_agent_channel) carries them over the WebSocket and converts audio between the
// dialect's wire encoding and PCM (this folder never decodes audio: it only moves the wire bytes).
//
// Every codec:
// - builds its frames into one buffer it keeps (a WireFrame is a view valid until the next call on the
//   same codec; the WebSocket queue copies it), so steady-state media allocates nothing;
// - decodes with one simdjson parser reused from frame to frame and base64-decodes into one buffer;
// - treats the agent as untrusted: a malformed frame becomes a ProtocolError (the call goes on and the
//   agent gets the dialect's error frame), never an exception or a crash; an unknown event becomes
//   Unknown (logged, ignored);
// - accepts the warmline extension frames, whatever the dialect: {"event":"transfer", <the native
//   transfer message's fields>}, {"event":"transfer.accept"|"transfer.cancel"|"transfer.complete","id":..}
//   and {"event":"hangup"}; transfer progress goes back as {"event":"transfer", <stream id>,
//   "transfer":{<the native transfer event's fields>}} (extension_* below).
//
// Thread: one codec per connection, used on that connection's shard thread only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ai_bridge/native_protocol.hpp"

namespace warmline::ai {

enum class Dialect { kTwilio, kTelnyx, kPlivo, kExotel, kVonage };
std::string_view to_string(Dialect dialect);

// How a dialect carries audio on the socket.
enum class WireEncoding { kMulaw, kAlaw, kL16 };  // kL16: 16-bit signed little-endian PCM, mono
struct WireAudio {
  WireEncoding encoding = WireEncoding::kMulaw;
  std::uint32_t sample_rate = 8000;
  bool binary = false;  // true: raw audio in binary WebSocket frames (Vonage); false: base64 in JSON text
  // Bytes of one 20 ms frame in this encoding (160 for µ-law 8 kHz, 640 for L16 16 kHz).
  std::size_t bytes_per_20ms() const {
    return sample_rate / 50 * (encoding == WireEncoding::kL16 ? 2u : 1u);
  }
};

// What the opening frames name. The call id is the provider's call id in every dialect (Twilio callSid,
// Telnyx call_control_id, Plivo callId, Exotel call_sid, Vonage's uuid): bots hand it back to the
// REST paths warmline serves (server/provider_api), which find the call by it.
struct DialectStart {
  CallInfo call{};
  std::string stream_id{};   // this stream's id (streamSid, stream_id, streamId, stream_sid), unique
  std::string account_id{};  // the agent's configured account (accountSid, account_sid, ...); may be empty
  // The agent's configured values (Twilio customParameters and the like), in the order given. The
  // codec adds from/to where its provider does.
  std::vector<std::pair<std::string, std::string>> custom_parameters{};
  // The encoding asked for where the dialect lets the stream choose (Telnyx PCMU/PCMA); otherwise the
  // dialect's own and this is ignored.
  WireEncoding encoding = WireEncoding::kMulaw;
};

// One frame to send: a view into the codec's buffer, valid until the next call on the same codec.
// Empty bytes: the dialect has no such frame (nothing is sent).
struct WireFrame {
  std::string_view bytes{};
  bool binary = false;
  bool empty() const { return bytes.empty(); }
};

// Agent → warmline: audio in the dialect's wire encoding (a view valid until the next decode), or
// one of the native commands (Clear, Mark, SendDtmf, TransferRequest, TransferAccept/Cancel/Complete,
// Hangup, Unknown, ProtocolError).
struct WireMedia {
  std::span<const std::uint8_t> audio{};
};
using DialectCommand = std::variant<WireMedia, Command>;

// A text frame bigger than this is refused (kErrorTooLarge): ≈ 12 s of µ-law in one media frame, far
// more than bots send, and the bound on the decoders' buffers.
inline constexpr std::size_t kMaxDialectFrameBytes = 128 * 1024;

class DialectCodec {
 public:
  virtual ~DialectCodec() = default;

  virtual Dialect dialect() const = 0;
  virtual WireAudio audio() const = 0;

  // ---- warmline → agent
  // The frames that open the stream, in order (Twilio "connected" then "start"; Vonage its
  // "websocket:connected" text frame). Called once, before any media.
  virtual std::vector<std::string> opening() = 0;
  // One chunk of the caller's audio in audio()'s encoding; `timestamp_ms`: its time since the stream
  // started (from the samples sent, not the wall clock).
  virtual WireFrame media(std::span<const std::uint8_t> audio, std::uint64_t timestamp_ms) = 0;
  // A mark of the agent's has been played (all audio queued before it left as RTP) or was discarded by
  // a clear. Dialects that report cleared marks one by one (Twilio, Telnyx, Exotel) send the same
  // frame for both; others return an empty frame for kCleared and say it in cleared().
  virtual WireFrame mark(std::string_view name, MarkEvent event) = 0;
  // After a clear from the agent has been carried out (its cleared marks already reported through
  // mark()): the dialect's acknowledgement (Plivo "clearedAudio", Vonage "websocket:cleared"), or empty.
  virtual WireFrame cleared() = 0;
  virtual WireFrame dtmf(char digit, std::uint32_t duration_ms) = 0;
  // The last frame before warmline closes the socket; `reason` is warmline's stop reason.
  virtual WireFrame stop(std::string_view reason) = 0;
  // The extension frames (see the top of this file) and the dialect's error frame.
  virtual WireFrame transfer_event(const TransferEvent& event) = 0;
  virtual WireFrame error(std::string_view code, std::string_view message) = 0;

  // ---- agent → warmline
  virtual DialectCommand decode_text(std::string_view text) = 0;
  // Binary frames: audio for dialects that send it so (Vonage); a ProtocolError for the others.
  virtual DialectCommand decode_binary(std::span<const std::uint8_t> data);
};

std::unique_ptr<DialectCodec> make_dialect_codec(Dialect dialect, DialectStart start);

}  // namespace warmline::ai
