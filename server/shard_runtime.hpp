// Everything one shard runs: its SIP socket (SO_REUSEPORT, one per shard), transaction layer and
// timers, its RTP port slice, its media clock, and its SIP router (the transaction user, which owns
// the shard's calls).
//
// Thread: constructed on the main thread before the shard starts; after that every method runs on the
// shard's thread. Messages that a socket of another shard received arrive through receive() by post.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "media/media_clock.hpp"
#include "rtp/media_io.hpp"
#include "rtp/port_allocator.hpp"
#include "server/call_context.hpp"
#include "server/sip_router.hpp"
#include "server/config.hpp"
#include "server/hep_tracer.hpp"
#include "server/metrics.hpp"
#include "server/shard.hpp"
#include "server/trunk_pings.hpp"
#include "server/trunk_registrations.hpp"
#include "sip/timer.hpp"
#include "sip/resolve/resolver.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/stream_transport.hpp"
#include "sip/transport_mux.hpp"
#include "sip/udp_transport.hpp"

namespace warmline::server {

struct ShardRuntimeOptions {
  const Config* config = nullptr;
  rtp::PortRange rtp_ports{};
  SpeechService* speech = nullptr;
  const std::atomic<bool>* draining = nullptr;
  std::atomic<int64_t>* node_calls = nullptr;  // live calls over all shards ([server] max_calls)
  SharedInviteRateLimiter* invite_rate = nullptr;  // invite_rate_per_source over all shards
  // Delivers a message this shard's socket received to the shard that owns its Call-ID.
  std::function<void(sip::Message&&, const sip::Endpoint&)> route;
  // Hands a serialized message for a TCP/TLS peer to shard 0, which holds every connection (send_stream).
  std::function<void(std::string bytes, const sip::Endpoint& to)> post_stream;
  std::function<void()> on_calls_changed;  // a call ended (drain watches the count)
  // Shard 0: a TCP/TLS connection it opened never came up; the gateway tells every shard
  // (transport_failed), whose transactions to that peer then fail at once.
  std::function<void(const sip::Endpoint& to, const std::string& why)> on_stream_connect_failed;
  RecordSink* records = nullptr;  // the CDR writer; null: records are off
  WebhookSink* webhooks = nullptr;  // the webhook sender; null: webhooks are off
  const HoldMusic* hold_music = nullptr;  // the gateway's, shared by every shard; null: none
  unsigned shard_count = 1;       // outbound legs pick Call-IDs that map back to this shard
  TrunkHealth* trunk_health = nullptr;  // the gateway's; shard 0 pings the trunks into it. Null: no pings
  RecordingWriter* recordings = nullptr;  // the gateway's recordings' writer; null: no recording
  // SIP trace ([server] hep), the gateway's; null: off.
  const HepOptions* hep = nullptr;
  TraceLinks* trace_links = nullptr;
};

class ShardRuntime : private media::MediaClock::PassHooks {
 public:
  ShardRuntime(Shard& shard, ShardRuntimeOptions options);
  ~ShardRuntime() override;

  // Binds the SIP socket and starts the media clock. False (with the error logged) when the SIP
  // address cannot be bound.
  bool start();
  void stop();
  // The sink the shard's calls hand their records to; set before start() (the gateway opens the CDR
  // writer at start-up, after the runtimes exist).
  void set_record_sink(RecordSink* sink) { options_.records = sink; }
  // Where the shard's calls send their webhook events; set before start(), like the records.
  void set_webhook_sink(WebhookSink* sink) { options_.webhooks = sink; }
  // The hold music the shard's calls play; set before start() (loaded at start-up, like the records).
  void set_hold_music(const HoldMusic* music) { options_.hold_music = music; }

  // A message whose Call-ID this shard owns.
  void receive(sip::Message&& message, const sip::Endpoint& from);
  // Shard 0: sends bytes another shard serialized over the TCP/TLS connection to `to`.
  void send_stream(std::string bytes, const sip::Endpoint& to);
  // The connection to `to` could not be opened at `when`: this shard's client transactions to it that
  // started by then and heard nothing get a 503 with `why` now (sip::TransactionLayer::transport_failed).
  void transport_failed(const sip::Endpoint& to, const std::string& why, std::chrono::steady_clock::time_point when);

  Shard& shard() { return shard_; }
  ShardMetrics& metrics() { return metrics_; }
  const ShardMetrics& metrics() const { return metrics_; }
  const media::MediaClock::Stats& clock_stats() const { return clock_.stats(); }
  size_t active_calls() const { return router_ ? router_->active_calls() : 0; }
  std::vector<CallSnapshot> snapshots() const;
  std::shared_ptr<Call> find(const std::string& id) const;
  void hang_up_all(std::string_view reason);
  // Shard 0 keeps every trunk registration (trunk_registrations.hpp); null on the other shards. The
  // object lives as long as the runtime, so its gauges may be read from any thread at any time.
  TrunkRegistrations* registrations() { return registrations_.get(); }
  const TrunkRegistrations* registrations() const { return registrations_.get(); }
  // Shard 0 pings the trunks with ping_interval_s (trunk_pings.hpp); null on the other shards, and
  // without a TrunkHealth. Lives as long as the runtime.
  TrunkPings* pings() { return pings_.get(); }
  const TrunkPings* pings() const { return pings_.get(); }
  // Shutdown, on this shard's thread: REGISTER with Expires: 0 for every bound trunk.
  void unregister_trunks();

 private:
  void schedule_tick();
  // Around each media slot's pass: the batch of its packets (rtp_io = "batched").
  void pass_begin() override;
  void pass_end() override;

  Shard& shard_;
  ShardRuntimeOptions options_;
  const Config& config_;
  ShardMetrics metrics_;
  sip::RandomSource random_;
  sip::AsioTimerService timers_;
  bool start_streams();

  std::unique_ptr<HepTracer> tracer_;  // before the transports that call it; null: tracing off
  std::unique_ptr<sip::UdpTransport> transport_;
  // TCP and TLS (index 0, 1): the transports on shard 0, relays to them on the others.
  std::array<std::unique_ptr<sip::StreamTransport>, 2> streams_;
  std::array<std::unique_ptr<sip::Transport>, 2> relays_;
  sip::TransportMux mux_;  // what the layer sends through: UDP, TCP, TLS by destination
  LadderIndex ladders_;  // Call-ID -> call's SIP ladder, fed by the layer's tap (outlives layer and calls)
  std::unique_ptr<sip::TransactionLayer> layer_;
  std::unique_ptr<sip::Resolver> resolver_;  // RFC 3263 for the targets warmline dials ([server] dns_servers)
  sip::DialogRegistry dialogs_;
  rtp::PortAllocator ports_;
  media::MediaClock clock_;
  std::unique_ptr<rtp::MediaIo> media_io_;  // [media] rtp_io = "batched"; null: plain
  std::unique_ptr<MediaScratch> media_scratch_ = std::make_unique<MediaScratch>();
  boost::asio::steady_timer tick_timer_;
  std::unique_ptr<CallContext> ctx_;
  std::unique_ptr<SipRouter> router_;
  std::unique_ptr<TrunkRegistrations> registrations_;  // shard 0 only
  std::unique_ptr<TrunkPings> pings_;  // shard 0 only
  sip::TransactionHandlers routed_;  // the router's handlers, which the layer's forward to
  bool stopped_ = false;
};

}  // namespace warmline::server
