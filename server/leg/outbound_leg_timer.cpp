// Leg b and RFC 4028 session timers, as the UAC: our INVITE asks for the trunk's session_timer_s
// (Supported: timer, Session-Expires, Min-SE); a 422 is retried once with its Min-SE (§7.3); the 2xx
// says who refreshes (§7.2). When we do, the refresh goes at half the interval: an UPDATE (RFC 3311)
// when the target's 2xx allowed one, else a re-INVITE with our session description unchanged (§7.4; an
// answer that moves the target's address or changes its SRTP key is taken, an unchanged one changes
// nothing). The target's own refreshes (re-INVITE or UPDATE, answered by the INVITE session) renew the
// timer; nobody refreshing in time ends the leg with BYE.
//
// Thread: the call's shard; the timer runs on the shard's TimerService.
#include <spdlog/spdlog.h>

#include "server/leg/outbound_leg.hpp"
#include "sip/usage/digest_retry.hpp"

namespace warmline::server {

namespace {

uint32_t configured_interval(const TrunkConfig* trunk) { return trunk ? trunk->session_timer_s : 0; }

}  // namespace

std::unique_ptr<sip::SessionTimer> OutboundLeg::make_session_timer() {
  // The timer is the leg's and goes with it, so `this` outlives every callback.
  return std::make_unique<sip::SessionTimer>(
      ctx_.timers, sip::SessionTimer::Handlers{.on_refresh = [this] { send_session_refresh(std::nullopt, 0); },
                                               .on_expired = [this] { on_session_expired(); }});
}

std::optional<sip::SessionTimerTerms> OutboundLeg::session_timer() const {
  if (!session_timer_->running()) return std::nullopt;
  return session_timer_->terms();
}

void OutboundLeg::add_session_timer_request(sip::InviteClientOptions& o) const {
  const uint32_t interval = configured_interval(options_.trunk);
  if (interval == 0) return;  // not asked for: a timer only runs if the target's 2xx sets one itself
  // §7.1: never below our own Min-SE (raised by a 422).
  o.extra_headers.push_back({"Session-Expires", std::to_string(std::max(interval, min_se_))});
  o.extra_headers.push_back({"Min-SE", std::to_string(min_se_)});
}

bool OutboundLeg::retry_with_min_se(const sip::InviteFailure& failure) {
  // §7.3: once, with the 422's Min-SE; a second 422 stands (the target would only say it again).
  if (retried_422_ || configured_interval(options_.trunk) == 0 || !failure.response || failure.cancelled) return false;
  auto min_se = sip::min_se_of_422(*failure.response, min_se_);
  if (!min_se || *min_se > sip::kMaxSessionExpires) return false;
  retried_422_ = true;
  min_se_ = *min_se;
  spdlog::info("outbound leg {}: 422, retrying with Session-Expires and Min-SE {}", call_id_, min_se_);
  const uint32_t cseq = session_->invite().cseq.number + 1;
  old_session_ = std::move(session_);
  start_session(cseq, std::nullopt);
  return true;
}

void OutboundLeg::start_session_timer(const sip::Message& response) {
  peer_allows_update_ = sip::allows_method(response, "UPDATE");
  timer_terms_ = sip::uac_terms(response);  // §7.2: no Session-Expires, no timer
  arm_session_timer();
}

void OutboundLeg::arm_session_timer() { session_timer_->apply(timer_terms_); }

void OutboundLeg::on_session_refresh(sip::InviteClientSession&, const sip::Message& request, sip::Message& ok) {
  assert_on_shard();
  if (done_ || !answered_) return;
  // The target's re-INVITE or UPDATE: in it we are the UAS (§9), and the terms start afresh.
  const sip::UasTimerDecision decision = sip::negotiate_uas(request, configured_interval(options_.trunk), session_min_se(options_.trunk));
  if (decision.status != 0) return;  // unreadable or too brief: it refreshes nothing
  timer_terms_ = decision.terms;
  if (timer_terms_) sip::add_uas_timer_headers(ok, *timer_terms_);
  arm_session_timer();
}

void OutboundLeg::send_session_refresh(std::optional<sip::auth::AuthorizationHeader> auth, int challenges) {
  assert_on_shard();
  if (done_ || !session_ || !timer_terms_) return;
  const bool update = peer_allows_update_;
  auto request = session_->new_request(update ? "UPDATE" : "INVITE");
  if (!request) return;
  request->add_header("Supported", "timer");
  sip::add_uac_timer_headers(*request, timer_terms_->interval, min_se_, sip::Refresher::kUac);
  if (!update) {
    request->add_header("Allow", allow_header_value());
    request->content_type = "application/sdp";
    request->body = local_sdp_;
  }
  if (auth) sip::auth::set_authorization(*request, *auth);
  spdlog::debug("outbound leg {}: session refresh ({})", call_id_, request->method);
  std::weak_ptr<bool> alive = alive_;
  sip::Message sent = *request;
  if (!session_->send_request(std::move(*request), [this, alive, sent = std::move(sent), challenges](const sip::Message& r) {
        if (!alive.expired()) on_refresh_response(sent, r, challenges);
      }))
    session_timer_->retry_refresh(std::chrono::seconds(1));  // a re-INVITE of ours is still out: soon again
}

void OutboundLeg::on_refresh_response(const sip::Message& sent, const sip::Message& r, int challenges) {
  if (r.status_code < 200 || done_) return;
  if (r.status_code < 300) {
    if (sent.method == "INVITE" && !r.body.empty() && !take_refresh_answer(r.body))
      spdlog::warn("outbound leg {}: the answer to our refreshing re-INVITE is not usable; media unchanged", call_id_);
    // §7.4 / §7.2: the 2xx says what runs now; without Session-Expires no timer runs any more.
    timer_terms_ = sip::uac_terms(r);
    if (!timer_terms_) spdlog::info("outbound leg {}: the 2xx to our session refresh has no Session-Expires: "
                                    "no session timer now", call_id_);
    arm_session_timer();
    return;
  }
  if ((r.status_code == 401 || r.status_code == 407) && digest_ && challenges < sip::kMaxChallengeAnswers) {
    auto answer = digest_->answer(sent, r, ctx_.random);
    if (answer.ok()) return send_session_refresh(answer.header, challenges + 1);
  }
  if (r.status_code == 491) {
    // RFC 3261 §14.1: glare; we chose the Call-ID, so we retry within 2.1 to 4 s.
    session_timer_->retry_refresh(std::chrono::milliseconds(2100 + ctx_.random.next() % 1900));
    return;
  }
  if (r.status_code == 408 || r.status_code == 481) {
    spdlog::warn("outbound leg {}: session refresh answered {}: ending the session", call_id_, r.status_code);
    return on_session_expired();  // RFC 4028 §10
  }
  spdlog::warn("outbound leg {}: session refresh refused ({} {}); the session expires unless refreshed", call_id_,
               r.status_code, r.reason);
}

void OutboundLeg::on_session_expired() {
  assert_on_shard();
  if (done_) return;
  ctx_.metrics.sessions_expired.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("outbound leg {}: session expired (RFC 4028: {} s without a refresh); ending it", call_id_,
               timer_terms_ ? timer_terms_->interval : 0);
  done_ = true;
  session_timer_->stop();
  session_->hang_up();
  stop_media();
  record(HangupSide::kLocal);
  observer_->on_target_bye(*this);  // gone like a target that hung up; the call goes on by its rules
}

}  // namespace warmline::server
