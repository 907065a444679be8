#include "rtp/session.hpp"
#include <cmath>

#include <cstring>
#include <random>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

namespace warmline::rtp {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

// RFC 3550 A.1: a jump forward of less than kMaxDropout is loss; a step back of at most kMaxMisorder
// is a late packet; anything else is a restarted stream and resynchronises the counters.
constexpr uint16_t kMaxDropout = 3000;
constexpr uint16_t kMaxMisorder = 100;

}  // namespace

RtpSession::RtpSession(asio::io_context& io, RtpSessionOptions options)
    : socket_(io), options_(std::move(options)), dtmf_(options_.clock_rate), remote_(options_.remote), sdp_remote_(options_.remote) {
  // RFC 3550 §5.1: random SSRC, initial sequence number and timestamp. Once per session, not per packet.
  // The owner's generator when given (opening /dev/urandom per call was 6 % of call set-up's CPU).
  uint64_t seed = options_.random_seed;
  if (seed == 0) seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  std::mt19937_64 random(seed);
  ssrc_ = static_cast<uint32_t>(random());
  send_seq_ = static_cast<uint16_t>(random());
  send_ts_ = static_cast<uint32_t>(random());
}

RtpSession::~RtpSession() { close(); }

std::shared_ptr<RtpSession> RtpSession::open(asio::io_context& io, RtpSessionOptions options,
                                             std::error_code& ec) {
  if (!options.ports) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return nullptr;
  }
  std::shared_ptr<RtpSession> session(new RtpSession(io, std::move(options)));
  ec = session->bind_any_port();
  if (ec) return nullptr;
  return session;
}

std::error_code RtpSession::bind_any_port() {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.local_ip, ec);
  if (ec) return ec;
  PortAllocator& ports = *options_.ports;
  // Bounded by the allocator's size: each port is tried at most once per call.
  for (size_t attempt = 0, n = ports.capacity(); attempt < n; ++attempt) {
    const std::optional<uint16_t> port = ports.allocate();
    if (!port) break;
    socket_.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
    if (ec) {
      ports.release(*port);
      return ec;
    }
    socket_.bind(udp::endpoint(address, *port), ec);
    if (!ec) socket_.non_blocking(true, ec);
    if (!ec) {
      port_ = *port;
      open_ = true;
      return {};
    }
    boost::system::error_code ignored;
    socket_.close(ignored);
    ports.release(*port);  // held by someone else: back of the queue, try the next one
  }
  return std::make_error_code(std::errc::address_in_use);
}

void RtpSession::start() {
  if (!open_) return;
  if (options_.media_io) receive_batched();
  else receive();
}

void RtpSession::close() {
  if (!open_) return;
  open_ = false;
  if (options_.media_io) {  // before the descriptor can be reused
    options_.media_io->forget(this);
    if (watching_) options_.media_io->unwatch(socket_.native_handle(), watch_token_);
    watching_ = false;
  }
  boost::system::error_code ignored;
  socket_.close(ignored);  // the pending receive completes with operation_aborted
  options_.ports->release(port_);
}

// The handler holds a shared_ptr so the receive buffer outlives the kernel operation (io_uring writes
// into it asynchronously); close() ends the loop, after which the session can be destroyed.
void RtpSession::receive() {
  socket_.async_receive_from(asio::buffer(recv_buf_), sender_,
                             [self = shared_from_this()](const boost::system::error_code& ec, size_t size) {
                               if (!self->open_ || ec == asio::error::operation_aborted) return;
                               if (!ec) self->on_datagram(self->recv_buf_, size);
                               if (self->open_) self->receive();  // a handler may have closed us
                             });
}

// Batched: the shard's MediaIo watches the socket and calls on_readable() when datagrams wait.
void RtpSession::receive_batched() {
  if (const std::error_code ec = options_.media_io->watch(socket_.native_handle(), this, watch_token_)) {
    // Only when the process is out of descriptors or memory: the plain receive loop still works.
    options_.media_io = nullptr;
    receive();
    return;
  }
  watching_ = true;
}

void RtpSession::on_readable() {
  auto self = shared_from_this();  // a handler may drop the last owner of this session mid-drain
  drain();
}

// Until recvmmsg says the socket is empty, bounded (a peer flooding us cannot hold the shard: what is
// left waits for the next readiness, after the other ready sockets had their turn).
void RtpSession::drain() {
  constexpr int kMaxRounds = 8;
  for (int round = 0; round < kMaxRounds; ++round) {
    bool drained = true;
    int error = 0;
    for (const MediaIo::Datagram& d : options_.media_io->receive(socket_.native_handle(), drained, error)) {
      if (d.from_length > sender_.capacity()) continue;
      std::memcpy(sender_.data(), d.from, d.from_length);
      sender_.resize(d.from_length);
      on_datagram(d.buffer, d.size);
      if (!open_) return;  // a handler ended the call
    }
    if (drained) return;
  }
  // Left unread after kMaxRounds: the edge-triggered reactor would not report the socket again, so
  // come back through the io_context after what else is ready.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->open_) self->drain();
  });
}

