// Leg b: a call warmline places to a transfer target (DESIGN.md "Reaching a target", "Caller ID"): the
// UAC INVITE session (sip/usage/invite_client_session) plus the leg's own media session.
//
// The leg offers the configured codecs that share the PCM rate of the caller's codec, the caller's own
// codec first, so that the common answer lets the bridge relay packets without decoding. It answers a
// digest challenge (401/407) once with the trunk's credentials (a new INVITE in the same
// Call-ID with the next CSeq, RFC 3261 §22.2; a challenge to its BYE likewise, in the session), takes
// early media from a 183 with SDP, and reports what happened to its observer. Ring timeouts and chains
// belong to the transfer that owns the leg.
//
// Thread: the call's shard.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/call_context.hpp"
#include "server/cdr/call_record.hpp"
#include "server/config.hpp"
#include "server/leg/leg_media.hpp"
#include "server/leg/sdp_remote.hpp"
#include "server/sip_ladder.hpp"
#include "sip/auth/digest_client.hpp"
#include "sip/sdp.hpp"
#include "sip/session_timer.hpp"
#include "sip/usage/invite_client_session.hpp"

namespace warmline::server {

class OutboundLeg;

struct OutboundFailure {
  int status = 0;           // the final SIP status (487 after our cancel, 408 for Timer B), 0: none
  std::string reason;       // the reason phrase, or what went wrong here
  bool local = false;       // no final came from the network (timeout, transport error, bad answer)
  bool cancelled = false;   // cancel() or hang_up() came first
  bool auth_failed = false; // a 401/407 that our credentials could not satisfy (or none configured)
};

class OutboundLegObserver {
 public:
  virtual ~OutboundLegObserver() = default;
  // 18x. `early_media`: the leg's media now carries the target's early audio (a 183 with SDP).
  virtual void on_target_progress(OutboundLeg& leg, int status, bool early_media) = 0;
  virtual void on_target_answered(OutboundLeg& leg) = 0;
  // The INVITE ended without a call. The leg is finished; the observer may destroy it.
  virtual void on_target_failed(OutboundLeg& leg, const OutboundFailure& failure) = 0;
  // The answered target hung up (its BYE is answered). The observer may destroy the leg.
  virtual void on_target_bye(OutboundLeg& leg) = 0;
  // A key the target pressed (RFC 4733 on leg b's media): a warm transfer's DTMF screening.
  virtual void on_target_dtmf(OutboundLeg&, char /*digit*/, uint32_t /*duration_ms*/) {}
  // What was queued to play to the target (a warm transfer's briefing or prompt) has played.
  virtual void on_target_audio_played(OutboundLeg&) {}
  // The target's audio at the agent's rate, while the mix plan sends it to the agent (a consult, a
  // three-way, an agent listening in: MediaSession::set_tap).
  virtual void on_target_audio(OutboundLeg&, std::span<const int16_t> /*pcm*/) {}
  // A mark the agent set in what it says to the target (a consult) has played or was cleared.
  virtual void on_target_mark(OutboundLeg&, std::string_view /*name*/, ai::MarkEvent /*event*/) {}
  // A REFER from the answered target (its source and dialog checked): answer it with leg.answer().
  // Default: 403 (only the call that bridged the leg acts on one, server/call_refer.cpp).
  virtual void on_target_refer(OutboundLeg& leg, sip::ServerTransaction& tx, const sip::Message& refer);
};

struct OutboundLegOptions {
  sip::Uri request_uri;                   // sip:<number>@<trunk> or the target's SIP URI
  sip::NameAddr from;                     // our identity: the caller ID number at our host
  sip::NameAddr to;
  sip::Endpoint next_hop;                 // resolved: the trunk's address or the URI's server
  const TrunkConfig* trunk = nullptr;     // dialled through (its CIDRs also may send in-dialog requests)
  std::vector<sip::Header> extra_headers; // P-Asserted-Identity, Privacy
  std::optional<sip::auth::DigestCredentials> credentials;
  // Where the leg's row goes once it has ended (DESIGN.md "Records": a transfer shows as two legs);
  // owned by the call, which outlives its legs. Null: not recorded.
  std::vector<LegRecord>* records = nullptr;
  // The call's SIP ladder: the leg's messages are followed there as the next "b<n>" (null: not shown).
  std::shared_ptr<SipLadder> ladder;
  std::string first_codec;                // the caller's codec: offered first (relay without decoding)
  // The rate of the agent side of the leg's media: what is played to the target (a warm transfer's
  // briefing, rendered at the agent's rate) and, for consults, what the agent would hear.
  uint32_t agent_rate = 8000;
  // The caller's SIP Call-ID: the correlation id of this leg's messages in the SIP trace
  // (hep_tracer.hpp). "" = the leg's own.
  std::string trace_correlation;
};

class OutboundLeg final : public sip::InviteClientObserver {
 public:
  // Opens the media session and sends the INVITE. nullptr with `error` set when no media could be
  // opened (no RTP port, no usable codec); nothing was sent then.
  static std::unique_ptr<OutboundLeg> dial(CallContext& ctx, OutboundLegObserver& observer,
                                           OutboundLegOptions options, std::string& error);
  ~OutboundLeg() override;
  OutboundLeg(const OutboundLeg&) = delete;
  OutboundLeg& operator=(const OutboundLeg&) = delete;

