#include "sip/resolve/resolver.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <random>
#include <unordered_map>

#include "sip/resolve/ares_channel.hpp"
#include "sip/resolve/dns_cache.hpp"

namespace warmline::sip {

namespace asio = boost::asio;

namespace {

// SRV answers are untrusted input: one lookup follows at most this many SRV targets (each costs an
// A and an AAAA question), which is far more servers than a caller will ever try.
constexpr size_t kMaxHostsPerLookup = 16;

std::string_view strip_brackets(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::optional<asio::ip::address> numeric_address(std::string_view host) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(std::string(strip_brackets(host)), ec);
  if (ec) return std::nullopt;
  return address;
}

// §4.1 / RFC 2782: "_sip._udp.", "_sip._tcp.", "_sips._tcp." + the domain.
std::string srv_name(TargetTransport transport, std::string_view domain) {
  switch (transport) {
    case TargetTransport::kUdp: return "_sip._udp." + std::string(domain);
    case TargetTransport::kTcp: return "_sip._tcp." + std::string(domain);
    case TargetTransport::kTls: return "_sips._tcp." + std::string(domain);
  }
  return std::string(domain);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return out;
}

// Which error explains a lookup that found no address: a server that did not answer says more than
// a name that does not exist, which says more than a name without the record type we asked.
int error_rank(const std::error_code& e) {
  if (e == ResolveError::kTimeout) return 6;
  if (e == ResolveError::kServerUnreachable) return 5;
  if (e == ResolveError::kServerFailure) return 4;
  if (e == ResolveError::kNoSuchName) return 3;
  if (e == ResolveError::kInvalidTarget) return 2;
  if (e) return 1;
  return 0;
}

}  // namespace

std::error_code resolve_request_for(const Uri& uri, ResolveRequest& out) {
  if (!uri.is_sip()) return ResolveError::kInvalidTarget;
  out = ResolveRequest{};
  out.secure = uri.scheme == "sips";
  const Param* maddr = find_param(uri.params, "maddr");
  out.host = maddr != nullptr && !maddr->value.empty() ? maddr->value : uri.host;
  if (out.host.empty()) return ResolveError::kInvalidTarget;
  out.port = uri.port;
  if (const Param* transport = find_param(uri.params, "transport"); transport != nullptr) {
    const std::string t = lower(transport->value);
    if (t == "udp" && !out.secure) out.transport = TargetTransport::kUdp;
    else if (t == "tcp") out.transport = out.secure ? TargetTransport::kTls : TargetTransport::kTcp;
    else if (t == "tls") out.transport = TargetTransport::kTls;
    else return ResolveError::kUnsupportedTransport;  // sctp, ws, wss, sips over udp
  }
  return {};
}

using AnswerPtr = std::shared_ptr<const DnsAnswer>;

struct Resolver::Impl {
  // One SRV target (or the URI's host) and what its A/AAAA questions found.
  struct Host {
    Host(std::string n, uint16_t p, TargetTransport t) : name(std::move(n)), port(p), transport(t) {}
    std::string name;
    uint16_t port = 0;
    TargetTransport transport = TargetTransport::kUdp;
    std::vector<std::string> v4, v6;
    std::error_code error;  // the worst failure among its questions
  };

  struct Lookup {
    ResolveRequest request;
    Handler handler;
    TargetTransport fallback = TargetTransport::kUdp;  // §4.2: the transport for A/AAAA without SRV
    size_t outstanding = 0;                             // answers the current step waits for
    std::vector<SrvQuery> srv_queries;
    std::vector<std::vector<SrvRecord>> srv_results;
    bool srv_had_records = false;
    std::error_code srv_error;
    std::vector<Host> hosts;
    bool delivering = false;
  };

  using Waiter = std::function<void(const AnswerPtr&)>;

