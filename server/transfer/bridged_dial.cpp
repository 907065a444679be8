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

// DESIGN.md mapping for a bridged dial: 401/407 our credentials cannot satisfy, 403 and 488 are
// `rejected`; the rest as for any target's answer (486/600 busy, 603 declined, ...).
TransferResult result_for_failure(const OutboundFailure& f) {
  if (f.auth_failed || f.status == 403 || f.status == 488) return TransferResult::kRejected;
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
}

void BridgedDial::start() {
  assert_on_shard();
  const ResolvedTarget& t = request_.target;
  const TrunkConfig* trunk = t.via_trunk.empty() ? nullptr : find_trunk(ctx_.config, t.via_trunk);
  OutboundLegOptions& o = leg_options_;
  o.trunk = trunk;
  o.first_codec = request_.first_codec;
  std::string host;
  uint16_t port = 0;
  if (trunk) {
    if (trunk->address.host.empty())
      return end(TransferResult::kRejected, 0, "trunk " + trunk->name + " has no address to dial through");
    // A number needs a caller ID this trunk lets us present (DESIGN.md "Caller ID"); configuration
    // checked it against the trunk's caller_ids, so an empty one is the only way to miss.
    if (t.caller_id.empty())
      return end(TransferResult::kRejected, 0,
                 "no caller ID to present through trunk " + trunk->name + " (set caller_id or the trunk's caller_ids)");
    host = trunk->address.host;
    port = trunk->address.port;
    if (t.uri.starts_with("tel:")) {
      o.request_uri.scheme = "sip";
      o.request_uri.user = dial_string(*trunk, tel_number(t.uri));
      o.request_uri.host = host;
      o.request_uri.port = port;
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
    host = uri->host;
    port = uri->port;
  }
  o.to.uri = o.request_uri;
  o.from.uri.scheme = "sip";
  o.from.uri.user = t.caller_id.empty() ? std::string("warmline") : t.caller_id;
  o.from.uri.host = ctx_.sip_host;
  // RFC 3325: the original caller, so the person answering sees who is calling; their Privacy too.
  if (!request_.caller_user.empty())
    o.extra_headers.push_back({"P-Asserted-Identity", "<sip:" + request_.caller_user + "@" + ctx_.sip_host + ">"});
  if (!request_.privacy.empty()) o.extra_headers.push_back({"Privacy", request_.privacy});
  for (const auto& [name, value] : request_.headers) o.extra_headers.push_back({name, value});
  resolve(host, port);
}

void BridgedDial::resolve(const std::string& host, uint16_t port) {
  if (!ctx_.resolver) {  // unit tests of calls: numeric hosts only
    if (!is_ip_literal(host)) return end(TransferResult::kUnreachable, 0, "cannot resolve " + host);
    servers_ = sip::TargetList({sip::Target{host, port ? port : uint16_t(5060), sip::TargetTransport::kUdp}});
    return dial_current();
  }
  std::weak_ptr<bool> alive = alive_;
  ctx_.resolver->resolve(sip::ResolveRequest{.host = host, .port = port}, [this, alive, host](sip::ResolveResult r) {
    if (alive.expired() || done_) return;
    if (!r.ok() || r.targets.empty())
      return end(TransferResult::kUnreachable, 0, "DNS: " + host + ": " + (r.error ? r.error.message() : "no servers"));
    servers_ = sip::TargetList(std::move(r.targets));
    dial_current();
  });
}

void BridgedDial::dial_current() {
  const sip::Target* server = servers_.current();
  if (!server) return end(TransferResult::kUnreachable, 503, "every server of " + request_.target.name + " failed");
  leg_options_.next_hop = server->endpoint();
  std::string error;
  auto leg = OutboundLeg::dial(ctx_, *this, leg_options_, error);
  if (!leg) return end(TransferResult::kFailed, 0, error);
  // Kept before anything it reports is acted on: a transport error is reported from inside dial().
  if (!leg_ && !done_) leg_ = std::move(leg);
  spdlog::info("transfer: dialling {} ({}) via {}", request_.target.name, request_.target.uri, server->endpoint().to_string());
  if (ring_timer_ == sip::kNoTimer && !done_) {
    std::weak_ptr<bool> alive = alive_;
    ring_timer_ = ctx_.timers.schedule(request_.ring_timeout, [this, alive] {
      if (alive.expired()) return;
      ring_timer_ = sip::kNoTimer;
      ring_timed_out_ = true;
      if (leg_) leg_->cancel();  // the 487 that follows ends the attempt as no_answer
    });
  }
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
