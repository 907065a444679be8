// One RTP stream on a UDP socket (RFC 3550), bound to an even port from the shard's PortAllocator.
//
// Receive: an async loop into one fixed buffer (no per-packet allocation); RTCP on the same port
// (RFC 5761) is counted and ignored; telephone-event packets (the negotiated pt) go through an RFC 4733
// receiver to on_dtmf; every other valid RTP packet goes to on_packet (the handler checks the pt:
// CN and unexpected codecs arrive there too).
// Symmetric RTP (RFC 4961): we send to the SDP's address until the peer's packets arrive, then to
// their source for the rest of the stream (NATs and carrier SBCs expect this). A packet from the SDP's
// address latches at once; one from elsewhere (a NATed peer's public address) only after kLearnPackets
// in a row from that source with one SSRC and consecutive sequence numbers, so that a stranger spraying
// the port ("RTP bleed"), or the previous call's peer still sending to a reused port, cannot take the
// stream with a packet or two; and should a sprayer be learned before the peer sends, the SDP's address
// takes the stream over with its first packet. After latching, packets from any other source are
// dropped (counted);
// set_remote() (after a re-INVITE) re-arms the latch. Without an SDP address yet (a late offer before
// its answer) the first packet latches.
// Send: header + payload written into one reusable buffer and sent with a non-blocking send_to; a full
// socket buffer drops the packet (counted) rather than blocking the shard.
// Batched I/O (options.media_io, the shard's MediaIo): the socket is drained with recvmmsg when the
// reactor reports it readable, and inside the shard's slot pass a packet is built in the batch's send
// slot and leaves with the others at the pass's flush (media_io.hpp). A packet the kernel refuses at
// the flush is counted in send_dropped (its sequence number is then a gap the receiver sees as loss).
// SRTP (options.srtp or set_srtp()): each datagram is unprotected in place in the receive buffer before
// it is parsed (SRTCP likewise, then counted); one that does not authenticate is dropped and counted in
// srtp_failed and never latches the source. What we send is protected in place in the send buffer,
// which has SrtpSession::kMaxOverhead bytes of room beyond kMaxDatagram for the tag.
//
// Thread: the session lives on one io_context thread (its shard); every method must be called there.
// Handlers run on that thread; the packet view they get is valid only during the call.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "rtp/dtmf.hpp"
#include "rtp/media_io.hpp"
#include "rtp/packet.hpp"
#include "rtp/port_allocator.hpp"
#include "rtp/srtp_session.hpp"

namespace warmline::rtp {

struct RtpStats {
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;          // payload bytes (RFC 3550 §6.4.1 sender's octet count)
  uint64_t send_dropped = 0;        // socket buffer full or send error
  uint64_t packets_received = 0;    // valid RTP packets accepted (audio and telephone-event)
  uint64_t bytes_received = 0;      // their payload bytes
  int64_t packets_lost = 0;         // expected - received since the last sequence resync (RFC 3550 A.3)
  double jitter = 0;                // interarrival jitter of the audio packets, timestamp units (RFC 3550 A.8)
  uint64_t rtcp_received = 0;
  uint64_t invalid_received = 0;    // not RTP (parse failed)
  uint64_t foreign_dropped = 0;     // from a source other than the latched one
  uint64_t srtp_failed = 0;         // SRTP/SRTCP packets that did not unprotect (auth, replay, plain RTP)
  uint64_t srtp_protect_failed = 0;  // packets not sent because protect failed (e.g. key lifetime spent)
  std::chrono::steady_clock::time_point last_receive{};  // for RTP timeouts; epoch = nothing yet
};

// The interarrival jitter of one RTP stream (RFC 3550 A.8), in timestamp units: fed each audio packet's
// arrival time (seconds, any monotonic origin) and RTP timestamp.
class JitterEstimator {
 public:
  double update(double arrival_s, uint32_t rtp_timestamp, uint32_t clock_rate);
  double jitter() const { return jitter_; }

