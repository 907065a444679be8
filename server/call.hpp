// One call as the caller lives it (DESIGN.md "Words"): a thin router between the caller's leg (leg a:
// its dialog and media), the call's mix plan (bridge), the agent channel and at most one transfer at a
// time. The pieces know nothing of each other; the call wires their events together.
//
// Lifecycle (one enum, no scattered flags):
//   kRinging  — INVITE taken, 180/183 out while the agent's socket connects
//   kAnswered — 200 OK out once the agent is there (or failed: the caller then hears the fallback
//               instead of dead air), ACK not yet in
//   kActive   — ACKed; talking, transferring
//   kBridged  — a bridged dial was answered: caller and target (leg b) hear each other, the agent has
//               left (stop "transferred") unless it stays for a three-way or listens in; either
//               side's BYE ends the other
//   kEnded    — BYE either way, CANCEL, a completed transfer, or a failure. The object lives on until
//               the agent's socket has flushed the stop and closed.
//
// Thread: a Call lives on one shard and every public method asserts it. Objects that call back into it
// (timers, client transactions, the agent socket) hold weak references, so a late event for an ended
// call is dropped instead of touching freed memory.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/agent/agent_channel.hpp"
#include "server/bridge/agent_mix.hpp"
#include "server/bridge/mix_plan.hpp"
#include "server/call_context.hpp"
#include "server/call_script.hpp"
#include "server/cdr/call_record.hpp"
#include "server/leg/leg.hpp"
#include "server/recording/call_recorder.hpp"
#include "server/sip_ladder.hpp"
#include "server/transfer/refer_in.hpp"
#include "server/transfer/transfer.hpp"
#include "server/webhook/webhook_event.hpp"