void RtpSession::on_datagram(std::span<uint8_t> buffer, size_t size) {
  const bool rtcp = is_rtcp(std::span<const uint8_t>(buffer.data(), size));
  if (options_.srtp) {
    // In place: on success the first `size` bytes are the plain packet. Nothing that fails here has
    // authenticated, so it neither reaches a handler nor latches the source.
    const SrtpResult r = rtcp ? options_.srtp->unprotect_rtcp(buffer, size) : options_.srtp->unprotect(buffer, size);
    if (r != SrtpResult::kOk) {
      ++stats_.srtp_failed;
      return;
    }
  }
  const std::span<const uint8_t> datagram(buffer.data(), size);
  if (rtcp) {
    ++stats_.rtcp_received;  // RTCP (RFC 5761 mux): not used yet
    return;
  }
  RtpPacketView packet;
  if (parse_rtp(datagram, packet) != RtpParseStatus::kOk) {
    ++stats_.invalid_received;
    return;
  }
  if (!accept_source(packet)) {
    ++stats_.foreign_dropped;
    return;
  }
  ++stats_.packets_received;
  stats_.bytes_received += packet.payload.size();
  stats_.last_receive = std::chrono::steady_clock::now();
  track_sequence(packet);
  dispatch(packet);
}

bool RtpSession::accept_source(const RtpPacketView& packet) {
  if (!options_.symmetric) return true;
  if (latched_) {
    if (sender_ == remote_) return true;
    // A learned source gives way to the SDP's address the moment that sends: a stranger who kept
    // spraying the port until it was learned loses the stream to the real peer (a NATed peer's SDP
    // address never sends, so this costs it nothing).
    if (!learned_latch_ || sdp_remote_.port() == 0 || sender_ != sdp_remote_) return false;
    remote_ = sender_;
    learned_latch_ = false;
    return true;
  }
  // After set_remote() (a re-INVITE that moved the media), packets still in flight from the address
  // we were latched to must not win the new latch. That address is taken again only if it keeps
  // sending for kRelatchPackets with nothing from elsewhere (a NATed phone whose new SDP carries its
  // private address, so every packet still comes from the old public one).
  const bool old_address = has_previous_ && sender_ == previous_ && sender_ != remote_;
  if (old_address && ++previous_hits_ < kRelatchPackets) return false;
  // The SDP's address (or none known yet) latches at once; any other source must be learned first.
  const bool sdp_address = remote_.port() == 0 || sender_ == remote_;
  if (!old_address && !sdp_address && !learned(packet)) return false;
  learned_latch_ = !old_address && !sdp_address;
  remote_ = sender_;
  latched_ = true;
  has_previous_ = false;
  candidate_packets_ = 0;
  return true;
}

bool RtpSession::learned(const RtpPacketView& packet) {
  const bool next = candidate_packets_ > 0 && sender_ == candidate_ && packet.ssrc == candidate_ssrc_ &&
                    packet.sequence == static_cast<uint16_t>(candidate_seq_ + 1);
  if (next) {
    ++candidate_packets_;
  } else {  // a new source, or the run broke: start again from this packet
    candidate_ = sender_;
    candidate_ssrc_ = packet.ssrc;
    candidate_packets_ = 1;
  }
  candidate_seq_ = packet.sequence;
  return candidate_packets_ >= kLearnPackets;
}

void RtpSession::track_sequence(const RtpPacketView& packet) {
  const bool is_event = options_.telephone_event_pt && packet.payload_type == *options_.telephone_event_pt;
  if (have_seq_ && packet.ssrc != remote_ssrc_ && is_event) return;  // DTMF on its own SSRC: not audio
  const uint16_t delta = static_cast<uint16_t>(packet.sequence - max_seq_);
  const bool restart = !have_seq_ || packet.ssrc != remote_ssrc_ ||
                       (delta >= kMaxDropout && delta <= uint16_t(65535 - kMaxMisorder + 1));
  if (restart) {
    if (stats_.packets_lost > 0) lost_before_resync_ = stats_.packets_lost;
    have_seq_ = true;
    remote_ssrc_ = packet.ssrc;
    max_seq_ = packet.sequence;
    cycles_ = 0;
    base_seq_ = packet.sequence;
    received_since_base_ = 0;
  } else if (delta > 0 && delta < kMaxDropout) {
    if (packet.sequence < max_seq_) cycles_ += 65536;
    max_seq_ = packet.sequence;
  }
  ++received_since_base_;
  const int64_t expected = int64_t{cycles_} + max_seq_ - base_seq_ + 1;
  stats_.packets_lost = lost_before_resync_ + expected - static_cast<int64_t>(received_since_base_);
  if (!is_event) track_jitter(packet, restart);
}

void RtpSession::track_jitter(const RtpPacketView& packet, bool restart) {
  if (restart) jitter_ = JitterEstimator{};  // a new stream: a new reference
  const double arrival_s = std::chrono::duration<double>(stats_.last_receive.time_since_epoch()).count();
  stats_.jitter = jitter_.update(arrival_s, packet.timestamp, options_.clock_rate);
}

