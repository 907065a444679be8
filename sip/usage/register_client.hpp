// A registration (RFC 3261 §10.2): keeps one Contact bound to one address-of-record at a registrar —
// a trunk that wants to know where to send our calls. It REGISTERs, answers a digest challenge (401 or
// 407) with the DigestClient, honours 423 Interval Too Brief by asking again for the Min-Expires,
// refreshes at half the expiry the registrar granted, and after any failure (a final response other
// than 2xx, the transaction's timeout, a transport error, credentials the registrar refuses, a next
// hop that cannot be found) tries again after an exponential backoff: retry_base, doubling, capped at
// retry_max (a longer Retry-After from the registrar is honoured, within that cap).
//
// Every REGISTER of one client carries the same Call-ID and From tag and a CSeq one higher than the
// last (§10.2: "A UA SHOULD use the same Call-ID for all registrations during a single boot cycle"), so
// the owner picks a Call-ID that its shard owns and every response comes back to it. A refresh carries
// credentials for the last challenge at once (DigestClient::authorize), saving the registrar a round
// trip; when the registrar challenges those anyway (a nonce it forgot without saying stale), the new
// challenge is answered once more as a first one.
//
// What it leaves to its owner: the Call-ID, the Contact, finding the next hop (the `locate` hook; an
// RFC 3263 lookup on a real shard), and watching the status (the `on_change` hook).
//
// Thread: the shard's. Every call and callback runs on the thread of the TransactionLayer and the
// TimerService it is given. Destruction in any state is safe: pending timers are cancelled and late
// responses and lookups are ignored. on_change must not destroy the client.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sip/auth/digest_client.hpp"
#include "sip/transaction_layer.hpp"

namespace warmline::sip {

using namespace std::chrono_literals;

// The backoff after a failed attempt: the first retry after kRegisterRetryBase, each further one after
// twice the last, never more than kRegisterRetryMax.
inline constexpr std::chrono::milliseconds kRegisterRetryBase = 30s;
inline constexpr std::chrono::milliseconds kRegisterRetryMax = 10min;
// The most a 423's Min-Expires may ask for before we give up on it (one day, as `register_expires_s`).
inline constexpr uint32_t kRegisterMaxExpires = 86400;

enum class RegistrationState {
  kUnregistered,  // not started, stopped, or removed by unregister()
  kRegistering,   // the first REGISTER (or a retry after a failure) awaits its answer
  kRegistered,    // the registrar accepted the binding; a refresh is scheduled (or in flight)
  kFailed,        // the last attempt failed; the next one is scheduled (next_attempt)
};
std::string_view to_string(RegistrationState state);  // "unregistered", "registering", ...

struct RegistrationStatus {
  RegistrationState state = RegistrationState::kUnregistered;
  int last_status = 0;      // status of the last final response; 0 before one, or when no request went out
  std::string last_reason;  // its reason phrase, or why the attempt failed without one
  uint32_t granted_expires = 0;  // what the last 2xx granted, in seconds
  std::optional<std::chrono::steady_clock::time_point> expires_at;    // kRegistered: the binding lapses
  std::optional<std::chrono::steady_clock::time_point> next_attempt;  // the refresh or retry timer
  uint32_t failures = 0;    // failed attempts since the last success
};

// Where the next REGISTER goes: call `done` once, now or later, with an endpoint or with nullopt and
// why not (a DNS error).
using NextHopDone = std::function<void(std::optional<Endpoint> hop, std::string error)>;
using LocateNextHop = std::function<void(NextHopDone done)>;

struct RegisterClientOptions {
  std::string call_id;       // chosen by the owner (it maps to the owner's shard)
  Uri registrar;             // Request-URI: sip:<host>[:port]
  NameAddr aor;              // To and From: sip:<username>@<host>
  NameAddr contact;          // where the registrar sends requests for the AOR (us)
  uint32_t expires = 3600;   // asked for in each REGISTER (a 423 may raise it)
  std::optional<auth::DigestCredentials> credentials;  // none: a challenge is a failure
  // Finds the next hop before each attempt. Without it, the registrar's host must be an IP literal.
  LocateNextHop locate{};
  std::chrono::milliseconds retry_base = kRegisterRetryBase;
  std::chrono::milliseconds retry_max = kRegisterRetryMax;
  std::function<void(const RegistrationStatus&)> on_change{};  // after every change of status()
};

class RegisterClient {
 public:
  RegisterClient(TransactionLayer& layer, TimerService& timers, RandomSource& random, RegisterClientOptions options);
  ~RegisterClient();
  RegisterClient(const RegisterClient&) = delete;
  RegisterClient& operator=(const RegisterClient&) = delete;

  // Sends the first REGISTER. False when already started.
  bool start();
  // §10.2.2: removes the binding (REGISTER with Expires: 0, answering a challenge as usual) when the
  // registrar holds one, and stops refreshing and retrying. The status ends kUnregistered at once when
  // nothing was bound, else when the de-REGISTER is answered (or fails). Idempotent.
  void unregister();

  const RegistrationStatus& status() const { return status_; }
  const std::string& call_id() const { return options_.call_id; }
  uint32_t cseq() const { return cseq_; }  // of the last REGISTER sent
  uint32_t expires() const { return expires_; }  // asked for now (after any 423)

 private:
  void begin_attempt(bool refresh);
  void on_located(std::optional<Endpoint> hop, const std::string& error, bool refresh);
  void send(std::optional<auth::AuthorizationHeader> answer, bool preemptive);
  void on_response(const Message& response);
  void on_success(const Message& response);
  bool answer_challenge(const Message& response, std::string& why_not);
  bool retry_interval(const Message& response);
  void fail(int status, std::string reason, std::chrono::milliseconds at_least = {});
  void schedule(std::chrono::milliseconds delay, bool refresh);
  void cancel_timer();
  void set_state(RegistrationState state);
  void changed();

  TransactionLayer& layer_;
  TimerService& timers_;
  RandomSource& random_;
  RegisterClientOptions options_;
  std::optional<auth::DigestClient> digest_;
  RegistrationStatus status_;
  std::string from_tag_;
  uint32_t cseq_ = 0;
  uint32_t expires_ = 0;
  Endpoint hop_;
  Message request_;          // the last REGISTER as sent (without the layer's Via): what a 401 answers
  bool preemptive_ = false;  // request_ carried credentials no challenge of this attempt asked for
  int requests_in_attempt_ = 0;
  uint64_t generation_ = 0;  // bumped per request and lookup: a late answer to an older one is ignored
  TimerId timer_ = kNoTimer;
  bool started_ = false;
  bool unregistering_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warmline::sip