  Impl(asio::io_context& io_context, ResolverOptions opts)
      : io(io_context),
        options(std::move(opts)),
        cache(options.cache_entries,
              options.clock ? options.clock : [] { return std::chrono::steady_clock::now(); }),
        rng(std::random_device{}()),
        channel(io_context) {
    if (!options.random) {
      options.random = [this](uint32_t max) { return std::uniform_int_distribution<uint32_t>(0, max)(rng); };
    }
  }

  ~Impl() {
    alive.reset();   // posted deliveries and answers check it
    lookups.clear();
  }  // then `channel` goes first (declared last): ares_destroy drops the queries without callbacks

  bool supported(TargetTransport t) const {
    return std::find(options.transports.begin(), options.transports.end(), t) != options.transports.end();
  }

  Lookup* find(LookupId id) {
    auto it = lookups.find(id);
    return it == lookups.end() || it->second->delivering ? nullptr : it->second.get();
  }

  // Asks one question, from the cache when it can; a question already on the wire is not asked
  // twice. The waiter runs from the loop, never inline.
  void ask(RecordType type, const std::string& name, Waiter waiter) {
    const std::string key = DnsCache::key(type, name);
    if (AnswerPtr hit = cache.find(key)) {
      ++stats.cache_hits;
      asio::post(io, [token = std::weak_ptr<bool>(alive), waiter = std::move(waiter), hit] {
        if (token.lock()) waiter(hit);
      });
      return;
    }
    auto [it, first] = in_flight.try_emplace(key);
    it->second.push_back(std::move(waiter));
    if (!first) return;
    ++stats.queries;
    channel.query(name, static_cast<uint16_t>(type), [this, key, type](int status, const unsigned char* buf, int len) {
      on_answer(key, std::make_shared<const DnsAnswer>(parse_dns_answer(type, status, buf, len)));
    });
  }

  // Runs inside ares_process_fd: caches, then hands the answer to its waiters through the loop so
  // that no lookup step (which may ask again) runs inside c-ares.
  void on_answer(const std::string& key, AnswerPtr answer) {
    std::chrono::seconds ttl{0};
    if (!answer->error) ttl = std::min(std::chrono::seconds(answer->ttl), options.max_ttl);
    else if (answer->error == ResolveError::kNoSuchName || answer->error == ResolveError::kNoRecords)
      ttl = options.negative_ttl;  // SERVFAIL and timeouts are not kept: the next call asks again
    cache.store(key, answer, ttl);
    auto it = in_flight.find(key);
    if (it == in_flight.end()) return;
    std::vector<Waiter> waiters = std::move(it->second);
    in_flight.erase(it);
    asio::post(io, [token = std::weak_ptr<bool>(alive), waiters = std::move(waiters), answer] {
      if (!token.lock()) return;
      for (const Waiter& w : waiters) w(answer);
    });
  }

  LookupId begin(ResolveRequest request, Handler handler, std::error_code invalid) {
    ++stats.lookups;
    const LookupId id = next_id++;
    auto lookup = std::make_unique<Lookup>();
    lookup->request = std::move(request);
    lookup->handler = std::move(handler);
    lookups.emplace(id, std::move(lookup));
    if (invalid) fail(id, invalid);
    else if (!started) fail(id, ResolveError::kServerFailure);
    else start(id);
    return id;
  }

  void start(LookupId id) {
    Lookup& l = *find(id);
    const ResolveRequest& r = l.request;
    const TargetTransport chosen = r.transport.value_or(r.secure ? TargetTransport::kTls : TargetTransport::kUdp);
    if (auto address = numeric_address(r.host)) {  // §4.1, §4.2: no DNS at all
      if (!supported(chosen)) return fail(id, ResolveError::kUnsupportedTransport);
      const uint16_t port = r.port != 0 ? r.port : default_port(chosen);
      return deliver(id, ResolveResult{{}, {Target{address->to_string(), port, chosen}}});
    }
    if (r.port != 0 || r.transport) {
      if (!supported(chosen)) return fail(id, ResolveError::kUnsupportedTransport);
      l.fallback = chosen;
      if (r.port != 0) return resolve_hosts(id, {Host{r.host, r.port, chosen}});  // §4.2: no SRV
      return resolve_srv(id, {SrvQuery{srv_name(chosen, r.host), chosen}});
    }
    ask(RecordType::kNaptr, r.host, [this, id](const AnswerPtr& a) { on_naptr(id, *a); });
  }

