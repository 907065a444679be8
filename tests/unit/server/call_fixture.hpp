// One shard's call machinery without sockets or sleeps, for the call, leg, router and transfer tests:
// the SipRouter as the transaction user of a TransactionLayer over the in-memory LoopbackTransport and
// the FakeTimerService (the model is pjsip's sip_transport_loop.c), the shard's DialogRegistry, and
// in-memory media, agent and speech (call_fakes.hpp).
//
// The test plays the caller's side — a carrier trunk at 203.0.113.5 — by handing the layer parsed
// messages as if they had arrived from there, and reads what warmline sent from the transport. Work
// that the call posts to its shard (an agent socket that finished closing, a call released) runs in
// settle(), which every injection calls, so the state a test checks is the state after the event loop
// went idle, as on a real shard.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/call.hpp"
#include "server/call_context.hpp"
#include "server/config.hpp"
#include "server/sip_router.hpp"
#include "sip/parser.hpp"
#include "sip/testing/fake_timer.hpp"
#include "sip/testing/loopback_transport.hpp"
#include "sip/transaction_layer.hpp"
#include "call_fakes.hpp"

namespace warmline::server {

using namespace std::chrono_literals;

// Three trunks: the carrier the calls come from (accepts REFER), another configured trunk (a peer we
// know, but not the one a call came in on) and a PBX that refuses REFER. Three agents: `demo` (the
// caller stays with the AI after a failed transfer; its default_forward is used once the agent is
// lost), `forwarding` (on_failure = default_forward) and `plain` (no default_forward at all). All three
// keep a refused REFER a failure (refer_fallback = "agent").
//
// For bridged dials (transfers warmline places itself, leg b): trunk `provider`, outbound only, at an IP
// literal (the fixture has no DNS: CallContext::resolver is null), with digest credentials, caller IDs
// and a carrier's number form (no '+', tech prefix 1010); agent `dialer` (numbers through `provider`,
// refer_fallback = "dial", ring time 20 s) with targets: `Craig`, a number through `provider` (its
// first caller ID); `Desk`, a SIP URI at an IP literal, dialled directly (ring time 10 s); `Lisa`, a
// number with its own caller ID; `Night`, a number through `carrier`, which lists no caller IDs.
inline constexpr std::string_view kCallTestConfig = R"(
[server]
retry_after_s = 7

[[trunk]]
name = "carrier"
address = "203.0.113.1"
source_cidrs = ["203.0.113.0/24"]
accepts_refer = true

[[trunk]]
name = "other"
source_cidrs = ["198.51.100.0/24"]
accepts_refer = true
provisional = "none"

[[trunk]]
name = "norefer"
source_cidrs = ["100.64.0.0/24"]

[[trunk]]
name = "provider"
address = "203.0.113.50:5070"
username = "acct-7"
password = "s3cret"
caller_ids = ["+27115550180", "+27115550181"]
number_format = "no_plus"
tech_prefix = "1010"

[[agent]]
name = "demo"
numbers = ["+27115550100", "+27115550109"]
url = "ws://127.0.0.1:9"
default_forward = "Operator"
refer_timeout_s = 30
refer_fallback = "agent"
[[agent.target]]
name = "Support"
uri = "sip:support@pbx.example.com"
[[agent.target]]
name = "Sales"
uri = "sip:sales@pbx.example.com"
[[agent.target]]
name = "Billing"
uri = "sip:billing@pbx.example.com"
[[agent.target]]
name = "Operator"
uri = "sip:operator@pbx.example.com"

[[agent]]
name = "forwarding"
numbers = ["+27115550111"]
url = "ws://127.0.0.1:9"
on_failure = "default_forward"
default_forward = "Operator"
refer_fallback = "agent"
[[agent.target]]
name = "Support"
uri = "sip:support@pbx.example.com"
[[agent.target]]
name = "Operator"
uri = "sip:operator@pbx.example.com"

[[agent]]
name = "plain"
numbers = ["+27115550122"]
url = "ws://127.0.0.1:9"
fallback_message = "Sorry, nobody can take your call."
refer_fallback = "agent"
[[agent.target]]
name = "Support"
uri = "sip:support@pbx.example.com"

[[agent]]
name = "dialer"
numbers = ["+27115550133"]
url = "ws://127.0.0.1:9"
trunk = "provider"
refer_fallback = "dial"
ring_timeout_s = 20
refer_timeout_s = 30
[[agent.target]]
name = "Craig"
uri = "tel:+27115550142"
[[agent.target]]
name = "Desk"
uri = "sip:desk@203.0.113.60:5080"
ring_timeout_s = 10
[[agent.target]]
name = "Lisa"
uri = "tel:+27115550144"
caller_id = "+27115550181"
[[agent.target]]
name = "Night"
uri = "tel:+27115550143"
via = "carrier"
)";

