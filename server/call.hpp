// One call as the caller lives it (DESIGN.md "Words"): the caller's leg (its SIP dialog and media), the
// agent's WebSocket, and at most one transfer at a time.
//
// Lifecycle: INVITE -> 180 Ringing while the agent's WebSocket connects -> 200 OK with the SDP answer
// once it is open (or once it failed: then the caller hears the fallback instead of dead air) -> ACK ->
// active -> BYE from either side, CANCEL before the answer, or a completed transfer -> ended.
//
// Thread: a Call lives on one shard and every method runs on that shard's thread (asserted). Objects
// that call back into it (timers, client transactions, the agent socket) hold a weak_ptr, so a late
// event for an ended call is dropped instead of touching freed memory.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ai_bridge/native_protocol.hpp"
#include "ai_bridge/ws_client.hpp"
#include "server/call_context.hpp"
#include "server/call_media.hpp"
#include "server/refer_progress.hpp"
#include "server/targets.hpp"
#include "sip/dialog.hpp"
#include "sip/sdp.hpp"
#include "sip/transaction_layer.hpp"

namespace warmline::server {

enum class CallState { kRinging, kAnswered, kActive, kEnded };
std::string_view to_string(CallState state);

// A snapshot for the HTTP API (GET /v1/calls), taken on the call's shard.
struct TransferSnapshot {
  std::string id, target, state;
  std::string result;  // "" until it ended
  int sip_status = 0;
};
struct CallSnapshot {
  std::string id, from, to, agent, state;
  std::chrono::system_clock::time_point started_at;
  std::optional<TransferSnapshot> transfer;
};

// Result of asking a call to transfer (from the agent or the HTTP API).
struct TransferStart {
  bool ok = false;
  std::string id;       // the transfer's id
  std::string code;     // error: unknown_target | transfer_in_progress | not_supported | not_active ...
  std::string message;
};

class Call : public std::enable_shared_from_this<Call> {
 public:
  Call(CallContext& ctx, const AgentConfig& agent, std::string id);
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  const std::string& id() const { return id_; }
  const std::string& sip_call_id() const { return dialog_.call_id; }
  CallState state() const { return state_; }
  CallSnapshot snapshot() const;

  // --- SIP, fed by the shard's SipRouter ---------------------------------------------------------
  // A new INVITE whose offer was answered: opens media, connects the agent, rings. Returns the SIP
  // status to reject with instead (500 when no RTP port is free), or 0.
  int start(sip::ServerTransaction tx, const sip::Message& invite, const sip::AnswerResult& answer,
            const sip::LocalMediaCaps& caps, const TrunkConfig* trunk);
  void on_ack(const sip::Message& ack);
  void on_cancel(sip::ServerTransaction& invite_tx);
  void on_request(sip::ServerTransaction& tx, const sip::Message& request);  // in-dialog, not ACK
  void on_ack_timeout();

  // --- control, from the agent or the HTTP API -------------------------------------------------
  TransferStart request_transfer(ai::TransferRequest request);
  // Sends BYE and ends the call; `reason` is the stop reason the agent receives.
  void hangup(std::string_view reason);

 private:

  // call.cpp — SIP side
  void send_provisional();
  void answer();
  void start_media();
  sip::Message response_with_answer(const sip::Message& invite, int status, std::string_view reason) const;
  void on_bye(sip::ServerTransaction& tx);
  void on_reinvite(sip::ServerTransaction& tx, const sip::Message& request);
  void on_notify(sip::ServerTransaction& tx, const sip::Message& request);
  void send_bye();
  void finish(std::string_view stop_reason);
  std::weak_ptr<Call> weak() { return weak_from_this(); }

  // call_agent.cpp — the agent's WebSocket
  void connect_agent();
  void on_agent_open();
  void on_agent_text(std::string_view text);
  void on_agent_closed(const ai::CloseReason& reason);
  void on_caller_dtmf(char digit, uint32_t duration_ms);
  void send_to_agent(std::string text);
  void agent_lost(std::string_view why);
  void play_fallback_and_hang_up();
  void say(const std::string& text);
  // Agent audio (queued or still being synthesised) has all been played: a REFER or hang-up that
  // waited for "transferring you now" / "goodbye" goes ahead.
  void after_agent_audio();
  bool agent_audio_pending() const { return pending_speech_ > 0 || !media_->playout_empty(); }
  void handle(ai::TransferRequest&& request);

  // call_transfer.cpp — cold transfer by REFER (RFC 3515)
  struct Transfer {
    std::string id;
    std::vector<std::string> targets;
    size_t next_target = 0;
    ResolvedTarget current;
    ReferProgress progress;
    bool waiting_playout = false;
    bool reports_to_agent = true;   // false for the default_forward after the agent was lost
    uint32_t refer_cseq = 0;
    sip::TimerId timeout = sip::kNoTimer;
    int last_status = 0;
    std::string last_state = "dialing";
    std::string result;  // set when it ended
  };
  std::optional<TargetError> start_next_target();
  void send_refer();
  void on_refer_response(const sip::Message& response);
  void apply(const std::optional<TransferUpdate>& update);
  void transfer_ended(const TransferUpdate& update);
  void report_transfer(const TransferUpdate& update);

  CallContext& ctx_;
  const AgentConfig& agent_;
  const TrunkConfig* trunk_ = nullptr;  // the trunk the call came in on
  std::string id_;
  CallState state_ = CallState::kRinging;
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  std::string from_, to_;
  std::vector<std::pair<std::string, std::string>> x_headers_;

  sip::Dialog dialog_;
  sip::ServerTransaction invite_tx_;
  uint32_t invite_cseq_ = 0;
  sip::LocalMediaCaps caps_;
  std::string answer_sdp_;
  boost::asio::ip::udp::endpoint sdp_remote_;  // the caller's RTP address from its latest SDP
  std::unique_ptr<CallMedia> media_;
  bool media_started_ = false;

  std::unique_ptr<ai::AgentConnection> agent_conn_;
  ai::CommandDecoder decoder_;
  bool agent_open_ = false;
  bool agent_gone_ = false;
  bool hang_up_when_drained_ = false;
  bool remote_bye_ = false;  // the caller's side ended the dialog: no BYE of ours
  int pending_speech_ = 0;  // say requests still being synthesised: their audio is still to come

  std::optional<Transfer> transfer_;
  uint64_t transfer_seq_ = 0;
};

}  // namespace warmline::server
