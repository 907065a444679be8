#include "server/leg/outbound_leg.hpp"

#include <spdlog/spdlog.h>

#include <cassert>

#include "server/hep_tracer.hpp"
#include "server/leg/leg_codecs.hpp"
#include "server/leg/leg_srtp.hpp"
#include "server/shard.hpp"
#include "server/targets.hpp"
#include "sip/usage/digest_retry.hpp"

namespace warmline::server {

std::string call_id_for_shard(CallContext& ctx) {
  // Expected tries: the number of shards; bounded so that a broken mapping cannot spin.
  std::string id = sip::new_call_id(ctx.random, ctx.sip_host);
  for (int i = 0; i < 4096 && ctx.shard_count > 1 && shard_for_call_id(id, ctx.shard_count) != ctx.shard.index(); ++i)
    id = sip::new_call_id(ctx.random, ctx.sip_host);
  return id;
}

OutboundLeg::OutboundLeg(CallContext& ctx, OutboundLegObserver& observer, OutboundLegOptions options)
    : ctx_(ctx), observer_(&observer), options_(std::move(options)) {
  ctx_.metrics.legs_active.fetch_add(1, std::memory_order_relaxed);
}

OutboundLeg::~OutboundLeg() {
  if (ctx_.trace_links && !options_.trace_correlation.empty()) ctx_.trace_links->retire(call_id_);
  alive_.reset();
  session_timer_->stop();
  ctx_.metrics.legs_active.fetch_sub(1, std::memory_order_relaxed);
  done_ = true;
  session_.reset();  // CANCELs or BYEs what is still up, without callbacks
  old_session_.reset();
  stop_media();
}

void OutboundLeg::stop_media() {
  // An unbridged session keeps sending (silence) to its remote on every tick: a leg that is over must
  // leave the clock, and its socket and port go back at once, not when the owner drops the leg (a
  // failed attempt is kept until the transfer ends).
  if (!media_) return;
  if (media_started_) ctx_.clock.remove(media_.get());
  media_started_ = false;
  media_->close();
}

void OutboundLeg::assert_on_shard() const { assert(ctx_.shard.on_shard()); }

std::unique_ptr<OutboundLeg> OutboundLeg::dial(CallContext& ctx, OutboundLegObserver& observer,
                                               OutboundLegOptions options, std::string& error) {
  assert(ctx.shard.on_shard());
  std::unique_ptr<OutboundLeg> leg(new OutboundLeg(ctx, observer, std::move(options)));
  if (!leg->open_media(error)) return nullptr;
  leg->call_id_ = call_id_for_shard(ctx);
  if (ctx.trace_links && !leg->options_.trace_correlation.empty())
    ctx.trace_links->link(leg->call_id_, leg->options_.trace_correlation);
  if (ctx.ladders && leg->options_.ladder)
    ctx.ladders->watch(leg->call_id_, leg->options_.ladder, leg->options_.ladder->next_dialled_leg());
  leg->from_tag_ = sip::new_tag(ctx.random);
  leg->min_se_ = session_min_se(leg->options_.trunk);  // a 422 may raise it
  if (leg->options_.credentials) leg->digest_ = std::make_shared<sip::auth::DigestClient>(*leg->options_.credentials);
  leg->start_session(1, std::nullopt);  // a failure to send is reported through on_failed
  return leg;
}

bool OutboundLeg::open_media(std::string& error) {
  caps_.local_ip = ctx_.media_ip;
  caps_.session_id = ctx_.random.next() >> 1;
  caps_.session_version = caps_.session_id;
  caps_.local_rtp_port = 1;  // replaced by the bound port below
  caps_.srtp = srtp_mode(options_.trunk);
  // The caller's codec leads (the bridge relays it untouched); when it cannot be offered, the
  // configured codecs in order, one PCM rate per offer (the bridge transcodes). A trunk with its own
  // `codecs` is offered only those, in its order (the caller's first if listed); Opus, which needs a
  // dynamic payload type and an offer of its own, only then: any target takes a static codec.
  const bool own = options_.trunk && !options_.trunk->codecs.empty();
  std::vector<std::string> allowed = own ? options_.trunk->codecs : ctx_.config.media.codecs;
  if (!own) std::erase_if(allowed, [](const std::string& c) { return sip::iequals(c, "opus"); });
  std::vector<std::string> leads{options_.first_codec};
  leads.insert(leads.end(), allowed.begin(), allowed.end());
  sip::SessionDescription offer;
  std::optional<sip::RtpMap> first;
  for (const auto& lead : leads) {
    caps_.codecs = same_rate_codecs(allowed, lead);
    offer = sip::make_offer(caps_);
    if ((first = first_codec(offer))) break;
  }
  if (!first) {
    error = "no codec to offer";
    return false;
  }
  codec_ = sip::NegotiatedCodec{first->payload_type, first->encoding, first->clock_rate, first->channels};
  const std::optional<uint8_t> te = caps_.telephone_event ? std::optional<uint8_t>(caps_.telephone_event_pt) : std::nullopt;
  LegMediaOptions mo{
      .codec_name = codec_.name,
      .clock_rate = codec_.clock_rate,
      .payload_type = codec_.payload_type,
      .telephone_event_pt = te,
      .local_ip = ctx_.media_ip,
      .remote = {},
      .agent_rate = options_.agent_rate,
      .ports = &ctx_.ports,
      .scratch = &ctx_.media_scratch,
      .random_seed = ctx_.random.next() | 1,
      .ringback = std::nullopt,
  };
  mo.dtmf_while_bridged = true;  // the call decides what a target's or referrer's key means
  std::error_code ec;
  // The leg outlives its media (closed in stop_media / the destructor), so `this` is safe here.
  LegMediaHandlers handlers;
  handlers.on_dtmf = [this](char digit, uint32_t ms) { observer_->on_target_dtmf(*this, digit, ms); };
  handlers.on_playout_drained = [this] { observer_->on_target_audio_played(*this); };
  handlers.on_caller_audio = [this](std::span<const int16_t> pcm) { observer_->on_target_audio(*this, pcm); };
  handlers.on_mark = [this](std::string_view name, ai::MarkEvent event) { observer_->on_target_mark(*this, name, event); };
  media_ = ctx_.open_media(std::move(mo), std::move(handlers), ec);
  if (!media_ && ec == std::errc::address_in_use) {  // every RTP port of the shard is taken
    ctx_.metrics.rtp_ports_exhausted.fetch_add(1, std::memory_order_relaxed);
    error = "no_rtp_port: no free RTP port for the target's leg";
    return false;
  }
  if (!media_) {
    error = "no media session: " + ec.message();
    return false;
  }
  media_->set_tap(false);  // the target's audio is decoded for the agent only when a plan says so
  caps_.local_rtp_port = media_->local_port();
  offer_ = sip::make_offer(caps_);
  return true;
}

bool OutboundLeg::start_session(uint32_t cseq, std::optional<sip::auth::AuthorizationHeader> auth) {
  sip::InviteClientOptions o;
  o.call_id = call_id_;
  o.request_uri = options_.request_uri;
  o.from = options_.from;
  o.from.set_tag(from_tag_);
  o.to = options_.to;
  o.contact.uri = contact_uri(ctx_, options_.next_hop.protocol);
  o.extra_headers = options_.extra_headers;
  o.next_hop = options_.next_hop;
  o.sdp_offer = local_sdp_ = offer_.serialize();
  o.allow = allow_header_value();
  o.supported = std::string(kSupportedOptionTags);  // 100rel: the target may send its 18x reliably
  o.cseq = cseq;
  o.from_peer = [this](const sip::Endpoint& source) { return from_peer(source); };
  o.digest = digest_;
  add_session_timer_request(o);
  if (auth) {
    o.prepare_request = [auth = *auth](sip::Message& request) {
      if (request.method == "INVITE") sip::auth::set_authorization(request, auth);
    };
  }
  session_ = std::make_unique<sip::InviteClientSession>(ctx_.sip, ctx_.dialogs, ctx_.random, *this, std::move(o));
  return session_->start();
}

bool OutboundLeg::from_peer(const sip::Endpoint& source) const {
  // The server we sent the INVITE to, or (through a trunk) any address of that trunk.
  if (source.host == options_.next_hop.host) return true;
  return options_.trunk && source_allowed(*options_.trunk, std::string_view(source.host));
}

void OutboundLeg::cancel() {
  assert_on_shard();
  if (session_ && !answered_) session_->cancel();
}

void OutboundLeg::hang_up() {
  assert_on_shard();
  if (done_) return;
  done_ = true;
  session_timer_->stop();
  if (session_) session_->hang_up();
  stop_media();
  record(answered_ ? HangupSide::kLocal : HangupSide::kNone);
}

// The leg's row in the call's record, once (a leg that goes with its call at shutdown has none).
void OutboundLeg::record(HangupSide side) {
  if (recorded_ || !options_.records) return;
  recorded_ = true;
  std::string pai;
  for (const auto& h : options_.extra_headers)
    if (sip::iequals(h.name, "P-Asserted-Identity")) pai = h.value;
  options_.records->push_back(LegRecord{
      .role = LegRole::kB,
      .direction = LegDirection::kOut,
      .remote_uri = options_.request_uri.to_string(),
      .trunk = options_.trunk ? options_.trunk->name : std::string(),
      .sip_call_id = call_id_,
      .from_uri = options_.from.uri.to_string(),
      .to_uri = options_.to.uri.to_string(),
      .pai = std::move(pai),
      .codec = answered_ ? codec_.name : std::string(),
      .started_at = started_at_,
      .answered_at = answered_at_,
      .ended_at = std::chrono::system_clock::now(),
      .final_status = final_status_,
      .hangup_side = side,
  });
}

void OutboundLeg::start_media() {
  if (media_started_) return;
  media_started_ = true;
  media_->start();
  ctx_.clock.add(media_.get());
}

bool OutboundLeg::take_answer(std::string_view sdp) {
  auto parsed = sip::parse_sdp(sdp);
  if (!parsed.sdp) return false;
  auto accepted = sip::accept_answer(offer_, *parsed.sdp, caps_);
  if (!accepted.ok) return false;
  if (std::string error; !apply_srtp(*media_, accepted.srtp, error)) {
    spdlog::warn("outbound leg {}: SRTP keys of the answer refused: {}", call_id_, error);
    return false;
  }
  srtp_keying_ = accepted.srtp;
  if (!sip::iequals(accepted.codec.name, codec_.name) || accepted.codec.payload_type != codec_.payload_type) {
    if (!media_->set_codec(accepted.codec.name, accepted.codec.clock_rate, accepted.codec.payload_type,
                           accepted.telephone_event_pt))
      return false;
    codec_ = accepted.codec;
  }
  follow_remote(accepted.remote_address, accepted.remote_port);
  return true;
}

void OutboundLeg::on_progress(sip::InviteClientSession&, const sip::InviteProgress& progress) {
  assert_on_shard();
  if (done_) return;
  if (!provisional_seen_) {  // post-dial delay: our first INVITE to the target's first 18x
    provisional_seen_ = true;
    ctx_.metrics.post_dial_delay.observe(std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - dialled_at_));
  }
  bool media_now = false;
  if (progress.early_sdp && !early_media_ && take_answer(*progress.early_sdp)) {
    early_media_ = media_now = true;
    start_media();
  }
  observer_->on_target_progress(*this, progress.status, media_now || early_media_);
}

