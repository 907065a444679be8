// One transfer of a call (DESIGN.md "Transfers": cold, warm or semi) over a chain of targets, driving
// the caller's leg and the call's mix plan through their interfaces. Each target is tried with one of
// two strategies:
//
//   REFER (the caller's trunk accepts_refer):
//      [wait until the agent's queued audio ("transferring you now") has played; audio the agent
//       sends meanwhile does not extend the wait beyond what was queued, plus any speech in synthesis]
//      -> REFER on the caller's dialog, ringback to the caller, refer_timeout armed
//      -> a 401/407 to it: one new REFER with the caller's trunk's credentials (Leg::answer_challenge),
//         whose CSeq the NOTIFYs then name; no credentials, or refused again: as any refusal
//      -> NOTIFY sipfrag progress matched by `Event: refer;id=<CSeq>` (ColdRefer decides)
//      -> final 2xx: completed (the call then ends: BYE, stop "transferred")
//      -> the REFER refused, or no final NOTIFY in time: with refer_fallback = "dial", a bridged dial
//         of the same target; else that failure.
//   bridged dial (the trunk does not accept REFER, or the fallback): BridgedDial calls the target on
//      leg b; answered: completed, and the call takes the leg (take_answered_leg) and bridges it.
//
//   semi: a bridged dial as above (ringback, then the target's early media), but the agent is handed
//      over as soon as the target rings (on_transfer_handed_over): it leaves then, and the call goes on.
//   refer_in: a bridged dial, asked for by a REFER that the bridged target sent us (call_refer.cpp).
//   warm (transfer_warm.cpp): always a bridged dial, the caller on hold (MixPlan::holding) from the
//      start; once the target answers, the WarmGate runs on the answered leg (the briefing spoken to the
//      target — or a consult: the agent's stream re-pointed to the target, MixPlan::consulting — then
//      the accept gate), and only its accept completes the attempt. A decline, the target hanging up
//      before the accept, or the agent's cancel end it with the caller back with the agent.
//   replaces (transfer_replaces.cpp): warm up to the accept; then, when the target was dialled through
//      the caller's own trunk and that trunk accepts_refer, a REFER on the caller's dialog whose
//      Refer-To carries Replaces naming leg b (RFC 3891, RFC 5589 §7): the PBX joins caller and target
//      and warmline leaves both dialogs. Refused, timed out, or another trunk: bridged as warm is.
//
// Anything but completed moves on to the next target while the chain policy says so.
//
// The listener (the call) hears progress and exactly one final outcome for the whole chain.
// Thread: the call's shard; every method asserts it. Timers hold a weak flag, so a late one for a
// finished transfer does nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <map>

#include "server/bridge/mix_plan.hpp"
#include "server/call_context.hpp"
#include "server/transfer/bridged_dial.hpp"
#include "server/cdr/call_record.hpp"
#include "server/targets.hpp"
#include "server/transfer/chain.hpp"
#include "server/transfer/cold_refer.hpp"
#include "server/transfer/warm_gate.hpp"