  void on_naptr(LookupId id, const DnsAnswer& answer) {
    Lookup* l = find(id);
    if (l == nullptr) return;
    if (is_fatal_dns_error(answer.error)) return fail(id, answer.error);
    const bool secure = l->request.secure;
    std::vector<SrvQuery> queries;
    if (!answer.error) queries = select_naptr(answer.naptr, secure, options.transports);
    if (!queries.empty()) {
      l->fallback = queries.front().transport;
    } else {
      // §4.1: no usable NAPTR: one SRV question per transport we support, in our order of
      // preference; without SRV (§4.2), UDP for sip:, TLS for sips:.
      for (TargetTransport t : options.transports) {
        if (secure == (t == TargetTransport::kTls)) queries.push_back(SrvQuery{srv_name(t, l->request.host), t});
      }
      l->fallback = secure ? TargetTransport::kTls : TargetTransport::kUdp;
      if (queries.empty() || !supported(l->fallback)) return fail(id, ResolveError::kUnsupportedTransport);
    }
    resolve_srv(id, std::move(queries));
  }

  void resolve_srv(LookupId id, std::vector<SrvQuery> queries) {
    Lookup& l = *find(id);
    l.srv_queries = std::move(queries);
    l.srv_results.assign(l.srv_queries.size(), {});
    l.outstanding = l.srv_queries.size();
    for (size_t i = 0; i < l.srv_queries.size(); ++i)
      ask(RecordType::kSrv, l.srv_queries[i].name, [this, id, i](const AnswerPtr& a) { on_srv(id, i, *a); });
  }

  void on_srv(LookupId id, size_t index, const DnsAnswer& answer) {
    Lookup* l = find(id);
    if (l == nullptr) return;
    if (!answer.error) {
      l->srv_had_records = true;
      l->srv_results[index] = order_srv(answer.srv, options.random);
    } else if (error_rank(answer.error) > error_rank(l->srv_error)) {
      l->srv_error = answer.error;
    }
    if (--l->outstanding > 0) return;
    std::vector<Host> hosts;
    for (size_t i = 0; i < l->srv_queries.size(); ++i) {
      for (const SrvRecord& r : l->srv_results[i]) {
        if (hosts.size() < kMaxHostsPerLookup) hosts.push_back(Host{r.target, r.port, l->srv_queries[i].transport});
      }
    }
    if (!hosts.empty()) return resolve_hosts(id, std::move(hosts));
    // RFC 2782: an SRV answer whose only target is "." says the service is not offered there.
    if (l->srv_had_records) return fail(id, ResolveError::kNoRecords);
    if (is_fatal_dns_error(l->srv_error)) return fail(id, l->srv_error);
    // §4.2: no SRV records: the domain's own A/AAAA, at the default port of the chosen transport.
    resolve_hosts(id, {Host{l->request.host, default_port(l->fallback), l->fallback}});
  }

  void resolve_hosts(LookupId id, std::vector<Host> hosts) {
    Lookup& l = *find(id);
    l.hosts = std::move(hosts);
    std::vector<std::pair<size_t, RecordType>> questions;
    for (size_t i = 0; i < l.hosts.size(); ++i) {
      Host& h = l.hosts[i];
      if (auto address = numeric_address(h.name)) {  // an SRV target written as an address
        (address->is_v4() ? h.v4 : h.v6).push_back(address->to_string());
        continue;
      }
      if (options.ipv4) questions.emplace_back(i, RecordType::kA);
      if (options.ipv6) questions.emplace_back(i, RecordType::kAaaa);
    }
    l.outstanding = questions.size();
    if (questions.empty()) return finish_hosts(id);
    for (const auto& [i, type] : questions) {
      ask(type, l.hosts[i].name, [this, id, i = i, type = type](const AnswerPtr& a) { on_address(id, i, type, *a); });
    }
  }

