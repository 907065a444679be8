// A REFER received (RFC 3515, warmline as the transferee; DESIGN.md "Toll-fraud rules"): a peer
// inside one of our calls asks us to call the Refer-To and put the caller through to it. Two pure
// pieces, used by the call (call_refer.cpp):
//
//   check_refer  — whether we act on it at all, and what it resolves to: the peer's trunk must have
//                  accepts_refer_from_peer (403), the Refer-To must be one well-formed name-addr or
//                  addr-spec (400), carry no embedded headers (Replaces: 501; any other: 403 — they are
//                  never copied into our INVITE), and resolve through resolve_target, the same rules as
//                  any transfer target of the call's agent (403 otherwise: nothing unconfigured is
//                  dialled). A sip: URI is looked up whole (an agent target's exact uri), then by its user
//                  part (a target name or alias, a PBX extension, an allowed number); its host is never
//                  dialled as given, only what configuration says for that name or number. And how
//                  the transfer runs: its X-Warmline-Transfer header (400 when malformed), else the
//                  agent's refer_in_mode — cold (a bridged dial, ringback) or warm (the caller on hold, a
//                  consult between the referrer and the answered target, then the accept gate).
//   ReferNotifier — the implicit subscription (RFC 3515 §2.4.4, RFC 6665): NOTIFY Event: refer;id=<the
//                  REFER's CSeq>, message/sipfrag bodies 100 Trying, the first 18x of the new leg, and the
//                  final status (Subscription-State terminated;reason=noresource). One NOTIFY in flight at
//                  a time, so they arrive in order; none at all with Refer-Sub: false (RFC 4488).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ai_bridge/native_protocol.hpp"
#include "server/config.hpp"
#include "server/targets.hpp"
#include "server/transfer/outcome.hpp"
#include "sip/message.hpp"

namespace warmline::server {

struct ReferCheck {
  int status = 0;            // 0: accepted (202); else the status to answer the REFER with
  std::string reason;        // the reason phrase of that answer
  std::string detail;        // why, for the log (a resolution error's message)
  std::string requested;     // the name or number that resolved (the transfer's target)
  std::optional<ResolvedTarget> target;
  bool subscription = true;  // false: Refer-Sub: false (RFC 4488), no NOTIFYs
  // Warm (docs/sip.md "Warm transfers a SIP agent asks for"): what the held caller hears, whether the
  // referrer consults the answered target first (briefing "agent"; "none": straight to the gate), and
  // the accept gate (screening agent: the referrer's `#`).
  bool warm = false;
  ai::HoldAudio hold = ai::HoldAudio::kMusic;
  bool consult = true;
  ai::Screening screening = ai::Screening::kNone;
  bool ok() const { return status == 0; }
};

// The REFER header that asks for a mode: `cold`, or `warm` with optional parameters hold=music|
// ringback|silence, briefing=agent|none and screening=none|dtmf|agent (case-insensitive).
inline constexpr const char* kTransferModeHeader = "X-Warmline-Transfer";

// `peer_trunk`: the trunk of the dialog the REFER came in (nullptr: a peer reached without one).
ReferCheck check_refer(const AgentConfig& agent, const Config& config, const TrunkConfig* peer_trunk,
                       const sip::Message& refer);

// One NOTIFY of the subscription.
struct ReferNotify {
  std::string event;               // "refer;id=<CSeq>"
  std::string subscription_state;  // "active;expires=60" or "terminated;reason=noresource"
  std::string body;                // message/sipfrag: "SIP/2.0 180 Ringing\r\n"
  bool final = false;
};

// The status line a failed transfer reports to its referrer: the target's own final status when there
// was one, else the one that says the same (busy 486, no answer 480, unreachable 404, ...).
std::string sipfrag_final(TransferResult result, int sip_status, std::string_view reason);

// Puts the NOTIFY's headers and body into `notify` (a request built in the referrer's dialog).
void fill_notify(sip::Message& notify, const ReferNotify& content);

class ReferNotifier {
 public:
  // Sends one NOTIFY in the referrer's dialog, and calls `answered` with its final status once it has
  // one (408/503 from the transaction layer count). False when the dialog is gone (nothing is sent).
  using Send = std::function<bool(const ReferNotify& notify, std::function<void(int status)> answered)>;

  ReferNotifier(uint32_t refer_cseq, bool subscription, Send send);

  void accepted();                       // 100 Trying
  void progress(int status);             // the new leg's first 18x (later ones are not repeated)
  void finished(TransferResult result, int sip_status, std::string_view reason);
  // Called once the final NOTIFY has been answered (or could not be sent, or there is no subscription).
  void on_done(std::function<void()> done);
  bool done() const { return done_; }

 private:
  void queue(ReferNotify notify);
  void send_next();
  void finish();

  uint32_t cseq_;
  bool subscription_;
  Send send_;
  std::deque<ReferNotify> pending_;
  bool in_flight_ = false;
  bool final_queued_ = false;
  bool ringing_sent_ = false;
  bool done_ = false;
  std::function<void()> on_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // a NOTIFY's answer after we are gone
};

}  // namespace warmline::server