inline constexpr std::string_view kDemoNumber = "+27115550100";
inline constexpr std::string_view kForwardingNumber = "+27115550111";
inline constexpr std::string_view kPlainNumber = "+27115550122";
inline constexpr std::string_view kDialerNumber = "+27115550133";
inline constexpr std::string_view kSupportUri = "sip:support@pbx.example.com";
inline constexpr std::string_view kSalesUri = "sip:sales@pbx.example.com";
inline constexpr std::string_view kBillingUri = "sip:billing@pbx.example.com";
inline constexpr std::string_view kOperatorUri = "sip:operator@pbx.example.com";

inline const sip::Endpoint kLocal{"192.0.2.10", 5060};       // warmline
inline const sip::Endpoint kTrunkPeer{"203.0.113.5", 5060};  // the carrier's proxy, inside its CIDR
inline const sip::Endpoint kOtherTrunk{"198.51.100.9", 5060};  // another configured trunk
inline const sip::Endpoint kStranger{"192.0.2.200", 5060};   // in no trunk's CIDRs
inline const sip::Endpoint kNoReferPeer{"100.64.0.5", 5060};
inline const sip::Endpoint kProvider{"203.0.113.50", 5070};    // trunk "provider": numbers are dialled here
inline const sip::Endpoint kDeskServer{"203.0.113.60", 5080};  // target "Desk" (sip:desk@203.0.113.60:5080)
inline const sip::Endpoint kCarrierOut{"203.0.113.1", 5060};   // trunk "carrier"'s address

Config load_call_test_config();

// The caller's side of one call, as the test plays it.
struct Caller {
  std::string number;          // the number dialled (selects the agent)
  sip::Endpoint at;            // where its requests come from
  std::string call_id;
  std::string from_tag;
  std::string to_tag;          // warmline's tag, from its first response that carries one
  uint32_t cseq = 1;           // the last CSeq the caller used (the INVITE's is 1)
  sip::Message invite;         // as sent
  std::string id;              // the call's API id ("" when no call was created)
  std::shared_ptr<fake::AgentLog> agent;
  std::shared_ptr<fake::MediaLog> media;
};

// How the caller's INVITE looks; chain the setters: InviteOptions().no_sdp().record_route("<sip:...;lr>").
struct InviteOptions {
  std::optional<std::string> sdp;          // nullopt: the default offer; "": no body (late offer)
  std::vector<std::string> record_routes;  // Record-Route values, in order
  std::vector<std::string> extra_headers;  // "Name: value"
  std::string from = "\"Caller\" <sip:+27115550123@carrier.example>";  // the From value, without its tag
  std::string max_forwards = "70";

  InviteOptions& offer(std::string body) { sdp = std::move(body); return *this; }
  InviteOptions& from_party(std::string value) { from = std::move(value); return *this; }
  InviteOptions& no_sdp() { sdp = ""; return *this; }
  InviteOptions& record_route(std::string value) { record_routes.push_back(std::move(value)); return *this; }
  InviteOptions& header(std::string h) { extra_headers.push_back(std::move(h)); return *this; }
  InviteOptions& hops(std::string value) { max_forwards = std::move(value); return *this; }
};

// An in-dialog request from the caller's side; every field has the caller's normal value by default.
// Chain the setters: InDialog().source(kStranger).seq(1000).
struct InDialog {
  std::optional<sip::Endpoint> from;       // source (and Via); default the caller's
  std::optional<uint32_t> cseq;            // default: the caller's next
  std::optional<std::string> to_tag;       // default: warmline's tag
  std::optional<std::string> from_tag;     // default: the caller's tag
  std::vector<std::string> headers;        // "Name: value"
  std::string content_type;
  std::string body;

  InDialog& source(sip::Endpoint e) { from = std::move(e); return *this; }
  InDialog& seq(uint32_t n) { cseq = n; return *this; }
  InDialog& our_tag(std::string tag) { to_tag = std::move(tag); return *this; }
  InDialog& their_tag(std::string tag) { from_tag = std::move(tag); return *this; }
  InDialog& header(std::string h) { headers.push_back(std::move(h)); return *this; }
  InDialog& with_body(std::string type, std::string text) {
    content_type = std::move(type);
    body = std::move(text);
    return *this;
  }
  InDialog& with_sdp(std::string text) { return with_body("application/sdp", std::move(text)); }
};

