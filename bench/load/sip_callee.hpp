#pragma once
// The transfer target of the bridged mode: a SIP UAS on one UDP socket that answers every INVITE the
// gateway dials at once (200 OK with a PCMU answer pointing at the call's target RTP socket), resends
// the 200 until its ACK comes (RFC 3261 §13.3.1.4: T1 doubling up to T2, given up after 64 × T1), and
// answers BYE. Which call an INVITE belongs to comes from the X-Load-Call header that the generator's
// agent put into its `transfer` message (the gateway copies a transfer's headers into the INVITE).
//
// Thread: the generator's RTP/SIP thread.
#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/load/histogram.hpp"
#include "bench/load/shared_state.hpp"
#include "sip/builders.hpp"
#include "sip/message.hpp"

namespace warmline::load {

struct SipCalleeHandlers {
  // The ACK of our 200 came: `rtp` is the gateway's RTP address for the target leg (its SDP offer).
  std::function<void(uint32_t call, const sockaddr_in& rtp)> on_bridged;
  // The gateway hung the target leg up (BYE).
  std::function<void(uint32_t call)> on_ended;
};

struct SipCalleeCounters {
  uint64_t invites = 0, reinvites = 0, answered = 0, acked = 0, byes = 0, ok_retransmits = 0, ack_timeouts = 0;
  uint64_t unknown_call = 0, refused = 0, unparsable = 0;
};

class SipCallee {
 public:
  SipCallee(SharedState& shared, SipCalleeHandlers handlers, size_t calls);
  ~SipCallee();
  SipCallee(const SipCallee&) = delete;
  SipCallee& operator=(const SipCallee&) = delete;

  // Binds "IP:PORT". False with a reason (a port in use, a malformed address).
  bool open(const std::string& listen, std::string& error);
  int fd() const { return fd_; }
  // The target RTP port of each call, put in the SDP answers.
  void set_rtp_port(uint32_t call, uint16_t port) { calls_[call].rtp_port = port; }

  void on_readable(int64_t now);
  void on_timer(int64_t now);  // 200 OK retransmissions

  size_t bridged() const { return bridged_; }  // target legs answered and ACKed, not yet ended
  const SipCalleeCounters& counters() const { return counters_; }

 private:
  struct Call {
    uint16_t rtp_port = 0;
    bool answered = false, acked = false;
    std::string call_id, to_tag;
    std::string ok_wire;         // our 200, resent until the ACK
    sockaddr_in peer{};          // where the INVITE came from (responses go back there)
    sockaddr_in gateway_rtp{};
    int64_t next_retransmit = 0, interval = 0, first_sent = 0;
  };

  void on_message(const sip::Message& m, const sockaddr_in& from, int64_t now);
  void on_invite(const sip::Message& m, const sockaddr_in& from, int64_t now);
  void respond(const sip::Message& request, int status, const sockaddr_in& to);
  void send_to(const std::string& wire, const sockaddr_in& to);
  Call* find(const sip::Message& m);

  SharedState& shared_;
  SipCalleeHandlers handlers_;
  std::vector<Call> calls_;
  int fd_ = -1;
  std::string local_ip_;
  uint16_t port_ = 0;
  sip::RandomSource random_;
  std::string buffer_, scratch_;
  size_t bridged_ = 0;
  SipCalleeCounters counters_;
};

}  // namespace warmline::load