namespace warmline::server {

class Leg;

// RFC 3325: who the caller is as their network asserted it (the first P-Asserted-Identity value, a sip:
// or tel: URI), else their From user part: what a leg dialled for the call asserts (DialRequest).
std::string caller_identity(const Leg& caller);

class TransferListener {
 public:
  virtual ~TransferListener() = default;
  // Progress of the attempt under way (dialing, ringing).
  virtual void on_transfer_progress(const TransferUpdate& update) = 0;
  // The transfer is over: completed, or the last attempt's failure. Called once.
  virtual void on_transfer_finished(const TransferUpdate& update) = 0;
  // The agent still has audio queued or being synthesised that the caller should hear first.
  virtual bool agent_audio_pending() const = 0;
  // Speech of the agent's `say` still being synthesised (its length is not known yet).
  virtual bool agent_speech_pending() const = 0;
  // How long the agent audio queued now takes to play.
  virtual uint32_t agent_audio_queued_ms() const = 0;
  // A semi-attended transfer's target rings: the caller now hears it ring and the agent leaves (the
  // transfer goes on without it; `update` is the ringing progress).
  virtual void on_transfer_handed_over(const TransferUpdate& update) = 0;
  // A consult (warm, briefing "agent"): the target's audio for the agent, and the marks the agent set
  // in what it said to the target. The mix plan (MixPlan::consulting) says where the agent's audio goes.
  virtual void on_consult_audio(std::span<const int16_t> pcm) = 0;
  virtual void on_consult_mark(std::string_view name, ai::MarkEvent event) = 0;
};

struct TransferOptions {
  std::string id;
  TransferChain chain;
  const AgentConfig* agent = nullptr;
  const TrunkConfig* caller_trunk = nullptr;  // the trunk leg a came in on: it must accept REFER
  bool reports_to_agent = true;  // false for the default_forward after the agent was lost
  int ring_timeout_s = 0;         // the request's; 0 = the target's, else the agent's
  std::map<std::string, std::string> headers;  // extra SIP headers for a dialled leg
  std::vector<LegRecord>* leg_records = nullptr;  // where dialled legs' rows go (the call's record)
  std::shared_ptr<SipLadder> ladder;              // where dialled legs' SIP messages go (null: nowhere)
  // The request's mode (cold, warm, semi, replaces) and, for warm, what the target hears and what the caller hears.
  ai::TransferMode mode = ai::TransferMode::kCold;
  std::string briefing;
  ai::Screening screening = ai::Screening::kNone;
  ai::HoldAudio hold = ai::HoldAudio::kMusic;
  // refer_in only: run it warm (docs/sip.md "Warm transfers a SIP agent asks for"). The referrer takes
  // the agent's part: a consult joins `consult_with` (the referrer's media) with the answered target's
  // (Transfer::referrer_left once it has gone), and its `#` / `*` are the agent's accept / cancel.
  bool warm_refer_in = false;
  MediaSession* consult_with = nullptr;
};

// One step of a transfer as GET /v1/calls/{id} shows it: requested, then per attempt dialing / ringing
// / answered / consulting as they come, bridged when the caller was put through, and "ended" for each
// attempt that ended (its result; the last one is the transfer's).
struct TransferPhase {
  std::string phase;
  std::string target;  // the target's name ("" for requested)
  std::chrono::system_clock::time_point at;
  int sip_status = 0;
  std::string result;  // "ended" only
};
inline constexpr size_t kTransferPhasesCap = 32;  // a long chain keeps its first phases and its end

class Transfer final : public DialListener, public OutboundLegObserver {
 public:
  Transfer(CallContext& ctx, Leg& caller, Bridge& bridge, TransferListener& listener, TransferOptions options);
  ~Transfer() override;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Checks every target (a chain with a typo fails before anything is dialled) and starts the first.
  std::optional<TransferRefusal> start();

  // The agent's queued audio has played: a REFER that waited for it goes out.
  void on_agent_audio_done();
  // A NOTIFY in the caller's dialog: answered here (481 when it is not this REFER's).
  void on_notify(sip::ServerTransaction& tx, const sip::Message& notify);
  // The caller's side ended the dialog.
  void on_caller_bye();
  // We end the call ourselves (API, agent): reported as cancelled, whatever the REFER had reached.
  void cancel(std::string_view why);
  // The agent's transfer.accept / transfer.cancel (warm transfers). False when it does not apply now
  // (the agent gets an error); a cancel applies to a transfer at any stage.
  bool agent_accept();
  bool agent_cancel();
  // The agent's socket is gone: a gate that waited for the agent declines.
  void on_agent_lost();
  // A warm refer_in: the referrer hung up. Its consult ends, and the gate goes on as after an agent
  // lost (a consult counts as accepted; screening agent declines). Nothing for any other transfer.
  void referrer_left();
  bool warm_refer_in() const { return options_.warm_refer_in; }
  // The call is ending for another reason: timers stop, no more events.
  void abort();

  bool done() const { return done_; }
  bool waiting_for_playout() const { return waiting_playout_; }
  bool reports_to_agent() const { return options_.reports_to_agent; }
  const std::string& id() const { return options_.id; }
  ai::TransferMode mode() const { return options_.mode; }
  const ResolvedTarget& current() const { return current_; }
  const std::string& last_state() const { return last_state_; }
  int last_status() const { return last_status_; }
  std::optional<TransferResult> result() const { return result_; }
  // After a completed bridged dial: the answered target's leg, for the call to bridge and keep.
  std::unique_ptr<OutboundLeg> take_answered_leg() { return std::move(answered_leg_); }

  // DialListener
  void on_dial_progress(const TransferUpdate& update) override;
  void on_dial_early_media(OutboundLeg& leg) override;
  void on_dial_ended(const TransferUpdate& update) override;
  // The transfer's row of the call record (strategy refer): filled in as it goes, complete once done().
  const TransferRecord& record() const { return record_; }
  const std::vector<TransferPhase>& phases() const { return phases_; }

