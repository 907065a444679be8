#include "sip/usage/register_client.hpp"

#include <algorithm>

#include "sip/usage/invite_client_messages.hpp"
#include "sip/usage/register_messages.hpp"

namespace warmline::sip {

namespace {

// REGISTERs one attempt may send: the first, a challenge answer, a 423 retry, a challenge to that, and
// one spare. More means a registrar that keeps moving the goalposts: the attempt fails (and backs off).
constexpr int kMaxRequestsPerAttempt = 5;

bool is_challenge(int status) { return status == 401 || status == 407; }

// Retry-After (§20.33): delta-seconds, then an optional comment and parameters. 0 when absent.
std::chrono::seconds retry_after(const Message& response) {
  std::string_view v = response.header("Retry-After");
  uint64_t s = 0;
  for (char c : v) {
    if (c < '0' || c > '9') break;
    s = std::min<uint64_t>(s * 10 + static_cast<uint64_t>(c - '0'), 1u << 30);
  }
  return std::chrono::seconds(s);
}

void strip_credentials(Message& request) {
  request.remove_header("Authorization");
  request.remove_header("Proxy-Authorization");
}

}  // namespace

std::string_view to_string(RegistrationState state) {
  switch (state) {
    case RegistrationState::kUnregistered: return "unregistered";
    case RegistrationState::kRegistering: return "registering";
    case RegistrationState::kRegistered: return "registered";
    case RegistrationState::kFailed: return "failed";
  }
  return "unregistered";
}

RegisterClient::RegisterClient(TransactionLayer& layer, TimerService& timers, RandomSource& random,
                               RegisterClientOptions options)
    : layer_(layer), timers_(timers), random_(random), options_(std::move(options)) {
  from_tag_ = new_tag(random_);
  expires_ = options_.expires;
  if (options_.credentials) digest_.emplace(*options_.credentials);
}

RegisterClient::~RegisterClient() {
  alive_.reset();  // the layer's handlers and a pending lookup now do nothing
  cancel_timer();
}

bool RegisterClient::start() {
  if (started_) return false;
  started_ = true;
  begin_attempt(false);
  return true;
}

void RegisterClient::unregister() {
  if (!started_ || unregistering_) return;
  unregistering_ = true;
  cancel_timer();
  status_.next_attempt.reset();
  if (status_.state != RegistrationState::kRegistered) {
    ++generation_;  // an attempt in flight no longer matters
    status_.expires_at.reset();
    return set_state(RegistrationState::kUnregistered);
  }
  // §10.2.2: Expires: 0 for our Contact, to where the binding was made, with the credentials of the
  // last challenge (the registrar that accepted them will most likely take them again).
  requests_in_attempt_ = 0;
  send(std::nullopt, true);
}

// An attempt: the first REGISTER, a retry after a failure, or a refresh. A refresh leaves the state at
// kRegistered (the binding holds until expires_at) and carries credentials at once.
void RegisterClient::begin_attempt(bool refresh) {
  cancel_timer();
  status_.next_attempt.reset();
  requests_in_attempt_ = 0;
  if (refresh) changed();
  else set_state(RegistrationState::kRegistering);
  const uint64_t gen = ++generation_;
  if (!options_.locate) {
    std::optional<Endpoint> hop = endpoint_of(options_.registrar);
    return on_located(hop, hop ? "" : "no resolver for " + options_.registrar.host, refresh);
  }
  std::weak_ptr<bool> alive = alive_;
  options_.locate([this, alive, gen, refresh](std::optional<Endpoint> hop, std::string error) {
    if (alive.expired() || gen != generation_) return;
    on_located(std::move(hop), error, refresh);
  });
}

void RegisterClient::on_located(std::optional<Endpoint> hop, const std::string& error, bool refresh) {
  if (!hop) return fail(0, "next hop not found: " + error);
  hop_ = std::move(*hop);
  // After a failure, no credentials at once: they may be why it failed, and a fresh challenge costs one
  // round trip.
  send(std::nullopt, refresh);
}

void RegisterClient::send(std::optional<auth::AuthorizationHeader> answer, bool preemptive) {
  Message request = make_register(RegisterRequestFields{
      .call_id = options_.call_id,
      .registrar = options_.registrar,
      .aor = options_.aor,
      .from_tag = from_tag_,
      .contact = options_.contact,
      .cseq = ++cseq_,
      .expires = unregistering_ ? 0 : expires_,
  });
  preemptive_ = false;
  if (answer) {
    auth::set_authorization(request, *answer);
  } else if (preemptive && digest_) {
    if (auto header = digest_->authorize(request, random_)) {
      auth::set_authorization(request, *header);
      preemptive_ = true;
    }
  }
  ++requests_in_attempt_;
  request_ = request;
  const uint64_t gen = ++generation_;
  std::weak_ptr<bool> alive = alive_;
  // A transport failure is answered (503) from inside send_request: request_ is already in place.
  layer_.send_request(std::move(request), hop_, [this, alive, gen](const Message& r) {
    if (alive.expired() || gen != generation_) return;
    on_response(r);
  });
}

void RegisterClient::on_response(const Message& r) {
  if (r.status_code < 200) return;
  status_.last_status = r.status_code;
  status_.last_reason = r.reason;
  if (r.status_code < 300) return on_success(r);
  if (is_challenge(r.status_code)) {
    std::string why_not;
    if (answer_challenge(r, why_not)) return;
    return fail(r.status_code, r.reason + " (" + why_not + ")");
  }
  if (r.status_code == 423 && retry_interval(r)) return;
  // Timer F (408) and a transport error (503) come from the transaction layer itself, without a To tag.
  fail(r.status_code, r.reason, retry_after(r));
}

void RegisterClient::on_success(const Message& r) {
  if (unregistering_) {
    status_.expires_at.reset();
    return set_state(RegistrationState::kUnregistered);
  }
  const uint32_t granted = granted_expires(r, options_.contact).value_or(expires_);
  if (granted == 0) return fail(r.status_code, r.reason + " (the registrar kept no binding for our Contact)");
  status_.failures = 0;
  status_.granted_expires = granted;
  status_.expires_at = timers_.now() + std::chrono::seconds(granted);
  status_.state = RegistrationState::kRegistered;
  // §10.2.1 leaves the refresh time to the UA: at half the expiry, a refresh that is challenged, or
  // retransmitted up to Timer F, still lands long before the binding lapses.
  schedule(std::chrono::milliseconds(granted) * 500, true);
  changed();
}

bool RegisterClient::answer_challenge(const Message& r, std::string& why_not) {
  if (!digest_) {
    why_not = "no credentials to answer with";
    return false;
  }
  if (requests_in_attempt_ >= kMaxRequestsPerAttempt) {
    why_not = "challenged too often";
    return false;
  }
  // Credentials sent without being asked for (a refresh) that draw a challenge are answered like a
  // first challenge: a registrar that forgot its nonce may say so without stale=true. A second refusal
  // in this attempt is then final (DigestClient: kCredentialsRejected).
  Message challenged = request_;
  if (preemptive_) strip_credentials(challenged);
  auth::DigestAnswer a = digest_->answer(challenged, r, random_);
  if (!a.ok()) {
    why_not = a.error.message();
    return false;
  }
  send(std::move(a.header), false);
  return true;
}

// §10.2.8 / §10.3 step 7: 423 Interval Too Brief names the shortest expiry the registrar takes.
bool RegisterClient::retry_interval(const Message& r) {
  std::optional<uint32_t> min = min_expires(r);
  if (!min || *min <= expires_ || *min > kRegisterMaxExpires || requests_in_attempt_ >= kMaxRequestsPerAttempt)
    return false;
  expires_ = *min;
  send(std::nullopt, true);
  return true;
}

void RegisterClient::fail(int status, std::string reason, std::chrono::milliseconds at_least) {
  status_.last_status = status;
  status_.last_reason = std::move(reason);
  status_.expires_at.reset();
  if (unregistering_) return set_state(RegistrationState::kUnregistered);  // no retry: we are leaving
  ++status_.failures;
  std::chrono::milliseconds delay = options_.retry_base;
  for (uint32_t i = 1; i < status_.failures && delay < options_.retry_max; ++i) delay *= 2;
  delay = std::min(std::max(delay, at_least), options_.retry_max);
  status_.state = RegistrationState::kFailed;
  schedule(delay, false);
  changed();
}

void RegisterClient::schedule(std::chrono::milliseconds delay, bool refresh) {
  cancel_timer();
  status_.next_attempt = timers_.now() + delay;
  std::weak_ptr<bool> alive = alive_;
  timer_ = timers_.schedule(delay, [this, alive, refresh] {
    if (alive.expired()) return;
    timer_ = kNoTimer;
    begin_attempt(refresh);
  });
}

void RegisterClient::cancel_timer() {
  if (timer_ != kNoTimer) timers_.cancel(timer_);
  timer_ = kNoTimer;
}

void RegisterClient::set_state(RegistrationState state) {
  status_.state = state;
  if (state == RegistrationState::kUnregistered) status_.next_attempt.reset();
  changed();
}

void RegisterClient::changed() {
  if (options_.on_change) options_.on_change(status_);
}

}  // namespace warmline::sip