void OutboundLeg::on_answered(sip::InviteClientSession&, const sip::Message& response, std::string_view sdp) {
  assert_on_shard();
  if (done_) return;
  // The 2xx's SDP is the answer (it may differ from the early media's); none at all is only usable when
  // early media already gave us one (RFC 3261 §13.2.1: the answer was in the reliable 18x).
  if (sdp.empty() ? !early_media_ : !take_answer(sdp)) {
    spdlog::warn("outbound leg {}: the 2xx has no usable SDP answer; ending it", call_id_);
    done_ = true;
    session_->hang_up();
    stop_media();
    final_status_ = 200;
    record(HangupSide::kLocal);
    observer_->on_target_failed(*this, OutboundFailure{.status = 488, .reason = "no usable SDP answer", .local = true});
    return;
  }
  answered_ = true;
  answered_at_ = std::chrono::system_clock::now();
  final_status_ = 200;
  start_media();
  start_session_timer(response);
  observer_->on_target_answered(*this);
}

bool OutboundLeg::retry_with_credentials(const sip::InviteFailure& failure) {
  // The digest client decides whether a second challenge deserves an answer (stale=true: once); the
  // count only bounds the retries whatever a server sends.
  if (!digest_ || challenges_ >= sip::kMaxChallengeAnswers || !failure.response || failure.cancelled) return false;
  auto answer = digest_->answer(session_->invite(), *failure.response, ctx_.random);
  if (!answer.ok()) {
    spdlog::warn("outbound leg {}: {} challenge not answered: {}", call_id_, failure.status, answer.error.message());
    return false;
  }
  ++challenges_;
  // §22.2: the same Call-ID, From tag and To, the next CSeq. The challenged session has ended; it is
  // kept until this callback has returned into it.
  const uint32_t cseq = session_->invite().cseq.number + 1;
  old_session_ = std::move(session_);
  start_session(cseq, answer.header);
  return true;
}

