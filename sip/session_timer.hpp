// Session timers (RFC 4028): the headers (Session-Expires, Min-SE, Supported/Require: timer), the
// negotiation as UAS (§9) and as UAC (§7), and the per-dialog timer that sends refreshes or ends a
// session nobody refreshed (§10).
//
// Why: without them a long call dies when the far end's own session timer runs out (carriers commonly
// tear down calls that have not been refreshed within 15 or 30 minutes), and a call whose far end
// vanished without a BYE would stay up for ever.
//
// Pure logic: no sockets, no server/. The leg that owns a dialog decides how to refresh (UPDATE or
// re-INVITE) and what expiry means (BYE); SessionTimer only says when. Thread: the dialog's shard, like
// the TimerService it schedules on.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message.hpp"
#include "sip/timer.hpp"

namespace warmline::sip {

// RFC 4028 §4: Min-SE never below 90 s; our own minimum is this floor.
inline constexpr uint32_t kMinSessionExpires = 90;
// The largest interval warmline asks for (trunk session_timer_s) or accepts as a 422's Min-SE: a day.
inline constexpr uint32_t kMaxSessionExpires = 86400;

enum class Refresher { kUnset, kUac, kUas };
std::string_view to_string(Refresher r);

struct SessionExpires {
  uint32_t delta = 0;  // seconds
  Refresher refresher = Refresher::kUnset;
};

// "1800;refresher=uac" (RFC 4028 §4 grammar; unknown parameters are ignored). nullopt when malformed.
std::optional<SessionExpires> parse_session_expires(std::string_view value);
std::string format_session_expires(const SessionExpires& se);
// "90" with optional generic parameters. nullopt when malformed.
std::optional<uint32_t> parse_min_se(std::string_view value);

// What a request or response says about session timers.
struct TimerHeaders {
  std::optional<SessionExpires> session_expires;
  uint32_t min_se = 0;         // 0: no Min-SE header
  bool supported = false;      // Supported: timer
  bool required = false;       // Require: timer
  bool malformed = false;      // a Session-Expires or Min-SE we cannot read
};
TimerHeaders read_timer_headers(const Message& m);
// True when any Allow header of `m` lists `method`.
bool allows_method(const Message& m, std::string_view method);

// The timer a dialog runs after a negotiation: nullopt interval = no session timer.
struct SessionTimerTerms {
  uint32_t interval = 0;  // Session-Expires, seconds
  Refresher refresher = Refresher::kUnset;
  bool peer_supports_timer = false;
  // True when this side refreshes: (we are the UAS and refresher=uas) or (we are the UAC and uac).
  bool we_refresh = false;
};

// RFC 4028 §9 / §8.1: how a UAS answers an INVITE, re-INVITE or UPDATE.
struct UasTimerDecision {
  int status = 0;       // 0: accept; 422 (send Min-SE: min_se), 400 (malformed timer headers)
  uint32_t min_se = 0;  // for the 422
  std::optional<SessionTimerTerms> terms{};  // nullopt: the 2xx carries no Session-Expires, no timer runs
};
// `configured_s`: the session interval we want (0: we ask for none, a caller's own request is still
// honoured as §9 asks of a UA that supports timers); `our_min_se`: the smallest we accept.
UasTimerDecision negotiate_uas(const Message& request, uint32_t configured_s, uint32_t our_min_se = kMinSessionExpires);
// Session-Expires (and Require: timer when the peer supports it, §9) on our 2xx, plus Supported: timer
// is the caller's: responses carry it with their other option tags.
void add_uas_timer_headers(Message& response, const SessionTimerTerms& terms);

// RFC 4028 §7.1: what our INVITE (or refresh) asks for: Session-Expires and Min-SE. Supported: timer
// goes with the request's other option tags (the caller's).
void add_uac_timer_headers(Message& request, uint32_t session_expires, uint32_t min_se,
                           Refresher refresher = Refresher::kUnset);
// §7.3: the Min-SE of a 422, raised to at least `floor`; nullopt when the 422 has no usable Min-SE.
std::optional<uint32_t> min_se_of_422(const Message& response, uint32_t floor = kMinSessionExpires);
// §7.2: what the 2xx to our INVITE (or refresh) sets up, we being the UAC: nullopt = no Session-Expires
// in it, no timer (also for a malformed one). A 2xx that names no refresher leaves it to us (§7.2:
// "the UAC MUST set the refresher to uac").
std::optional<SessionTimerTerms> uac_terms(const Message& response);

// When a side refreshes: at half the interval (§10). When the other side gives up: Session-Expires
// less min(32, SE/3) (§10), so its BYE is out before the refresher's expiry would be.
std::chrono::milliseconds refresh_delay(uint32_t interval_s);
std::chrono::milliseconds expiry_delay(uint32_t interval_s, bool we_refresh);

// The timer of one dialog. start() (re)arms it from fresh terms (the initial 2xx or a refresh,
// either way); the refresher gets on_refresh at SE/2 and, when no refresh succeeded, on_expired at SE;
// the other side gets on_expired at SE - min(32, SE/3). Both callbacks run on the TimerService's
// thread; the owner may stop() or destroy the timer from inside them.
class SessionTimer {
 public:
  struct Handlers {
    std::function<void()> on_refresh;  // send a refresh now (UPDATE or re-INVITE)
    std::function<void()> on_expired;  // the session is over: BYE
  };
  SessionTimer(TimerService& timers, Handlers handlers);
  ~SessionTimer();
  SessionTimer(const SessionTimer&) = delete;
  SessionTimer& operator=(const SessionTimer&) = delete;

  void start(const SessionTimerTerms& terms);
  // start() with terms, stop() without: what a negotiation (or a 2xx to a refresh) decided.
  void apply(const std::optional<SessionTimerTerms>& terms) { terms ? start(*terms) : stop(); }
  // A refresh of ours met 491 (glare, RFC 3261 §14.1): try again after `delay`; the expiry stands.
  void retry_refresh(std::chrono::milliseconds delay);
  void stop();
  bool running() const { return expiry_ != kNoTimer; }
  const SessionTimerTerms& terms() const { return terms_; }

 private:
  void cancel_all();
  TimerService& timers_;
  Handlers handlers_;
  SessionTimerTerms terms_;
  TimerId refresh_ = kNoTimer;
  TimerId expiry_ = kNoTimer;
};

}  // namespace warmline::sip
