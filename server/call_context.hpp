// What every call on a shard shares: the shard's SIP stack, timers, media clock, RTP ports and the
// loaded config. One per shard, created before and destroyed after all of its calls.
// Thread: the shard's; nothing here is shared with another shard.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "media/media_clock.hpp"
#include "rtp/port_allocator.hpp"
#include "server/call_media.hpp"
#include "server/config.hpp"
#include "server/metrics.hpp"
#include "server/shard.hpp"
#include "server/speech.hpp"
#include "sip/builders.hpp"
#include "sip/timer.hpp"
#include "sip/transaction_layer.hpp"

namespace warmline::server {

class Call;

// The Allow header of every response that carries one (OPTIONS, 200 to INVITE, 405).
inline constexpr std::string_view kAllowedMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY, INFO";

struct CallContext {
  Shard& shard;
  const Config& config;
  sip::TransactionLayer& sip;
  sip::TimerService& timers;
  media::MediaClock& clock;
  rtp::PortAllocator& ports;
  sip::RandomSource& random;
  ShardMetrics& metrics;
  MediaScratch& media_scratch;      // one set of media working buffers for all calls of the shard
  SpeechService* speech;            // null when text-to-speech is unavailable
  std::string sip_host;             // the address we advertise in Contact/Via/SDP
  uint16_t sip_port = 5060;
  std::string media_ip;             // address RTP sockets bind to and SDP advertises
  std::function<void(Call&)> on_call_ended;     // the shard stops routing SIP and API requests to it
  std::function<void(Call&)> on_call_released;  // the shard drops its last reference (agent socket closed)
};

}  // namespace warmline::server