namespace warmline::server {

enum class CallState { kRinging, kAnswered, kActive, kBridged, kEnded };
std::string_view to_string(CallState state);

// A snapshot for the HTTP API (GET /v1/calls), taken on the call's shard.
struct TransferSnapshot {
  std::string id, target, state;
  std::string result;  // "" until it ended
  int sip_status = 0;
  std::string mode;    // cold, warm, semi
  std::chrono::system_clock::time_point requested_at;
  std::optional<std::chrono::system_clock::time_point> answered_at, bridged_at;
  std::vector<TransferPhase> phases;  // requested, dialing, ringing, ..., ended (transfer.hpp)
};
struct CallSnapshot {
  std::string id, from, to, agent, state;
  std::chrono::system_clock::time_point started_at;
  std::optional<TransferSnapshot> transfer;
  std::string recording;  // the recording's file ("" = none)
  bool recording_active = false;  // audio is going into it now
};

// Starting or stopping a call's recording (the HTTP API; an agent with `record` starts it itself).
enum class RecordingResult {
  kStarted,
  kStopped,
  kAlready,       // start: this call has a recording already (one file per call)
  kNotRecording,  // stop: nothing is being recorded
  kUnavailable,   // this node records nothing (no writer)
};

// The agent's (or the HTTP API's) control of a running transfer: transfer.accept, .cancel, .complete.
enum class TransferControl { kAccept, kCancel, kComplete };
enum class TransferControlResult {
  kApplied,
  kNoTransfer,  // no transfer with that id (or none at all) is running
  kNotNow,      // it is running, but this does not apply now (not waiting for an accept, ...)
};

// Result of asking a call to transfer (from the agent or the HTTP API).
struct TransferStart {
  std::string id;                          // the transfer's id
  std::optional<TransferRefusal> refusal;  // set when nothing was started
  bool ok() const { return !refusal; }
};

class Call final : public std::enable_shared_from_this<Call>,
                   private LegObserver,
                   private TransferListener,
                   private OutboundLegObserver,
                   private DialListener {
 public:
  Call(CallContext& ctx, const AgentConfig& agent, std::string id);
  ~Call() override;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  const std::string& id() const { return id_; }
  CallState state() const { return state_; }
  CallSnapshot snapshot() const;
  const Leg* caller_leg() const { return caller_.get(); }
  // Every SIP message of the call's legs (GET /v1/calls/{id}/ladder, sip_ladder.hpp).
  const SipLadder& ladder() const { return *ladder_; }

  // A new INVITE from `trunk`: takes its offer (or prepares ours), opens media, rings and connects the
  // agent. 0, or the SIP status to reject the INVITE with (`reason` set); the call is then discarded.
  int start(sip::ServerTransaction tx, const sip::Message& invite, const TrunkConfig* trunk,
            const sip::LocalMediaCaps& caps, std::string& reason);

  // --- control, from the agent or the HTTP API -------------------------------------------------
  TransferStart request_transfer(ai::TransferRequest request);
  // `id` empty: the transfer running now. `why` says what did not apply (for the error's message).
  TransferControlResult control_transfer(std::string_view id, TransferControl what, std::string& why);
  // Sends BYE (or 480 while ringing) and ends the call; `reason` is the stop reason the agent receives.
  void hangup(std::string_view reason);
  // Runs `steps` in order (call_script.hpp), replacing a script still running. Refused as a whole —
  // nothing runs — when the call cannot take it now (not answered, bridged, a transfer running), TTS is
  // missing for a say, or a transfer's target, caller ID or REFER does not fit (call_script.cpp).
  std::optional<TransferRefusal> run_script(std::vector<ScriptStep> steps);
  const AgentConfig& agent() const { return agent_config_; }
  // call_recording.cpp — one stereo WAV per call (docs/recording.md): the caller left, what the caller
  // hears right (the agent, then a transfer target), across transfers until the call ends.
  RecordingResult start_recording();
  RecordingResult stop_recording();
  const std::string& recording_path() const { return recording_path_; }

 private:
  // LegObserver
  void on_leg_confirmed(Leg& leg) override;
  void on_leg_bye(Leg& leg) override;
  void on_leg_cancelled(Leg& leg) override;
  void on_leg_failed(Leg& leg, std::string_view why) override;
  void on_leg_dtmf(Leg& leg, char digit, uint32_t duration_ms) override;
  void on_leg_notify(Leg& leg, sip::ServerTransaction& tx, const sip::Message& notify) override;
  void on_leg_audio(Leg& leg, std::span<const int16_t> pcm) override;
  void on_leg_payload(Leg& leg, std::span<const uint8_t> payload) override;
  void on_leg_mark(Leg& leg, std::string_view name, ai::MarkEvent event) override;
  void on_leg_playout_drained(Leg& leg) override;
  void on_leg_playout_overflow(Leg& leg, uint64_t dropped_total) override;
  void on_leg_closed(Leg& leg) override;
  void on_leg_refer(Leg& leg, sip::ServerTransaction& tx, const sip::Message& refer) override;  // call_caller_refer.cpp

  // TransferListener
  void on_transfer_progress(const TransferUpdate& update) override;
  void on_transfer_finished(const TransferUpdate& update) override;
  bool agent_audio_pending() const override;
  void on_transfer_handed_over(const TransferUpdate& update) override;
  void on_consult_audio(std::span<const int16_t> pcm) override;
  void on_consult_mark(std::string_view name, ai::MarkEvent event) override;
  void transfer_command(const std::string& id, TransferControl what);
  bool agent_speech_pending() const override { return pending_speech_ > 0; }
  uint32_t agent_audio_queued_ms() const override;

  // OutboundLegObserver: the target's leg once bridged (call_bridge.cpp)
  void on_target_progress(OutboundLeg& leg, int status, bool early_media) override;
  void on_target_answered(OutboundLeg& leg) override;
  void on_target_failed(OutboundLeg& leg, const OutboundFailure& failure) override;
  void on_target_bye(OutboundLeg& leg) override;
  void on_target_audio(OutboundLeg& leg, std::span<const int16_t> pcm) override;
  void on_target_dtmf(OutboundLeg& leg, char digit, uint32_t duration_ms) override;  // call_refer.cpp
  void on_target_mark(OutboundLeg& leg, std::string_view name, ai::MarkEvent event) override;
  void on_target_audio_played(OutboundLeg& leg) override;
  void on_target_refer(OutboundLeg& leg, sip::ServerTransaction& tx, const sip::Message& refer) override;
  void bridge_target(std::unique_ptr<OutboundLeg> leg, const TransferUpdate& update);
  void complete_introduce();
  void after_bridge();  // the agent leaves, or listens
  void send_bridged(int channels);
  void agent_hears_both(AgentMix::Layout layout);

  // call_refer.cpp — a REFER from the bridged target (warmline as the transferee)
  bool refer_in() const { return transfer_ && transfer_->record().mode == ai::TransferMode::kReferIn; }
  void start_refer_in(const ReferCheck& check, uint32_t refer_cseq);
  void refer_in_finished(const TransferUpdate& update);
  void referrer_left();
  void release_referrer();

  // call_caller_refer.cpp — a REFER on the caller's own dialog (warmline as the transferee): the new
  // party is dialled while the agent still talks to the caller; once it answers, the agent talks to it
  // (target_, plan referred) and the caller's side gets the final NOTIFY, then our BYE. Its dial
  // reports through this call's DialListener, like a SIP agent's (a call has one or the other).
  void caller_refer_progress(const TransferUpdate& update);
  void caller_refer_ended(const TransferUpdate& update);
  void report_caller_refer(ai::TransferState state, const TransferUpdate& update);
  // A step of it: in its phases, for the API's snapshot and the transfer.updated webhook.
  void caller_refer_step(std::string_view state, const TransferUpdate& update);
  bool caller_refer_running() const;
  // The agent talks to the party the caller's REFER reached, not to the caller.
  bool caller_replaced() const { return caller_replaced_; }
  void release_caller();

  // call_sip_agent.cpp — an agent reached over SIP (docs/sip.md "SIP agents"): dialled as a leg,
  // bridged to the caller once it answers; its REFERs go through call_refer.cpp like any leg b's.
  void dial_sip_agent();
  void on_dial_progress(const TransferUpdate& update) override;
  void on_dial_early_media(OutboundLeg& leg) override;
  void on_dial_ended(const TransferUpdate& update) override;

  // call.cpp
  void answer();
  void after_failed_transfer();
  void finish(std::string_view stop_reason);
  void maybe_release();
  void after_agent_audio();
  // A transfer (or a caller's REFER) ended with `result`: the metrics of transfer outcomes and set-up.
  void count_transfer_end(const TransferRecord& record, TransferResult result);
  bool transfer_running() const { return transfer_ && !transfer_->done(); }
  void report_transfer(const TransferUpdate& update);
  void assert_on_shard() const;

  // call_script.cpp
  std::optional<TransferRefusal> check_script(const std::vector<ScriptStep>& steps) const;

  // call_record.cpp — the call's record, handed to ctx_.records once, when the call ends
  void send_record(std::string_view end_reason);
  // call_webhooks.cpp — one webhook event (docs/webhooks.md) to ctx_.webhooks, when it wants the type;
  // `record`: call.ended's. The snapshot without the shard assertion: also from the destructor.
  void emit_webhook(WebhookEventType type, const CallRecord* record = nullptr);
  CallSnapshot make_snapshot() const;

  // call_agent.cpp — the agent channel's events and commands
  void connect_agent();
  void on_agent_open();
  void on_agent_audio(std::span<const uint8_t> pcm);
  void on_agent_samples(std::span<const int16_t> pcm);
  void on_agent_command(ai::Command&& command);
  void on_agent_closed(const ai::CloseReason& reason);
  void agent_lost(std::string_view why);
  void play_fallback_and_hang_up();
  void say(const std::string& text);
  void handle(ai::TransferRequest&& request);
  bool agent_connected() const { return agent_ && agent_->open(); }
  // What the agent's audio and its clear/mark/say/dtmf go to: the caller, or the target it consults.
  MediaSession& agent_party() const;
  template <class Samples>
  void play_agent(Samples pcm);

  // What happens once the agent's queued audio has played (a "goodbye" before the BYE).
  enum class AfterPlayout { kNothing, kHangUp, kFallbackThenHangUp };

  CallContext& ctx_;
  const AgentConfig& agent_config_;
  const TrunkConfig* trunk_ = nullptr;  // the trunk the call came in on
  std::string id_;
  CallState state_ = CallState::kRinging;
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  std::string from_, to_;
  std::vector<std::pair<std::string, std::string>> x_headers_;

  std::shared_ptr<SipLadder> ladder_ = std::make_shared<SipLadder>();  // the legs' SIP messages
  std::vector<LegRecord> leg_b_records_;  // rows of the legs this call dialled (before the legs: they write here)
  // The recording (call_recording.cpp): before caller_, whose media points at it, so that it goes after.
  std::unique_ptr<CallRecorder> recorder_;
  std::string recording_path_;  // the file, once started (kept after a stop: the call record names it)
  std::unique_ptr<Leg> caller_;
  std::unique_ptr<BridgedDial> agent_dial_;  // a SIP agent's leg being dialled (call_sip_agent.cpp)
  std::unique_ptr<OutboundLeg> target_;  // leg b, once a bridged dial was answered (or the SIP agent's leg)
  // The bridged leg b that REFERred the caller elsewhere: it hears the NOTIFYs, gets the caller back
  // if the transfer fails, and our BYE once the final NOTIFY is answered (call_refer.cpp).
  std::unique_ptr<OutboundLeg> referrer_;
  std::unique_ptr<ReferNotifier> refer_notifier_;
  // A REFER on the caller's dialog (call_caller_refer.cpp): its dial, its NOTIFYs to the caller's side,
  // what it asked for, and whether its party has answered and taken the caller's place.
  std::unique_ptr<BridgedDial> caller_refer_dial_;
  std::unique_ptr<ReferNotifier> caller_notifier_;
  TransferRecord caller_refer_record_;  // the running one's (id, target, times), for the call's record
  // Its steps, for GET /v1/calls and transfer.updated (the last one is its state and status now).
  std::vector<TransferPhase> caller_refer_phases_;
  uint64_t caller_refer_seq_ = 0;
  bool caller_replaced_ = false;
  Bridge bridge_;
  std::unique_ptr<AgentChannel> agent_;
  std::unique_ptr<Transfer> transfer_;  // the current or last transfer
  std::unique_ptr<Transfer> retired_transfer_;  // the one before: it may still be on the stack
  uint64_t transfer_seq_ = 0;
  bool agent_left_ = false;  // a semi-attended transfer handed the caller over: the agent has gone
  // The running transfer's request: an introduce three-way after its accept, the agent listening on.
  bool introduce_ = false;
  ai::AfterBridge after_bridge_ = ai::AfterBridge::kLeave;
  // Bridged, with the agent still there: in the three-way (until transfer.complete) or listening.
  enum class AgentAfterBridge { kGone, kThreeWay, kListening };
  AgentAfterBridge agent_after_bridge_ = AgentAfterBridge::kGone;
  std::optional<AgentMix> agent_mix_;  // both parties for the agent (three-way, listening)
  std::optional<TransferUpdate> completion_;  // the bridged transfer's `completed`, told once the agent is done
  AfterPlayout after_playout_ = AfterPlayout::kNothing;
  int pending_speech_ = 0;  // say requests still being synthesised: their audio is still to come
  bool released_ = false;  // on_call_released has been called
  bool recorded_ = false;  // the call's record went to ctx_.records (or records are off)
  std::vector<TransferRecord> transfer_records_;  // every transfer that ended, in order
  uint64_t overflow_counted_ = 0;  // agent samples dropped so far (counted into the metric)
  std::shared_ptr<CallScript> script_;  // the last script from the HTTP API (run_script)
  uint64_t webhook_sequence_ = 0;  // the last webhook event's sequence number (per call, from 1)
};

}  // namespace warmline::server
