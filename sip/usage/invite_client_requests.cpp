// InviteClientSession: the requests the far end sends inside one of our dialogs (early or confirmed).
// The rules mirror the UAS leg (server/leg/leg.cpp) so both ends of a bridged call behave alike:
// source check first (403, nothing changes), then 481 for a dialog that is gone, 500 for a CSeq out
// of order (§12.2.2), then the method.
#include "sip/info_dtmf.hpp"
#include "sip/usage/invite_client_messages.hpp"
#include "sip/usage/invite_client_session.hpp"

namespace warmline::sip {

void InviteClientSession::respond(ServerTransaction& tx, const Message& request, int status, std::string_view reason) {
  tx.respond(make_dialog_response(request, status, reason, options_.contact));
}

void InviteClientSession::answer(ServerTransaction& tx, const Message& request, int status, std::string_view reason,
                                 const std::vector<Header>& extra_headers) {
  Message r = make_dialog_response(request, status, reason, options_.contact);
  for (const auto& h : extra_headers) r.add_header(h.name, h.value);
  tx.respond(std::move(r));
}

void InviteClientSession::on_request(ServerTransaction& tx, const Message& req) {
  if (!peer_ok(tx.source())) return respond(tx, req, 403, "Forbidden");
  Dialog* dialog = dialog_for(req);
  if (!dialog || state_ == State::kTerminated || (state_ == State::kTerminating && req.method != "BYE"))
    return respond(tx, req, 481, "Call/Transaction Does Not Exist");
  if (!dialog->accept_remote_cseq(req.cseq.number))
    return respond(tx, req, 500, "Server Internal Error - CSeq out of order");
  const bool early = dialog != (dialog_ ? &*dialog_ : nullptr);
  if (req.method == "BYE") return on_remote_bye(tx, req, early);
  if (req.method == "INVITE" || req.method == "UPDATE") {
    if (!early) return on_session_request(tx, req);
    // No offer/answer can be open in an early dialog without reliable provisionals (RFC 3262), which we
    // do not use: a re-INVITE or UPDATE now is retried later (§14.2).
    Message r = make_dialog_response(req, 500, "Server Internal Error - Offer Pending", options_.contact);
    r.add_header("Retry-After", "1");
    tx.respond(std::move(r));
    return;
  }
  if (req.method == "INFO") return on_info(tx, req);
  if (req.method == "NOTIFY") {
    (void)notify([&] { observer_.on_notify(*this, tx, req); });
    return;
  }
  if (req.method == "OPTIONS") {
    Message r = make_dialog_response(req, 200, "OK", options_.contact);
    if (!options_.allow.empty()) r.add_header("Allow", options_.allow);
    r.add_header("Accept", "application/sdp");
    tx.respond(std::move(r));
    return;
  }
  if (req.method == "REFER") {
    // Only in the confirmed dialog: an early one has no call to transfer yet.
    if (early) return respond(tx, req, 403, "Forbidden - REFER not accepted");
    (void)notify([&] { observer_.on_refer(*this, tx, req); });
    return;
  }
  Message r = make_dialog_response(req, 405, "Method Not Allowed", options_.contact);
  if (!options_.allow.empty()) r.add_header("Allow", options_.allow);
  tx.respond(std::move(r));
}

void InviteClientSession::on_remote_bye(ServerTransaction& tx, const Message& req, bool early) {
  respond(tx, req, 200, "OK");
  if (early) {
    // §15: a callee must not end an early dialog with BYE; if one does, only that fork is gone and the
    // INVITE still waits for its final response.
    std::erase_if(early_, [&](const EarlyDialog& e) {
      if (!e.dialog.matches(req)) return false;
      remove_registration(e.dialog.id());
      return true;
    });
    return;
  }
  if (state_ == State::kTerminating) return finish(end_);  // the BYEs crossed: ours was enough
  state_ = State::kTerminated;
  remove_registrations();
  if (!notify([&] { observer_.on_bye(*this, req); })) return;
  (void)notify([&] { observer_.on_terminated(*this, InviteEnd::kRemoteHangUp); });
}

// A re-INVITE or UPDATE (RFC 3311) in the confirmed dialog: hold, resume, a new media address, or a
// session refresh. The observer judges the offer; a refusal (488) changes nothing.
void InviteClientSession::on_session_request(ServerTransaction& tx, const Message& req) {
  const bool update = req.method == "UPDATE";
  if (local_offer_pending_) {
    // RFC 3311 §5.2 / RFC 3261 §14.2: both sides offered at once (glare); the other side retries.
    return respond(tx, req, 491, "Request Pending");
  }
  if (!update && offer_in_2xx_) {
    // §14.2: our offer from their last re-INVITE still waits for its answer in the ACK.
    Message r = make_dialog_response(req, 500, "Server Internal Error - Offer Pending", options_.contact);
    r.add_header("Retry-After", "1");
    tx.respond(std::move(r));
    return;
  }
  if (!req.body.empty() && !has_sdp(req)) {
    Message r = make_dialog_response(req, 415, "Unsupported Media Type", options_.contact);
    r.add_header("Accept", "application/sdp");
    tx.respond(std::move(r));
    return;
  }
  Message ok = make_dialog_response(req, 200, "OK", options_.contact);
  if (!options_.allow.empty()) ok.add_header("Allow", options_.allow);
  if (!options_.supported.empty()) ok.add_header("Supported", options_.supported);
  if (update && req.body.empty()) {
    // An UPDATE without a body refreshes the session (and the target) and carries no offer.
    dialog_->refresh_target(req);
    (void)notify([&] { observer_.on_session_refresh(*this, req, ok); });  // `tx` is the layer's
    tx.respond(std::move(ok));
    return;
  }
  std::optional<std::string> sdp;
  if (!notify([&] { sdp = observer_.on_offer(*this, req); })) {
    tx.respond(make_response(req, 481, "Call/Transaction Does Not Exist"));  // the observer ended us
    return;
  }
  if (!sdp || state_ != State::kConfirmed) return respond(tx, req, 488, "Not Acceptable Here");
  // RFC 6141 §3.3 (clarifying §12.2.2): the remote target changes only with a request that succeeds.
  dialog_->refresh_target(req);
  if (!sdp->empty()) {
    ok.content_type = "application/sdp";
    ok.body = std::move(*sdp);
  }
  if (!update && req.body.empty()) {
    // §14.2: an offerless re-INVITE got our offer in the 200; its answer comes in the ACK.
    offer_in_2xx_ = true;
    offer_in_2xx_cseq_ = req.cseq.number;
  }
  (void)notify([&] { observer_.on_session_refresh(*this, req, ok); });  // `tx` is the layer's
  tx.respond(std::move(ok));
}

void InviteClientSession::on_info(ServerTransaction& tx, const Message& req) {
  // RFC 6086: INFO without a body is a keep-alive; DTMF bodies reach the observer.
  if (req.body.empty()) return respond(tx, req, 200, "OK");
  if (!is_info_dtmf_type(req.content_type)) {
    Message r = make_dialog_response(req, 415, "Unsupported Media Type", options_.contact);
    r.add_header("Accept", "application/dtmf-relay, application/dtmf");
    tx.respond(std::move(r));
    return;
  }
  auto dtmf = parse_info_dtmf(req.content_type, req.body);
  if (!dtmf) return respond(tx, req, 400, "Bad Request - Not a DTMF Digit");
  respond(tx, req, 200, "OK");
  (void)notify([&] { observer_.on_dtmf(*this, dtmf->digit, dtmf->duration_ms); });
}

}  // namespace warmline::sip