  // CANCEL while it rings (or as soon as it does, §9.1); the failure (487) is reported.
  void cancel();
  // BYE when answered, CANCEL while ringing. No callback afterwards.
  void hang_up();

  // The answered leg changes hands: the call that bridges it hears its BYE from now on.
  void set_observer(OutboundLegObserver& observer) { observer_ = &observer; }
  bool answered() const { return answered_; }
  bool ended() const { return done_; }  // failed, hung up or ended by the far end
  // Anything came back for our INVITE (a 100 Trying counts).
  bool responded() const {
    return session_ && session_->state() != sip::InviteClientSession::State::kCalling &&
           session_->state() != sip::InviteClientSession::State::kIdle;
  }
  bool early_media() const { return early_media_; }
  MediaSession& media() { return *media_; }
  const std::string& codec_name() const { return codec_.name; }
  const sip::Message& invite() const { return session_->invite(); }
  const std::string& call_id() const { return call_id_; }
  const TrunkConfig* trunk() const { return options_.trunk; }
  // The answered leg's dialog (its Call-ID, tags and the target's Contact); nullptr before the answer.
  const sip::Dialog* dialog() const { return session_ ? session_->dialog() : nullptr; }

  // In the answered leg's dialog: our answer to one of its requests, and a request of ours (a NOTIFY
  // for the REFER it sent). send_request: false when there is no dialog (nothing was sent).
  void answer(sip::ServerTransaction& tx, const sip::Message& request, int status, std::string_view reason,
              const std::vector<sip::Header>& extra_headers = {});
  std::optional<sip::Message> new_request(std::string_view method);
  bool send_request(sip::Message request, sip::ResponseHandler handler);

  // sip::InviteClientObserver
  void on_progress(sip::InviteClientSession& s, const sip::InviteProgress& progress) override;
  void on_answered(sip::InviteClientSession& s, const sip::Message& response, std::string_view sdp) override;
  void on_failed(sip::InviteClientSession& s, const sip::InviteFailure& failure) override;
  void on_bye(sip::InviteClientSession& s, const sip::Message& bye) override;
  std::optional<std::string> on_offer(sip::InviteClientSession& s, const sip::Message& request) override;
  void on_terminated(sip::InviteClientSession& s, sip::InviteEnd end) override;
  void on_refer(sip::InviteClientSession& s, sip::ServerTransaction& tx, const sip::Message& refer) override;
  // A DTMF digit in an INFO (RFC 6086), told to the observer like an RFC 4733 one.
  void on_dtmf(sip::InviteClientSession& s, char digit, uint32_t duration_ms) override;
  void on_session_refresh(sip::InviteClientSession& s, const sip::Message& request, sip::Message& ok) override;