// The far end of a leg that warmline dials (leg b), as the test plays it: the server at `at` that got
// the INVITE, answering as the transfer target would. dialled() finds it; respond() and its shorthands
// answer the INVITE; target_bye() hangs up.
struct Target {
  sip::Endpoint at;                       // where the INVITE went; the target's messages come from here
  sip::Message invite;                    // as warmline sent it (a copy: the transport's log grows)
  std::string tag;                        // the target's To tag
  uint32_t cseq = 0;                      // the last CSeq of the target's own requests
  std::shared_ptr<fake::MediaLog> media;  // leg b's media session (the one whose port the offer names)

  const std::string& call_id() const { return invite.call_id; }
};

// How the target answers; chain the setters: TargetReply().with_sdp(...).header("Retry-After: 5").
struct TargetReply {
  std::string sdp;                   // "" = no body
  std::vector<std::string> headers;  // "Name: value"

  TargetReply& with_sdp(std::string body) { sdp = std::move(body); return *this; }
  TargetReply& header(std::string h) { headers.push_back(std::move(h)); return *this; }
};

class CallFixture : public ::testing::Test {
 protected:
  CallFixture();
  ~CallFixture() override;

  // --- building and delivering messages ----------------------------------------------------------
  // Parses SIP text written with "\n" line ends (turned into CRLF; Content-Length is added).
  static sip::Message parse(std::string head, std::string_view content_type = {}, std::string_view body = {});
  static std::string sdp(std::string_view ip = "203.0.113.5", uint16_t port = 40000,
                         std::string_view direction = "sendrecv", std::string_view formats = "0 101");
  // Hands `m` to the transaction layer as if it came from `from`, then runs posted work.
  void deliver(sip::Message m, const sip::Endpoint& from);
  void settle();                          // runs what was posted to the shard, bounded
  void advance(std::chrono::milliseconds by);  // the fake clock, then settle()

  // --- the caller's side -------------------------------------------------------------------------
  Caller make_caller(std::string_view number = kDemoNumber, sip::Endpoint at = kTrunkPeer);
  void invite(Caller& c, InviteOptions options = {});
  sip::Message in_dialog(Caller& c, std::string_view method, InDialog options = {});
  void send(Caller& c, std::string_view method, InDialog options = {});
  // The ACK for the 2xx to the INVITE with CSeq `cseq` (1: the initial INVITE; a re-INVITE's otherwise).
  void ack(Caller& c, std::string_view sdp_answer = {}, std::optional<sip::Endpoint> from = std::nullopt,
           uint32_t cseq = 1);
  void cancel(Caller& c, std::optional<sip::Endpoint> from = std::nullopt);
  // The caller's side answers a request warmline sent in the dialog.
  void reply(const Caller& c, const sip::Message& our_request, int status, std::string_view reason = {});
  // The caller's side challenges a request warmline sent in the dialog (see digest_challenge()).
  void challenge(const Caller& c, const sip::Message& our_request, int status, std::string_view nonce = "nonce-1",
                 std::string_view realm = "carrier.example", bool stale = false);
  // A NOTIFY of the REFER with CSeq `refer_cseq`, whose sipfrag is "SIP/2.0 <status> <reason>".
  void notify(Caller& c, uint32_t refer_cseq, int status, std::string_view reason, bool terminated);
  // INVITE, agent connects (200), ACK: a call in kActive.
  Caller active_call(std::string_view number = kDemoNumber);
  // The re-INVITE with `body` (empty: none) from the caller; ACKs its 2xx (with `ack_sdp` as answer).
  const sip::Message* reinvite(Caller& c, std::string body, std::string_view ack_sdp = {}) {
    InDialog o;
    if (!body.empty()) o.with_sdp(std::move(body));
    send(c, "INVITE", std::move(o));
    const sip::Message* r = last_response(c, "INVITE");
    if (r && r->status_code >= 200 && r->status_code < 300) ack(c, ack_sdp, std::nullopt, c.cseq);
    return last_response(c, "INVITE");
  }