void OutboundLeg::on_failed(sip::InviteClientSession& s, const sip::InviteFailure& failure) {
  assert_on_shard();
  if (&s != session_.get() || done_) return;
  if ((failure.status == 401 || failure.status == 407) && retry_with_credentials(failure)) return;
  if (failure.status == 422 && retry_with_min_se(failure)) return;
  done_ = true;
  stop_media();  // early media from a 183 ends with the attempt
  final_status_ = failure.status;
  record(HangupSide::kNone);
  OutboundFailure f{.status = failure.status,
                    .reason = std::string(failure.reason),
                    .local = failure.local,
                    .cancelled = failure.cancelled,
                    .auth_failed = failure.status == 401 || failure.status == 407};
  observer_->on_target_failed(*this, f);
}

void OutboundLeg::on_bye(sip::InviteClientSession&, const sip::Message&) {
  assert_on_shard();
  if (done_) return;
  done_ = true;
  session_timer_->stop();
  stop_media();
  record(HangupSide::kRemote);
  observer_->on_target_bye(*this);
}

std::optional<std::string> OutboundLeg::on_offer(sip::InviteClientSession&, const sip::Message& request) {
  assert_on_shard();
  // The target re-INVITEs (hold, a new address): answered with the codec we run, the way leg a does.
  sip::LocalMediaCaps caps = caps_;
  caps.codecs = {codec_.name};
  caps.session_version = ++caps_.session_version;
  caps.srtp = renegotiation_mode(*media_);  // SRTP stays SRTP (fresh keys), plain stays plain
  // An offer of ours here gets its answer in the ACK, which this leg does not see: an SRTP session is
  // not rekeyed that way, so such a re-INVITE is refused.
  if (request.body.empty()) {
    if (media_->srtp()) return std::nullopt;
    return local_sdp_ = sip::make_offer(caps, codec_, std::nullopt).serialize();
  }
  auto parsed = sip::parse_sdp(request.body);
  if (!parsed.sdp) return std::nullopt;
  auto answer = sip::negotiate_answer(*parsed.sdp, caps);
  if (!answer.ok) return std::nullopt;
  if (std::string error; !apply_srtp(*media_, answer.srtp, error)) return std::nullopt;
  srtp_keying_ = answer.srtp;
  follow_remote(answer.remote_address, answer.remote_port);
  for (auto& m : answer.answer.media)
    if (m.port != 0) m.port = media_->local_port();
  return local_sdp_ = answer.answer.serialize();
}

