#include "server/transfer/bridged_dial.hpp"

#include <spdlog/spdlog.h>

#include <cassert>

#include "server/transfer/outcome.hpp"
#include "sip/uri.hpp"

namespace warmline::server {

namespace {

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

// The user part of a tel: URI ("tel:+27115550100" -> "+27115550100").
std::string tel_number(std::string_view uri) {
  if (uri.starts_with("tel:")) uri.remove_prefix(4);
  return std::string(uri.substr(0, uri.find(';')));
}

// A dial string as a SIP URI user part, which the URI model keeps %-escaped as on the wire: '#' (a
// tech_prefix may hold one) is not allowed there unescaped (RFC 3261 §25.1), '*' and '+' are.
std::string uri_user(std::string_view dialled) {
  std::string out;
  for (char c : dialled) out += c == '#' ? std::string_view("%23") : std::string_view(&c, 1);
  return out;
}

// DESIGN.md mapping for a bridged dial: 401/407 our credentials cannot satisfy, 403 and 488 are
// `rejected`; the rest as for any target's answer (486/600 busy, 603 declined, ...).
TransferResult result_for_failure(const OutboundFailure& f) {
  if (f.auth_failed || f.status == 403 || f.status == 488) return TransferResult::kRejected;
  // A 3xx names places warmline has no configuration for: it is not followed (toll-fraud rules).
  if (f.status >= 300 && f.status < 400) return TransferResult::kUnreachable;
  return result_for_target_status(f.status);
}

}  // namespace

std::string dial_string(const TrunkConfig& trunk, std::string_view e164) {
  std::string number(e164);
  if (trunk.number_format == NumberFormat::no_plus && number.starts_with('+')) number.erase(0, 1);
  return trunk.tech_prefix + number;
}

BridgedDial::BridgedDial(CallContext& ctx, DialListener& listener, DialRequest request)
    : ctx_(ctx), listener_(listener), request_(std::move(request)) {}

BridgedDial::~BridgedDial() {
  cancel_timer();
  alive_.reset();
}

void BridgedDial::assert_on_shard() const { assert(ctx_.shard.on_shard()); }

void BridgedDial::cancel_timer() {
  if (ring_timer_ != sip::kNoTimer) ctx_.timers.cancel(ring_timer_);
  ring_timer_ = sip::kNoTimer;
  if (silence_timer_ != sip::kNoTimer) ctx_.timers.cancel(silence_timer_);
  silence_timer_ = sip::kNoTimer;
}

// The leg under way is given up without waiting for its transaction: hang_up() asks for a CANCEL
// (sent once a provisional comes, §9.1) and silences it; a 2xx that still comes is ACKed and ended by
// the session. It is kept (failed_leg_) for that.
void BridgedDial::abandon_leg() {
  if (!leg_) return;
  leg_->hang_up();
  failed_leg_ = std::move(leg_);
}

void BridgedDial::on_ring_timeout() {
  ring_timer_ = sip::kNoTimer;
  ring_timed_out_ = true;
  if (!leg_) return;
  if (leg_->responded()) return leg_->cancel();  // the 487 that follows ends the attempt as no_answer
  // Nothing came back at all: no CANCEL can go yet (§9.1), and the agent should not wait for Timer B.
  abandon_leg();
  end(TransferResult::kNoAnswer, 0, "no answer within the ring timeout");
}

void BridgedDial::on_server_silent() {
  silence_timer_ = sip::kNoTimer;
  if (!leg_ || leg_->responded()) return;
  spdlog::warn("transfer: {} sent nothing for {} s; trying the next server", leg_options_.next_hop.to_string(),
               kSilentServer.count());
  abandon_leg();
  if (servers_.next()) return dial_current();
  end(TransferResult::kUnreachable, 408, "no server of " + request_.target.name + " answered");
}

void BridgedDial::start() {
  assert_on_shard();
  const ResolvedTarget& t = request_.target;
  const TrunkConfig* trunk = t.via_trunk.empty() ? nullptr : find_trunk(ctx_.config, t.via_trunk);
  OutboundLegOptions& o = leg_options_;
  o.trunk = trunk;
  o.first_codec = request_.first_codec;
  o.agent_rate = request_.agent_rate;
  o.records = request_.leg_records;
  o.trace_correlation = request_.trace_correlation;
  o.ladder = request_.ladder;
  sip::ResolveRequest where;
  if (trunk) {
    if (trunk->address.host.empty())
      return end(TransferResult::kRejected, 0, "trunk " + trunk->name + " has no address to dial through");
    // A number needs a caller ID this trunk lets us present (DESIGN.md "Caller ID"); configuration
    // checked it against the trunk's caller_ids, so an empty one is the only way to miss. A SIP URI
    // (a PBX extension, a named target) reached through the trunk may go without one.
    if (t.caller_id.empty() && t.uri.starts_with("tel:"))
      return end(TransferResult::kRejected, 0,
                 "no caller ID to present through trunk " + trunk->name + " (set caller_id or the trunk's caller_ids)");
    where = sip::ResolveRequest{.host = trunk->address.host, .port = trunk->address.port,
                                .transport = to_target_transport(trunk->transport),
                                .secure = trunk->transport == Transport::tls};
    if (t.uri.starts_with("tel:")) {
      o.request_uri.scheme = "sip";
      o.request_uri.user = uri_user(dial_string(*trunk, tel_number(t.uri)));
      o.request_uri.host = trunk->address.host;
      o.request_uri.port = trunk->address.port;
    } else if (auto uri = sip::parse_uri(t.uri)) {
      o.request_uri = *uri;  // a SIP URI reached through the trunk
    } else {
      return end(TransferResult::kFailed, 0, "target URI " + t.uri + " is not a SIP URI");
    }
    if (trunk->username.size() || trunk->password.size())
      o.credentials = sip::auth::DigestCredentials{trunk->username, trunk->password};
  } else {
    auto uri = sip::parse_uri(t.uri);
    if (!uri) return end(TransferResult::kFailed, 0, "target URI " + t.uri + " is not a SIP URI");
    o.request_uri = *uri;
    // RFC 3263 from the whole URI: maddr, transport= and sips: count, not only the host.
    if (auto ec = sip::resolve_request_for(*uri, where))
      return end(TransferResult::kUnreachable, 0, "cannot reach " + t.uri + ": " + ec.message());
  }
  o.to.uri = o.request_uri;
  o.from.uri.scheme = "sip";
  o.from.uri.user = t.caller_id.empty() ? std::string("warmline") : t.caller_id;
  o.from.uri.host = ctx_.sip_host;
  // RFC 3325: the original caller, so the person answering sees who is calling; their Privacy too.
  if (!request_.caller_user.empty())
    o.extra_headers.push_back({"P-Asserted-Identity", "<sip:" + request_.caller_user + "@" + ctx_.sip_host + ">"});
  if (!request_.privacy.empty()) o.extra_headers.push_back({"Privacy", request_.privacy});
  // The request's own headers, except the identity ones warmline sets from the caller's INVITE.
  for (const auto& [name, value] : request_.headers)
    if (!sip::iequals(name, "P-Asserted-Identity") && !sip::iequals(name, "Privacy"))
      o.extra_headers.push_back({name, value});
  resolve(where);
}

void BridgedDial::resolve(const sip::ResolveRequest& where) {
  const std::string host = where.host;
  target_host_ = host;
  if (!ctx_.resolver) {  // unit tests of calls: numeric hosts only
    if (!is_ip_literal(host)) return end(TransferResult::kUnreachable, 0, "cannot resolve " + host);
    const sip::TargetTransport transport = where.transport.value_or(sip::TargetTransport::kUdp);
    servers_ = sip::TargetList({sip::Target{host, where.port ? where.port : sip::default_port(transport), transport}});
    return dial_current();
  }
  std::weak_ptr<bool> alive = alive_;
  ctx_.resolver->resolve(where, [this, alive, host](sip::ResolveResult r) {
    if (alive.expired() || done_) return;
    if (!r.ok() || r.targets.empty())
      return end(TransferResult::kUnreachable, 0,
                 "dns_failed: " + host + ": " + (r.error ? r.error.message() : "no servers"));
    // The trunk's servers that its OPTIONS pings found down go last (all are still tried).
    if (leg_options_.trunk && ctx_.trunk_health) ctx_.trunk_health->order(leg_options_.trunk->name, r.targets);
    servers_ = sip::TargetList(std::move(r.targets));
    dial_current();
  });
}

void BridgedDial::dial_current() {
  const sip::Target* server = servers_.current();
  if (!server) return end(TransferResult::kUnreachable, 503, "every server of " + request_.target.name + " failed");
  leg_options_.next_hop = server->endpoint();
  // RFC 5922 §7.3: over TLS the certificate must name the host we were asked to reach.
  leg_options_.next_hop.tls_name = target_host_;
  std::string error;
  auto leg = OutboundLeg::dial(ctx_, *this, leg_options_, error);
  if (!leg) return end(TransferResult::kFailed, 0, error);
  // Kept before anything it reports is acted on: a transport error is reported from inside dial().
  if (!leg_ && !done_) leg_ = std::move(leg);
  spdlog::info("transfer: dialling {} ({}) via {}, sip call-id {}", request_.target.name, request_.target.uri,
               server->endpoint().to_string(), leg_ ? leg_->call_id() : std::string());
  if (done_) return;
  std::weak_ptr<bool> alive = alive_;
  if (ring_timer_ == sip::kNoTimer) {
    ring_timer_ = ctx_.timers.schedule(request_.ring_timeout, [this, alive] {
      if (!alive.expired()) on_ring_timeout();
    });
  }
  if (silence_timer_ != sip::kNoTimer) ctx_.timers.cancel(silence_timer_);
  silence_timer_ = ctx_.timers.schedule(std::chrono::duration_cast<std::chrono::milliseconds>(kSilentServer), [this, alive] {
    if (!alive.expired()) on_server_silent();
  });
}

void BridgedDial::on_target_progress(OutboundLeg& leg, int status, bool early_media) {
  assert_on_shard();
  if (done_) return;
  if (!ringing_ && (status == 180 || status == 183 || early_media)) {
    ringing_ = true;
    listener_.on_dial_progress(TransferUpdate{TransferUpdate::Kind::kProgress, "ringing", TransferResult::kFailed, status, ""});
  }
  if (early_media) listener_.on_dial_early_media(leg);
}

void BridgedDial::on_target_answered(OutboundLeg&) {
  assert_on_shard();
  if (done_) return;
  cancel_timer();
  end(TransferResult::kCompleted, 200, "answered");
}

void BridgedDial::on_target_failed(OutboundLeg& leg, const OutboundFailure& failure) {
  assert_on_shard();
  if (done_) return;
  // RFC 3263 §4.3: a 503, or no answer at all from this server, moves to the next one.
  const bool server_failed = failure.status == 503 || (failure.local && failure.status == 408);
  if (server_failed && !failure.cancelled && !ring_timed_out_ && servers_.next()) {
    if (leg_.get() == &leg) failed_leg_ = std::move(leg_);
    return dial_current();
  }
  if (ring_timed_out_) return end(TransferResult::kNoAnswer, failure.status, "no answer within the ring timeout");
  // Our own finals: Timer B (408) and a transport error (503) mean no server was reached. An answer
  // that we could not use (488, OutboundLeg::on_answered) came from the target: rejected, like its 488.
  const bool not_reached = failure.local && failure.status != 488;
  TransferResult result = not_reached ? TransferResult::kUnreachable : result_for_failure(failure);
  end(result, failure.status, failure.reason);
}

void BridgedDial::on_target_bye(OutboundLeg&) {
  // Only an answered leg gets a BYE, and an answered leg belongs to the call by then.
}

void BridgedDial::stop(TransferResult result, std::string reason) {
  assert_on_shard();
  if (done_) return;
  if (leg_) leg_->hang_up();  // CANCEL while it rings; nothing comes back afterwards
  end(result, 0, std::move(reason));
}

void BridgedDial::end(TransferResult result, int status, std::string reason) {
  if (done_) return;
  done_ = true;
  cancel_timer();
  note_ = reason;
  TransferUpdate update{TransferUpdate::Kind::kEnded, "ended", result, status, std::move(reason)};
  if (result != TransferResult::kCompleted && leg_) failed_leg_ = std::move(leg_);
  listener_.on_dial_ended(update);
}

}  // namespace warmline::server
