#pragma once
// The callers' RTP: one UDP socket per call (the gateway latches on each call's source address), a
// PCMU packet every 20 ms per call carrying a stamp (stamp.hpp), and the matching of what comes back.
//
// Pacing: the 20 ms period is cut into kSlots slots of 1 ms; call i sends in slot i % kSlots, so
// callers' phases are spread like real callers' (not one burst per period) while every wake-up still
// sends a batch (N / 20 packets). Each batch is submitted in chunks of kChunk packets and the send
// time t0 is read just before each chunk's submit, so t0 is late by at most one chunk's syscall work.
//
// Three modes: gateway (send and receive on the same socket; what returns is the agent's echo, matched
// with the time the agent sent it), relay (send on leg A, receive on leg B; matched with t0) and
// bridged (gateway, plus a second socket per call that plays the transfer target: what it receives
// from the gateway's leg b is matched with t0, and echoed straight back to leg b under the target's
// own SSRC, so what the caller then receives is matched with the echo's send time t2).
//
// SRTP (--srtp): a call started with a session protects each packet in place before it is queued (the
// packet buffer has SrtpSession::kMaxOverhead bytes of room; the protected length is sent) and
// unprotects what it receives in a scratch buffer of this thread before the stamp is read. No
// allocation per packet; failures are counted (srtp_protect_failed, srtp_unprotect_failed). The
// target sockets of bridged mode stay plain RTP.
//
// Thread: the generator's RTP/SIP thread; it writes SharedState's RTP-side fields.
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bench/load/shared_state.hpp"
#include "bench/load/uring_io.hpp"
#include "rtp/srtp_session.hpp"

namespace warmline::load {

class MediaCalls {
 public:
  enum class Mode { kGateway, kRelay, kBridged };
  // Receive tags of the target sockets: the call index with this bit set.
  static constexpr uint32_t kTargetTag = 0x800000u;  // UringIo keeps 24 bits of a tag; calls < 65,536
  static constexpr uint32_t kSlots = 20;
  static constexpr int64_t kSlotNs = 1'000'000;
  static constexpr size_t kChunk = 16;
  static constexpr size_t kPayload = 160;  // 20 ms of PCMU
  // A quiet gap longer than this in the gateway's RTP marks the start of a media-clock pass's burst.
  // Shorter than the gap between two 1 ms slots' bursts ([media] tick_slots = 20), so each slot's burst
  // is its own "tick"; far longer than the spacing inside one burst (a few µs per packet).
  static constexpr int64_t kBurstGapNs = 250'000;
  static constexpr int64_t kTickNs = 20'000'000;  // the gateway's media clock

  MediaCalls(Mode mode, SharedState& shared, UringIo& io);
  ~MediaCalls();

  // Gateway mode: a socket on 127.0.0.1, ephemeral port (returned, 0 on failure).
  uint16_t open_call(uint32_t call, std::string& error);
  // Relay mode: send to `to` from `send_port` (0 = ephemeral), receive on 127.0.0.1:`recv_port`.
  bool open_relay_call(uint32_t call, const sockaddr_in& to, uint16_t send_port, uint16_t recv_port,
                       std::string& error);

  // Connects the socket, starts sending; with `srtp` the call's RTP is SRTP both ways.
  void start(uint32_t call, const sockaddr_in& remote, std::unique_ptr<rtp::SrtpSession> srtp = nullptr);
  void start_relay(uint32_t call);
  void stop(uint32_t call);

  // Bridged mode: the target's RTP socket of `call` (127.0.0.1, ephemeral port, returned; 0 on
  // failure); start_target once the target leg is up (`gateway` = leg b's RTP address).
  uint16_t open_target(uint32_t call, std::string& error);
  void start_target(uint32_t call, const sockaddr_in& gateway);
  void stop_target(uint32_t call);
  // Submits the echoes queued by this wake-up's datagrams (call after each wait).
  void flush_echoes();

  // Sends the packets of every started call in `slot`.
  void send_slot(uint32_t slot);
  // A datagram received on call `call`'s receive socket at `now` (the wake-up's time).
  void on_datagram(uint32_t call, std::span<const uint8_t> data, int64_t now);

  size_t sending() const { return sending_count_; }

 private:
  struct Call {
    int send_fd = -1;
    int recv_fd = -1;
    bool sending = false;
    uint16_t sequence = 0;
    uint32_t timestamp = 0;
    uint32_t ssrc = 0;
    uint32_t frame = 0;  // the stamp's sequence
    std::unique_ptr<rtp::SrtpSession> srtp;  // null: plain RTP
    size_t packet_length = 12 + kPayload;    // what goes on the wire (SRTP: with its tag)
    std::array<uint8_t, 12 + kPayload + rtp::SrtpSession::kMaxOverhead> packet{};
    // Bridged mode: the target's socket and its echo buffers (a few, since more than one datagram of
    // a call can arrive in one wake-up and each must stay intact until submitted).
    int target_fd = -1;
    bool target_up = false;
    uint8_t echo_next = 0;
    std::array<std::array<uint8_t, 12 + kPayload>, 4> echo{};
  };

  void flush(std::span<const uint32_t> calls);
  void on_echo(uint32_t call, uint32_t seq, int64_t now);
  void on_relayed(uint32_t call, uint32_t seq, int64_t now);
  void on_target(uint32_t call, std::span<const uint8_t> data, int64_t now);
  bool record_return(int64_t origin, int64_t now, LatencyHistogram& all, LatencyHistogram& window,
                     Counter& window_count);

  Mode mode_;
  SharedState& shared_;
  UringIo& io_;
  std::vector<Call> calls_;
  size_t sending_count_ = 0;
  int64_t last_rx_ns_ = 0;
  int64_t burst_start_ns_ = 0;
  bool echoes_queued_ = false;
  std::array<uint8_t, 2048> unprotect_scratch_{};  // SRTP: a received packet, decrypted in place here
};

// Fires MediaCalls' send slots on time. A wake-up that comes late sends the slots it missed at once
// (the packets are then late, and the lag is reported); more than 100 ms behind, it skips ahead.
class SlotClock {
 public:
  explicit SlotClock(int64_t start) : next_(start) {}
  void run_due(int64_t now, MediaCalls& media);
  int64_t next_due() const { return next_; }
  double max_lag_ms() const { return static_cast<double>(max_lag_) / 1e6; }
  void reset_lag() { max_lag_ = 0; }

 private:
  int64_t next_;
  uint32_t slot_ = 0;
  int64_t max_lag_ = 0;
};

}  // namespace warmline::load
