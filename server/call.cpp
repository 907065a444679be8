// The SIP side of a call: answering, the dialog's in-dialog requests, and ending.
#include "server/call.hpp"

#include <spdlog/spdlog.h>

#include <cassert>

#include "sip/builders.hpp"
#include "sip/uri.hpp"

namespace warmline::server {

namespace {

// The user part of a URI (unescaped) when it has one — the number, for a carrier — else the URI.
std::string party(const sip::NameAddr& na) {
  if (na.uri.is_sip() && !na.uri.user.empty()) {
    std::string user = sip::uri_unescape(na.uri.user);
    return user.substr(0, user.find(';'));
  }
  return na.uri.to_string();
}

std::string_view ringback_country(Ringback r) {
  switch (r) {
    case Ringback::us: return "us";
    case Ringback::etsi: return "etsi";
    case Ringback::uk: return "uk";
  }
  return "us";
}

}  // namespace

std::string_view to_string(CallState state) {
  switch (state) {
    case CallState::kRinging: return "ringing";
    case CallState::kAnswered: return "answered";
    case CallState::kActive: return "active";
    case CallState::kEnded: return "ended";
  }
  return "ended";
}

Call::Call(CallContext& ctx, const AgentConfig& agent, std::string id)
    : ctx_(ctx), agent_(agent), id_(std::move(id)) {}

CallSnapshot Call::snapshot() const {
  CallSnapshot s{.id = id_, .from = from_, .to = to_, .agent = agent_.name,
                 .state = std::string(to_string(state_)), .started_at = started_at_, .transfer = std::nullopt};
  if (transfer_ && !transfer_->current.name.empty())
    s.transfer = TransferSnapshot{transfer_->id, transfer_->current.name, transfer_->last_state, transfer_->result,
                                  transfer_->last_status};
  return s;
}

Call::~Call() {
  if (media_) {
    ctx_.clock.remove(media_.get());
    media_->close();
  }
}

int Call::start(sip::ServerTransaction tx, const sip::Message& invite, const sip::AnswerResult& answer,
                const sip::LocalMediaCaps& caps, const TrunkConfig* trunk) {
  assert(ctx_.shard.on_shard());
  trunk_ = trunk;
  invite_tx_ = tx;
  invite_cseq_ = invite.cseq.number;
  caps_ = caps;
  from_ = party(invite.from);
  to_ = party(invite.to);
  for (const auto& h : invite.headers)
    if (h.name.size() > 2 && (h.name[0] == 'X' || h.name[0] == 'x') && h.name[1] == '-')
      x_headers_.emplace_back(h.name, h.value);

  sip::NameAddr contact;
  contact.uri.scheme = "sip";
  contact.uri.host = ctx_.sip_host;
  contact.uri.port = ctx_.sip_port;
  dialog_ = sip::Dialog::from_uas(invite, sip::new_tag(ctx_.random), contact);

  boost::system::error_code addr_ec;
  auto remote_ip = boost::asio::ip::make_address(answer.remote_address, addr_ec);
  CallMediaOptions mo{
      .codec_name = answer.codec.name,
      .clock_rate = answer.codec.clock_rate,
      .payload_type = answer.codec.payload_type,
      .telephone_event_pt = answer.telephone_event_pt,
      .local_ip = ctx_.media_ip,
      .remote = addr_ec ? boost::asio::ip::udp::endpoint{} : boost::asio::ip::udp::endpoint(remote_ip, answer.remote_port),
      .agent_rate = agent_.protocol == AgentProtocol::twilio ? 8000u : agent_.sample_rate,
      .ports = &ctx_.ports,
      .scratch = &ctx_.media_scratch,
      .random_seed = ctx_.random.next() | 1,
      .ringback = media::national_tone(ringback_country(ctx_.config.media.ringback), media::ToneKind::kRingback),
  };
  auto self = weak();
  CallMediaHandlers mh{
      .on_caller_audio = [this](std::span<const int16_t> pcm) {
        if (agent_open_) agent_conn_->send_audio(pcm);
      },
      .on_dtmf = [this](char digit, uint32_t ms) { on_caller_dtmf(digit, ms); },
      .on_mark = [this](std::string_view name, ai::MarkEvent ev) { send_to_agent(ai::encode_mark(name, ev)); },
      .on_playout_drained = [this] { after_agent_audio(); },
  };
  sdp_remote_ = mo.remote;
  std::error_code ec;
  media_ = CallMedia::open(ctx_.shard.io(), mo, std::move(mh), ec);
  if (!media_) {
    spdlog::error("call {}: cannot open media: {}", id_, ec.message());
    return 500;
  }
  // The answer is built now (the RTP port is known) and sent once the agent is connected.
  sip::AnswerResult a = answer;
  for (auto& m : a.answer.media)
    if (m.port != 0) m.port = media_->local_port();
  answer_sdp_ = a.answer.serialize();

  send_provisional();
  spdlog::info("call {}: {} -> {} (agent {}, {} pt {}, sip call-id {})", id_, from_, to_, agent_.name,
               answer.codec.name, answer.codec.payload_type, dialog_.call_id);
  connect_agent();
  return 0;
}

void Call::after_agent_audio() {
  if (state_ == CallState::kEnded || agent_audio_pending()) return;
  if (transfer_ && transfer_->waiting_playout) return send_refer();
  if (hang_up_when_drained_) hangup(agent_gone_ ? "agent_unreachable" : "agent_hangup");
}

sip::Message Call::response_with_answer(const sip::Message& invite, int status, std::string_view reason) const {
  sip::Message r = sip::make_response(invite, status, reason);
  r.to.set_tag(dialog_.local_tag);
  r.contacts.push_back(dialog_.local_contact);
  r.add_header("Allow", kAllowedMethods);
  r.add_header("Supported", "norefersub");
  r.content_type = "application/sdp";
  r.body = answer_sdp_;
  return r;
}

void Call::start_media() {
  if (media_started_) return;
  media_started_ = true;
  media_->start();
  ctx_.clock.add(media_.get());
}

void Call::send_provisional() {
  const Provisional kind = trunk_ ? trunk_->provisional : Provisional::ringing;
  if (kind == Provisional::none) return;  // the transaction's own 100 Trying is all the caller gets
  if (kind == Provisional::ringing) {
    invite_tx_.respond(180, "Ringing", dialog_.local_tag);
    return;
  }
  // 183 with the answer: early media, and what flows in it is our ringback until the agent is there.
  const sip::Message* invite = invite_tx_.request();
  if (!invite || !invite_tx_.respond(response_with_answer(*invite, 183, "Session Progress"))) return;
  start_media();
  media_->set_ringback(true);
}

void Call::answer() {
  if (state_ != CallState::kRinging) return;
  const sip::Message* invite = invite_tx_.request();
  if (!invite) return;  // the INVITE transaction is gone (cancelled meanwhile)
  if (!invite_tx_.respond(response_with_answer(*invite, 200, "OK"))) return;
  state_ = CallState::kAnswered;
  if (!transfer_) media_->set_ringback(false);
  start_media();
}

void Call::on_ack(const sip::Message&) {
  if (state_ == CallState::kAnswered) state_ = CallState::kActive;
}

void Call::on_ack_timeout() {
  spdlog::warn("call {}: no ACK for our 200 OK; ending the call", id_);
  hangup("no_ack");
}

void Call::on_cancel(sip::ServerTransaction& invite_tx) {
  // §9.2: the layer answered the CANCEL; the INVITE gets 487 and the call never existed for the AI
  // beyond its start.
  invite_tx.respond(487, "Request Terminated", dialog_.local_tag);
  finish("caller_cancelled");
}

void Call::on_request(sip::ServerTransaction& tx, const sip::Message& req) {
  if (!dialog_.accept_remote_cseq(req.cseq.number)) {
    tx.respond(500, "Server Internal Error - CSeq out of order", dialog_.local_tag);
    return;
  }
  if (req.method == "BYE") return on_bye(tx);
  if (req.method == "INVITE") return on_reinvite(tx, req);
  if (req.method == "NOTIFY") return on_notify(tx, req);
  if (req.method == "OPTIONS" || req.method == "INFO") {
    tx.respond(200, "OK", dialog_.local_tag);
    return;
  }
  if (req.method == "REFER") {
    // DESIGN.md toll-fraud rules: we never act on a REFER from the caller's side.
    tx.respond(403, "Forbidden - REFER not accepted", dialog_.local_tag);
    return;
  }
  sip::Message r = sip::make_response(req, 405, "Method Not Allowed");
  r.to.set_tag(dialog_.local_tag);
  r.add_header("Allow", kAllowedMethods);
  tx.respond(std::move(r));
}

void Call::on_bye(sip::ServerTransaction& tx) {
  tx.respond(200, "OK", dialog_.local_tag);
  remote_bye_ = true;
  std::string_view reason = "caller_hangup";
  if (transfer_) {
    auto update = transfer_->progress.on_caller_bye();
    if (update && update->result == TransferResult::kCompleted) reason = "transferred";
    apply(update);
  }
  finish(reason);
}

void Call::on_reinvite(sip::ServerTransaction& tx, const sip::Message& req) {
  // A session refresh or hold from the caller's side: answer with our same media (the codec stays),
  // and follow a new remote address. An offerless re-INVITE gets our SDP as the offer (§14.2).
  if (!req.body.empty()) {
    auto parsed = sip::parse_sdp(req.body);
    if (!parsed.sdp) {
      tx.respond(400, "Bad Request - Malformed SDP", dialog_.local_tag);
      return;
    }
    auto answer = sip::negotiate_answer(*parsed.sdp, caps_);
    if (!answer.ok) {
      tx.respond(488, "Not Acceptable Here", dialog_.local_tag);
      return;
    }
    // Only a changed address re-targets RTP: session refreshes repeat the same SDP, and re-arming the
    // latch for them would make a NATed caller's stream wait to be re-latched.
    boost::system::error_code ec;
    auto ip = boost::asio::ip::make_address(answer.remote_address, ec);
    boost::asio::ip::udp::endpoint remote(ip, answer.remote_port);
    if (!ec && answer.remote_port != 0 && remote != sdp_remote_) {
      sdp_remote_ = remote;
      media_->set_remote(remote);
    }
    for (auto& m : answer.answer.media)
      if (m.port != 0) m.port = media_->local_port();
    ++caps_.session_version;
    answer.answer.origin.session_version = caps_.session_version;
    answer_sdp_ = answer.answer.serialize();
  }
  dialog_.refresh_target(req);
  sip::Message ok = sip::make_response(req, 200, "OK");
  ok.to.set_tag(dialog_.local_tag);
  ok.contacts.push_back(dialog_.local_contact);
  ok.content_type = "application/sdp";
  ok.body = answer_sdp_;
  tx.respond(std::move(ok));
}

void Call::send_bye() {
  if (remote_bye_ || (state_ != CallState::kAnswered && state_ != CallState::kActive)) return;
  sip::Message bye = dialog_.make_request("BYE");
  ctx_.sip.send_request(std::move(bye), dialog_.next_hop(), [](const sip::Message&) {});
}

void Call::hangup(std::string_view reason) {
  if (state_ == CallState::kEnded) return;
  if (state_ == CallState::kRinging) {
    invite_tx_.respond(480, "Temporarily Unavailable", dialog_.local_tag);
  } else {
    send_bye();
  }
  if (transfer_) apply(transfer_->progress.on_caller_bye());
  finish(reason);
}

void Call::finish(std::string_view stop_reason) {
  if (state_ == CallState::kEnded) return;
  state_ = CallState::kEnded;
  if (transfer_ && transfer_->timeout != sip::kNoTimer) ctx_.timers.cancel(transfer_->timeout);
  if (agent_conn_) {
    if (agent_open_) send_to_agent(ai::encode_stop(stop_reason));
    agent_conn_->close();  // after the queued stop; on_agent_closed then releases the call
  }
  if (media_) {
    ctx_.clock.remove(media_.get());
    media_->close();
  }
  spdlog::info("call {}: ended ({})", id_, stop_reason);
  ctx_.on_call_ended(*this);
  // The call object stays alive until the agent's socket has flushed the stop and closed.
  if (!agent_conn_ || agent_gone_) ctx_.on_call_released(*this);
}

}  // namespace warmline::server
