// SIP trace to a Homer collector over HEP v3 ([server] hep; docs/operations.md "SIP trace (Homer)").
//
// Each shard's transports hand every SIP message they send or receive to the shard's HepTracer, which
// wraps it in one HEP v3 packet (sip/hep.hpp) and sends it from its own non-blocking UDP socket to the
// collector. A send that fails or would block is counted (warmline_hep_errors_total), never retried,
// never logged per packet; the call goes on.
//
// Correlation (HEP chunk 17): the caller's SIP Call-ID, on every message of a call: the caller's own
// leg carries its own Call-ID, and a leg warmline dials for a transfer (leg b) carries the Call-ID of
// the caller it was dialled for (TraceLinks), which is how Homer links the two legs of a B2BUA (what
// heplify-server otherwise reads from an X-CID header). A message of no call (OPTIONS, REGISTER)
// carries its own Call-ID; bytes without one (garbage) carry none.
//
// Threading: one HepTracer per shard, on its thread. TraceLinks is shared by every shard (a message
// may arrive on any shard's socket) and locks a mutex: only when HEP is on, once per SIP message.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "sip/sip_trace.hpp"

namespace warmline::server {

// Which caller's Call-ID the Call-ID of a leg warmline dialled belongs to.
class TraceLinks {
 public:
  using Clock = std::chrono::steady_clock;
  // A retired link stays this long, so that the answers to the leg's last BYE or CANCEL (and their
  // retransmissions, RFC 3261 Timer F/J) are still correlated.
  static constexpr std::chrono::seconds kLinger{40};

  void link(const std::string& leg_call_id, const std::string& caller_call_id, Clock::time_point now = Clock::now());
  // The leg is over: its link goes kLinger later (swept by a later link()).
  void retire(const std::string& leg_call_id, Clock::time_point now = Clock::now());
  // `out` = the caller's Call-ID of a linked leg, else `call_id` itself.
  void correlation(const std::string& call_id, std::string& out) const;
  size_t size() const;

 private:
  struct Entry {
    std::string caller;
    Clock::time_point expires = Clock::time_point::max();
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> legs_;
};

struct HepOptions {
  boost::asio::ip::udp::endpoint collector;  // resolved at start
  uint32_t capture_id = 2001;
  std::string password;  // HEP chunk 14; "" = none
  // Shown as warmline's address when a transport is bound to 0.0.0.0 or :: (the advertised address
  // when it is an IP literal, else left unspecified).
  std::string advertised_ip;
};

class HepTracer final : public sip::SipTracer {
 public:
  HepTracer(boost::asio::io_context& io, const HepOptions& options, const TraceLinks* links,
            std::atomic<uint64_t>& sent, std::atomic<uint64_t>& errors);
  // Opens the socket (non-blocking). Errors are returned, never thrown.
  std::error_code start();
  void trace(const sip::TracedMessage& message) override;

 private:
  std::string_view shown(const std::string& host) const;

  boost::asio::ip::udp::socket socket_;
  const HepOptions& options_;
  const TraceLinks* links_;
  std::atomic<uint64_t>& sent_;
  std::atomic<uint64_t>& errors_;
  std::string call_id_;      // reused buffers: a warm tracer does not allocate per message
  std::string correlation_;
  std::string packet_;
};

}  // namespace warmline::server
