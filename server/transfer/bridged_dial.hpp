// One bridged-dial attempt of a transfer (DESIGN.md "Transfers", "Reaching a target", "Caller ID"):
// warmline itself calls the target on leg b, and the call bridges caller and target once it answers.
//
//   start -> the caller ID the trunk allows (refused as `rejected` before anything is sent when there
//            is none) -> the next hop: the trunk's address, or the SIP URI's servers by RFC 3263
//         -> INVITE (leg b) with From = that number, P-Asserted-Identity = the caller, their Privacy
//         -> 18x: ringing (a 183 with SDP: the target's early media) -> 2xx: completed (no separate
//            "answered" progress), the leg is handed to the listener, which bridges it
//         -> a 503, or nothing at all from one server within kSilentServer: the next server of the
//            RFC 3263 list (a leg given up that answers late is ACKed and ended)
//         -> the ring timeout: CANCEL, `no_answer`; busy, declined, ...: the target's own answer.
//
// The listener hears progress and exactly one end. Thread: the call's shard; timers and DNS answers
// hold a weak flag, so a late one for a finished attempt does nothing.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "server/call_context.hpp"
#include "server/leg/outbound_leg.hpp"
#include "server/targets.hpp"
#include "server/transfer/cold_refer.hpp"
#include "sip/resolve/resolver.hpp"
#include "sip/resolve/target_list.hpp"

namespace warmline::server {

class DialListener {
 public:
  virtual ~DialListener() = default;
  // "ringing" (the first 18x) progress of the attempt.
  virtual void on_dial_progress(const TransferUpdate& update) = 0;
  // A 183 with SDP: the target's early media plays on the leg's media; the caller may hear it now.
  virtual void on_dial_early_media(OutboundLeg& leg) = 0;
  // The attempt is over: kCompleted (take_leg() hands over the answered leg), or why not. Once.
  virtual void on_dial_ended(const TransferUpdate& update) = 0;
};

struct DialRequest {
  ResolvedTarget target;
  std::chrono::milliseconds ring_timeout{std::chrono::seconds(30)};
  std::string caller_user;   // the original caller's number (their From user part): P-Asserted-Identity
  std::string privacy;       // the caller's Privacy header, passed on ("" = none)
  std::string first_codec;   // the caller's codec, offered first
  std::map<std::string, std::string> headers;  // the transfer request's extra headers
  std::vector<LegRecord>* leg_records = nullptr;  // each dialled leg's row, for the call's record
  std::shared_ptr<SipLadder> ladder;              // the call's SIP ladder (null: none)
  uint32_t agent_rate = 8000;  // the agent's PCM rate: speech played to the target is rendered at it
  std::string trace_correlation;  // the caller's SIP Call-ID, for the SIP trace (OutboundLegOptions)
};

class BridgedDial final : public OutboundLegObserver {
 public:
  // A server that has not even sent 100 Trying by then is taken as down (RFC 3263 §4.3: a timeout
  // moves on), long before Timer B's 32 s.
  static constexpr std::chrono::seconds kSilentServer{4};

  BridgedDial(CallContext& ctx, DialListener& listener, DialRequest request);
  ~BridgedDial() override;
  BridgedDial(const BridgedDial&) = delete;
  BridgedDial& operator=(const BridgedDial&) = delete;

  // Starts the attempt. A refusal before anything is sent (no caller ID, no trunk address) ends it at
  // once through on_dial_ended; start() itself never reports.
  void start();
  // The call ends or the transfer is cancelled: CANCEL/BYE leg b; ends with `result`. No-op once ended.
  void stop(TransferResult result, std::string reason);
  // After a kCompleted end: the answered leg (the caller becomes its observer).
  std::unique_ptr<OutboundLeg> take_leg() { return std::move(leg_); }
  bool done() const { return done_; }
  std::string_view strategy_note() const { return note_; }

  // OutboundLegObserver
  void on_target_progress(OutboundLeg& leg, int status, bool early_media) override;
  void on_target_answered(OutboundLeg& leg) override;
  void on_target_failed(OutboundLeg& leg, const OutboundFailure& failure) override;
  void on_target_bye(OutboundLeg& leg) override;

 private:
  void resolve(const sip::ResolveRequest& where);
  void dial_current();
  void end(TransferResult result, int status, std::string reason);
  void cancel_timer();
  void on_ring_timeout();
  void on_server_silent();
  void abandon_leg();
  void assert_on_shard() const;

  CallContext& ctx_;
  DialListener& listener_;
  DialRequest request_;
  OutboundLegOptions leg_options_;
  sip::TargetList servers_;
  std::string target_host_;  // the host resolved (a trunk's address or the URI's): a TLS peer's certificate names it
  std::unique_ptr<OutboundLeg> leg_;
  std::unique_ptr<OutboundLeg> failed_leg_;  // the one that just failed: kept to its callback's end
  sip::TimerId ring_timer_ = sip::kNoTimer;
  sip::TimerId silence_timer_ = sip::kNoTimer;  // no response at all from the server being tried
  bool ring_timed_out_ = false;
  bool ringing_ = false;
  bool done_ = false;
  std::string note_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The user part warmline puts in the Request-URI for `e164` through `trunk`: number_format (e164 or
// no_plus) and tech_prefix applied.
std::string dial_string(const TrunkConfig& trunk, std::string_view e164);

}  // namespace warmline::server
