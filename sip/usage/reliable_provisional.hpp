// Reliable provisional responses (RFC 3262): the 100rel option tag, the RSeq and RAck headers, and the
// UAS core's duty for one INVITE — send a provisional reliably, retransmit it until its PRACK, match
// PRACKs, and give up after 64*T1.
//
// Why in the UA core and not in the transaction: §3 puts the retransmission of a reliable provisional
// in the TU ("passed to the transaction layer periodically"), exactly like the 2xx of §13.3.1.4; the
// INVITE server transaction only forwards each copy (Proceeding: a 1xx from the TU is sent).
//
// Thread: the owner's shard; the timer callbacks run there too. Ownership: the owner (a UAS leg) holds
// the ReliableProvisionals; its destructor cancels the timers, so no callback outlives it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message.hpp"
#include "sip/timer.hpp"

namespace warmline::sip {

inline constexpr std::string_view k100rel = "100rel";

// Whether `tag` is listed (case-insensitively, any number of headers and commas) in the `header`
// headers of `m` (Require, Supported, Proxy-Require).
bool has_option_tag(const Message& m, std::string_view header, std::string_view tag);

// How the peer's INVITE lets us answer (RFC 3262 §3).
enum class ReliableMode {
  kNever,     // neither Supported nor Require lists 100rel: "the UAS MUST NOT send ... reliably"
  kSupported, // Supported: 100rel: we choose (those with SDP, whose early media must not be lost)
  kRequired,  // Require: 100rel: "the UAS MUST send any non-100 provisional response reliably"
};
ReliableMode reliable_mode(const Message& invite);

// §7.1: RSeq = 1*DIGIT, 1 to 2**32 - 1. nullopt when absent or malformed.
std::optional<uint32_t> parse_rseq(const Message& response);

// §7.2: RAck = response-num LWS CSeq-num LWS Method.
struct RAck {
  uint32_t rseq = 0;
  uint32_t cseq = 0;
  std::string method;
};
std::optional<RAck> parse_rack(const Message& prack);
std::string to_string(const RAck& rack);

// §4: whether a provisional response to our INVITE is sent reliably (Require: 100rel and an RSeq; a
// 100 never is) and so needs a PRACK. The RSeq, or nullopt.
std::optional<uint32_t> reliable_rseq(const Message& response);

// The UAS side for one INVITE.
class ReliableProvisionals {
 public:
  // Passes a (re)transmission to the INVITE server transaction; false once it can send no more.
  using Send = std::function<bool(const Message& response)>;
  // 64*T1 went by without the PRACK: the owner rejects the INVITE with a 5xx (§3).
  using GiveUp = std::function<void()>;

  // `first_rseq`: §3: "the initial value ... MUST be chosen uniformly between 1 and 2**31 - 1" (the
  // owner draws it; 0 is taken as 1).
  ReliableProvisionals(TimerService& timers, TimerConfig config, uint32_t first_rseq, Send send, GiveUp give_up);
  ~ReliableProvisionals();
  ReliableProvisionals(const ReliableProvisionals&) = delete;
  ReliableProvisionals& operator=(const ReliableProvisionals&) = delete;

  // Sends `response` (a 101-199) reliably: adds `Require: 100rel` and the next RSeq, sends it now and
  // again at T1, 2T1, 4T1, ... (§3: doubling, no T2 cap) until its PRACK, a final response (stop()),
  // or 64*T1 (give_up). False, and nothing sent, while an earlier one awaits its PRACK (§3: "MUST NOT
  // send a second reliable provisional response until the first is acknowledged") or when the
  // transaction refused it.
  bool send(Message response);
  // True while the last reliable provisional awaits its PRACK.
  bool unacknowledged() const { return pending_.has_value(); }
  // True while that one carries a body (SDP): §3 forbids a 2xx to the INVITE until it is PRACKed.
  bool unacknowledged_with_body() const { return pending_ && !pending_->response.body.empty(); }

  // A PRACK in the dialog. True when its RAck names the unacknowledged response (its RSeq, and the
  // INVITE's CSeq number and method): it is acknowledged whatever the PRACK's body says (RFC 3262 §4:
  // the caller drops its retransmissions), and retransmissions stop; the owner answers the PRACK (2xx,
  // or a refusal of an offer in it). False, and nothing changes: 481.
  bool acknowledge(const RAck& rack);
  // A final response went out: §3 "it SHOULD NOT continue to retransmit the unacknowledged reliable
  // provisional responses, but it MUST be prepared to process PRACK requests for those" — so the
  // pending response stays matchable, only its timers stop.
  void stop();

 private:
  bool matches(const RAck& rack) const;  // `rack` names the unacknowledged response
  struct Pending {
    Message response;
    uint32_t rseq = 0;
    std::chrono::milliseconds interval{0};
  };
  void retransmit();
  void expire();
  void cancel_timers();

  TimerService& timers_;
  TimerConfig config_;
  uint32_t next_rseq_;
  Send send_;
  GiveUp give_up_;
  std::optional<Pending> pending_;
  TimerId retransmit_ = kNoTimer;
  TimerId expire_ = kNoTimer;
};

}  // namespace warmline::sip
