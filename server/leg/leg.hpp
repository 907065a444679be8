// A Leg = one SIP dialog usage + its media session (DESIGN.md "leg/"). Today's legs are the caller's
// (leg a): the UAS side of an INVITE session — answering (early or late offer), the requests the peer
// sends inside the dialog, the requests we send in it (BYE, REFER; a digest challenge to them is answered
// with the trunk's credentials), and the RTP session.
//
// Security (RFC 3261 §12.2.2 and DESIGN.md toll-fraud rules): the shard routes a request here only when
// Call-ID, our tag and their tag all match; the leg then accepts it only from the trunk the dialog was
// set up with (its source CIDRs) — anything else gets 403 and changes nothing: no CSeq, no target
// refresh, no media move, no hang-up.
//
// Thread: the call's shard; every method asserts it. The leg registers its dialog with the shard's
// DialogRegistry while it exists.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "server/call_context.hpp"
#include "server/leg/leg_media.hpp"
#include "server/leg/sdp_remote.hpp"
#include "sip/auth/digest_client.hpp"
#include "sip/dialog.hpp"
#include "sip/sdp.hpp"
#include "sip/session_timer.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/usage/dialog_usage.hpp"
#include "sip/usage/reliable_provisional.hpp"

namespace warmline::server {

class Leg;

// What a leg reports to its call. Every callback runs on the shard, from inside the leg's own handling,
// so the call may act on the leg (hang it up, send a REFER) but must not destroy it there.
class LegObserver {
 public:
  virtual ~LegObserver() = default;
  virtual void on_leg_confirmed(Leg& leg) = 0;                     // the ACK for our 2xx came
  virtual void on_leg_bye(Leg& leg) = 0;                           // the peer ended the dialog (answered)
  virtual void on_leg_cancelled(Leg& leg) = 0;                     // CANCEL before our answer (487 sent)
  virtual void on_leg_failed(Leg& leg, std::string_view why) = 0;  // no ACK, no usable answer in the ACK
  virtual void on_leg_dtmf(Leg& leg, char digit, uint32_t duration_ms) = 0;  // RFC 4733 or SIP INFO
  // A NOTIFY inside the dialog (a REFER's progress); the observer answers `tx`.
  virtual void on_leg_notify(Leg& leg, sip::ServerTransaction& tx, const sip::Message& notify) = 0;
  virtual void on_leg_audio(Leg& leg, std::span<const int16_t> pcm) = 0;  // at the agent's rate
  // An RTP payload in a codec the agent takes as it is (LegOptions::agent_payload_codecs).
  virtual void on_leg_payload(Leg&, std::span<const uint8_t>) {}
  virtual void on_leg_mark(Leg& leg, std::string_view name, ai::MarkEvent event) = 0;
  virtual void on_leg_playout_drained(Leg& leg) = 0;
  virtual void on_leg_playout_overflow(Leg& leg, uint64_t dropped_total) = 0;
  // A leg hung up between our 2xx and its ACK has now sent its deferred BYE (or the peer ended it):
  // nothing of the leg is pending any more, so the call may be released.
  virtual void on_leg_closed(Leg& /*leg*/) {}
  // A REFER inside the dialog (RFC 3515: the caller's side asks us to call someone else; its source
  // and CSeq already checked). The observer answers `tx` with leg.respond(). Default: 403 (DESIGN.md
  // toll-fraud rules: only a call whose trunk allows it acts on one, server/call_caller_refer.cpp).
  virtual void on_leg_refer(Leg& leg, sip::ServerTransaction& tx, const sip::Message& refer);
};

class Leg final : public sip::DialogUsage {
 public:
  enum class State {
    kEarly,       // the INVITE is being answered (1xx)
    kAnswered,    // our 2xx is out, its ACK not yet in
    kConfirmed,   // ACKed
    kTerminated,  // BYE either way, CANCEL, or a failure
  };

  struct UasOptions {
    const TrunkConfig* trunk = nullptr;  // the trunk the INVITE came from (its CIDRs guard the dialog)
    sip::LocalMediaCaps caps{};          // local_ip, codecs, session id; the port is filled in here
    unsigned agent_rate = 16000;
    std::vector<std::string> agent_payload_codecs{};  // see LegMediaOptions
    std::optional<media::ToneSpec> ringback{};
  };

  // Takes an INVITE (§12.1.1 UAS dialog, our tag chosen here): negotiates its offer, or prepares our
  // offer when it has none (late offer, RFC 3261 §13.3.1 / RFC 3264), and opens the media session.
  // nullptr with `status` set to the response the shard sends instead (400, 488, 500).
  static std::unique_ptr<Leg> accept_invite(CallContext& ctx, LegObserver& observer, sip::ServerTransaction tx,
                                            const sip::Message& invite, UasOptions options, int& status,
                                            std::string& reason);
  ~Leg() override;
  Leg(const Leg&) = delete;
  Leg& operator=(const Leg&) = delete;

