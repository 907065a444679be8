#include "sip/usage/invite_client_session.hpp"

#include <algorithm>

#include "sip/usage/digest_retry.hpp"
#include "sip/usage/invite_client_messages.hpp"
#include "sip/usage/reliable_provisional.hpp"

namespace warmline::sip {

namespace {

bool is_provisional(int status) { return status >= 100 && status < 200; }
bool is_success(int status) { return status >= 200 && status < 300; }

// §13.2.2.4 + §15: a 2xx we do not keep (another fork, or one that crossed our CANCEL) still creates a
// dialog at the far end; it gets its ACK and then a BYE at once. Returns the ACK, so a retransmission
// of that 2xx can be answered with the same one. Also used after the session is gone, from the
// INVITE's response handler, so that a callee who picks up then is not left talking to nobody.
struct SentAck {
  Message ack;
  Endpoint hop;
};
SentAck ack_and_bye(TransactionLayer& layer, const Message& invite, const Message& response, const Endpoint& fallback,
                    const std::function<void(Message&)>* prepare, std::shared_ptr<auth::DigestClient> digest) {
  Dialog dialog = Dialog::from_uac(invite, response);
  if (dialog.remote_target.scheme.empty()) dialog.remote_target = invite.request_uri;
  Endpoint hop = dialog.next_hop();
  if (!is_ip_literal(hop.host) || is_stream(fallback.protocol)) hop = fallback;
  Message ack = make_2xx_ack(dialog, invite);
  layer.prepare(ack, hop);
  (void)layer.send_ack(ack, hop);
  Message bye = dialog.make_request("BYE");
  if (prepare && *prepare) (*prepare)(bye);
  (void)send_answering_challenges(layer, std::move(bye), hop, std::move(digest), nullptr);
  return SentAck{std::move(ack), hop};
}

}  // namespace

void InviteClientObserver::on_notify(InviteClientSession&, ServerTransaction& tx, const Message&) {
  tx.respond(481, "Subscription Does Not Exist");
}

void InviteClientObserver::on_refer(InviteClientSession& session, ServerTransaction& tx, const Message& refer) {
  // DESIGN.md toll-fraud rules: a REFER is acted on only where the owner says so.
  session.answer(tx, refer, 403, "Forbidden - REFER not accepted");
}

InviteClientSession::InviteClientSession(TransactionLayer& layer, DialogRegistry& registry, RandomSource& random,
                                         InviteClientObserver& observer, InviteClientOptions options)
    : layer_(layer), registry_(registry), observer_(observer), options_(std::move(options)) {
  if (options_.from.tag().empty()) options_.from.set_tag(new_tag(random));
}

InviteClientSession::~InviteClientSession() {
  alive_.reset();  // handlers still held by the transaction layer now do nothing (but see ack_and_bye)
  switch (state_) {
    case State::kCalling:
    case State::kProceeding:
      if (!cancel_requested_) layer_.cancel(invite_tx_);
      break;
    case State::kConfirmed: {
      // Dropped while answered: the far end would keep the call up until its own timers end it.
      Message bye = dialog_->make_request("BYE");
      if (options_.prepare_request) options_.prepare_request(bye);
      (void)send_answering_challenges(layer_, std::move(bye), hop_for(*dialog_), options_.digest, nullptr);
      break;
    }
    default: break;
  }
  remove_registrations();
}

bool InviteClientSession::start() {
  if (state_ != State::kIdle) return false;
  invite_ = make_invite(InviteRequestFields{
      .call_id = options_.call_id,
      .request_uri = options_.request_uri,
      .from = options_.from,
      .to = options_.to,
      .contact = options_.contact,
      .cseq = options_.cseq,
      .allow = options_.allow,
      .supported = options_.supported,
      .extra_headers = options_.extra_headers,
      .sdp_offer = options_.sdp_offer,
  });
  if (options_.prepare_request) options_.prepare_request(invite_);
  state_ = State::kCalling;
  if (options_.next_hop) {
    destination_ = *options_.next_hop;
  } else if (auto e = endpoint_of(invite_.request_uri)) {
    destination_ = *e;
  } else {
    // A name needs RFC 3263 resolution, which is the owner's: fail as a transport would (§8.1.3.1).
    on_failure(make_response(invite_, 503, "Service Unavailable - next hop not resolved"));
    return true;
  }
  std::weak_ptr<bool> alive = alive_;
  // The handler outlives nothing it needs: the layer that calls it is the one captured, and the INVITE
  // copy lets a 2xx that arrives after the session is gone still be ACKed and ended.
  ClientTransactionId id = layer_.send_request(
      invite_, destination_,
      [this, alive, layer = &layer_, invite = invite_, fallback = destination_,
       digest = options_.digest](const Message& r) {
        if (!alive.expired()) return on_invite_response(r);
        if (is_success(r.status_code)) (void)ack_and_bye(*layer, invite, r, fallback, nullptr, digest);
      });
  // A transport failure was reported inside send_request, and its observer may have destroyed us.
  if (!alive.expired()) invite_tx_ = id;
  return true;
}

void InviteClientSession::on_invite_response(const Message& r) {
  // Every response from the far side carries a To tag except 100 Trying (§8.2.6.2); a final without one
  // is the transaction layer's own 408/503.
  if (is_provisional(r.status_code) || !r.to.tag().empty()) responded_ = true;
  if (is_provisional(r.status_code)) return on_provisional(r);
  if (is_success(r.status_code)) return on_success(r);
  on_failure(r);
}

void InviteClientSession::on_provisional(const Message& r) {
  if (state_ != State::kCalling && state_ != State::kProceeding) return;
  state_ = State::kProceeding;
  // A 100 is hop-by-hop (it only stops our retransmissions); after cancel() nobody wants progress.
  if (r.status_code == 100 || cancel_requested_) return;
  InviteProgress progress{.status = r.status_code, .reason = r.reason, .remote_tag = r.to.tag(), .response = &r};
  if (!r.to.tag().empty()) {
    // §12.1.2: a 1xx with a To tag creates an early dialog, one per fork; a later 1xx of the same fork
    // may name a new target.
    EarlyDialog* early = early_dialog(r.to.tag());
    const std::optional<uint32_t> rseq = reliable_rseq(r);
    // RFC 3262 §4: a reliable provisional whose RSeq is not one higher than the last one of this
    // dialog (a retransmission, or one out of order) "MUST NOT be acknowledged with a PRACK, and MUST
    // NOT be processed further". Our PRACK for the first copy has its own retransmissions.
    if (rseq && early && early->last_rseq && *rseq != *early->last_rseq + 1) return;
    if (!early) {
      early_.push_back(EarlyDialog{Dialog::from_uac(invite_, r)});
      early = &early_.back();
      add_registration(early->dialog.id());
    } else {
      early->dialog.refresh_target(r);
    }
    if (rseq) {
      early->last_rseq = rseq;
      send_prack(early->dialog, r, *rseq);
    }
    if (has_sdp(r) && !early->sdp_reported) {
      early->sdp_reported = true;
      progress.early_sdp = r.body;
    }
  }
  (void)notify([&] { observer_.on_progress(*this, progress); });
}

void InviteClientSession::on_success(const Message& r) {
  std::string_view tag = r.to.tag();
  // RFC 6026 §8.4 / §13.2.2.4: a retransmitted 2xx gets the same ACK again.
  if (dialog_ && dialog_->remote_tag == tag) {
    (void)layer_.send_ack(ack_, hop_for(*dialog_));
    return;
  }
  for (const auto& fork : ended_forks_) {
    if (fork.remote_tag != tag) continue;
    (void)layer_.send_ack(fork.ack, fork.hop);
    return;
  }
  const bool first = state_ == State::kCalling || state_ == State::kProceeding;
  if (first && !cancel_requested_) return accept(r);
  end_fork(r);
  if (!first) return;
  // The 2xx crossed our CANCEL (§9.1 allows it): the session ends as cancelled, not as answered.
  fail(InviteFailure{.status = 487,
                     .reason = "Request Terminated",
                     .response = &r,
                     .cancelled = true,
                     .answered_after_cancel = true,
                     .responded = true});
}

void InviteClientSession::accept(const Message& r) {
  Dialog d = Dialog::from_uac(invite_, r);
  if (d.remote_target.scheme.empty()) d.remote_target = invite_.request_uri;  // a 2xx without Contact
  // The early dialog this 2xx confirms may have sent requests already (PRACK, RFC 3262 §4): our CSeq
  // goes on from there (§12.2.1.1: it only grows within a dialog).
  for (const auto& early : early_)
    if (early.dialog.remote_tag == d.remote_tag && early.dialog.local_cseq > d.local_cseq)
      d.local_cseq = early.dialog.local_cseq;
  // The fork that answers wins; the others' early dialogs are dropped (their late 2xx are ended).
  for (const auto& early : early_)
    if (early.dialog.remote_tag != d.remote_tag) remove_registration(early.dialog.id());
  early_.clear();
  add_registration(d.id());
  dialog_ = std::move(d);
  state_ = State::kConfirmed;
  ack_ = make_2xx_ack(*dialog_, invite_);
  layer_.prepare(ack_, hop_for(*dialog_));  // the Via (and its branch) is fixed now, so every re-sent ACK is identical
  (void)layer_.send_ack(ack_, hop_for(*dialog_));
  std::string_view sdp = has_sdp(r) ? std::string_view(r.body) : std::string_view();
  (void)notify([&] { observer_.on_answered(*this, r, sdp); });
}

void InviteClientSession::send_prack(Dialog& early, const Message& response, uint32_t rseq) {
  // RFC 3262 §4: "the UAC MUST create a new request with method PRACK ... sent within the dialog
  // associated with the provisional response"; §7.2: RAck = its RSeq, then the CSeq number and method
  // of the response. Its final response changes nothing here: the 2xx or failure of the INVITE does.
  Message prack = early.make_request("PRACK");
  prack.add_header("RAck", to_string(RAck{rseq, response.cseq.number, response.cseq.method}));
  if (options_.prepare_request) options_.prepare_request(prack);
  (void)layer_.send_request(std::move(prack), hop_for(early), nullptr);
}

void InviteClientSession::end_fork(const Message& r) {
  const std::function<void(Message&)>* prepare = &options_.prepare_request;
  SentAck sent = ack_and_bye(layer_, invite_, r, destination_, prepare, options_.digest);
  ended_forks_.push_back(EndedFork{std::string(r.to.tag()), std::move(sent.ack), std::move(sent.hop)});
}

void InviteClientSession::on_failure(const Message& r) {
  if (state_ != State::kCalling && state_ != State::kProceeding) return;
  // §17.1.1.3: the transaction layer has already ACKed this final response.
  const bool local = r.to.tag().empty() && (r.status_code == 408 || r.status_code == 503);
  InviteFailure failure{.status = r.status_code,
                        .reason = r.reason,
                        .response = &r,
                        .cancelled = cancel_requested_,
                        .local = local,
                        .responded = responded_};
  // §8.1.3.4: a 3xx lists where to try; following it is the owner's decision (toll-fraud rules).
  if (r.status_code >= 300 && r.status_code < 400) failure.contacts = r.contacts;
  fail(failure);
}

void InviteClientSession::fail(InviteFailure failure) {
  state_ = State::kTerminated;
  remove_registrations();
  early_.clear();
  if (!notify([&] { observer_.on_failed(*this, failure); })) return;
  (void)notify([&] { observer_.on_terminated(*this, InviteEnd::kNotAnswered); });
}

void InviteClientSession::finish(InviteEnd end) {
  state_ = State::kTerminated;
  remove_registrations();
  (void)notify([&] { observer_.on_terminated(*this, end); });
}

bool InviteClientSession::cancel() {
  if (state_ != State::kCalling && state_ != State::kProceeding) return false;
  if (cancel_requested_) return true;
  cancel_requested_ = true;
  // The layer holds the CANCEL back until a provisional arrives (§9.1).
  (void)layer_.cancel(invite_tx_);
  return true;
}

void InviteClientSession::hang_up() {
  switch (state_) {
    case State::kIdle: state_ = State::kTerminated; return;
    case State::kCalling:
    case State::kProceeding: (void)cancel(); return;
    case State::kConfirmed: return send_bye(InviteEnd::kLocalHangUp);
    case State::kTerminating:
    case State::kTerminated: return;
  }
}

void InviteClientSession::send_bye(InviteEnd end) {
  // §15.1.1: BYE inside the dialog (route set, remote target); any final response ends the session,
  // except a challenge we answer: then the answered BYE's final does.
  state_ = State::kTerminating;
  end_ = end;
  Message bye = dialog_->make_request("BYE");
  if (options_.prepare_request) options_.prepare_request(bye);
  std::weak_ptr<bool> alive = alive_;
  auto on_final = [this, alive](const Message& r) {
    if (alive.expired() || r.status_code < 200 || state_ != State::kTerminating) return;
    finish(end_);
  };
  (void)send_answering_challenges(layer_, std::move(bye), hop_for(*dialog_), options_.digest, std::move(on_final));
}

std::optional<Message> InviteClientSession::new_request(std::string_view method) {
  if (state_ != State::kConfirmed || !dialog_) return std::nullopt;
  if (method == "ACK" || method == "CANCEL" || method == "BYE") return std::nullopt;
  return dialog_->make_request(method);
}

ClientTransactionId InviteClientSession::send_request(Message request, ResponseHandler handler) {
  if (state_ != State::kConfirmed || !dialog_) return 0;
  if (options_.prepare_request) options_.prepare_request(request);
  // RFC 3311 §5.1: our UPDATE with an offer is outstanding until its final; one from them meanwhile
  // is glare (491).
  // A re-INVITE of ours likewise (RFC 3261 §14.1), and its 2xx gets our ACK here, kept for the 2xx's
  // retransmissions (§13.2.2.4): one re-INVITE at a time.
  const bool reinvite = request.method == "INVITE";
  const bool offer = (request.method == "UPDATE" || reinvite) && has_sdp(request);
  if (reinvite && reinvite_pending_) return 0;
  if (offer) local_offer_pending_ = true;
  std::optional<Message> sent;
  if (reinvite) {
    reinvite_pending_ = true;
    reinvite_ack_.reset();
    sent = request;
  }
  std::weak_ptr<bool> alive = alive_;
  return layer_.send_request(std::move(request), hop_for(*dialog_),
                             [this, alive, offer, sent = std::move(sent), handler = std::move(handler)](const Message& r) {
                               if (alive.expired()) return;
                               if (offer && r.status_code >= 200) local_offer_pending_ = false;
                               if (sent && r.status_code >= 200) {
                                 reinvite_pending_ = false;
                                 if (r.status_code < 300 && dialog_) ack_reinvite(*sent);
                               }
                               if (handler) handler(r);
                             });
}

void InviteClientSession::ack_reinvite(const Message& reinvite) {
  reinvite_ack_ = make_2xx_ack(*dialog_, reinvite);
  layer_.prepare(*reinvite_ack_, hop_for(*dialog_));  // fixed Via: every re-sent ACK is identical
  (void)layer_.send_ack(*reinvite_ack_, hop_for(*dialog_));
}

void InviteClientSession::on_2xx_retransmission(const Message& r, const Endpoint& from) {
  // The 2xx to our re-INVITE again: its ACK was lost (§13.2.2.4), so the same ACK goes again.
  if (reinvite_ack_ && dialog_ && r.call_id == invite_.call_id && r.cseq.number == reinvite_ack_->cseq.number &&
      r.from.tag() == invite_.from.tag() && r.to.tag() == dialog_->remote_tag) {
    if (peer_ok(&from)) (void)layer_.send_ack(*reinvite_ack_, hop_for(*dialog_));
    return;
  }
  if (r.call_id != invite_.call_id || r.cseq.number != invite_.cseq.number || r.from.tag() != invite_.from.tag())
    return;
  // A 2xx of a fork we do not know yet makes us send an ACK and a BYE to the Contact it names: only the
  // peer we called may cause that.
  const bool known = (dialog_ && dialog_->remote_tag == r.to.tag()) ||
                     std::any_of(ended_forks_.begin(), ended_forks_.end(),
                                 [&](const EndedFork& f) { return f.remote_tag == r.to.tag(); });
  if (!known && !peer_ok(&from)) return;
  on_success(r);
}

bool InviteClientSession::on_ack(const Message& ack, const Endpoint& from) {
  if (!peer_ok(&from)) return false;  // a foreign ACK changes nothing, not even our 2xx's resends
  if (offer_in_2xx_ && ack.cseq.number == offer_in_2xx_cseq_) {
    offer_in_2xx_ = false;
    std::string_view sdp = has_sdp(ack) ? std::string_view(ack.body) : std::string_view();
    (void)notify([&] { observer_.on_offer_answer(*this, sdp); });
  }
  return true;
}

void InviteClientSession::on_cancel(ServerTransaction&, const Message&, const Endpoint&) {
  // Their re-INVITEs are answered at once, so no CANCEL can find one still awaiting its final.
}

void InviteClientSession::on_ack_timeout() {
  // §13.3.1.4: our 2xx to their re-INVITE was never ACKed: "the session SHOULD be terminated".
  if (state_ == State::kConfirmed) send_bye(InviteEnd::kNoAck);
}

InviteClientSession::EarlyDialog* InviteClientSession::early_dialog(std::string_view remote_tag) {
  for (auto& e : early_)
    if (e.dialog.remote_tag == remote_tag) return &e;
  return nullptr;
}

Dialog* InviteClientSession::dialog_for(const Message& request) {
  if (dialog_ && dialog_->matches(request)) return &*dialog_;
  for (auto& e : early_)
    if (e.dialog.matches(request)) return &e.dialog;
  return nullptr;
}

Endpoint InviteClientSession::hop_for(const Dialog& dialog) const {
  // Over TCP/TLS the dialog's requests reuse the connection to the server we sent the INVITE to.
  if (is_stream(destination_.protocol)) return destination_;
  Endpoint hop = dialog.next_hop();
  return is_ip_literal(hop.host) ? hop : destination_;
}

bool InviteClientSession::peer_ok(const Endpoint* source) const {
  if (!options_.from_peer) return true;
  return source && options_.from_peer(*source);
}

void InviteClientSession::add_registration(const DialogId& id) {
  if (std::find(registered_.begin(), registered_.end(), id) != registered_.end()) return;
  if (registry_.add(id, this)) registered_.push_back(id);
}

void InviteClientSession::remove_registration(const DialogId& id) {
  auto it = std::find(registered_.begin(), registered_.end(), id);
  if (it == registered_.end()) return;
  registry_.remove(id, this);
  registered_.erase(it);
}

void InviteClientSession::remove_registrations() {
  for (const auto& id : registered_) registry_.remove(id, this);
  registered_.clear();
}

}  // namespace warmline::sip