 private:
  bool have_previous_ = false;
  double previous_arrival_s_ = 0;
  uint32_t previous_timestamp_ = 0;
  double jitter_ = 0;
};

struct RtpSessionOptions {
  std::string local_ip = "0.0.0.0";
  PortAllocator* ports = nullptr;    // required; must outlive the session (the port is returned to it)
  boost::asio::ip::udp::endpoint remote{};  // from the SDP; port 0 = unknown, wait for the latch
  uint8_t payload_type = 0;          // for send_audio
  std::optional<uint8_t> telephone_event_pt{};  // negotiated RFC 4733 pt; none = no DTMF decoding
  uint32_t clock_rate = 8000;        // of the codec, for DTMF durations
  bool symmetric = true;             // latch to the source of received packets
  uint64_t random_seed = 0;          // seeds SSRC/sequence/timestamp; 0 = read std::random_device
  std::shared_ptr<SrtpSession> srtp{};  // SRTP contexts of this stream; null = plain RTP
  std::function<void(const RtpPacketView&)> on_packet{};
  std::function<void(char digit, uint32_t duration_ms)> on_dtmf{};
  MediaIo* media_io = nullptr;       // the shard's batched I/O; null = one receive/send call per packet
};

class RtpSession : public std::enable_shared_from_this<RtpSession>, private BatchOwner, private BatchReceiver {
 public:
  // Binds local_ip on the allocator's ports until one binds (a port another process holds is handed
  // back and the next is tried). Returns nullptr with `ec` set when none binds (address_in_use when
  // the allocator is exhausted). Call start() to begin receiving.
  static std::shared_ptr<RtpSession> open(boost::asio::io_context& io, RtpSessionOptions options,
                                          std::error_code& ec);
  ~RtpSession();
  RtpSession(const RtpSession&) = delete;
  RtpSession& operator=(const RtpSession&) = delete;

  void start();
  // Stops receiving, closes the socket and returns the port. Idempotent.
  void close();

  // Sends one packet with the session's payload type; the RTP timestamp then advances by `samples`.
  // False when closed, no remote is known yet, the payload does not fit one datagram, or the send
  // failed (counted in send_dropped).
  bool send_audio(std::span<const uint8_t> payload, uint32_t samples);
  // A packet relayed from another stream (a bridge of two legs with one codec): the timestamp first
  // advances by `advance` (the source's own step since its previous packet, 0 for the first one after
  // audio of our own, which already stepped past itself) and the packet goes out with it. `marker`
  // passes the source's talkspurt start on. After the last relayed packet, skip() its duration.
  bool relay_audio(std::span<const uint8_t> payload, uint32_t advance, bool marker);
  // One RFC 4733 telephone-event packet (the negotiated pt). Every packet of one key press carries the
  // timestamp of its start (§2.5.1.2) and the next sequence number; the audio clock is not advanced
  // here — the caller skip()s the time the event covers. False without a negotiated pt.
  bool send_event(std::span<const uint8_t> payload, bool marker, uint32_t event_timestamp);
  // The RTP timestamp the next audio packet will carry (an event starting now uses it).
  uint32_t next_timestamp() const { return send_ts_; }
  bool has_telephone_event() const { return options_.telephone_event_pt.has_value(); }
  // Silence that is not sent (no audio to play): the timestamp advances, and the next packet carries
  // the marker bit as the start of a talkspurt (RFC 3551 §4.1).
  void skip(uint32_t samples);

  // A new remote address (re-INVITE); re-arms latching. The source latched so far is ignored for up
  // to kRelatchPackets packets, so stale packets from the old address cannot win the new latch.
  void set_remote(const boost::asio::ip::udp::endpoint& remote);
  // The payload types of a renegotiated codec at the same clock rate (an answer that picked another
  // of our offered codecs): the stream's SSRC, sequence and timestamp continue.
  void set_payload_types(uint8_t payload_type, std::optional<uint8_t> telephone_event_pt);
  // New SRTP contexts (fresh keys after a re-INVITE; RFC 4568 §7.1.4); null = plain RTP from now on.
  void set_srtp(std::shared_ptr<SrtpSession> srtp) { options_.srtp = std::move(srtp); }
  bool srtp() const { return options_.srtp != nullptr; }

