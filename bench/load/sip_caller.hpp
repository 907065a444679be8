#pragma once
// The caller side of N SIP calls over one UDP socket (RFC 3261 UAC, just what a load test needs):
// INVITE with an SDP offer (PCMU + telephone-event), 1xx/2xx/3xx-6xx handling, ACK, BYE, and the
// retransmissions of §17.1.1.2 (INVITE, Timer A doubling until a provisional or final response) and
// §17.1.2.2 (BYE, doubling up to T2), with Timer B/F at 32 s as the failure bound. A BYE from the
// gateway is answered and counted as a dropped call.
//
// Call-IDs carry the call index ("wl<index>-<random>@host"), so a response finds its call without a
// lookup table. With `srtp`, the offer is RTP/SAVP with one a=crypto line (AES_CM_128_HMAC_SHA1_80, the
// suite carriers use); each call keeps its offer, takes the answer's key (sip::accept_answer) and hands
// the SRTP session of the call to on_answered. An answer without a usable a=crypto line ends the call
// (counted in srtp_refused). With `tls`, the SIP goes over one TLS connection to the gateway's tls:
// listener instead (tls_stream.hpp): Via SIP/2.0/TLS, Contact ;transport=tls, and no retransmissions
// (RFC 3261 §17.1.1.2: a reliable transport has none; Timer B still bounds a call). Thread: the
// generator's RTP/SIP thread.
#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/load/histogram.hpp"
#include "bench/load/tls_stream.hpp"
#include "rtp/srtp_session.hpp"
#include "sip/builders.hpp"
#include "sip/message.hpp"
#include "sip/sdp.hpp"

namespace warmline::load {

struct SipCallerOptions {
  sockaddr_in gateway{};          // where INVITEs go
  std::string number = "load";    // Request-URI user: the agent's number in the gateway config
  std::string local_ip = "127.0.0.1";
  bool srtp = false;              // offer RTP/SAVP and key each call's SRTP session from the answer
  bool tls = false;               // SIP over TLS to `gateway` (its tls: listener)
  std::string tls_ca;             // with tls: verify the gateway's certificate against this CA file ("": off)
};

struct SipCallerHandlers {
  // 200 OK to the INVITE: the gateway's RTP address from the SDP answer, and with srtp the call's
  // session (keyed by the offer and answer; null for plain RTP).
  std::function<void(uint32_t call, const sockaddr_in& rtp, std::unique_ptr<rtp::SrtpSession> srtp)> on_answered;
  // The call failed, was refused or was ended by the gateway: stop its media.
  std::function<void(uint32_t call)> on_ended;
};

// failed: a non-2xx final response, or a 2xx without a usable audio stream; timeouts: no final
// response within Timer B, or still unanswered when --max-runtime-s ran out (abandon_pending).
struct SipCounters {
  uint64_t invites = 0, answered = 0, failed = 0, timeouts = 0, dropped_by_gateway = 0;
  uint64_t invite_retransmits = 0, bye_retransmits = 0, byes = 0, bye_ok = 0, bye_failed = 0;
  uint64_t provisional = 0, unparsable = 0;
  uint64_t srtp_calls = 0, srtp_refused = 0;  // SRTP sessions keyed; 2xx without usable keys (in failed)
  uint64_t transport_failures = 0;  // tls: the connection ended or its framing failed (calls then time out)
  int last_failure_status = 0;
};

class SipCaller {
 public:
  enum class State : uint8_t { kIdle, kInviting, kUp, kByeing, kDone, kFailed };

  SipCaller(SipCallerOptions options, SipCallerHandlers handlers, size_t calls);
  ~SipCaller();

  bool open(std::string& error);   // binds the SIP socket (127.0.0.1, ephemeral port), or connects TLS
  int fd() const { return fd_; }

  // rtp_port: the caller's RTP socket, put in the SDP offer.
  void invite(uint32_t call, uint16_t rtp_port, int64_t now);
  void hang_up(uint32_t call, int64_t now);
  void on_readable(int64_t now);   // drains the socket
  void on_timer(int64_t now);      // retransmissions and timeouts
  // --max-runtime-s ran out: INVITEs still unanswered count as timeouts and stop retransmitting.
  void abandon_pending();

  State state(uint32_t call) const { return calls_[call].state; }
  size_t active() const { return active_; }        // INVITE sent or up, not yet ended
  size_t up() const { return up_; }
  size_t settled() const { return settled_; }      // answered or failed
  const SipCounters& counters() const { return counters_; }
  const LatencyHistogram& setup_times() const { return setup_; }
  const std::string& srtp_error() const { return srtp_error_; }  // why the last SRTP answer was refused
  const std::string& transport_error() const { return transport_error_; }  // tls: why the connection ended
  std::string tls_cipher() const;  // tls: the negotiated suite; "" for UDP

 private:
  struct Call {
    State state = State::kIdle;
    bool got_provisional = false;
    int retransmits = 0;
    int64_t first_sent = 0, next_retransmit = 0, interval = 0;
    sip::Message request;      // the INVITE, then the BYE (for retransmission and building ACK)
    std::string wire;          // its serialized form
    sip::NameAddr remote;      // To with the gateway's tag
    sip::Uri remote_target;    // the 200's Contact
    sip::SessionDescription offer;  // srtp: our offer, whose keys the answer picks from
  };

  void send(const std::string& wire);
  void on_message(const sip::Message& m, int64_t now);
  void on_invite_response(uint32_t index, Call& c, const sip::Message& m, int64_t now);
  void on_bye_response(Call& c, const sip::Message& m);
  void on_request(const sip::Message& m);
  void send_ack(Call& c, const sip::Message& ok);
  void end(uint32_t index, Call& c, State state);
  sip::Message new_request(std::string_view method, const Call& c) const;

  SipCallerOptions options_;
  SipCallerHandlers handlers_;
  std::vector<Call> calls_;
  int fd_ = -1;
  uint16_t port_ = 0;
  sip::RandomSource random_;
  std::string buffer_;
  std::string scratch_;
  size_t active_ = 0, up_ = 0, settled_ = 0;
  SipCounters counters_;
  LatencyHistogram setup_;
  std::string srtp_error_;
  std::unique_ptr<TlsStream> tls_;  // with options_.tls
  std::function<void(std::string_view)> on_stream_message_;  // kept: built once, not per read
  int64_t stream_now_ = 0;  // the wake-up's time, for the messages read in it
  std::string transport_error_;
};

// "wl<index>-..." -> index, or -1.
int64_t call_index_of(std::string_view call_id);

}  // namespace warmline::load
