#include "server/trunk_registrations.hpp"

#include <spdlog/spdlog.h>

#include <cassert>
#include <chrono>

#include "server/call_context.hpp"
#include "server/leg/outbound_leg.hpp"
#include "server/trunk_health.hpp"
#include "sip/usage/invite_client_messages.hpp"

namespace warmline::server {

namespace {

std::optional<int64_t> seconds_until(const std::optional<std::chrono::steady_clock::time_point>& at,
                                     std::chrono::steady_clock::time_point now) {
  if (!at) return std::nullopt;
  return std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(*at - now).count());
}

}  // namespace

TrunkRegistrations::TrunkRegistrations(const Config& config) : config_(config) {
  for (const TrunkConfig& t : config_.trunks) {
    Entry e;
    e.trunk = &t;
    if (t.register_) {
      gauges_.push_back(std::make_unique<Gauge>());
      gauges_.back()->trunk = t.name;
      e.gauge = gauges_.back().get();
    }
    entries_.push_back(std::move(e));
  }
}

TrunkRegistrations::~TrunkRegistrations() = default;

void TrunkRegistrations::start(CallContext& ctx) {
  assert(ctx.shard.on_shard());
  ctx_ = &ctx;
  for (Entry& e : entries_) {
    if (!e.trunk->register_) continue;
    e.client = std::make_unique<sip::RegisterClient>(ctx.sip, ctx.timers, ctx.random, options_for(ctx, e));
    spdlog::info("trunk {}: registering as {} at {} (Call-ID {})", e.trunk->name, e.trunk->username,
                 address_text(e.trunk->address), e.client->call_id());
    e.client->start();
  }
}

sip::RegisterClientOptions TrunkRegistrations::options_for(CallContext& ctx, Entry& entry) {
  const TrunkConfig& t = *entry.trunk;
  sip::RegisterClientOptions o;
  o.call_id = call_id_for_shard(ctx);  // this is shard 0: its answers come back here
  o.registrar.scheme = "sip";
  o.registrar.host = uri_host(t.address.host);
  o.registrar.port = t.address.port;
  o.aor.uri.scheme = "sip";
  o.aor.uri.user = t.username;
  o.aor.uri.host = o.registrar.host;
  o.contact.uri = contact_uri(ctx, to_protocol(t.transport));
  o.contact.uri.user = t.username;  // a carrier that sends calls to the Contact as is names the account
  o.expires = t.register_expires_s;
  o.credentials = sip::auth::DigestCredentials{t.username, t.password};
  // RFC 3263 for a name, before every attempt (the resolver caches within the records' TTL). The first
  // target is used; the next attempt asks again.
  o.locate = [&ctx, host = t.address.host, port = t.address.port, transport = t.transport](sip::NextHopDone done) {
    const uint16_t default_port = sip::default_port(to_target_transport(transport));
    if (sip::is_ip_literal(host))
      return done(sip::Endpoint{host, port ? port : default_port, to_protocol(transport)}, "");
    if (!ctx.resolver) return done(std::nullopt, "no resolver for " + host);
    ctx.resolver->resolve(sip::ResolveRequest{.host = host, .port = port, .transport = to_target_transport(transport),
                                              .secure = transport == Transport::tls},
                          [done = std::move(done), host](sip::ResolveResult r) {
                            if (!r.ok() || r.targets.empty())
                              return done(std::nullopt, host + ": " + (r.error ? r.error.message() : "no servers"));
                            sip::Endpoint to = r.targets.front().endpoint();
                            to.tls_name = host;  // RFC 5922 §7.3
                            done(to, "");
                          });
  };
  const size_t index = static_cast<size_t>(&entry - entries_.data());
  o.on_change = [this, index](const sip::RegistrationStatus& s) { on_change(entries_[index], s); };
  return o;
}

void TrunkRegistrations::on_change(Entry& e, const sip::RegistrationStatus& s) {
  const bool registered = s.state == sip::RegistrationState::kRegistered;
  e.gauge->registered.store(registered ? 1 : 0, std::memory_order_relaxed);
  const bool changed = s.state != e.logged;
  e.logged = s.state;
  if (s.state == sip::RegistrationState::kFailed) {
    const auto retry = ctx_ ? seconds_until(s.next_attempt, ctx_->timers.now()) : std::nullopt;
    spdlog::warn("trunk {}: registration failed ({} {}); attempt {} failed, next in {} s", e.trunk->name, s.last_status,
                 s.last_reason, s.failures, retry.value_or(0));
  } else if (changed && registered) {
    spdlog::info("trunk {}: registered for {} s", e.trunk->name, s.granted_expires);
  } else if (registered) {
    spdlog::debug("trunk {}: registration refreshed for {} s", e.trunk->name, s.granted_expires);
  } else if (changed && s.state == sip::RegistrationState::kUnregistered) {
    spdlog::info("trunk {}: unregistered", e.trunk->name);
  } else if (changed) {
    spdlog::debug("trunk {}: {}", e.trunk->name, sip::to_string(s.state));
  }
}

void TrunkRegistrations::unregister_all() {
  assert(!ctx_ || ctx_->shard.on_shard());
  for (Entry& e : entries_)
    if (e.client) e.client->unregister();
}

void TrunkRegistrations::stop() {
  for (Entry& e : entries_) {
    e.client.reset();
    if (e.gauge) e.gauge->registered.store(0, std::memory_order_relaxed);
  }
  ctx_ = nullptr;
}

std::vector<TrunkView> TrunkRegistrations::snapshot() const {
  assert(!ctx_ || ctx_->shard.on_shard());
  const auto now = ctx_ ? ctx_->timers.now() : std::chrono::steady_clock::now();
  std::vector<TrunkView> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) {
    TrunkView v;
    v.name = e.trunk->name;
    v.address = address_text(e.trunk->address);
    v.registers = e.trunk->register_;
    if (e.trunk->register_) {
      sip::RegistrationStatus s = e.client ? e.client->status() : sip::RegistrationStatus{};
      v.state = std::string(sip::to_string(s.state));
      v.status = s.last_status;
      v.reason = s.last_reason;
      v.failures = s.failures;
      v.expires_in_s = seconds_until(s.expires_at, now);
      v.next_attempt_in_s = seconds_until(s.next_attempt, now);
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace warmline::server
