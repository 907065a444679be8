// What every call on a shard shares: the shard's SIP stack, timers, media clock, RTP ports and the
// loaded config. One per shard, created before and destroyed after all of its calls.
// Thread: the shard's; nothing here is shared with another shard.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "media/media_clock.hpp"
#include "rtp/port_allocator.hpp"
#include "server/agent/agent_channel.hpp"
#include "server/cdr/record_sink.hpp"
#include "server/leg/hold_music.hpp"
#include "server/leg/leg_media.hpp"
#include "server/config.hpp"
#include "server/metrics.hpp"
#include "server/recording/recording_writer.hpp"
#include "server/shard.hpp"
#include "server/sip_ladder.hpp"
#include "server/speech.hpp"
#include "server/trunk_health.hpp"
#include "server/webhook/webhook_sink.hpp"
#include "sip/builders.hpp"
#include "sip/resolve/resolver.hpp"
#include "sip/timer.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/usage/dialog_usage.hpp"

namespace warmline::server {

class Call;
class TraceLinks;

// Every method the gateway handles, and nothing else: the UAS capability check answers 405 for the
// rest, and the Allow header of every response that carries one (OPTIONS, 2xx to INVITE/UPDATE, 405)
// is this list, joined. REFER is handled (by policy: 403 unless a trunk may refer), so it is listed.
inline constexpr std::array<std::string_view, 10> kHandledMethods = {
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "INFO", "REFER", "NOTIFY", "PRACK"};
// The option tags we implement: the Supported header of our INVITEs, 2xx/18x answers and OPTIONS, and
// the Require tags a request may carry without a 420 (100rel: RFC 3262 reliable provisionals, both
// ways; norefersub: RFC 4488).
inline constexpr std::string_view kSupportedOptionTags = "100rel, norefersub, timer";
// "INVITE, ACK, BYE, ..." built once from kHandledMethods.
const std::string& allow_header_value();

struct CallContext {
  Shard& shard;
  const Config& config;
  sip::TransactionLayer& sip;
  sip::DialogRegistry& dialogs;     // in-dialog requests reach a leg by the full dialog id
  sip::TimerService& timers;
  media::MediaClock& clock;
  rtp::PortAllocator& ports;
  sip::RandomSource& random;
  ShardMetrics& metrics;
  MediaScratch& media_scratch;      // one set of media working buffers for all calls of the shard
  SpeechService* speech;            // null when text-to-speech is unavailable
  std::string sip_host;             // the address we advertise in Contact/Via/SDP
  uint16_t sip_port = 5060;
  uint16_t sip_port_tcp = 0;        // the TCP and TLS ports we advertise in Contact (0: not listening)
  uint16_t sip_port_tls = 0;
  std::string media_ip;             // address RTP sockets bind to and SDP advertises
  MediaFactory open_media;          // LegMedia::open on a real shard; an in-memory session in tests
  AgentChannelFactory open_agent;   // the agent's dialect (native today)
  std::function<void(Call&)> on_call_ended;     // the shard stops routing SIP and API requests to it
  std::function<void(Call&)> on_call_released;  // the shard drops its last reference (agent socket closed)
  RecordSink* records = nullptr;    // where each ended call's record goes; null: records are off
  WebhookSink* webhooks = nullptr;  // where the calls' webhook events go; null: webhooks are off
  unsigned shard_count = 1;         // a Call-ID we pick must map back to this shard (shard_for_call_id)
  sip::Resolver* resolver = nullptr;  // RFC 3263 lookups for the targets we dial (null: numeric hosts only)
  // What callers on hold hear with hold = "music": loaded once for the process before the shards
  // start, shared read-only. Null: none (a held caller hears the ringback).
  const HoldMusic* hold_music = nullptr;
  // The trunks' servers the OPTIONS pings found down (trunk_health.hpp): dials through a trunk try its
  // other servers first. Shared by every shard; null: no pings.
  const TrunkHealth* trunk_health = nullptr;
  // Where recorded calls' audio goes (off the shard; server/recording/). Null: nothing is recorded.
  RecordingWriter* recordings = nullptr;
  // SIP trace ([server] hep): a leg we dial links its Call-ID to its caller's (hep_tracer.hpp). Null: off.
  TraceLinks* trace_links = nullptr;
  // Call-ID -> the call's SIP ladder (sip_ladder.hpp), fed by the transaction layer's tap. Null: no
  // ladders are kept.
  LadderIndex* ladders = nullptr;
};

// The protocol and the resolver's transport of a configured transport.
sip::Protocol to_protocol(Transport transport);
sip::TargetTransport to_target_transport(Transport transport);
// Our Contact URI for a dialog over `protocol` (RFC 3261 §8.1.1.8, §18): the port we listen on for it
// and, over TCP/TLS, ;transport=tcp|tls so that the peer's requests come back over the same transport.
sip::Uri contact_uri(const CallContext& ctx, sip::Protocol protocol);

}  // namespace warmline::server