// RFC 3550 A.8: D = the change in transit time between two packets (arrival minus RTP timestamp, in
// timestamp units); J += (|D| - J) / 16.
double JitterEstimator::update(double arrival_s, uint32_t rtp_timestamp, uint32_t clock_rate) {
  if (have_previous_) {
    const double arrival_units = (arrival_s - previous_arrival_s_) * clock_rate;
    const double d = arrival_units - static_cast<double>(static_cast<int32_t>(rtp_timestamp - previous_timestamp_));
    jitter_ += (std::abs(d) - jitter_) / 16.0;
  }
  have_previous_ = true;
  previous_arrival_s_ = arrival_s;
  previous_timestamp_ = rtp_timestamp;
  return jitter_;
}

void RtpSession::dispatch(const RtpPacketView& packet) {
  if (options_.telephone_event_pt && packet.payload_type == *options_.telephone_event_pt) {
    for (const DtmfDigit& d : dtmf_.feed(packet.payload, packet.timestamp)) {
      if (options_.on_dtmf) options_.on_dtmf(d.digit, d.duration_ms);
    }
    return;
  }
  if (options_.on_packet) options_.on_packet(packet);
}

bool RtpSession::send_packet(uint8_t payload_type, bool marker, uint32_t timestamp,
                             std::span<const uint8_t> payload) {
  // 0.0.0.0 is old-style hold (RFC 3264 §8.4): sending there would reach our own host on Linux.
  if (!open_ || remote_.port() == 0 || remote_.address().is_unspecified()) return false;
  // Batching: built in the batch's slot (as large as send_buf_), which leaves at the pass's flush.
  const bool batch = batching();
  const std::span<uint8_t> buffer = batch ? options_.media_io->slot() : std::span<uint8_t>(send_buf_);
  const size_t header = write_rtp_header(
      buffer, {.payload_type = payload_type, .marker = marker, .sequence = send_seq_, .timestamp = timestamp, .ssrc = ssrc_});
  if (header == 0 || payload.size() > kMaxDatagram - header) return false;
  std::memcpy(buffer.data() + header, payload.data(), payload.size());
  size_t length = header + payload.size();
  // The buffer has kMaxOverhead bytes beyond kMaxDatagram, so protect always has room for its trailer.
  if (options_.srtp && options_.srtp->protect(buffer, length) != SrtpResult::kOk) {
    ++stats_.srtp_protect_failed;
    return false;
  }
  if (batch) {
    options_.media_io->commit(socket_.native_handle(), length, remote_.data(), static_cast<socklen_t>(remote_.size()),
                              this, false);
  } else {
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(buffer.data(), length), remote_, 0, ec);
    if (ec) {
      ++stats_.send_dropped;
      return false;
    }
  }
  ++send_seq_;
  ++stats_.packets_sent;
  stats_.bytes_sent += payload.size();
  return true;
}

// A batched packet the kernel refused at the flush (counted sent when it was queued).
void RtpSession::send_failed(int) {
  ++stats_.send_dropped;
  if (stats_.packets_sent > 0) --stats_.packets_sent;
}

bool RtpSession::send_audio(std::span<const uint8_t> payload, uint32_t samples) {
  if (!send_packet(options_.payload_type, send_marker_, send_ts_, payload)) {
    if (open_) skip(samples);  // the receiver sees a gap in time, not in sequence numbers
    return false;
  }
  send_ts_ += samples;
  send_marker_ = false;
  return true;
}

bool RtpSession::relay_audio(std::span<const uint8_t> payload, uint32_t advance, bool marker) {
  send_ts_ += advance;
  const bool sent = send_packet(options_.payload_type, send_marker_ || marker, send_ts_, payload);
  if (sent) send_marker_ = false;
  return sent;
}

bool RtpSession::send_event(std::span<const uint8_t> payload, bool marker, uint32_t event_timestamp) {
  if (!options_.telephone_event_pt) return false;
  return send_packet(*options_.telephone_event_pt, marker, event_timestamp, payload);
}

void RtpSession::skip(uint32_t samples) {
  send_ts_ += samples;
  send_marker_ = true;
}

void RtpSession::set_remote(const udp::endpoint& remote) {
  if (latched_) {
    previous_ = remote_;
    previous_hits_ = 0;
    has_previous_ = true;
  }
  remote_ = remote;
  sdp_remote_ = remote;
  latched_ = false;
  learned_latch_ = false;
  candidate_packets_ = 0;
}

udp::endpoint RtpSession::local_endpoint() const {
  boost::system::error_code ec;
  udp::endpoint endpoint = socket_.local_endpoint(ec);
  return ec ? udp::endpoint{} : endpoint;
}

}  // namespace warmline::rtp

namespace warmline::rtp {

void RtpSession::set_payload_types(uint8_t payload_type, std::optional<uint8_t> telephone_event_pt) {
  options_.payload_type = payload_type;
  options_.telephone_event_pt = telephone_event_pt;
}

}  // namespace warmline::rtp