  // --- the target's side (leg b) -------------------------------------------------------------------
  // INVITEs warmline sent to `at`, one per transaction (retransmissions left out), in order.
  std::vector<const sip::Message*> invites_to(const sip::Endpoint& at) const;
  // The latest INVITE sent to `at`, as a target to play; nullopt when none went there.
  std::optional<Target> dialled(const sip::Endpoint& at);
  // The target's SDP answer at its address (port 50000), with `formats` ("0 101": PCMU first).
  static std::string target_sdp(const Target& t, std::string_view formats = "0 101");
  // The target answers the INVITE with `status`: every response but a 100 carries its To tag; 1xx and
  // 2xx its Contact.
  void respond(Target& t, int status, TargetReply reply = {});
  void ring(Target& t) { respond(t, 180); }
  void early_media(Target& t, std::string_view formats = "0 101") {
    respond(t, 183, TargetReply().with_sdp(target_sdp(t, formats)));
  }
  void pick_up(Target& t, std::string_view formats = "0 101") {
    respond(t, 200, TargetReply().with_sdp(target_sdp(t, formats)));
  }
  // A digest challenge: 407 with Proxy-Authenticate (401: WWW-Authenticate), MD5, qop=auth.
  void challenge(Target& t, int status = 407, std::string_view nonce = "nonce-1", std::string_view realm = "provider.example");
  // The target answers a request warmline sent to it (a BYE, a CANCEL).
  void reply(const Target& t, const sip::Message& our_request, int status);
  // The target challenges a request warmline sent in its dialog (a BYE; see digest_challenge()).
  void challenge(const Target& t, const sip::Message& our_request, int status, std::string_view nonce = "nonce-1",
                 std::string_view realm = "provider.example", bool stale = false);
  // warmline CANCELled the INVITE: the target answers the CANCEL 200 and then the INVITE 487 (§9.2).
  void answer_cancel(Target& t);
  // A request from the target inside leg b's dialog (BYE, a re-INVITE with `sdp`, ...), from `from`
  // (default: where the INVITE went). An ACK takes the CSeq number of the target's last request.
  // `headers`: more header lines ("Name: value"), e.g. a REFER's Refer-To.
  void target_request(Target& t, std::string_view method, std::string_view sdp = {},
                      std::optional<sip::Endpoint> from = std::nullopt, std::vector<std::string> headers = {});
  // The answered target hangs up.
  void target_bye(Target& t) { target_request(t, "BYE"); }
  // Requests warmline sent in the target's leg (its Call-ID), one per transaction, in order.
  std::vector<const sip::Message*> requests(const Target& t, std::string_view method) const;
  // Messages of the target's leg sent since index `from` of the transport's log.
  std::vector<std::string> sent_since(const Target& t, size_t from) const;

  // --- what warmline did ---------------------------------------------------------------------------
  std::shared_ptr<Call> call(const Caller& c) const { return router->find(c.id); }
  // Status codes of the responses sent to the caller's requests with `method`, in order (retransmissions
  // included).
  std::vector<int> statuses(const Caller& c, std::string_view method) const;
  const sip::Message* last_response(const Caller& c, std::string_view method) const;
  // Requests warmline sent in the caller's call, in order, one per transaction (retransmissions left out).
  std::vector<const sip::Message*> requests(const Caller& c, std::string_view method) const;
  const sip::Message* last_request(const Caller& c, std::string_view method) const;
  const sip::Endpoint* destination_of(const sip::Message* sent) const;
  std::vector<std::string> refer_targets(const Caller& c) const;  // Refer-To of every REFER, in order
  size_t sent_count() const { return transport.sent().size(); }
  // Messages of the caller's call sent since index `from` of the transport's log.
  std::vector<std::string> sent_since(const Caller& c, size_t from) const;

  static ai::TransferRequest transfer(std::vector<std::string> targets, std::string id = "t1");
  // A 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) to `request`: Digest, MD5, qop="auth".
  static sip::Message digest_challenge(const sip::Message& request, int status, std::string_view nonce,
                                       std::string_view realm, bool stale = false);

  Config config = load_call_test_config();
  Shard shard{0};
  sip::testing::FakeTimerService timers;
  sip::testing::LoopbackTransport transport{kLocal};
  sip::TransactionHandlers routed;  // the router's handlers; the layer's forward to them
  sip::TransactionLayer layer{transport, timers, forwarders()};
  sip::DialogRegistry dialogs;
  media::MediaClock clock{media::MediaClock::Clock::now()};
  rtp::PortAllocator ports{rtp::PortRange{.min = 43200, .max = 43299}};
  sip::RandomSource random{7};
  ShardMetrics metrics;
  std::unique_ptr<MediaScratch> scratch = std::make_unique<MediaScratch>();
  fake::FakeSpeech speech;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> node_calls{0};
  SharedInviteRateLimiter node_rate;  // the node's invite_rate_per_source buckets (other shards use them too)
  std::vector<std::shared_ptr<fake::MediaLog>> media_logs;  // every session opened, in order
  std::vector<std::shared_ptr<fake::AgentLog>> agent_logs;  // every agent channel opened, in order
  fake::FakeRecordSink record_sink;  // every call's record, in the order the calls ended
  CallContext ctx;
  std::unique_ptr<SipRouter> router;

 private:
  sip::TransactionHandlers forwarders();
  void learn_to_tag(Caller& c) const;
  std::vector<const sip::Message*> requests_in(std::string_view call_id, std::string_view method) const;
  std::vector<std::string> sent_since(std::string_view call_id, size_t from) const;
  int next_branch_ = 1;
  int next_call_ = 1;
};

}  // namespace warmline::server
