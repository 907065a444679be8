// The UAC side of an INVITE session (RFC 3261 §13.2, §12.1.2, §9.1, §15; RFC 6026): a call that we
// place. It sends the INVITE with the caller's SDP offer, follows its provisional responses (early
// dialogs per fork, early media reported once per dialog, a PRACK for each reliable one in RSeq order,
// RFC 3262 §4), ACKs the 2xx it keeps and re-ACKs every retransmission of it, ends every other fork's
// 2xx at once (ACK + BYE), CANCELs on request (never
// before a provisional, §9.1) and handles a 2xx that crosses its CANCEL, and then serves the far end's
// requests inside the dialog the way the UAS leg does (BYE, re-INVITE/UPDATE, INFO, OPTIONS, NOTIFY),
// with the same source check and CSeq rules.
//
// What it leaves to its owner: choosing the Call-ID (it must map to the owner's shard), resolving the
// next hop (RFC 3263), the SDP itself (it carries strings; the owner builds the offer and judges the
// answers), ring timeouts (the owner calls cancel()), following a 3xx (the Contacts are reported), and
// digest credentials (the prepare_request hook sees every request it originates). A challenge to our
// BYE is answered here, with the owner's DigestClient (options.digest), because the BYE usually
// outlives the session: the owner drops it as soon as it has hung up.
//
// Routing: the shard's TU routes in-dialog requests, ACKs, ACK timeouts and stray 2xx responses to this
// usage through the DialogRegistry, where it registers each early and the confirmed dialog under our
// From tag (local) and their To tag (remote). A 2xx from a fork it has not seen reaches it only when
// the TU falls back to DialogRegistry::find_by_local_tag for a stray 2xx (see dialog_usage.hpp).
//
// Thread: the shard's; every call and callback runs there. Observer callbacks run from inside the
// session's own handling: they may call cancel(), hang_up(), send_request() and may even destroy the
// session (it checks an alive token after each callback and touches nothing once gone). Destruction in
// any state is safe: a pending INVITE is CANCELled and an answered dialog gets its BYE, without callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/auth/digest_client.hpp"
#include "sip/builders.hpp"
#include "sip/dialog.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/usage/dialog_usage.hpp"

