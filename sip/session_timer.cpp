#include "sip/session_timer.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "sip/parser_grammar.hpp"

namespace warmline::sip {

namespace {

using grammar::trim;

// `delta-seconds *( SEMI param )`: the number, and the parameters after it.
bool parse_delta(std::string_view value, uint32_t& delta, std::vector<Param>& params) {
  value = trim(value);
  const size_t semi = value.find(';');
  // Any 32-bit delta is read (RFC 4028 sets no upper bound); a UAS lowers what it finds too long.
  auto n = grammar::parse_uint(trim(value.substr(0, semi)), UINT32_MAX);
  if (!n || *n == 0) return false;
  delta = static_cast<uint32_t>(*n);
  return semi == std::string_view::npos || grammar::parse_header_params(value.substr(semi), params);
}

bool lists_tag(const Message& m, std::string_view header, std::string_view tag) {
  for (const auto& h : m.headers) {
    if (!iequals(canonical_header_name(h.name), header)) continue;
    std::vector<std::string_view> parts;
    if (!grammar::split_commas(h.value, parts)) continue;
    for (auto p : parts)
      if (iequals(trim(p), tag)) return true;
  }
  return false;
}

}  // namespace

std::string_view to_string(Refresher r) {
  switch (r) {
    case Refresher::kUac: return "uac";
    case Refresher::kUas: return "uas";
    case Refresher::kUnset: break;
  }
  return "";
}

std::optional<SessionExpires> parse_session_expires(std::string_view value) {
  SessionExpires se;
  std::vector<Param> params;
  if (!parse_delta(value, se.delta, params)) return std::nullopt;
  if (const Param* p = find_param(params, "refresher")) {
    if (iequals(p->value, "uac")) se.refresher = Refresher::kUac;
    else if (iequals(p->value, "uas")) se.refresher = Refresher::kUas;
    else return std::nullopt;  // RFC 4028 §4: refresher-param = "refresher" EQUAL ("uas" / "uac")
  }
  return se;
}

std::string format_session_expires(const SessionExpires& se) {
  std::string out = std::to_string(se.delta);
  if (se.refresher != Refresher::kUnset) {
    out += ";refresher=";
    out += to_string(se.refresher);
  }
  return out;
}

std::optional<uint32_t> parse_min_se(std::string_view value) {
  uint32_t delta = 0;
  std::vector<Param> params;
  if (!parse_delta(value, delta, params)) return std::nullopt;
  return delta;
}

TimerHeaders read_timer_headers(const Message& m) {
  TimerHeaders h;
  if (const Header* se = m.find_header("Session-Expires")) {
    h.session_expires = parse_session_expires(se->value);
    if (!h.session_expires) h.malformed = true;
  }
  if (const Header* min = m.find_header("Min-SE")) {
    auto v = parse_min_se(min->value);
    if (v) h.min_se = *v;
    else h.malformed = true;
  }
  h.supported = lists_tag(m, "Supported", "timer");
  h.required = lists_tag(m, "Require", "timer");
  return h;
}

bool allows_method(const Message& m, std::string_view method) { return lists_tag(m, "Allow", method); }

UasTimerDecision negotiate_uas(const Message& request, uint32_t configured_s, uint32_t our_min_se) {
  const TimerHeaders h = read_timer_headers(request);
  if (h.malformed) return UasTimerDecision{.status = 400};
  our_min_se = std::max(our_min_se, kMinSessionExpires);
  const bool peer_supports = h.supported || h.required;
  // §9: never below the request's Min-SE; and ours is the floor of what we run.
  const uint32_t floor = std::max(our_min_se, h.min_se);
  SessionTimerTerms t{.peer_supports_timer = peer_supports};
  if (h.session_expires) {
    const SessionExpires se = *h.session_expires;
    if (se.delta < our_min_se) {
      // §9: too brief. A UAC that knows timers retries with our Min-SE; one that does not (a proxy
      // added the header) could not, so we run our minimum and refresh ourselves.
      if (peer_supports) return UasTimerDecision{.status = 422, .min_se = our_min_se};
      t.interval = our_min_se;
      t.refresher = Refresher::kUas;
    } else {
      // §9: the UAS may lower the interval (never below the floor) but never raise it.
      t.interval = configured_s && configured_s < se.delta ? std::max(configured_s, floor) : se.delta;
      t.interval = std::min(t.interval, se.delta);
      t.refresher = se.refresher;
    }
  } else {
    if (configured_s == 0) return UasTimerDecision{};
    t.interval = std::max(configured_s, floor);
  }
  // §9: the UAC refreshes only when it said it can; a UAC that named a side keeps its choice.
  if (t.refresher == Refresher::kUnset) t.refresher = peer_supports ? Refresher::kUac : Refresher::kUas;
  if (!peer_supports) t.refresher = Refresher::kUas;
  t.we_refresh = t.refresher == Refresher::kUas;
  return UasTimerDecision{.terms = t};
}

void add_uas_timer_headers(Message& response, const SessionTimerTerms& terms) {
  response.set_header("Session-Expires", format_session_expires({terms.interval, terms.refresher}));
  // §9: a UAC that supports timers is told it has to run one (whichever side refreshes).
  if (terms.peer_supports_timer && !lists_tag(response, "Require", "timer")) response.add_header("Require", "timer");
}

void add_uac_timer_headers(Message& request, uint32_t session_expires, uint32_t min_se, Refresher refresher) {
  request.set_header("Session-Expires", format_session_expires({session_expires, refresher}));
  request.set_header("Min-SE", std::to_string(min_se));
}

std::optional<uint32_t> min_se_of_422(const Message& response, uint32_t floor) {
  const Header* h = response.find_header("Min-SE");
  if (!h) return std::nullopt;
  auto v = parse_min_se(h->value);
  if (!v) return std::nullopt;
  return std::max(*v, floor);
}

std::optional<SessionTimerTerms> uac_terms(const Message& response) {
  const TimerHeaders h = read_timer_headers(response);
  if (!h.session_expires) return std::nullopt;  // §7.2: no Session-Expires, no session timer
  SessionTimerTerms t{.interval = h.session_expires->delta,
                      .refresher = h.session_expires->refresher,
                      .peer_supports_timer = h.supported || h.required};
  if (t.refresher == Refresher::kUnset) t.refresher = Refresher::kUac;
  t.we_refresh = t.refresher == Refresher::kUac;
  return t;
}

std::chrono::milliseconds refresh_delay(uint32_t interval_s) { return std::chrono::milliseconds(interval_s) * 500; }

std::chrono::milliseconds expiry_delay(uint32_t interval_s, bool we_refresh) {
  if (we_refresh) return std::chrono::seconds(interval_s);
  return std::chrono::seconds(interval_s - std::min<uint32_t>(32, interval_s / 3));
}

SessionTimer::SessionTimer(TimerService& timers, Handlers handlers) : timers_(timers), handlers_(std::move(handlers)) {}

SessionTimer::~SessionTimer() { cancel_all(); }

void SessionTimer::cancel_all() {
  if (refresh_ != kNoTimer) timers_.cancel(refresh_);
  if (expiry_ != kNoTimer) timers_.cancel(expiry_);
  refresh_ = expiry_ = kNoTimer;
}

void SessionTimer::start(const SessionTimerTerms& terms) {
  cancel_all();
  terms_ = terms;
  if (terms.interval == 0) return;
  if (terms.we_refresh) retry_refresh(refresh_delay(terms.interval));
  // The handler may destroy us: every member is settled before it runs.
  expiry_ = timers_.schedule(expiry_delay(terms.interval, terms.we_refresh), [this] {
    expiry_ = kNoTimer;
    if (refresh_ != kNoTimer) timers_.cancel(std::exchange(refresh_, kNoTimer));
    handlers_.on_expired();
  });
}

void SessionTimer::retry_refresh(std::chrono::milliseconds delay) {
  if (refresh_ != kNoTimer) timers_.cancel(refresh_);
  refresh_ = timers_.schedule(delay, [this] {
    refresh_ = kNoTimer;
    handlers_.on_refresh();
  });
}

void SessionTimer::stop() {
  cancel_all();
  terms_ = SessionTimerTerms{};
}

}  // namespace warmline::sip