  // The RFC 4028 session timer the dialog runs (outbound_leg_timer.cpp); nullopt: none.
  std::optional<sip::SessionTimerTerms> session_timer() const;

 private:
  OutboundLeg(CallContext& ctx, OutboundLegObserver& observer, OutboundLegOptions options);
  bool open_media(std::string& error);
  bool start_session(uint32_t cseq, std::optional<sip::auth::AuthorizationHeader> auth);
  bool take_answer(std::string_view sdp);  // the target's answer to our offer: codec, address
  // The answer to our refreshing re-INVITE's unchanged offer (local_sdp_): a new address or SRTP key
  // of the target is taken; the same keys keep the running SRTP contexts (and their rollover counts).
  bool take_refresh_answer(std::string_view sdp);
  // The media follows the address an SDP names, when it differs from the last one.
  void follow_remote(const std::string& address, uint16_t port);
  bool retry_with_credentials(const sip::InviteFailure& failure);
  // RFC 4028 (outbound_leg_timer.cpp): what our INVITE asks for, the 422 retry, the 2xx's terms, our
  // refreshes (UPDATE) and the BYE when the session expires.
  std::unique_ptr<sip::SessionTimer> make_session_timer();
  void add_session_timer_request(sip::InviteClientOptions& o) const;
  bool retry_with_min_se(const sip::InviteFailure& failure);
  void start_session_timer(const sip::Message& response);
  void arm_session_timer();
  void send_session_refresh(std::optional<sip::auth::AuthorizationHeader> auth, int challenges);
  void on_refresh_response(const sip::Message& sent, const sip::Message& response, int challenges);
  void on_session_expired();
  void start_media();
  void stop_media();  // off the media clock, socket closed; idempotent
  bool from_peer(const sip::Endpoint& source) const;
  void assert_on_shard() const;

  CallContext& ctx_;
  OutboundLegObserver* observer_;
  OutboundLegOptions options_;
  std::string call_id_;
  std::string from_tag_;
  sip::LocalMediaCaps caps_;
  sip::SessionDescription offer_;
  std::string local_sdp_;  // the session description we last sent (offer or answer): a refresh repeats it
  std::optional<sip::SrtpKeying> srtp_keying_;  // the keys the media runs on now (none: plain RTP)
  SdpRemote sdp_remote_;  // the target's media address and port its last SDP named
  sip::NegotiatedCodec codec_;
  std::unique_ptr<MediaSession> media_;
  bool media_started_ = false;
  std::unique_ptr<sip::InviteClientSession> session_;
  std::unique_ptr<sip::InviteClientSession> old_session_;  // the challenged one, ended, kept to its callback's end
  // Shared with the session, which answers a challenge to our BYE with it after the leg is gone.
  std::shared_ptr<sip::auth::DigestClient> digest_;
  int challenges_ = 0;       // digest retries so far (a stale nonce may need a second)
  uint32_t min_se_ = sip::kMinSessionExpires;  // our INVITE's Min-SE (a 422 raises it, once)
  bool retried_422_ = false;
  bool peer_allows_update_ = false;  // the 2xx's Allow lists UPDATE: we can refresh (RFC 3311)
  std::optional<sip::SessionTimerTerms> timer_terms_;
  std::unique_ptr<sip::SessionTimer> session_timer_ = make_session_timer();
  // Handlers the transaction layer keeps (our refresh's) hold this weakly: the leg may go first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool answered_ = false;
  bool early_media_ = false;
  bool done_ = false;        // failed, hung up or ended: no more callbacks
  bool provisional_seen_ = false;
  // For the leg's record.
  RecordTime started_at_ = std::chrono::system_clock::now();
  std::optional<RecordTime> answered_at_;
  int final_status_ = 0;
  bool recorded_ = false;
  void record(HangupSide side);
  std::chrono::steady_clock::time_point dialled_at_ = std::chrono::steady_clock::now();
};

// A Call-ID that maps to this shard (DESIGN.md: responses and in-dialog requests land on any shard's
// socket and are handed to the owner by Call-ID).
std::string call_id_for_shard(CallContext& ctx);

}  // namespace warmline::server