namespace warmline::sip {

class InviteClientSession;

// The views and pointers in InviteProgress and InviteFailure point into the response being handled:
// they are valid during the callback only (copy what must outlive it).
struct InviteProgress {
  int status = 0;                             // 101-199 (a 100 Trying is not reported)
  std::string_view reason;
  std::string_view remote_tag;                // the early dialog (fork); "" for a 1xx without To tag
  std::optional<std::string_view> early_sdp{};  // the first SDP this early dialog sent; later 18x: none
  const Message* response = nullptr;
};

struct InviteFailure {
  int status = 0;                      // the final status (487 after our CANCEL, 408 on Timer B)
  std::string_view reason;
  const Message* response = nullptr;   // the final response (Retry-After, Warning, ...): the 2xx itself
                                       // when one crossed our CANCEL
  bool cancelled = false;              // cancel() or hang_up() came before the final response
  bool answered_after_cancel = false;  // a 2xx crossed our CANCEL: it was ACKed and BYEd at once and
                                       // is reported as 487 Request Terminated
  bool local = false;                  // no final came from the network: the transaction layer's own
                                       // 408 (Timer B) or 503 (transport error)
  bool responded = false;              // the far side sent something (a 100 Trying counts)
  std::span<const NameAddr> contacts{};  // 3xx: where the callee may be reached; never followed here
};

enum class InviteEnd {
  kNotAnswered,   // on_failed came before
  kLocalHangUp,   // our BYE (hang_up()) got its final response (any status: the dialog is over)
  kRemoteHangUp,  // on_bye came before
  kNoAck,         // the far end never ACKed the 2xx to its own re-INVITE (§13.3.1.4): we sent BYE
};

class InviteClientObserver {
 public:
  virtual ~InviteClientObserver() = default;
  virtual void on_progress(InviteClientSession& session, const InviteProgress& progress) = 0;
  // The 2xx we keep, already ACKed. `sdp_answer` is empty when the 2xx carried no SDP.
  virtual void on_answered(InviteClientSession& session, const Message& response, std::string_view sdp_answer) = 0;
  // The INVITE ended without a dialog (3xx-6xx, timeout, transport error, cancelled).
  virtual void on_failed(InviteClientSession& session, const InviteFailure& failure) = 0;
  // The far end sent BYE (answered 200 already).
  virtual void on_bye(InviteClientSession& session, const Message& bye) = 0;
  // A re-INVITE or UPDATE from the far end. With SDP: return the answer, or nullopt to refuse it (488;
  // the session stays as it was). A re-INVITE without SDP asks for our offer: return it; its answer
  // comes through on_offer_answer when the ACK arrives.
  virtual std::optional<std::string> on_offer(InviteClientSession& session, const Message& request) = 0;
  // A re-INVITE or UPDATE from the far end is being accepted: `ok` is its 2xx, about to go out. Also a
  // session refresh (RFC 4028 §9): the observer adds its Session-Expires and restarts its timer.
  virtual void on_session_refresh(InviteClientSession& /*session*/, const Message& /*request*/, Message& /*ok*/) {}
  // The ACK to a re-INVITE whose 200 carried our offer: its SDP answer ("" when it had none).
  virtual void on_offer_answer(InviteClientSession& /*session*/, std::string_view /*sdp*/) {}
  // SIP INFO DTMF (application/dtmf-relay, application/dtmf), already answered 200.
  virtual void on_dtmf(InviteClientSession& /*session*/, char /*digit*/, uint32_t /*duration_ms*/) {}
  // A NOTIFY inside the dialog (a REFER's progress); the observer answers `tx`. Default: 481.
  virtual void on_notify(InviteClientSession& session, ServerTransaction& tx, const Message& notify);
  // A REFER inside the confirmed dialog (RFC 3515), already screened (source, dialog, CSeq): the
  // observer answers it with answer(). Default: 403 (DESIGN.md toll-fraud rules).
  virtual void on_refer(InviteClientSession& session, ServerTransaction& tx, const Message& refer);
  // The last callback: nothing more will be reported and the session holds no dialog any more.
  virtual void on_terminated(InviteClientSession& session, InviteEnd end) = 0;
};

struct InviteClientOptions {
  std::string call_id;                  // chosen by the owner (it maps to the owner's shard)
  Uri request_uri;
  NameAddr from;                        // our identity; its tag is our local tag (added when missing)
  NameAddr to;                          // no tag
  NameAddr contact;                     // our Contact (the far end's target for its requests)
  std::vector<Header> extra_headers;    // P-Asserted-Identity, Privacy, X-... (INVITE only)
  // Where the INVITE goes (an outbound proxy or the trunk, resolved). Without one, the Request-URI's
  // host must be an IP literal. In-dialog requests follow the route set and remote target (§12.2.1.1);
  // when that names a host rather than an IP literal they go here instead (we resolve nothing).
  std::optional<Endpoint> next_hop;
  std::string sdp_offer;                // the offer, carried as is
  std::string allow;                    // Allow value for the INVITE and our 2xx/OPTIONS/405 answers
  std::string supported;                // Supported value ("" = none)
  uint32_t cseq = 1;                    // a retry after a digest challenge continues the sequence
  // Source check for requests inside the dialog (and for a new fork's 2xx): false = not the peer we
  // called (403, nothing changes). Empty: every source is accepted.
  std::function<bool(const Endpoint&)> from_peer{};
  // Sees every request this session originates before it is sent (INVITE, BYE, send_request()), to add
  // credentials. Not ACK (it copies the INVITE's) nor CANCEL (§22.1: a CANCEL is not challenged).
  std::function<void(Message&)> prepare_request{};
  // Answers a 401/407 to a BYE this session sends (sip/usage/digest_retry.hpp: a new BYE with the
  // credentials and the next CSeq). Null: a challenged BYE is left unanswered (the dialog is over for
  // us either way).
  std::shared_ptr<auth::DigestClient> digest{};
};

class InviteClientSession final : public DialogUsage {
 public:
  enum class State {
    kIdle,         // constructed, INVITE not sent
    kCalling,      // INVITE sent, no response yet
    kProceeding,   // a provisional arrived (100 included): CANCEL may go out now
    kConfirmed,    // a 2xx was accepted and ACKed
    kTerminating,  // our BYE is out, waiting for its final response
    kTerminated,
  };

  InviteClientSession(TransactionLayer& layer, DialogRegistry& registry, RandomSource& random,
                      InviteClientObserver& observer, InviteClientOptions options);
  ~InviteClientSession() override;
  InviteClientSession(const InviteClientSession&) = delete;
  InviteClientSession& operator=(const InviteClientSession&) = delete;

  // Sends the INVITE. A transport failure, or no next hop and a Request-URI host that is a name, is
  // reported (on_failed 503, local) before this returns. False when already started.
  bool start();
  // §9.1: CANCELs the INVITE: at once after a provisional, else as soon as one arrives (Timer B still
  // ends an INVITE that never gets one: 408, cancelled). The final (usually 487) comes via on_failed.
  // False when there is nothing to cancel (not started, answered, ended).
  bool cancel();
  // Ends the session from our side in any state: confirmed → BYE; INVITE pending → cancel(); otherwise
  // nothing. Idempotent.
  void hang_up();