void OutboundLeg::follow_remote(const std::string& address, uint16_t port) { sdp_remote_.follow(*media_, address, port); }

bool OutboundLeg::take_refresh_answer(std::string_view sdp) {
  auto ours = sip::parse_sdp(local_sdp_);
  auto parsed = sip::parse_sdp(sdp);
  if (!ours.sdp || !parsed.sdp) return false;
  auto accepted = sip::accept_answer(*ours.sdp, *parsed.sdp, caps_);
  if (!accepted.ok) return false;
  // New contexts only for new keys: the same keys go on in the running contexts, whose rollover
  // counters and replay windows a fresh context would lose (RFC 3711 §3.3.1).
  if (!same_srtp_keys(accepted.srtp, srtp_keying_)) {
    if (std::string error; !apply_srtp(*media_, accepted.srtp, error)) return false;
    srtp_keying_ = accepted.srtp;
  }
  follow_remote(accepted.remote_address, accepted.remote_port);
  return true;
}

void OutboundLeg::on_terminated(sip::InviteClientSession&, sip::InviteEnd) {}

void OutboundLegObserver::on_target_refer(OutboundLeg& leg, sip::ServerTransaction& tx, const sip::Message& refer) {
  leg.answer(tx, refer, 403, "Forbidden - REFER not accepted");
}

void OutboundLeg::on_refer(sip::InviteClientSession&, sip::ServerTransaction& tx, const sip::Message& refer) {
  assert_on_shard();
  if (done_ || !answered_) return answer(tx, refer, 403, "Forbidden - REFER not accepted");
  observer_->on_target_refer(*this, tx, refer);
}

void OutboundLeg::on_dtmf(sip::InviteClientSession&, char digit, uint32_t duration_ms) {
  assert_on_shard();
  if (!done_ && answered_) observer_->on_target_dtmf(*this, digit, duration_ms);
}

void OutboundLeg::answer(sip::ServerTransaction& tx, const sip::Message& request, int status, std::string_view reason,
                         const std::vector<sip::Header>& extra_headers) {
  if (session_) session_->answer(tx, request, status, reason, extra_headers);
}

std::optional<sip::Message> OutboundLeg::new_request(std::string_view method) {
  if (done_ || !session_) return std::nullopt;
  return session_->new_request(method);
}

bool OutboundLeg::send_request(sip::Message request, sip::ResponseHandler handler) {
  if (done_ || !session_) return false;
  return session_->send_request(std::move(request), std::move(handler)) != 0;
}

}  // namespace warmline::server
