// The caller's leg and RFC 4028 session timers: the terms our 2xx carries (the INVITE's Session-Expires
// and Min-SE against the trunk's session_timer_s), the refreshes we send when we are the refresher
// (UPDATE when the caller allows it, else a re-INVITE with the SDP we run, same version: no media
// change, RFC 3264 §8 — after a late offer, that offer narrowed to the codec the answer chose, once,
// with a new version — whose 2xx's answer the media follows), the refreshes the caller sends (leg.cpp
// answers them; the terms and timer are renewed here), and the BYE when nobody refreshed in time.
//
// Thread: the call's shard, like the rest of the leg; the timer runs on the shard's TimerService.
#include <spdlog/spdlog.h>

#include <charconv>

#include "server/leg/leg.hpp"
#include "server/targets.hpp"
#include "sip/usage/digest_retry.hpp"
#include "sip/usage/invite_client_messages.hpp"

namespace warmline::server {

std::unique_ptr<sip::SessionTimer> Leg::make_session_timer() {
  // The timer is the leg's and goes with it, so `this` outlives every callback.
  return std::make_unique<sip::SessionTimer>(
      ctx_.timers, sip::SessionTimer::Handlers{.on_refresh = [this] { send_session_refresh(); },
                                               .on_expired = [this] { on_session_expired(); }});
}

std::optional<sip::SessionTimerTerms> Leg::session_timer() const {
  if (!session_timer_->running()) return std::nullopt;
  return session_timer_->terms();
}

void Leg::negotiate_session_timer(const sip::Message& invite) {
  // The shard has already refused (422, 400) what cannot be accepted at all.
  peer_allows_update_ = sip::allows_method(invite, "UPDATE");
  timer_terms_ = sip::negotiate_uas(invite, options_.trunk ? options_.trunk->session_timer_s : 0,
                                   session_min_se(options_.trunk)).terms;
}

void Leg::arm_session_timer() { session_timer_->apply(timer_terms_); }

bool Leg::refuse_refresh(sip::ServerTransaction& tx, const sip::Message& req, const sip::UasTimerDecision& decision) {
  if (decision.status == 0) return false;
  // §9: a refresh is negotiated like the INVITE; refused, it refreshes nothing and the timer runs on.
  const bool too_small = decision.status == 422;
  sip::Message r = dialog_response(req, decision.status,
                                   too_small ? "Session Interval Too Small" : "Bad Request - Malformed Session-Expires");
  if (too_small) r.add_header("Min-SE", std::to_string(decision.min_se));
  tx.respond(std::move(r));
  return true;
}

void Leg::refreshed_by_peer(sip::Message& ok, const sip::UasTimerDecision& decision) {
  timer_terms_ = decision.terms;
  if (timer_terms_) sip::add_uas_timer_headers(ok, *timer_terms_);
  if (state_ == State::kAnswered || state_ == State::kConfirmed) arm_session_timer();
}

void Leg::send_session_refresh() {
  assert_on_shard();
  if (state_ != State::kConfirmed || !timer_terms_) return;
  if (pending_offer_) {
    // Our offer in a 2xx still waits for its ACK: no second offer now (RFC 3261 §14.1); soon again.
    session_timer_->retry_refresh(std::chrono::seconds(1));
    return;
  }
  const bool update = peer_allows_update_;
  sip::Message req = new_request(update ? "UPDATE" : "INVITE");
  req.add_header("Supported", "timer");
  // RFC 4028 §7.4: in the refresh we are the UAC, and we go on refreshing.
  sip::add_uac_timer_headers(req, timer_terms_->interval, session_min_se(options_.trunk), sip::Refresher::kUac);
  if (!update) {
    req.add_header("Allow", allow_header_value());
    req.content_type = "application/sdp";
    req.body = refresh_offer();
  }
  spdlog::debug("leg {}: session refresh ({})", dialog_.call_id, req.method);
  send_refresh_request(std::move(req), 0);
}

const std::string& Leg::refresh_offer() {
  auto parsed = sip::parse_sdp(local_sdp_);
  if (!parsed.sdp) return local_sdp_;
  bool narrowed = false;
  auto runs = [this](uint8_t pt) { return pt == codec_.payload_type || (telephone_event_pt_ && pt == *telephone_event_pt_); };
  for (auto& m : parsed.sdp->media) {
    if (m.port == 0 || !m.is_rtp()) continue;
    std::vector<std::string> keep;
    for (const auto& f : m.formats) {
      unsigned pt = 256;
      std::from_chars(f.data(), f.data() + f.size(), pt);
      if (pt < 256 && runs(static_cast<uint8_t>(pt))) keep.push_back(f);
    }
    if (keep.empty() || keep.size() == m.formats.size()) continue;
    m.formats = std::move(keep);
    std::erase_if(m.rtpmaps, [&](const sip::RtpMap& r) { return !runs(r.payload_type); });
    std::erase_if(m.fmtps, [&](const sip::Fmtp& f) { return !runs(f.payload_type); });
    narrowed = true;
  }
  if (narrowed) {
    parsed.sdp->origin.session_version = ++options_.caps.session_version;
    local_sdp_ = parsed.sdp->serialize();
  }
  return local_sdp_;
}

void Leg::send_refresh_request(sip::Message req, int challenges) {
  if (req.method == "INVITE") {
    refresh_invite_cseq_ = req.cseq.number;
    refresh_ack_.reset();
  }
  std::weak_ptr<bool> alive = alive_;
  sip::Message sent = req;
  send(std::move(req), [this, alive, sent = std::move(sent), challenges](const sip::Message& r) {
    if (!alive.expired()) on_refresh_response(sent, r, challenges);
  });
}

void Leg::on_refresh_response(const sip::Message& sent, const sip::Message& r, int challenges) {
  if (r.status_code < 200) return;
  if (r.status_code < 300) {
    if (sent.method == "INVITE") {  // §13.2.2.4, kept for the 2xx's retransmissions
      refresh_ack_ = sip::make_2xx_ack(dialog_, sent);
      ctx_.sip.prepare(*refresh_ack_, dialog_.next_hop());
      (void)ctx_.sip.send_ack(*refresh_ack_, dialog_.next_hop());
    }
    if (state_ != State::kConfirmed) return;
    // The answer to our refresh's offer (local_sdp_, what refresh_offer() sent) is taken like any.
    if (sent.method == "INVITE" && !r.body.empty()) {
      if (auto ours = sip::parse_sdp(local_sdp_); ours.sdp) (void)follow_answer(*ours.sdp, r.body, "2xx to our refresh");
    }
    // §7.4 / §7.2: the 2xx says what runs now; without Session-Expires no timer runs any more.
    timer_terms_ = sip::uac_terms(r);
    if (!timer_terms_) spdlog::info("leg {}: the 2xx to our session refresh has no Session-Expires: no session timer now",
                                    dialog_.call_id);
    arm_session_timer();
    return;
  }
  if (state_ != State::kConfirmed) return;
  if ((r.status_code == 401 || r.status_code == 407) && challenges < sip::kMaxChallengeAnswers) {
    if (auto retry = answer_challenge(sent, r)) return send_refresh_request(std::move(*retry), challenges + 1);
  }
  if (r.status_code == 491) {
    // RFC 3261 §14.1: glare; we did not choose the Call-ID, so we retry within 0 to 2 s.
    session_timer_->retry_refresh(std::chrono::milliseconds(ctx_.random.next() % 2000));
    return;
  }
  if (r.status_code == 408 || r.status_code == 481) {
    // RFC 4028 §10: a refresh that times out or finds no dialog ends the session now.
    spdlog::warn("leg {}: session refresh answered {}: ending the session", dialog_.call_id, r.status_code);
    return on_session_expired();
  }
  // Any other refusal refreshed nothing: the session still ends when its interval runs out.
  spdlog::warn("leg {}: session refresh refused ({} {}); the session expires unless refreshed", dialog_.call_id,
               r.status_code, r.reason);
}

void Leg::on_session_expired() {
  assert_on_shard();
  if (state_ == State::kTerminated) return;
  session_timer_->stop();
  ctx_.metrics.sessions_expired.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("leg {}: session expired (RFC 4028: {} s without a refresh); ending it", dialog_.call_id,
               timer_terms_ ? timer_terms_->interval : 0);
  observer_.on_leg_failed(*this, "session_expired");
}

}  // namespace warmline::server