  // A request inside the confirmed dialog (REFER, INFO, UPDATE, a re-INVITE, ...: new CSeq, route set,
  // remote target). nullopt when there is no confirmed dialog, or for ACK, CANCEL and BYE (hang_up()
  // sends the BYE).
  std::optional<Message> new_request(std::string_view method);
  // Sends a request built by new_request() (after the prepare_request hook) to the dialog's next hop.
  // The handler is not called once the session is destroyed. 0 when the dialog is not confirmed, or for
  // a re-INVITE while another of ours awaits its final. A re-INVITE's 2xx is ACKed here (and again for
  // each retransmission of it), before the handler sees it; an offer in it makes an offer of theirs
  // meanwhile glare (491).
  ClientTransactionId send_request(Message request, ResponseHandler handler);

  // Answers a request of the far end inside our dialog (To tag, Contact), e.g. the 202 to a REFER.
  void answer(ServerTransaction& tx, const Message& request, int status, std::string_view reason,
              const std::vector<Header>& extra_headers = {});

  State state() const { return state_; }
  bool cancel_requested() const { return cancel_requested_; }
  // The confirmed dialog, or nullptr.
  const Dialog* dialog() const { return dialog_ ? &*dialog_ : nullptr; }
  // The INVITE as we sent it (without the Via the transaction layer adds).
  const Message& invite() const { return invite_; }
  // Where the INVITE went.
  const Endpoint& destination() const { return destination_; }

  // DialogUsage
  void on_request(ServerTransaction& tx, const Message& request) override;
  bool on_ack(const Message& ack, const Endpoint& from) override;
  void on_cancel(ServerTransaction& invite_tx, const Message& cancel, const Endpoint& from) override;
  void on_ack_timeout() override;
  void on_2xx_retransmission(const Message& response, const Endpoint& from) override;

 private:
  struct EarlyDialog {
    Dialog dialog;
    bool sdp_reported = false;
    std::optional<uint32_t> last_rseq{};  // RFC 3262 §4: the last in-order reliable 1xx we PRACKed
  };
  struct EndedFork {  // a 2xx we ACKed and BYEd at once: its retransmissions get the same ACK
    std::string remote_tag;
    Message ack;
    Endpoint hop;
  };

  // Runs an observer callback; false when the session was destroyed inside it.
  template <class F>
  bool notify(F&& callback) {
    std::weak_ptr<bool> alive = alive_;
    callback();
    return !alive.expired();
  }
  void on_invite_response(const Message& response);
  void on_provisional(const Message& response);
  void on_success(const Message& response);
  void on_failure(const Message& response);
  void accept(const Message& response);
  void end_fork(const Message& response);
  void send_prack(Dialog& early, const Message& response, uint32_t rseq);
  void ack_reinvite(const Message& reinvite);
  void fail(InviteFailure failure);
  void finish(InviteEnd end);
  void send_bye(InviteEnd end);
  EarlyDialog* early_dialog(std::string_view remote_tag);
  Dialog* dialog_for(const Message& request);
  Endpoint hop_for(const Dialog& dialog) const;
  bool peer_ok(const Endpoint* source) const;
  void add_registration(const DialogId& id);
  void remove_registration(const DialogId& id);
  void remove_registrations();

  // Requests from the far end inside one of our dialogs (invite_client_requests.cpp).
  void on_session_request(ServerTransaction& tx, const Message& request);  // re-INVITE, UPDATE
  void on_info(ServerTransaction& tx, const Message& request);
  void on_remote_bye(ServerTransaction& tx, const Message& request, bool early);
  void respond(ServerTransaction& tx, const Message& request, int status, std::string_view reason);

  TransactionLayer& layer_;
  DialogRegistry& registry_;
  InviteClientObserver& observer_;
  InviteClientOptions options_;
  State state_ = State::kIdle;
  Message invite_;
  Endpoint destination_;
  ClientTransactionId invite_tx_ = 0;
  bool cancel_requested_ = false;
  bool responded_ = false;
  std::vector<EarlyDialog> early_;
  std::optional<Dialog> dialog_;
  Message ack_;                       // the ACK of the 2xx we kept, re-sent for each retransmission
  std::vector<EndedFork> ended_forks_;
  std::vector<DialogId> registered_;
  InviteEnd end_ = InviteEnd::kLocalHangUp;  // what finish() reports once our BYE completes
  bool offer_in_2xx_ = false;         // our 200 to their offerless re-INVITE carried our offer
  uint32_t offer_in_2xx_cseq_ = 0;
  bool local_offer_pending_ = false;  // our UPDATE or re-INVITE with an offer awaits its final (glare: 491)
  bool reinvite_pending_ = false;     // our re-INVITE awaits its final
  std::optional<Message> reinvite_ack_;  // the ACK of our last re-INVITE's 2xx, for its retransmissions
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warmline::sip
