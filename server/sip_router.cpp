#include "server/sip_router.hpp"

#include <spdlog/spdlog.h>

#include <cassert>

#include "server/leg/leg_srtp.hpp"
#include "server/targets.hpp"
#include "sip/builders.hpp"
#include "sip/parse_check.hpp"
#include "sip/replaces.hpp"
#include "sip/usage/reliable_provisional.hpp"
#include "sip/session_timer.hpp"
#include "sip/uri.hpp"

namespace warmline::server {
namespace {
// How long after a media clock overrun the shard refuses new calls (docs/operations.md "Overload").
constexpr std::chrono::seconds kMediaOverloadWindow{5};
}  // namespace

const sip::UasCapabilities& SipRouter::capabilities() {
  static const sip::UasCapabilities caps = [] {
    sip::UasCapabilities c;
    c.methods.assign(kHandledMethods.begin(), kHandledMethods.end());
    // See kSupportedOptionTags. Not "replaces": warmline never takes over a dialog (RFC 3891), so a
    // Require: replaces gets 420 and a Replaces header alone 481/501 (replaced_dialog_refusal).
    c.option_tags = {"norefersub", std::string(sip::k100rel)};
    // SDP for sessions, sipfrag for REFER progress (RFC 3515 §2.4.5), DTMF bodies of INFO.
    c.content_types = {"application/sdp", "message/sipfrag", "application/dtmf-relay", "application/dtmf"};
    c.option_tags.push_back("timer");  // RFC 4028 session timers (sip/session_timer.hpp)
    return c;
  }();
  return caps;
}

SipRouter::SipRouter(CallContext& ctx, SipRouterOptions options) : ctx_(ctx), options_(std::move(options)) {
  ctx_.on_call_ended = [this](Call& c) { call_ended(c); };
  ctx_.on_call_released = [this](Call& c) { call_released(c); };
}

SipRouter::~SipRouter() { clear(); }

sip::TransactionHandlers SipRouter::handlers() {
  sip::TransactionHandlers h;
  h.on_request = [this](sip::ServerTransaction& tx, const sip::Message& m) { on_request(tx, m); };
  // DESIGN.md toll-fraud rules: a new (out-of-dialog) request from a source no trunk lists gets a
  // stateless 403 — no transaction, no timers, no log line: scanners and floods cost next to nothing —
  // and is counted (warmline_sip_unknown_source_total).
  h.screen = [this](const sip::Message&, const sip::Endpoint& from) {
    auto ip = parse_ip_address(from.host);
    if (ip && find_trunk_by_source(ctx_.config, *ip)) return 0;
    ctx_.metrics.sip_unknown_source.fetch_add(1, std::memory_order_relaxed);
    return 403;
  };
  h.on_ack = [this](const sip::Message& ack, const sip::Endpoint& from) {
    if (auto* usage = ctx_.dialogs.find(sip::DialogId::of_incoming(ack))) return usage->on_ack(ack, from);
    // No dialog owns it (made-up tags, or one that has ended): nothing of ours to keep retransmitting
    // for, since a live dialog's 2xx is only stopped by its own usage.
    ctx_.metrics.sip_dialog_rejected.fetch_add(1, std::memory_order_relaxed);
    return true;
  };
  h.on_cancel = [this](sip::ServerTransaction& invite_tx, const sip::Message& cancel, const sip::Endpoint& from) {
    // The CANCEL matched the INVITE's transaction; the INVITE's usage is found by its From tag and
    // judges the CANCEL's own source (a copy of the Via from elsewhere must not end the call).
    if (auto* usage = ctx_.dialogs.find_by_remote_tag(cancel.call_id, cancel.from.tag()))
      usage->on_cancel(invite_tx, cancel, from);
    else invite_tx.respond(487, "Request Terminated", sip::new_tag(ctx_.random));
  };
  h.on_stray_response = [this](const sip::Message& response, const sip::Endpoint& from) {
    // RFC 6026 §8.4: a retransmitted 2xx to an INVITE we sent; its usage re-sends the ACK.
    if (response.cseq.method != "INVITE" || response.status_code < 200 || response.status_code >= 300) return;
    auto* usage = ctx_.dialogs.find(sip::DialogId::of_incoming(response));
    // A 2xx from a fork we have not heard from yet: the INVITE's usage is found by our From tag (it
    // ACKs and ends that fork, after its own source check).
    if (!usage) usage = ctx_.dialogs.find_by_local_tag(response.call_id, response.from.tag());
    if (usage) usage->on_2xx_retransmission(response, from);
  };
  h.on_ack_timeout = [this](const sip::Message& invite, const sip::Message&) {
    if (auto* usage = ctx_.dialogs.find_by_remote_tag(invite.call_id, invite.from.tag())) usage->on_ack_timeout();
  };
  return h;
}

bool SipRouter::draining() const { return options_.draining && options_.draining->load(std::memory_order_relaxed); }

void SipRouter::reject(sip::ServerTransaction& tx, const sip::Message& request, int status, std::string_view reason) {
  sip::Message r = sip::make_response(request, status, reason);
  if (r.to.tag().empty()) r.to.set_tag(sip::new_tag(ctx_.random));
  // RFC 3261 §21.5.4: a 503 says when to come back, so a proxy (Kamailio's dispatcher) retries
  // another node now and this one later instead of marking it dead.
  if (status == 503) r.add_header("Retry-After", std::to_string(ctx_.config.server.retry_after_s));
  tx.respond(std::move(r));
}

void SipRouter::on_request(sip::ServerTransaction& tx, const sip::Message& req) {
  assert(ctx_.shard.on_shard());
  ctx_.metrics.sip_requests.fetch_add(1, std::memory_order_relaxed);
  if (auto rejection = sip::check_request_for_uas(req, capabilities())) {
    sip::Message r = sip::make_response(req, rejection->status, rejection->reason);
    if (r.to.tag().empty()) r.to.set_tag(sip::new_tag(ctx_.random));
    for (auto& h : rejection->headers) r.add_header(h.name, h.value);
    tx.respond(std::move(r));
    return;
  }
  if (!req.to.tag().empty()) {  // in-dialog: only the full dialog id reaches a usage (§12.2.2)
    if (auto* usage = ctx_.dialogs.find(sip::DialogId::of_incoming(req))) return usage->on_request(tx, req);
    ctx_.metrics.sip_dialog_rejected.fetch_add(1, std::memory_order_relaxed);
    tx.respond(481, "Call/Transaction Does Not Exist");
    return;
  }
  if (req.method == "INVITE") return on_invite(tx, req);
  if (req.method == "OPTIONS") return on_options(tx, req);
  if (req.method == "REFER") return reject(tx, req, 403, "Forbidden - REFER not accepted");
  reject(tx, req, 481, "Call/Transaction Does Not Exist");
}

void SipRouter::on_options(sip::ServerTransaction& tx, const sip::Message& req) {
  // A draining node answers 503 so a Kamailio dispatcher in front of it stops sending calls.
  const bool busy = draining();
  sip::Message r = sip::make_response(req, busy ? 503 : 200, busy ? "Service Unavailable" : "OK");
  r.to.set_tag(sip::new_tag(ctx_.random));
  r.add_header("Allow", allow_header_value());
  r.add_header("Accept", "application/sdp");
  r.add_header("Supported", kSupportedOptionTags);
  if (busy) r.add_header("Retry-After", std::to_string(ctx_.config.server.retry_after_s));
  tx.respond(std::move(r));
}

void SipRouter::on_invite(sip::ServerTransaction& tx, const sip::Message& invite) {
  const sip::Endpoint* src = tx.source();
  auto refuse = [&](int status, std::string_view reason) {
    ctx_.metrics.calls_rejected.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("shard {}: INVITE {} from {} rejected: {} {}", ctx_.shard.index(), invite.call_id,
                 src ? src->to_string() : "?", status, reason);
    reject(tx, invite, status, reason);
  };
  if (draining()) return refuse(503, "Service Unavailable - draining");
  // DESIGN.md toll-fraud rules: calls come only from a configured trunk's source CIDRs.
  auto ip = src ? parse_ip_address(src->host) : std::nullopt;
  const TrunkConfig* trunk = ip ? find_trunk_by_source(ctx_.config, *ip) : nullptr;
  if (!trunk) return refuse(403, "Forbidden");
  // warmline places calls of its own for the ones it takes (transfers), like a proxy forwarding them:
  // an INVITE that has run out of hops — a routing loop through us — goes no further (RFC 3261 §16.3).
  if (invite.max_forwards && *invite.max_forwards == 0) return refuse(483, "Too Many Hops");
  const unsigned rate = ctx_.config.server.invite_rate_per_source;
  if (!(options_.invite_rate ? options_.invite_rate->allow(src->host, ctx_.timers.now(), rate)
                             : invite_rate_.allow(src->host, ctx_.timers.now(), rate)))
    return refuse(503, "Service Unavailable - call rate limit");
  const unsigned max_calls = ctx_.config.server.max_calls;
  if (max_calls && options_.node_calls &&
      options_.node_calls->load(std::memory_order_relaxed) >= static_cast<int64_t>(max_calls))
    return refuse(503, "Service Unavailable - call limit reached");
  // A shard whose media clock has just overrun and is still late is behind on the calls it has: more
  // would make every one of them worse. 503 + Retry-After sends the caller (or the proxy in front)
  // elsewhere. One late tick alone (a hiccup at start-up) is not overload: the latest must be late too.
  if (const auto& st = ctx_.clock.stats();
      st.overran_within(media::MediaClock::Clock::now(), kMediaOverloadWindow) && st.last_lag >= ctx_.clock.period() / 2)
    return refuse(503, "Service Unavailable - media overloaded");
  if (ctx_.dialogs.find_by_remote_tag(invite.call_id, invite.from.tag())) return refuse(482, "Loop Detected");
  if (invite.find_header("Replaces")) {
    auto [status, reason] = replaced_dialog_refusal(invite);
    return refuse(status, reason);
  }

  const AgentConfig* agent = find_agent_for_number(ctx_.config, sip::uri_unescape(invite.request_uri.user));
  if (!agent) agent = find_agent_for_number(ctx_.config, sip::uri_unescape(invite.to.uri.user));
  if (!agent) return refuse(404, "Not Found");
  // RFC 4028 §9: a Session-Expires below our Min-SE is refused with ours, so the caller retries with it.
  if (auto timer = sip::negotiate_uas(invite, trunk->session_timer_s, trunk->session_min_se_s); timer.status == 422) {
    ctx_.metrics.calls_rejected.fetch_add(1, std::memory_order_relaxed);
    sip::Message r = sip::make_response(invite, 422, "Session Interval Too Small");
    r.to.set_tag(sip::new_tag(ctx_.random));
    r.add_header("Min-SE", std::to_string(timer.min_se));
    tx.respond(std::move(r));
    return;
  } else if (timer.status != 0) {
    return refuse(timer.status, "Bad Request - Malformed Session-Expires or Min-SE");
  }

  sip::LocalMediaCaps caps;
  caps.codecs = ctx_.config.media.codecs;
  caps.local_ip = ctx_.media_ip;
  caps.local_rtp_port = 1;  // replaced by the bound port once the leg has one
  caps.session_id = ctx_.random.next() >> 1;
  caps.session_version = caps.session_id;
  caps.srtp = srtp_mode(trunk);

  std::string id = "c" + std::to_string(ctx_.shard.index()) + "-" + ctx_.random.token(12);
  auto call = std::make_shared<Call>(ctx_, *agent, id);
  by_id_[id] = call;
  ctx_.metrics.calls_started.fetch_add(1, std::memory_order_relaxed);
  ctx_.metrics.calls_active.fetch_add(1, std::memory_order_relaxed);
  if (options_.node_calls) options_.node_calls->fetch_add(1, std::memory_order_relaxed);
  std::string reason;
  if (int status = call->start(tx, invite, trunk, caps, reason); status != 0) {
    by_id_.erase(id);
    ctx_.metrics.calls_active.fetch_sub(1, std::memory_order_relaxed);
    if (options_.node_calls) options_.node_calls->fetch_sub(1, std::memory_order_relaxed);
    return refuse(status, reason.empty() ? sip::reason_phrase(status) : reason);
  }
}

// RFC 3891: an INVITE that asks to replace a dialog. Warmline does not hand its dialogs over (a call
// is the caller, the agent and perhaps a bridged target together): a Replaces that names no dialog of
// ours is 481 (§6.1), one that names one of ours 501, a malformed or repeated one 400.
std::pair<int, std::string_view> SipRouter::replaced_dialog_refusal(const sip::Message& invite) const {
  int count = 0;
  for (const auto& h : invite.headers) count += sip::iequals(h.name, "Replaces") ? 1 : 0;
  auto id = count == 1 ? sip::parse_replaces(invite.header("Replaces")) : std::nullopt;
  if (!id) return {400, "Bad Request - Malformed Replaces"};
  if (!ctx_.dialogs.find(*id)) return {481, "Call/Transaction Does Not Exist"};
  return {501, "Not Implemented - Replaces"};
}

void SipRouter::call_ended(Call& call) {
  auto it = by_id_.find(call.id());
  if (it == by_id_.end()) return;
  lingering_.push_back(it->second);
  by_id_.erase(it);
  ctx_.metrics.calls_active.fetch_sub(1, std::memory_order_relaxed);
  if (options_.node_calls) options_.node_calls->fetch_sub(1, std::memory_order_relaxed);
  if (options_.on_calls_changed) options_.on_calls_changed();
}

void SipRouter::call_released(Call& call) {
  // Called from inside the call: the last reference is dropped from a fresh stack frame.
  Call* target = &call;
  ctx_.shard.post([this, target] {
    std::erase_if(lingering_, [target](const std::shared_ptr<Call>& c) { return c.get() == target; });
  });
}

std::vector<CallSnapshot> SipRouter::snapshots() const {
  std::vector<CallSnapshot> out;
  out.reserve(by_id_.size());
  for (const auto& [id, call] : by_id_) out.push_back(call->snapshot());
  return out;
}

std::shared_ptr<Call> SipRouter::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

void SipRouter::hang_up_all(std::string_view reason) {
  std::vector<std::shared_ptr<Call>> calls;
  for (auto& [id, c] : by_id_) calls.push_back(c);
  for (auto& c : calls) c->hangup(reason);
}

void SipRouter::clear() {
  if (options_.node_calls) options_.node_calls->fetch_sub(static_cast<int64_t>(by_id_.size()), std::memory_order_relaxed);
  std::vector<std::shared_ptr<Call>> calls;
  for (auto& [id, c] : by_id_) calls.push_back(std::move(c));
  by_id_.clear();
  calls.clear();
  lingering_.clear();
}

}  // namespace warmline::server