  // OutboundLegObserver: the answered target's leg while a warm transfer's gate runs.
  void on_target_progress(OutboundLeg&, int, bool) override {}
  void on_target_answered(OutboundLeg&) override {}
  void on_target_failed(OutboundLeg&, const OutboundFailure&) override {}
  void on_target_bye(OutboundLeg& leg) override;
  void on_target_dtmf(OutboundLeg& leg, char digit, uint32_t duration_ms) override;
  void on_target_audio_played(OutboundLeg& leg) override;
  void on_target_audio(OutboundLeg& leg, std::span<const int16_t> pcm) override;
  void on_target_mark(OutboundLeg& leg, std::string_view name, ai::MarkEvent event) override;

 private:
  std::optional<TransferRefusal> start_next();
  void begin_attempt();
  void send_refer();
  void send_refer_request(sip::Message refer);
  bool retry_refer(const sip::Message& challenge);
  void start_dial();
  bool refer_fallback(const TransferUpdate& update);
  void unbridge_early_media();
  void on_refer_response(const sip::Message& response);
  void apply(const std::optional<TransferUpdate>& update);
  void attempt_ended(const TransferUpdate& update);
  void progress(const TransferUpdate& update);
  void cancel_timer();
  void bound_playout_wait();
  // Replaces runs the warm flow up to the accept (transfer_replaces.cpp).
  bool warm() const {
    return options_.mode == ai::TransferMode::kWarm || replaces() || (refer_in() && options_.warm_refer_in);
  }
  bool replaces() const { return options_.mode == ai::TransferMode::kReplaces; }
  bool semi() const { return options_.mode == ai::TransferMode::kSemi; }
  // A REFER received asked for it (refer_in.hpp): always a bridged dial, never a REFER of the caller.
  bool refer_in() const { return options_.mode == ai::TransferMode::kReferIn; }
  MixPlan waiting_plan() const;           // what the caller hears while an attempt runs
  void start_gate();                      // warm: the target answered
  void act(const WarmGateAction& action);
  void speak_to_target(const std::string& text);
  void start_consult();                   // the agent talks with the answered target
  void end_consult();                     // the agent's stream back to the caller (held)
  void release_target(std::string_view why);  // BYE the answered leg of a gate that did not accept
  void accept_target();                   // the gate accepted: bridge, or (replaces) REFER with Replaces
  std::string replaces_refusal() const;   // why leg b cannot be handed to the caller's PBX; "" when it can
  void send_replaces_refer();
  void replaces_ended(const TransferUpdate& update);  // the REFER with Replaces is over
  void bridge_answered(std::string why);  // replaces: completed by our own bridge, `why` not by the PBX
  bool gate_running() const { return gate_ && gate_->deciding() && answered_leg_; }
  void assert_on_shard() const;

  CallContext& ctx_;
  Leg& caller_;
  Bridge& bridge_;
  TransferListener& listener_;
  TransferOptions options_;
  ResolvedTarget current_;
  ColdRefer refer_;
  bool waiting_playout_ = false;
  bool done_ = false;
  uint32_t refer_cseq_ = 0;          // of the REFER in force: the NOTIFYs' Event id (RFC 3515 §2.4.6)
  sip::Message refer_sent_;          // that REFER as sent, for the retry a digest challenge asks for
  int refer_challenges_ = 0;         // challenges answered for this target's REFER
  sip::TimerId timeout_ = sip::kNoTimer;
  std::string last_state_ = "dialing";
  int last_status_ = 0;
  std::optional<TransferResult> result_;
  TransferRecord record_;
  std::vector<TransferPhase> phases_;
  void add_phase(TransferPhase phase);
  TransferStrategy strategy_ = TransferStrategy::kRefer;  // of the attempt under way
  std::unique_ptr<BridgedDial> dial_;      // the bridged dial under way (or the last one)
  std::unique_ptr<BridgedDial> old_dial_;  // the one before: it may still be on the stack
  std::unique_ptr<OutboundLeg> answered_leg_;
  bool early_media_ = false;               // the caller hears the target's early media
  bool handed_over_ = false;               // semi: the agent has left
  std::optional<WarmGate> gate_;           // warm: the briefing and accept gate of the answered target
  bool consulting_ = false;                // the answered target is attached to the bridge for a consult
  std::unique_ptr<OutboundLeg> released_leg_;  // a declined target's leg: its BYE may be on the stack
  bool replacing_ = false;                 // replaces: our REFER with Replaces is out
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warmline::server
