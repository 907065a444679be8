// Everything one shard runs: its SIP socket (SO_REUSEPORT, one per shard), transaction layer and
// timers, its RTP port slice, its media clock, and the calls it owns. It is the SIP transaction user:
// it accepts or refuses new INVITEs (trunk ACL, routing to an agent, SDP), and hands in-dialog requests
// to their call.
//
// Thread: constructed on the main thread before the shard starts; after that every method runs on the
// shard's thread. Messages that a socket of another shard received arrive through receive() by post.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "media/media_clock.hpp"
#include "rtp/port_allocator.hpp"
#include "server/call.hpp"
#include "server/call_context.hpp"
#include "server/config.hpp"
#include "server/metrics.hpp"
#include "server/shard.hpp"
#include "sip/timer.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/udp_transport.hpp"

namespace warmline::server {

struct ShardRuntimeOptions {
  const Config* config = nullptr;
  rtp::PortRange rtp_ports{};
  SpeechService* speech = nullptr;
  const std::atomic<bool>* draining = nullptr;
  // Delivers a message this shard's socket received to the shard that owns its Call-ID.
  std::function<void(sip::Message&&, const sip::Endpoint&)> route;
  std::function<void()> on_calls_changed;  // a call ended (drain watches the count)
};

class ShardRuntime {
 public:
  ShardRuntime(Shard& shard, ShardRuntimeOptions options);
  ~ShardRuntime();

  // Binds the SIP socket and starts the media clock. False (with the error logged) when the SIP
  // address cannot be bound.
  bool start();
  void stop();

  // A message whose Call-ID this shard owns.
  void receive(sip::Message&& message, const sip::Endpoint& from);

  Shard& shard() { return shard_; }
  ShardMetrics& metrics() { return metrics_; }
  const ShardMetrics& metrics() const { return metrics_; }
  const media::MediaClock::Stats& clock_stats() const { return clock_.stats(); }
  size_t active_calls() const { return by_id_.size(); }
  std::vector<CallSnapshot> snapshots() const;
  std::shared_ptr<Call> find(const std::string& id) const;
  void hang_up_all(std::string_view reason);

 private:
  void on_request(sip::ServerTransaction& tx, const sip::Message& request);
  void on_invite(sip::ServerTransaction& tx, const sip::Message& invite);
  void on_options(sip::ServerTransaction& tx, const sip::Message& request);
  Call* find_dialog(const sip::Message& message);
  void call_ended(Call& call);
  void call_released(Call& call);
  void schedule_tick();

  Shard& shard_;
  ShardRuntimeOptions options_;
  const Config& config_;
  ShardMetrics metrics_;
  sip::RandomSource random_;
  sip::AsioTimerService timers_;
  std::unique_ptr<sip::UdpTransport> transport_;
  std::unique_ptr<sip::TransactionLayer> layer_;
  rtp::PortAllocator ports_;
  media::MediaClock clock_;
  std::unique_ptr<MediaScratch> media_scratch_ = std::make_unique<MediaScratch>();
  boost::asio::steady_timer tick_timer_;
  std::unique_ptr<CallContext> ctx_;
  std::unordered_map<std::string, std::shared_ptr<Call>> by_id_;       // API id -> call
  std::unordered_map<std::string, std::shared_ptr<Call>> by_call_id_;  // SIP Call-ID -> call
  std::vector<std::shared_ptr<Call>> lingering_;  // ended, waiting for the agent socket to close
  uint64_t next_call_ = 0;
  bool stopped_ = false;
};

}  // namespace warmline::server