  void on_address(LookupId id, size_t index, RecordType type, const DnsAnswer& answer) {
    Lookup* l = find(id);
    if (l == nullptr) return;
    Host& h = l->hosts[index];
    if (!answer.error) {
      auto& list = type == RecordType::kA ? h.v4 : h.v6;
      list.insert(list.end(), answer.addresses.begin(), answer.addresses.end());
    } else if (error_rank(answer.error) > error_rank(h.error)) {
      h.error = answer.error;
    }
    if (--l->outstanding == 0) finish_hosts(id);
  }

  void finish_hosts(LookupId id) {
    Lookup& l = *find(id);
    ResolveResult result;
    std::error_code worst;
    for (const Host& h : l.hosts) {
      for (const auto* list : {&h.v4, &h.v6}) {
        for (const std::string& ip : *list) {
          Target t{ip, h.port, h.transport};
          if (std::find(result.targets.begin(), result.targets.end(), t) == result.targets.end())
            result.targets.push_back(std::move(t));
        }
      }
      if (error_rank(h.error) > error_rank(worst)) worst = h.error;
    }
    if (result.targets.empty()) return fail(id, worst ? worst : make_error_code(ResolveError::kNoRecords));
    deliver(id, std::move(result));
  }

  void fail(LookupId id, std::error_code error) { deliver(id, ResolveResult{error, {}}); }

  // The handler runs from the loop, after resolve() has returned, and only if nobody cancelled.
  void deliver(LookupId id, ResolveResult result) {
    if (result.error) ++stats.failures;
    lookups.at(id)->delivering = true;
    asio::post(io, [this, token = std::weak_ptr<bool>(alive), id, result = std::move(result)]() mutable {
      if (!token.lock()) return;
      auto it = lookups.find(id);
      if (it == lookups.end()) return;  // cancelled
      Handler handler = std::move(it->second->handler);
      lookups.erase(it);
      handler(std::move(result));
    });
  }

  asio::io_context& io;
  ResolverOptions options;
  DnsCache cache;
  std::mt19937 rng;
  ResolverStats stats;
  bool started = false;
  LookupId next_id = 1;
  std::unordered_map<LookupId, std::unique_ptr<Lookup>> lookups;
  std::unordered_map<std::string, std::vector<Waiter>> in_flight;  // questions on the wire
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  AresChannel channel;  // last: destroyed first, while everything its callbacks could touch lives
};

Resolver::Resolver(asio::io_context& io, ResolverOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

Resolver::~Resolver() = default;

std::error_code Resolver::start() {
  AresOptions o{impl_->options.servers, impl_->options.timeout, impl_->options.tries};
  std::error_code ec = impl_->channel.init(o);
  impl_->started = !ec;
  return ec;
}

Resolver::LookupId Resolver::resolve(const Uri& uri, Handler handler) {
  ResolveRequest request;
  std::error_code invalid = resolve_request_for(uri, request);
  return impl_->begin(std::move(request), std::move(handler), invalid);
}

Resolver::LookupId Resolver::resolve(const ResolveRequest& request, Handler handler) {
  std::error_code invalid = request.host.empty() ? make_error_code(ResolveError::kInvalidTarget) : std::error_code();
  if (!invalid && request.secure && request.transport && *request.transport != TargetTransport::kTls)
    invalid = ResolveError::kUnsupportedTransport;
  return impl_->begin(request, std::move(handler), invalid);
}

void Resolver::cancel(LookupId id) { impl_->lookups.erase(id); }

const ResolverStats& Resolver::stats() const { return impl_->stats; }
size_t Resolver::pending() const { return impl_->lookups.size(); }
size_t Resolver::cache_size() const { return impl_->cache.size(); }

}  // namespace warmline::sip
