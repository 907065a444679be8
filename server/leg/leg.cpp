#include "server/leg/leg.hpp"

#include <spdlog/spdlog.h>

#include <cassert>

#include "server/leg/leg_codecs.hpp"
#include "server/leg/leg_srtp.hpp"
#include "server/targets.hpp"
#include "sip/builders.hpp"
#include "sip/usage/digest_retry.hpp"
#include "sip/usage/invite_client_messages.hpp"

namespace warmline::server {

using sip::has_sdp;

std::string_view to_string(Leg::State state) {
  switch (state) {
    case Leg::State::kEarly: return "early";
    case Leg::State::kAnswered: return "answered";
    case Leg::State::kConfirmed: return "confirmed";
    case Leg::State::kTerminated: return "terminated";
  }
  return "terminated";
}

Leg::Leg(CallContext& ctx, LegObserver& observer, UasOptions options)
    : ctx_(ctx), observer_(observer), options_(std::move(options)) {
  ctx_.metrics.legs_active.fetch_add(1, std::memory_order_relaxed);
  // Carriers that challenge REFER or BYE in the dialog of a call they sent us want the credentials
  // they know us by: the trunk's (the same ones our INVITEs and REGISTERs through it carry).
  if (const TrunkConfig* t = options_.trunk; t && (!t->username.empty() || !t->password.empty()))
    digest_ = std::make_shared<sip::auth::DigestClient>(sip::auth::DigestCredentials{t->username, t->password});
}

Leg::~Leg() {
  alive_.reset();  // our refresh's response handler, if one is still out, now does nothing
  ctx_.metrics.legs_active.fetch_sub(1, std::memory_order_relaxed);
  // Only when the shard shuts down with the ACK still out: a BYE now beats a call the carrier keeps
  // billing until its own timers end it.
  if (bye_on_ack_) send_bye();
  if (registered_) ctx_.dialogs.remove(dialog_.id(), this);
  if (media_) {
    if (media_started_) ctx_.clock.remove(media_.get());
    media_->close();
  }
}

void Leg::assert_on_shard() const { assert(ctx_.shard.on_shard()); }

std::unique_ptr<Leg> Leg::accept_invite(CallContext& ctx, LegObserver& observer, sip::ServerTransaction tx,
                                        const sip::Message& invite, UasOptions options, int& status,
                                        std::string& reason) {
  assert(ctx.shard.on_shard());
  std::unique_ptr<Leg> leg(new Leg(ctx, observer, std::move(options)));
  leg->invite_tx_ = tx;
  leg->history_.asserted_identity = std::string(invite.header("P-Asserted-Identity"));
  leg->history_.privacy = std::string(invite.header("Privacy"));
  const sip::Endpoint* source = tx.source();
  const sip::Protocol protocol = source ? source->protocol : sip::Protocol::udp;
  sip::NameAddr contact;
  contact.uri = contact_uri(ctx, protocol);
  leg->dialog_ = sip::Dialog::from_uas(invite, sip::new_tag(ctx.random), contact);
  // Over TCP/TLS our requests in the call (BYE, REFER, re-INVITE) go back over the caller's connection.
  if (source && sip::is_stream(protocol)) leg->dialog_.flow = *source;
  leg->reliable_mode_ = sip::reliable_mode(invite);
  if (leg->reliable_mode_ != sip::ReliableMode::kNever) {
    Leg* self = leg.get();  // the leg owns reliable_, whose destructor cancels its timers
    // RFC 3262 §3: the first RSeq is drawn "uniformly between 1 and 2**31 - 1".
    const auto first_rseq = static_cast<uint32_t>(ctx.random.next() % 0x7FFFFFFFu) + 1;
    leg->reliable_ = std::make_unique<sip::ReliableProvisionals>(
        ctx.timers, ctx.sip.config(), first_rseq,
        [self](const sip::Message& r) { return self->invite_tx_.respond(r); }, [self] { self->on_no_prack(); });
  }
  leg->negotiate_session_timer(invite);

  sip::LocalMediaCaps& caps = leg->options_.caps;
  std::optional<sip::AnswerResult> answer;
  if (has_sdp(invite)) {
    auto offer = sip::parse_sdp(invite.body);
    if (!offer.sdp) {
      status = 400;
      reason = "Bad Request - Malformed SDP";
      return nullptr;
    }
    answer = sip::negotiate_answer(*offer.sdp, caps);
    if (!answer->ok) {
      status = answer->status_code ? answer->status_code : 488;
      reason = answer->reason_phrase.empty() ? "Not Acceptable Here" : answer->reason_phrase;
      return nullptr;
    }
  } else if (!invite.body.empty()) {
    status = 415;  // a body we cannot read as SDP: the shard's capability check already said so
    reason = "Unsupported Media Type";
    return nullptr;
  }

  std::error_code ec;
  if (answer) {
    if (!leg->open_media(answer->codec, answer->telephone_event_pt, answer->remote_address, answer->remote_port, ec)) {
      if (ec == std::errc::address_in_use) {  // every RTP port of the shard is taken (rtp/session.cpp)
        ctx.metrics.rtp_ports_exhausted.fetch_add(1, std::memory_order_relaxed);
        status = 503;  // with Retry-After (SipRouter::reject): a proxy tries another node
        reason = "Service Unavailable - no free RTP port";
        return nullptr;
      }
      status = ec == std::errc::protocol_not_supported ? 488 : 500;
      reason = status == 488 ? "Not Acceptable Here" : "Server Internal Error";
      return nullptr;
    }
    if (std::string error; !apply_srtp(*leg->media_, answer->srtp, error)) {
      spdlog::info("leg {}: SRTP keys refused: {}", leg->dialog_.call_id, error);
      status = 488;
      reason = "Not Acceptable Here";
      return nullptr;
    }
    leg->srtp_keying_ = answer->srtp;
    for (auto& m : answer->answer.media)
      if (m.port != 0) m.port = leg->media_->local_port();
    leg->local_sdp_ = answer->answer.serialize();
  } else {
    // Late offer: we offer the configured codecs that share the first one's PCM rate (the media
    // session is opened for that rate now, so its port can go into the offer; the answer in the ACK
    // may pick any of them).
    leg->late_offer_ = true;
    sip::LocalMediaCaps offer_caps = caps;
    offer_caps.codecs = same_rate_codecs(caps.codecs);
    caps.codecs = offer_caps.codecs;
    sip::SessionDescription offer = sip::make_offer(offer_caps);
    auto codec = first_codec(offer);
    if (!codec || !leg->open_media(sip::NegotiatedCodec{codec->payload_type, codec->encoding, codec->clock_rate,
                                                         codec->channels},
                                   caps.telephone_event ? std::optional<uint8_t>(caps.telephone_event_pt) : std::nullopt,
                                   "", 0, ec)) {
      status = 500;
      reason = "Server Internal Error";
      return nullptr;
    }
    caps.local_rtp_port = leg->media_->local_port();
    offer_caps.local_rtp_port = caps.local_rtp_port;
    offer = sip::make_offer(offer_caps);
    leg->local_sdp_ = offer.serialize();
    leg->pending_offer_ = std::move(offer);
  }
  caps.local_rtp_port = leg->media_->local_port();
  leg->registered_ = ctx.dialogs.add(leg->dialog_.id(), leg.get());
  return leg;
}

bool Leg::open_media(const sip::NegotiatedCodec& codec, std::optional<uint8_t> te_pt, const std::string& remote_ip,
                     uint16_t remote_port, std::error_code& ec) {
  codec_ = codec;
  telephone_event_pt_ = te_pt;
  boost::system::error_code addr_ec;
  auto ip = remote_ip.empty() ? boost::asio::ip::address() : boost::asio::ip::make_address(remote_ip, addr_ec);
  boost::asio::ip::udp::endpoint remote;
  if (!remote_ip.empty() && !addr_ec) remote = boost::asio::ip::udp::endpoint(ip, remote_port);
  sdp_remote_.set(remote_ip, remote_port);
  LegMediaOptions mo{
      .codec_name = codec.name,
      .clock_rate = codec.clock_rate,
      .payload_type = codec.payload_type,
      .telephone_event_pt = te_pt,
      .local_ip = ctx_.media_ip,
      .remote = remote,
      .agent_rate = options_.agent_rate,
      .ports = &ctx_.ports,
      .scratch = &ctx_.media_scratch,
      .random_seed = ctx_.random.next() | 1,
      .ringback = options_.ringback,
      .agent_payload_codecs = options_.agent_payload_codecs,
      .hold_music = ctx_.hold_music,
  };
  LegMediaHandlers mh{
      .on_caller_audio = [this](std::span<const int16_t> pcm) { observer_.on_leg_audio(*this, pcm); },
      .on_caller_payload = options_.agent_payload_codecs.empty()
                               ? std::function<void(std::span<const uint8_t>)>{}
                               : [this](std::span<const uint8_t> payload) { observer_.on_leg_payload(*this, payload); },
      .on_dtmf = [this](char digit, uint32_t ms) { observer_.on_leg_dtmf(*this, digit, ms); },
      .on_mark = [this](std::string_view name, ai::MarkEvent ev) { observer_.on_leg_mark(*this, name, ev); },
      .on_playout_drained = [this] { observer_.on_leg_playout_drained(*this); },
      .on_playout_overflow = [this](uint64_t total) { observer_.on_leg_playout_overflow(*this, total); },
  };
  media_ = ctx_.open_media(std::move(mo), std::move(mh), ec);
  return media_ != nullptr;
}

void Leg::start_media() {
  if (media_started_ || !media_) return;
  media_started_ = true;
  media_->start();
  ctx_.clock.add(media_.get());
}

void Leg::follow_remote(const std::string& address, uint16_t port) { sdp_remote_.follow(*media_, address, port); }

bool Leg::from_peer(const sip::Endpoint* source) const {
  // Requests inside the dialog come from the trunk that set it up (behind a proxy: the proxy, which is
  // that trunk's address). A leg without a trunk (tests of the leg alone) accepts its peer as is.
  if (!options_.trunk) return true;
  return source && source_allowed(*options_.trunk, std::string_view(source->host));
}

sip::Message Leg::dialog_response(const sip::Message& request, int status, std::string_view reason) const {
  sip::Message r = sip::make_response(request, status, reason);
  r.to.set_tag(dialog_.local_tag);
  // §12.1.1: a response that creates or confirms the dialog carries the request's Record-Route, in
  // order, so that the caller's ACK and BYE take the same proxies (Kamailio's dispatcher relies on it).
  if (request.method == "INVITE" && status > 100 && status < 300) r.record_routes = request.record_routes;
  if (status > 100 && status < 300) r.contacts.push_back(dialog_.local_contact);
  return r;
}

sip::Message Leg::with_sdp(sip::Message response) const {
  response.add_header("Allow", allow_header_value());
  response.add_header("Supported", kSupportedOptionTags);
  response.content_type = "application/sdp";
  response.body = local_sdp_;
  return response;
}

void Leg::ring(Provisional kind) {
  assert_on_shard();
  if (state_ != State::kEarly || kind == Provisional::none) return;  // the 100 Trying is all they get
  const sip::Message* invite = invite_tx_.request();
  if (!invite) return;
  if (late_offer_) return ring_with_offer(kind, *invite);
  if (kind == Provisional::ringing) {
    (void)send_provisional(dialog_response(*invite, 180, "Ringing"));
    return;
  }
  if (!send_provisional(with_sdp(dialog_response(*invite, 183, "Session Progress")))) return;
  start_media();
}

void Leg::ring_with_offer(Provisional kind, const sip::Message& invite) {
  // An offer may not ride in an unreliable 18x (RFC 3261 §13.3.1.1 + RFC 3262), and the first reliable
  // one must carry it (RFC 3261 §13.2.1). Without 100rel a late offer rings with 180 and offers in the
  // 200. With it, our offer goes in a reliable 183 (early media) or, when 100rel is required, in the
  // reliable 180 that ringing then has to be; the answer comes in the PRACK (RFC 3262 §5). A phone that
  // plays an 18x's SDP as early media (RFC 3960) hears silence after that 180: warmline plays ringback
  // only in a 183 (the trunk's provisional = "183").
  const bool reliable_ringing = reliable_mode_ == sip::ReliableMode::kRequired;
  if (!reliable_ || (kind == Provisional::ringing && !reliable_ringing)) {
    (void)send_provisional(dialog_response(invite, 180, "Ringing"));
    return;
  }
  const bool early_media = kind == Provisional::session_progress;
  sip::Message offer = early_media ? dialog_response(invite, 183, "Session Progress")
                                   : dialog_response(invite, 180, "Ringing");
  if (send_provisional(with_sdp(std::move(offer)))) media_on_prack_answer_ = early_media;
}

bool Leg::send_provisional(sip::Message response) {
  // RFC 3262 §3: a 183 with our SDP goes reliably whenever the INVITE lists 100rel (early media whose
  // answer is lost leaves the caller in silence); a 180 without a body only when it was required.
  const bool reliable = reliable_ && (reliable_mode_ == sip::ReliableMode::kRequired || !response.body.empty());
  if (!reliable) return invite_tx_.respond(std::move(response));
  response.set_header("Supported", kSupportedOptionTags);
  return reliable_->send(std::move(response));
}

bool Leg::answer() {
  assert_on_shard();
  if (state_ != State::kEarly) return state_ != State::kTerminated;
  if (answer_held_) return true;
  if (!invite_tx_.request()) return false;
  // RFC 3262 §3: "If the UAS ... sends a final response ... unless the final response is 2xx and any
  // of the unacknowledged reliable provisional responses contained a session description. In that
  // case, it MUST NOT send a final response until those provisional responses are acknowledged."
  if (reliable_ && reliable_->unacknowledged_with_body()) {
    answer_held_ = true;
    return true;
  }
  return send_answer();
}

bool Leg::send_answer() {
  const sip::Message* invite = invite_tx_.request();
  if (!invite) return false;
  sip::Message ok = with_sdp(dialog_response(*invite, 200, "OK"));
  if (timer_terms_) sip::add_uas_timer_headers(ok, *timer_terms_);
  if (!invite_tx_.respond(std::move(ok))) return false;
  if (reliable_) reliable_->stop();  // §3: no more retransmissions once final (a 180 not yet PRACKed)
  state_ = State::kAnswered;
  arm_session_timer();
  history_.answered_at = std::chrono::system_clock::now();
  ctx_.metrics.call_setup.observe(*history_.answered_at - history_.started_at);
  history_.final_status = 200;
  if (!pending_offer_) start_media();  // an offer of ours still open: media starts once the ACK answers
  return true;
}

void Leg::on_no_prack() {
  // RFC 3262 §3: "If a reliable provisional response is retransmitted for 64*T1 seconds without
  // reception of a corresponding PRACK, the UAS SHOULD reject the original request with a 5xx".
  if (state_ != State::kEarly) return;
  spdlog::warn("leg {}: no PRACK for our reliable provisional response", dialog_.call_id);
  refuse_invite(500, "Server Internal Error - No PRACK", "no_prack");
}

void Leg::refuse_invite(int status, std::string_view reason, std::string_view why) {
  if (const sip::Message* invite = invite_tx_.request()) {
    invite_tx_.respond(dialog_response(*invite, status, reason));
    history_.final_status = status;
  }
  answer_held_ = false;
  terminate();
  observer_.on_leg_failed(*this, why);
}

bool Leg::on_ack(const sip::Message& ack, const sip::Endpoint& from) {
  assert_on_shard();
  if (!from_peer(&from)) {
    ctx_.metrics.sip_dialog_rejected.fetch_add(1, std::memory_order_relaxed);
    return false;  // an ACK is never answered; a foreign one changes nothing, not even our 2xx's resends
  }
  if (bye_on_ack_) {
    send_deferred_bye();
    return true;
  }
  if (pending_offer_ && !take_answer(ack)) {
    if (state_ == State::kAnswered) {
      // RFC 3261 §13.2.2.4 / RFC 3264: the initial answer is missing or unusable: the session cannot
      // exist; it ends with BYE.
      state_ = State::kConfirmed;
      observer_.on_leg_failed(*this, "sdp_failed");
      return true;
    }
  }
  if (state_ != State::kAnswered) return true;  // an ACK for a re-INVITE's 2xx
  state_ = State::kConfirmed;
  start_media();
  observer_.on_leg_confirmed(*this);
  return true;
}

bool Leg::take_answer(const sip::Message& carrier) {
  sip::SessionDescription offer = std::move(*pending_offer_);
  pending_offer_.reset();
  const std::string& in = carrier.method;  // the ACK, or the PRACK of our reliable 18x
  if (!has_sdp(carrier)) {
    spdlog::info("leg {}: the {} carried no answer to our offer", dialog_.call_id, in);
    return false;
  }
  return follow_answer(offer, carrier.body, in);
}

bool Leg::follow_answer(const sip::SessionDescription& offer, std::string_view sdp, std::string_view in) {
  auto parsed = sip::parse_sdp(sdp);
  if (!parsed.sdp) {
    spdlog::info("leg {}: malformed SDP answer in the {}: {}", dialog_.call_id, in, parsed.error);
    return false;
  }
  auto accepted = sip::accept_answer(offer, *parsed.sdp, options_.caps);
  if (!accepted.ok) {
    spdlog::info("leg {}: unusable answer in the {}: {}", dialog_.call_id, in, accepted.failure_reason);
    return false;
  }
  if (media_->srtp() && !accepted.srtp) {
    spdlog::info("leg {}: the answer in the {} drops SRTP; keeping the running session", dialog_.call_id, in);
    return false;
  }
  // New contexts only for new keys: the same keys go on in the running contexts, whose rollover
  // counters and replay windows a fresh context would lose (RFC 3711 §3.3.1).
  const bool rekey = !same_srtp_keys(accepted.srtp, srtp_keying_);
  std::shared_ptr<rtp::SrtpSession> srtp;
  if (rekey && accepted.srtp) {
    std::string error;
    if (!(srtp = make_srtp_session(*accepted.srtp, error))) {
      spdlog::info("leg {}: SRTP keys in the {} refused: {}", dialog_.call_id, in, error);
      return false;
    }
  }
  if (!follow_codec(accepted.codec, accepted.telephone_event_pt)) return false;  // another PCM rate
  if (rekey) {
    media_->set_srtp(std::move(srtp));
    srtp_keying_ = accepted.srtp;
  }
  follow_remote(accepted.remote_address, accepted.remote_port);
  return true;
}

bool Leg::follow_codec(const sip::NegotiatedCodec& codec, std::optional<uint8_t> telephone_event_pt) {
  if (codec.payload_type == codec_.payload_type && telephone_event_pt == telephone_event_pt_) return true;
  if (!media_->set_codec(codec.name, codec.clock_rate, codec.payload_type, telephone_event_pt)) return false;
  codec_ = codec;
  telephone_event_pt_ = telephone_event_pt;
  return true;
}

void Leg::on_cancel(sip::ServerTransaction& invite_tx, const sip::Message&, const sip::Endpoint& from) {
  assert_on_shard();
  // §9.2: the layer answered the CANCEL. One from outside the trunk does not end the call.
  if (!from_peer(&from) || state_ != State::kEarly) return;
  invite_tx.respond(dialog_response(*invite_tx.request(), 487, "Request Terminated"));
  history_.final_status = 487;
  history_.ended_by_peer = true;
  terminate();
  observer_.on_leg_cancelled(*this);
}

void Leg::on_ack_timeout() {
  assert_on_shard();
  if (bye_on_ack_) return send_deferred_bye();  // §15: the server transaction timed out; BYE now
  if (state_ != State::kAnswered) return;
  spdlog::warn("leg {}: no ACK for our 200 OK", dialog_.call_id);
  // §13.3.1.4: "the dialog is confirmed, but the session SHOULD be terminated ... with a BYE": the
  // hang-up this leads to sends its BYE now, with no ACK left to wait for.
  state_ = State::kConfirmed;
  observer_.on_leg_failed(*this, "no_ack");
}

void Leg::on_2xx_retransmission(const sip::Message& response, const sip::Endpoint& from) {
  // The only INVITE a UAS leg sends is a session refresh (leg_session_timer.cpp): its 2xx, resent
  // because our ACK was lost, gets the same ACK again (§13.2.2.4).
  if (!refresh_ack_ || !from_peer(&from) || response.cseq.number != refresh_invite_cseq_) return;
  (void)ctx_.sip.send_ack(*refresh_ack_, dialog_.next_hop());
}

void Leg::on_request(sip::ServerTransaction& tx, const sip::Message& req) {
  assert_on_shard();
  if (!from_peer(tx.source())) {
    ctx_.metrics.sip_dialog_rejected.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("leg {}: {} from {} refused: not from trunk {}", dialog_.call_id, req.method,
                 tx.source() ? tx.source()->to_string() : "?", options_.trunk ? options_.trunk->name : "");
    tx.respond(dialog_response(req, 403, "Forbidden"));
    return;
  }
  if (state_ == State::kTerminated && !(bye_on_ack_ && req.method == "BYE")) {
    tx.respond(dialog_response(req, 481, "Call/Transaction Does Not Exist"));
    return;
  }
  if (!dialog_.accept_remote_cseq(req.cseq.number)) {
    tx.respond(dialog_response(req, 500, "Server Internal Error - CSeq out of order"));
    return;
  }
  if (req.method == "BYE") return on_bye(tx);
  if (req.method == "INVITE" || req.method == "UPDATE") return on_session_request(tx, req);
  if (req.method == "INFO") return on_info(tx, req);
  if (req.method == "PRACK") return on_prack(tx, req);
  if (req.method == "NOTIFY") return observer_.on_leg_notify(*this, tx, req);
  if (req.method == "OPTIONS") {
    sip::Message r = dialog_response(req, 200, "OK");
    r.add_header("Allow", allow_header_value());
    r.add_header("Accept", "application/sdp");
    tx.respond(std::move(r));
    return;
  }
  if (req.method == "REFER") return observer_.on_leg_refer(*this, tx, req);
  sip::Message r = dialog_response(req, 405, "Method Not Allowed");
  r.add_header("Allow", allow_header_value());
  tx.respond(std::move(r));
}

void Leg::on_bye(sip::ServerTransaction& tx) {
  tx.respond(dialog_response(*tx.request(), 200, "OK"));
  if (bye_on_ack_) {  // they ended it first while our BYE waited for their ACK: ours is not needed
    bye_on_ack_ = false;
    return observer_.on_leg_closed(*this);
  }
  // §15: a caller may end an early dialog with BYE; the INVITE then still needs its final answer.
  if (state_ == State::kEarly)
    if (const sip::Message* invite = invite_tx_.request()) {
      invite_tx_.respond(dialog_response(*invite, 487, "Request Terminated"));
      history_.final_status = 487;
    }
  history_.ended_by_peer = true;
  terminate();
  observer_.on_leg_bye(*this);
}

sip::Message Leg::new_request(std::string_view method) {
  assert_on_shard();
  return dialog_.make_request(method);
}

void Leg::respond(sip::ServerTransaction& tx, const sip::Message& request, int status, std::string_view reason,
                  const std::vector<sip::Header>& extra_headers) {
  assert_on_shard();
  sip::Message r = dialog_response(request, status, reason);
  for (const auto& h : extra_headers) r.add_header(h.name, h.value);
  tx.respond(std::move(r));
}

void LegObserver::on_leg_refer(Leg& leg, sip::ServerTransaction& tx, const sip::Message& refer) {
  leg.respond(tx, refer, 403, "Forbidden - REFER not accepted");
}

void Leg::send(sip::Message request, sip::ResponseHandler handler) {
  assert_on_shard();
  ctx_.sip.send_request(std::move(request), dialog_.next_hop(), std::move(handler));
}

void Leg::hang_up() {
  assert_on_shard();
  switch (state_) {
    case State::kTerminated: return;
    case State::kEarly:
      if (const sip::Message* invite = invite_tx_.request()) {
        invite_tx_.respond(dialog_response(*invite, 480, "Temporarily Unavailable"));
        history_.final_status = 480;
      }
      break;
    case State::kAnswered:
      bye_on_ack_ = true;
      break;
    case State::kConfirmed:
      send_bye();
      break;
  }
  terminate();
}

void Leg::send_deferred_bye() {
  bye_on_ack_ = false;
  send_bye();
  observer_.on_leg_closed(*this);
}

void Leg::send_bye() {
  // A challenge to it is answered from the transaction's handler: the leg goes with its call at once.
  (void)sip::send_answering_challenges(ctx_.sip, new_request("BYE"), dialog_.next_hop(), digest_, nullptr);
}

std::optional<sip::Message> Leg::answer_challenge(const sip::Message& sent, const sip::Message& challenge) {
  assert_on_shard();
  if (!digest_) {
    spdlog::info("leg {}: {} challenged ({}), and trunk {} has no credentials", dialog_.call_id, sent.method,
                 challenge.status_code, options_.trunk ? options_.trunk->name : "");
    return std::nullopt;
  }
  if (state_ == State::kTerminated) return std::nullopt;
  // §12.2.1.1: the retry is a new request of the dialog, so it takes the dialog's next CSeq (which is
  // not necessarily sent + 1) and moves the dialog's count on.
  const uint32_t cseq = dialog_.local_cseq.value_or(sent.cseq.number) + 1;
  sip::ChallengeRetry retry = sip::build_challenge_retry(*digest_, sent, challenge, cseq, ctx_.random);
  if (!retry.ok()) {
    spdlog::warn("leg {}: {} challenge to {} not answered: {}", dialog_.call_id, challenge.status_code, sent.method,
                 retry.error.message());
    return std::nullopt;
  }
  dialog_.local_cseq = cseq;
  return std::move(retry.request);
}

void Leg::terminate() {
  state_ = State::kTerminated;
  if (!history_.ended_at) history_.ended_at = std::chrono::system_clock::now();
  if (media_ && media_started_) {
    ctx_.clock.remove(media_.get());
    media_started_ = false;
  }
  if (media_) media_->close();
}

}  // namespace warmline::server
