// Leg: the requests the peer sends inside the dialog that change or carry something — re-INVITE and
// UPDATE (hold, resume, a new media address, a session refresh), INFO (DTMF) and PRACK (RFC 3262: the
// acknowledgement of our reliable 18x, which may release a 2xx held for it). Split from leg.cpp, which
// keeps the INVITE's own answer, ACK, CANCEL and BYE.
//
// Thread: the call's shard (Leg::on_request asserts it before dispatching here).
#include "server/leg/leg.hpp"

#include <spdlog/spdlog.h>

#include "server/leg/leg_srtp.hpp"
#include "sip/session_timer.hpp"
#include "sip/info_dtmf.hpp"
#include "sip/usage/invite_client_messages.hpp"

namespace warmline::server {

using sip::has_sdp;

namespace {
// The reason phrase for answer_offer()'s refusal.
std::string_view offer_refusal(int status) { return status == 400 ? "Bad Request - Malformed SDP" : "Not Acceptable Here"; }
}  // namespace

// A re-INVITE or UPDATE (RFC 3311) from the peer: hold, resume, a new media address, or a session
// refresh. The codec stays what was negotiated; an offer without it is 488 and changes nothing.
void Leg::on_session_request(sip::ServerTransaction& tx, const sip::Message& req) {
  const bool is_update = req.method == "UPDATE";
  // RFC 3261 §14.2: a re-INVITE while our own offer/answer is still open: 500 + Retry-After. So is one
  // before the ACK of our 2xx: that ACK (without a body) would be taken for this re-INVITE's.
  if (state_ == State::kEarly || (!is_update && (pending_offer_ || state_ == State::kAnswered))) {
    sip::Message r = dialog_response(req, 500, "Server Internal Error - Offer Pending");
    r.add_header("Retry-After", "1");
    tx.respond(std::move(r));
    return;
  }
  // RFC 4028 §9: a re-INVITE or UPDATE is also a session refresh, negotiated like the INVITE was.
  const sip::UasTimerDecision timer = sip::negotiate_uas(req, options_.trunk ? options_.trunk->session_timer_s : 0,
                                                         session_min_se(options_.trunk));
  if (refuse_refresh(tx, req, timer)) return;
  sip::Message ok = dialog_response(req, 200, "OK");
  dialog_.refresh_target(req);
  if (has_sdp(req)) {
    if (const int refused = answer_offer(req)) {
      tx.respond(dialog_response(req, refused, offer_refusal(refused)));
      return;
    }
    refreshed_by_peer(ok, timer);
    tx.respond(with_sdp(std::move(ok)));
    return;
  }
  if (is_update) {
    // An UPDATE without a body refreshes the session (and the target) and carries no offer.
    ok.add_header("Allow", allow_header_value());
    refreshed_by_peer(ok, timer);
    tx.respond(std::move(ok));
    return;
  }
  // A re-INVITE without SDP asks for our offer (§14.2): the media we run, sendrecv, whatever the
  // direction was before (RFC 6337 §5.3) — so a caller who held the call can resume. The answer comes
  // in the ACK.
  sip::LocalMediaCaps caps = options_.caps;
  caps.session_version = ++options_.caps.session_version;
  caps.local_rtp_port = media_->local_port();
  caps.srtp = renegotiation_mode(*media_);
  sip::SessionDescription offer = sip::make_offer(caps, codec_, telephone_event_pt_);
  local_sdp_ = offer.serialize();
  pending_offer_ = std::move(offer);
  refreshed_by_peer(ok, timer);
  tx.respond(with_sdp(std::move(ok)));
}

// The peer's offer in `req` (a re-INVITE, an UPDATE, a PRACK) answered within the codec already
// negotiated: local_sdp_ holds the answer and the media follows it. 0, or the status that refuses it
// (400: malformed SDP; 488: nothing we can keep running) with nothing changed.
int Leg::answer_offer(const sip::Message& req) {
  auto parsed = sip::parse_sdp(req.body);
  if (!parsed.sdp) return 400;
  sip::LocalMediaCaps caps = options_.caps;
  caps.codecs = {codec_.name};
  caps.telephone_event = telephone_event_pt_.has_value();
  caps.srtp = renegotiation_mode(*media_);  // no downgrade from SRTP, no upgrade to it mid-call
  auto answer = sip::negotiate_answer(*parsed.sdp, caps);
  std::shared_ptr<rtp::SrtpSession> srtp;
  std::string srtp_error;
  if (!answer.ok || answer.codec.clock_rate != codec_.clock_rate ||
      (answer.srtp && !(srtp = make_srtp_session(*answer.srtp, srtp_error))))
    return 488;
  if (srtp) media_->set_srtp(std::move(srtp));  // the peer's new key and our fresh one
  srtp_keying_ = answer.srtp;
  // The same codec under another payload type number: followed (the same PCM rate, so it cannot fail).
  (void)follow_codec(answer.codec, answer.telephone_event_pt);
  follow_remote(answer.remote_address, answer.remote_port);
  for (auto& m : answer.answer.media)
    if (m.port != 0) m.port = media_->local_port();
  answer.answer.origin.session_version = ++options_.caps.session_version;
  local_sdp_ = answer.answer.serialize();
  return 0;
}

void Leg::on_info(sip::ServerTransaction& tx, const sip::Message& req) {
  // RFC 6086: INFO without a body is a keep-alive; DTMF bodies reach the agent like RFC 4733 digits.
  if (req.body.empty()) {
    tx.respond(dialog_response(req, 200, "OK"));
    return;
  }
  if (!sip::is_info_dtmf_type(req.content_type)) {
    sip::Message r = dialog_response(req, 415, "Unsupported Media Type");
    r.add_header("Accept", "application/dtmf-relay, application/dtmf");
    tx.respond(std::move(r));
    return;
  }
  auto dtmf = sip::parse_info_dtmf(req.content_type, req.body);
  if (!dtmf) {
    tx.respond(dialog_response(req, 400, "Bad Request - Not a DTMF Digit"));
    return;
  }
  tx.respond(dialog_response(req, 200, "OK"));
  observer_.on_leg_dtmf(*this, dtmf->digit, dtmf->duration_ms);
}

// RFC 3262 §3: a PRACK acknowledges our reliable 18x when its RAck names it (RSeq, and the INVITE's
// CSeq number and method): 200, and a 2xx held for it goes out now. Anything else: 481 ("does not match
// any unacknowledged reliable provisional response"); no RAck at all: 400.
//
// Its body (RFC 3262 §5, RFC 6337 §2.1): when that 18x carried our offer (a late-offer INVITE) the
// PRACK carries the answer — none, or one we cannot use, and the INVITE is refused with 488. Otherwise
// SDP in the PRACK is a new offer, answered in the PRACK's 200 as an UPDATE's would be (refused: 400 /
// 488, and the session stays as it was). While the INVITE's offer is still unanswered (a reliable 180
// without SDP) the PRACK may not offer: 500, as RFC 3311 §5.2 has it for UPDATE. Either way a PRACK
// whose RAck matches acknowledges the 18x, and a 2xx held for it goes out.
void Leg::on_prack(sip::ServerTransaction& tx, const sip::Message& req) {
  auto rack = sip::parse_rack(req);
  if (!rack) {
    tx.respond(dialog_response(req, 400, "Bad Request - Missing or Malformed RAck"));
    return;
  }
  // §3: a PRACK that names the unacknowledged 18x acknowledges it, whatever its body says: the caller
  // drops that 18x's retransmissions (§4) and would never PRACK it again, so leaving it unacknowledged
  // would only end the INVITE with "no PRACK" 32 s later. Whether that 18x carried SDP is read first.
  const bool carried_sdp = reliable_ && reliable_->unacknowledged_with_body();
  if (!reliable_ || !reliable_->acknowledge(*rack)) {
    tx.respond(dialog_response(req, 481, "Call/Transaction Does Not Exist"));
    return;
  }
  const bool answers_our_offer = carried_sdp && pending_offer_ && state_ == State::kEarly;
  if (answers_our_offer) {
    tx.respond(dialog_response(req, 200, "OK"));
    if (!take_answer(req)) return refuse_invite(488, "Not Acceptable Here", "sdp_failed");
    if (media_on_prack_answer_) start_media();  // our 183's early media, now that we know where to send
  } else if (!has_sdp(req)) {
    tx.respond(dialog_response(req, 200, "OK"));
  } else if (pending_offer_ || (!carried_sdp && state_ == State::kEarly)) {
    // An offer while another is open: the INVITE's, not yet answered (its reliable 180 had no SDP), or
    // one of ours.
    tx.respond(dialog_response(req, 500, "Server Internal Error - Offer Pending"));
  } else if (const int refused = answer_offer(req)) {
    tx.respond(dialog_response(req, refused, offer_refusal(refused)));  // the session stays as it was
  } else {
    tx.respond(with_sdp(dialog_response(req, 200, "OK")));
  }
  if (!answer_held_) return;
  answer_held_ = false;
  if (!send_answer()) spdlog::info("leg {}: the INVITE was gone when its PRACK came", dialog_.call_id);
}

}  // namespace warmline::server