  // Whether a packet sent now waits for the shard's flush (batched I/O inside a slot pass).
  bool batching() const { return options_.media_io && options_.media_io->batching(); }
  // The packet just sent (batching) is counted in the flush's timed packets: see MediaIo::commit.
  bool time_last_sent() { return options_.media_io && options_.media_io->time_last(this); }

  uint16_t local_port() const { return port_; }
  boost::asio::ip::udp::endpoint local_endpoint() const;
  const boost::asio::ip::udp::endpoint& remote() const { return remote_; }
  bool latched() const { return latched_; }
  uint32_t ssrc() const { return ssrc_; }
  const RtpStats& stats() const { return stats_; }

  // 1500-byte Ethernet MTU minus IPv4 and UDP headers; anything larger would be fragmented.
  static constexpr size_t kMaxDatagram = 1472;

 private:
  RtpSession(boost::asio::io_context& io, RtpSessionOptions options);
  std::error_code bind_any_port();
  bool send_packet(uint8_t payload_type, bool marker, uint32_t timestamp, std::span<const uint8_t> payload);
  void receive();
  void receive_batched();
  void drain();
  void on_datagram(std::span<uint8_t> buffer, size_t size);
  void send_failed(int error) override;
  void on_readable() override;
  bool accept_source(const RtpPacketView& packet);
  bool learned(const RtpPacketView& packet);
  void track_jitter(const RtpPacketView& packet, bool restart);
  void track_sequence(const RtpPacketView& packet);
  void dispatch(const RtpPacketView& packet);

  boost::asio::ip::udp::socket socket_;
  RtpSessionOptions options_;
  DtmfReceiver dtmf_;
  uint16_t port_ = 0;
  bool open_ = false;
  bool watching_ = false;            // batched: the shard's MediaIo watches the socket
  uint64_t watch_token_ = 0;
  boost::asio::ip::udp::endpoint remote_;
  boost::asio::ip::udp::endpoint sender_;
  bool latched_ = false;
  // The source latched before the last set_remote(): see accept_source().
  static constexpr uint32_t kRelatchPackets = 50;  // 1 s of 20 ms packets
  boost::asio::ip::udp::endpoint previous_;
  bool has_previous_ = false;
  uint32_t previous_hits_ = 0;
  // A source other than the SDP's that is being learned (accept_source()).
  static constexpr uint32_t kLearnPackets = 3;
  boost::asio::ip::udp::endpoint candidate_;
  uint32_t candidate_ssrc_ = 0;
  uint16_t candidate_seq_ = 0;
  uint32_t candidate_packets_ = 0;
  boost::asio::ip::udp::endpoint sdp_remote_;  // the address the SDP named (remote_ follows the latch)
  bool learned_latch_ = false;  // latched to a learned source: the SDP's address may still take over
  // Room for an SRTP packet whose plain form fills kMaxDatagram (the peer may send that much).
  std::array<uint8_t, kMaxDatagram + SrtpSession::kMaxOverhead> recv_buf_{};
  std::array<uint8_t, kMaxDatagram + SrtpSession::kMaxOverhead> send_buf_{};
  uint32_t ssrc_ = 0;
  uint16_t send_seq_ = 0;
  uint32_t send_ts_ = 0;
  bool send_marker_ = true;          // first packet of the stream starts a talkspurt
  RtpStats stats_;
  // Receive sequence tracking (RFC 3550 A.1, simplified): per remote SSRC.
  bool have_seq_ = false;
  uint32_t remote_ssrc_ = 0;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t base_seq_ = 0;
  uint64_t received_since_base_ = 0;
  JitterEstimator jitter_;
  int64_t lost_before_resync_ = 0;
};

}  // namespace warmline::rtp