  // What the call record needs (server/call_record.cpp), noted as the leg goes.
  struct History {
    std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();
    std::optional<std::chrono::system_clock::time_point> answered_at;  // our 2xx went out
    std::optional<std::chrono::system_clock::time_point> ended_at;     // BYE either way, CANCEL, 480
    int final_status = 0;           // our final response to the INVITE (200, 487, 480); 0 = none
    bool ended_by_peer = false;     // their BYE or CANCEL ended it (else we did)
    std::string asserted_identity;  // the INVITE's P-Asserted-Identity, as it came
    std::string privacy;            // the INVITE's Privacy (RFC 3323), passed on to a leg we dial
  };

  State state() const { return state_; }
  const History& history() const { return history_; }
  const sip::Dialog& dialog() const { return dialog_; }
  MediaSession& media() { return *media_; }
  const std::string& codec_name() const { return codec_.name; }
  bool late_offer() const { return late_offer_; }
  // The RFC 4028 session timer the dialog runs (leg_session_timer.cpp); nullopt: none.
  std::optional<sip::SessionTimerTerms> session_timer() const;

  // 180, or 183 with our SDP and early media. RFC 3262: when the INVITE lists 100rel the 183 goes
  // reliably (Require: 100rel, RSeq, resent until its PRACK); with Require: 100rel the 180 too. A late
  // offer (no SDP in the INVITE) rings with a plain 180 and offers in the 200 — unless 100rel lets our
  // offer ride in a reliable 183 (or, when required, a reliable 180): the answer then comes in the
  // PRACK, and a 183's early media starts with it.
  void ring(Provisional kind);
  // 200 OK with our answer (or, late offer, our offer). False when the INVITE is gone (cancelled).
  // While our reliable 18x with SDP awaits its PRACK the 200 is held (RFC 3262 §3) and goes out with
  // the PRACK's 200; answer_held() until then. No PRACK within 64*T1: the INVITE gets 500 and the
  // observer on_leg_failed("no_prack").
  bool answer();
  bool answer_held() const { return answer_held_; }
  // Ends the dialog from our side: BYE when confirmed, 480 to the INVITE while early. Idempotent. When
  // our 2xx is not yet ACKed the media stops now and the BYE waits for the ACK or the ACK timeout
  // (RFC 3261 §15: the callee must not send BYE before either); bye_pending() until then.
  void hang_up();
  bool bye_pending() const { return bye_on_ack_; }
  // A request inside the dialog (REFER, NOTIFY, ...), routed by the route set (§12.2.1.1).
  sip::Message new_request(std::string_view method);
  // Our answer to the peer's request in this dialog (a REFER handed to LegObserver::on_leg_refer).
  void respond(sip::ServerTransaction& tx, const sip::Message& request, int status, std::string_view reason,
               const std::vector<sip::Header>& extra_headers = {});
  void send(sip::Message request, sip::ResponseHandler handler);
  // The retry of `sent`, a request of ours in this dialog that `challenge` (401/407) answered: the
  // dialog's next CSeq and the credentials of the trunk the call came in through (RFC 3261 §22.2).
  // nullopt when the trunk has none, the dialog is over, or the DigestClient will not answer (our
  // credentials were refused): the challenge then stands as the request's final response.
  std::optional<sip::Message> answer_challenge(const sip::Message& sent, const sip::Message& challenge);

  // sip::DialogUsage
  void on_request(sip::ServerTransaction& tx, const sip::Message& request) override;
  bool on_ack(const sip::Message& ack, const sip::Endpoint& from) override;
  void on_cancel(sip::ServerTransaction& invite_tx, const sip::Message& cancel, const sip::Endpoint& from) override;
  void on_ack_timeout() override;
  void on_2xx_retransmission(const sip::Message& response, const sip::Endpoint& from) override;

