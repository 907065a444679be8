// The shard's SIP transaction user: admits or refuses new INVITEs (draining, trunk ACL, max_calls,
// routing to an agent) and routes every in-dialog message to the dialog usage that owns it by the full
// dialog id (RFC 3261 §12.2.2: Call-ID and both tags; an unknown dialog is 481). It owns the shard's
// calls.
//
// Thread: the shard's. No sockets here: the unit tests run it on the loopback transport and a fake
// clock, exactly as the shard runs it on UDP.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/call.hpp"
#include "server/invite_rate.hpp"
#include "server/call_context.hpp"
#include "sip/parse_check.hpp"
#include "sip/transaction_layer.hpp"

namespace warmline::server {

struct SipRouterOptions {
  const std::atomic<bool>* draining = nullptr;     // node-wide: new INVITEs get 503, OPTIONS 503
  std::atomic<int64_t>* node_calls = nullptr;      // node-wide live calls, for [server] max_calls
  SharedInviteRateLimiter* invite_rate = nullptr;  // node-wide buckets of invite_rate_per_source; null: own
  std::function<void()> on_calls_changed{};        // a call ended (drain watches the count)
};

class SipRouter {
 public:
  SipRouter(CallContext& ctx, SipRouterOptions options);
  ~SipRouter();

  // The handlers a TransactionLayer delivers to (the layer is built with them before ctx.sip exists).
  sip::TransactionHandlers handlers();

  size_t active_calls() const { return by_id_.size(); }
  std::vector<CallSnapshot> snapshots() const;
  std::shared_ptr<Call> find(const std::string& id) const;
  void hang_up_all(std::string_view reason);
  // Drops every call (shutdown): their legs leave the registry, their sockets close.
  void clear();

  // The capabilities the UAS check applies to every request: kHandledMethods and the bodies we read.
  static const sip::UasCapabilities& capabilities();

 private:
  void on_request(sip::ServerTransaction& tx, const sip::Message& request);
  void on_invite(sip::ServerTransaction& tx, const sip::Message& invite);
  void on_options(sip::ServerTransaction& tx, const sip::Message& request);
  void reject(sip::ServerTransaction& tx, const sip::Message& request, int status, std::string_view reason);
  bool draining() const;
  void call_ended(Call& call);
  void call_released(Call& call);

  CallContext& ctx_;
  InviteRateLimiter invite_rate_;
  SipRouterOptions options_;
  std::unordered_map<std::string, std::shared_ptr<Call>> by_id_;  // API id -> call
  std::vector<std::shared_ptr<Call>> lingering_;  // ended, waiting for the agent socket to close
};

}  // namespace warmline::server
