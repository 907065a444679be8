#pragma once
// The native warmline ↔ agent protocol (DESIGN.md "AI WebSocket — native protocol").
//
// Text frames are JSON objects with a "type"; audio travels in binary frames and never passes through
// this file. Encoders build warmline → agent frames; CommandDecoder turns agent → warmline frames into
// typed commands. Agents are untrusted: every malformed frame becomes a ProtocolError (answered with an
// "error" frame, the call goes on), never an exception or a crash. Fields the protocol does not define
// are ignored so agents can be newer than the gateway; unknown "type"s become Unknown (logged, ignored).
//
// Thread: none of this holds state shared between calls; a CommandDecoder belongs to one connection.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace warmline::ai {

// ---------------------------------------------------------------------------------------------------
// warmline → agent

struct CallInfo {
  std::string id{};
  std::string from{};
  std::string to{};
  // SIP headers passed on to the agent (configured X- headers, etc.), in the order given.
  std::vector<std::pair<std::string, std::string>> headers{};
  // The caller's RTP codec ("PCMU", "PCMA", ...): a dialect that can carry it takes it as it is.
  std::string caller_codec{};
};

enum class MarkEvent { kPlayed, kCleared };

enum class TransferState { kDialing, kRinging, kAnswered, kConsulting, kBridged, kEnded };

// The outcome of a transfer (DESIGN.md "Transfers"); only sent with state kEnded.
enum class TransferResult {
  kCompleted, kBusy, kDeclined, kNoAnswer, kUnreachable, kRejected, kTimeout, kCancelled,
  kCallerHungUp, kFailed,
};

struct TransferEvent {
  std::string_view id{};
  TransferState state = TransferState::kDialing;
  std::string_view target{};     // omitted when empty
  TransferResult result = TransferResult::kFailed;  // written only when state == kEnded
  int sip_status = 0;            // omitted when 0
  std::string_view reason{};     // omitted when empty
  // With state kBridged: the agent's binary frames from now on — 1: mono, the caller and the target
  // mixed (an introduce three-way); 2: stereo, interleaved, caller left and target right (listening).
  // Omitted when 0.
  int channels = 0;
  // A completed replaces transfer: "refer" (the caller's PBX joined caller and target) or "dial"
  // (warmline bridged them itself). Omitted when empty.
  std::string_view strategy{};
};

std::string_view to_string(MarkEvent event);
std::string_view to_string(TransferState state);
std::string_view to_string(TransferResult result);

// {"type":"start","call":{"id","from","to","headers":{...}},"audio":{"encoding":"L16","sample_rate":N}}
std::string encode_start(const CallInfo& call, int sample_rate);
// {"type":"dtmf","digit":"1","duration_ms":120}
std::string encode_dtmf(char digit, int duration_ms);
// {"type":"mark","name":"m1","event":"played"|"cleared"}
std::string encode_mark(std::string_view name, MarkEvent event);
// {"type":"transfer","id","state","target","result","sip_status","reason"}
std::string encode_transfer_event(const TransferEvent& event);
// {"type":"stop","reason":"caller_hangup"|"transferred"|"agent_hangup"|"shutdown"|...}
std::string encode_stop(std::string_view reason);
// {"type":"error","code":"...","message":"..."}
std::string encode_error(std::string_view code, std::string_view message);

// ---------------------------------------------------------------------------------------------------
// agent → warmline

struct Clear {};
struct Mark { std::string name; };
struct Say { std::string text; };
// Digits to send to the active party as RFC 4733 events: 0-9 * # A-D (lower-case a-d is upper-cased).
struct SendDtmf { std::string digits; };

// kReferIn ("refer_in") is warmline's own: a transfer a REFER from a peer asked for (server/transfer/
// refer_in.hpp). It shows in records and the API; an agent cannot request it (not in the decode table).
enum class TransferMode { kCold, kWarm, kSemi, kReplaces, kReferIn };
enum class Screening { kNone, kDtmf, kAgent };
enum class HoldAudio { kMusic, kRingback, kSilence };
// What the agent does once caller and target are bridged: leave (its stream ends, stop "transferred"),
// or listen (it keeps receiving both parties as stereo frames and may not speak).
enum class AfterBridge { kLeave, kListen };

struct TransferRequest {
  std::string id;                    // empty when the agent gave none: the server assigns one
  TransferMode mode = TransferMode::kCold;
  std::vector<std::string> targets;  // tried in order (a chain when there are several); never empty
  std::string briefing;              // empty: no briefing; kConsultBriefing: a consult (warm)
  Screening screening = Screening::kNone;
  HoldAudio hold = HoldAudio::kMusic;
  int ring_timeout_s = 0;            // 0: not given (the target's, else the agent's ring time)
  bool introduce = false;            // warm: a three-way moment after the accept, until transfer.complete
  AfterBridge after_bridge = AfterBridge::kLeave;
  // Extra SIP headers for the new leg. Names are RFC 3261 tokens and not ones the dialog owns (Via,
  // From, To, Call-ID, CSeq, Contact, ...); values have no CR/LF/NUL (no header injection).
  std::map<std::string, std::string> headers;
};
struct TransferAccept { std::string id; };
struct TransferCancel { std::string id; };
struct TransferComplete { std::string id; };
struct Hangup {};
struct Unknown { std::string type; };
struct ProtocolError {
  std::string code;     // one of the kError* constants below
  std::string message;  // human-readable, names the field
};

inline constexpr std::string_view kErrorInvalidJson = "invalid_json";
inline constexpr std::string_view kErrorMissingField = "missing_field";
inline constexpr std::string_view kErrorInvalidField = "invalid_field";
inline constexpr std::string_view kErrorTooLarge = "too_large";

using Command = std::variant<Clear, Mark, Say, SendDtmf, TransferRequest, TransferAccept, TransferCancel,
                             TransferComplete, Hangup, Unknown, ProtocolError>;

// `"briefing": "agent"`: a consult — the agent talks to the target itself (DESIGN.md "Transfers").
inline constexpr std::string_view kConsultBriefing = "agent";

std::string_view to_string(TransferMode mode);
std::string_view to_string(Screening screening);
std::string_view to_string(HoldAudio hold);
std::string_view to_string(AfterBridge after);

// Limits enforced on agent input (explicit, reported as ProtocolError, never truncated).
inline constexpr std::size_t kMaxTextFrameBytes = 64 * 1024;
inline constexpr std::size_t kMaxSayBytes = 8 * 1024;
inline constexpr std::size_t kMaxNameBytes = 256;  // mark names, transfer ids, targets
inline constexpr std::size_t kMaxDtmfDigits = 64;
inline constexpr std::size_t kMaxTransferTargets = 16;
inline constexpr std::size_t kMaxTransferHeaders = 16;
inline constexpr int kMaxRingTimeoutS = 600;

// Decodes agent text frames. Keeps one simdjson parser whose buffers are reused from frame to frame,
// so decoding allocates only the strings of the command it returns. One per connection (one thread).
class CommandDecoder {
 public:
  CommandDecoder();
  ~CommandDecoder();
  CommandDecoder(CommandDecoder&&) noexcept;
  CommandDecoder& operator=(CommandDecoder&&) noexcept;

  Command decode(std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The body of the HTTP API's POST /v1/calls/{id}/transfer: the same object as the WebSocket
// "transfer" message, with or without "type" (if present it must be "transfer").
std::variant<TransferRequest, ProtocolError> parse_transfer_request(std::string_view json);

}  // namespace warmline::ai