 private:
  Leg(CallContext& ctx, LegObserver& observer, UasOptions options);
  bool from_peer(const sip::Endpoint* source) const;
  bool open_media(const sip::NegotiatedCodec& codec, std::optional<uint8_t> te_pt, const std::string& remote_ip,
                  uint16_t remote_port, std::error_code& ec);
  void start_media();
  void follow_remote(const std::string& address, uint16_t port);
  sip::Message dialog_response(const sip::Message& request, int status, std::string_view reason) const;
  sip::Message with_sdp(sip::Message response) const;
  void on_session_request(sip::ServerTransaction& tx, const sip::Message& request);  // re-INVITE, UPDATE
  void on_info(sip::ServerTransaction& tx, const sip::Message& request);
  void on_prack(sip::ServerTransaction& tx, const sip::Message& request);
  bool send_provisional(sip::Message response);  // reliably when the INVITE allows it (RFC 3262)
  void ring_with_offer(Provisional kind, const sip::Message& invite);  // a late offer's 18x
  // The peer's offer in a re-INVITE, UPDATE or PRACK answered into local_sdp_; 0, or 400 / 488.
  int answer_offer(const sip::Message& request);
  // A final non-2xx to the INVITE while early; the observer hears on_leg_failed(why).
  void refuse_invite(int status, std::string_view reason, std::string_view why);
  bool send_answer();
  void on_no_prack();
  void on_bye(sip::ServerTransaction& tx);
  bool take_answer(const sip::Message& carrier);  // the answer to pending_offer_ in an ACK or PRACK
  // What a refresh re-INVITE offers: local_sdp_, narrowed first to the stream that runs when it still
  // lists more (our late offer, answered with one of its codecs): the chosen codec and telephone-event,
  // the same keys, a new version (RFC 3264 §8). Kept in local_sdp_ for the next refresh.
  const std::string& refresh_offer();
  // The peer's answer `sdp` to our `offer` (in the ACK or PRACK after our offer, or in the 2xx to our
  // refreshing re-INVITE; `in` names it for the log): the codec, new SRTP keys (the same keys keep the
  // running contexts) and the address follow it. False, nothing changed: unusable.
  bool follow_answer(const sip::SessionDescription& offer, std::string_view sdp, std::string_view in);
  // The media to the codec (and telephone-event number) an answer settled on, when it differs from the
  // running one. False when the media cannot take it (nothing changed then).
  bool follow_codec(const sip::NegotiatedCodec& codec, std::optional<uint8_t> telephone_event_pt);
  void terminate();
  // RFC 4028 session timer (leg_session_timer.cpp). The trunk's session_timer_s decides what we ask for.
  std::unique_ptr<sip::SessionTimer> make_session_timer();
  void negotiate_session_timer(const sip::Message& request);  // the INVITE: terms for our 2xx
  void arm_session_timer();                                   // our 2xx went out: the timer (re)starts
  // A 2xx to the peer's re-INVITE/UPDATE: the new terms in it, and the timer restarts (§9, §10).
  void refreshed_by_peer(sip::Message& ok, const sip::UasTimerDecision& decision);
  bool refuse_refresh(sip::ServerTransaction& tx, const sip::Message& req, const sip::UasTimerDecision& decision);
  void send_session_refresh();                                // UPDATE, or re-INVITE with our SDP
  void send_refresh_request(sip::Message request, int challenges);
  void on_refresh_response(const sip::Message& sent, const sip::Message& response, int challenges);
  void on_session_expired();
  void send_deferred_bye();
  void send_bye();
  void assert_on_shard() const;

  CallContext& ctx_;
  LegObserver& observer_;
  UasOptions options_;
  State state_ = State::kEarly;
  History history_;
  sip::Dialog dialog_;
  bool registered_ = false;
  sip::ServerTransaction invite_tx_;
  std::unique_ptr<MediaSession> media_;
  bool media_started_ = false;
  sip::NegotiatedCodec codec_;
  std::optional<uint8_t> telephone_event_pt_;
  std::string local_sdp_;         // what our last 2xx/183 carried (answer, or our offer)
  bool late_offer_ = false;       // the INVITE had no SDP: its answer comes in the PRACK or the ACK
  bool bye_on_ack_ = false;       // hung up before the ACK of our 2xx: the BYE goes when it comes
  std::optional<sip::SessionDescription> pending_offer_;  // our offer awaiting its answer (ACK, PRACK)
  sip::ReliableMode reliable_mode_ = sip::ReliableMode::kNever;  // what the INVITE said of 100rel
  std::unique_ptr<sip::ReliableProvisionals> reliable_;  // our reliable 18x (RFC 3262), null: none
  bool answer_held_ = false;      // answer() came while a reliable 18x with SDP awaited its PRACK
  bool media_on_prack_answer_ = false;  // a late offer's reliable 183: early media once the PRACK answers
  SdpRemote sdp_remote_;          // the peer's RTP address from its latest SDP
  std::optional<sip::SrtpKeying> srtp_keying_;  // the keys the media runs on now (none: plain RTP)
  // The trunk's credentials (null without any). Shared with the BYE's transaction, which may answer a
  // challenge after the leg is gone.
  std::shared_ptr<sip::auth::DigestClient> digest_;
  std::optional<sip::SessionTimerTerms> timer_terms_;  // what our latest 2xx (or their 2xx to our refresh) set
  std::unique_ptr<sip::SessionTimer> session_timer_ = make_session_timer();
  bool peer_allows_update_ = false;    // the INVITE's Allow lists UPDATE: refreshes go as UPDATE (RFC 3311)
  std::optional<sip::Message> refresh_ack_;  // the ACK of our refreshing re-INVITE's 2xx, for its resends
  uint32_t refresh_invite_cseq_ = 0;
  // Handlers the transaction layer keeps (our refresh's) hold this weakly: the leg may go first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

std::string_view to_string(Leg::State state);

}  // namespace warmline::server
