#include "bench/load/media_calls.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench/load/stamp.hpp"
#include "rtp/packet.hpp"

namespace warmline::load {

namespace {

constexpr uint8_t kPcmu = 0;

int udp_socket(uint16_t port, std::string& error) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("RTP socket: ") + std::strerror(errno);
    return -1;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    error = "RTP bind to port " + std::to_string(port) + ": " + std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return ntohs(a.sin_port);
}

}  // namespace

MediaCalls::MediaCalls(Mode mode, SharedState& shared, UringIo& io)
    : mode_(mode), shared_(shared), io_(io), calls_(shared.call_count) {
  for (uint32_t i = 0; i < calls_.size(); ++i) {
    calls_[i].ssrc = 0x10000000u + i;
    calls_[i].sequence = static_cast<uint16_t>(i * 7919u);
    calls_[i].timestamp = i * 104729u;
  }
}

MediaCalls::~MediaCalls() {
  for (Call& c : calls_) {
    if (c.recv_fd >= 0 && c.recv_fd != c.send_fd) close(c.recv_fd);
    if (c.send_fd >= 0) close(c.send_fd);
    if (c.target_fd >= 0) close(c.target_fd);
  }
}

uint16_t MediaCalls::open_call(uint32_t call, std::string& error) {
  Call& c = calls_[call];
  c.send_fd = c.recv_fd = udp_socket(0, error);
  if (c.send_fd < 0) return 0;
  io_.arm_recv(c.recv_fd, call);
  return port_of(c.send_fd);
}

bool MediaCalls::open_relay_call(uint32_t call, const sockaddr_in& to, uint16_t send_port, uint16_t recv_port,
                                 std::string& error) {
  Call& c = calls_[call];
  c.send_fd = udp_socket(send_port, error);
  if (c.send_fd < 0) return false;
  c.recv_fd = udp_socket(recv_port, error);
  if (c.recv_fd < 0) return false;
  if (connect(c.send_fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    error = std::string("RTP connect: ") + std::strerror(errno);
    return false;
  }
  io_.arm_recv(c.recv_fd, call);
  return true;
}

void MediaCalls::start(uint32_t call, const sockaddr_in& remote, std::unique_ptr<rtp::SrtpSession> srtp) {
  Call& c = calls_[call];
  if (c.sending || connect(c.send_fd, reinterpret_cast<const sockaddr*>(&remote), sizeof remote) != 0) return;
  c.srtp = std::move(srtp);
  c.sending = true;
  ++sending_count_;
}

void MediaCalls::start_relay(uint32_t call) {
  if (calls_[call].sending) return;
  calls_[call].sending = true;
  ++sending_count_;
}

void MediaCalls::stop(uint32_t call) {
  if (!calls_[call].sending) return;
  calls_[call].sending = false;
  --sending_count_;
}

uint16_t MediaCalls::open_target(uint32_t call, std::string& error) {
  Call& c = calls_[call];
  c.target_fd = udp_socket(0, error);
  if (c.target_fd < 0) return 0;
  io_.arm_recv(c.target_fd, call | kTargetTag);
  return port_of(c.target_fd);
}

void MediaCalls::start_target(uint32_t call, const sockaddr_in& gateway) {
  Call& c = calls_[call];
  c.target_up = connect(c.target_fd, reinterpret_cast<const sockaddr*>(&gateway), sizeof gateway) == 0;
}

void MediaCalls::stop_target(uint32_t call) { calls_[call].target_up = false; }

void MediaCalls::flush_echoes() {
  if (!echoes_queued_) return;
  echoes_queued_ = false;
  io_.submit();
}

void MediaCalls::send_slot(uint32_t slot) {
  std::array<uint32_t, kChunk> chunk{};
  size_t n = 0;
  for (size_t i = slot; i < calls_.size(); i += kSlots) {
    Call& c = calls_[i];
    if (!c.sending) continue;
    rtp::RtpHeaderFields h{.payload_type = kPcmu, .marker = c.frame == 0, .sequence = c.sequence,
                           .timestamp = c.timestamp, .ssrc = c.ssrc};
    rtp::write_rtp_header(c.packet, h);
    write_stamp(std::span<uint8_t>(c.packet.data() + rtp::kRtpHeaderSize, kPayload),
                Stamp{static_cast<uint16_t>(i), c.frame});
    c.packet_length = rtp::kRtpHeaderSize + kPayload;
    if (c.srtp && c.srtp->protect(c.packet, c.packet_length) != rtp::SrtpResult::kOk) {
      shared_.srtp_protect_failed.add();
      continue;
    }
    chunk[n++] = static_cast<uint32_t>(i);
    if (n == kChunk) {
      flush(std::span<const uint32_t>(chunk.data(), n));
      n = 0;
    }
  }
  if (n) flush(std::span<const uint32_t>(chunk.data(), n));
}

void MediaCalls::flush(std::span<const uint32_t> chunk) {
  const int64_t t0 = now_ns();
  const bool in_window = shared_.in_window(t0);
  for (uint32_t i : chunk) {
    Call& c = calls_[i];
    // Published before the send: the agent may see the frame before this thread runs again.
    shared_.store_sent(i, c.frame, t0);
    if (!io_.queue_send(c.send_fd, std::span<const uint8_t>(c.packet.data(), c.packet_length), i)) {
      shared_.rtp_send_errors.add();
      if (c.srtp) {  // SRTP used this sequence number's index: libsrtp refuses to protect it twice
        ++c.sequence;
        c.timestamp += kPayload;
      }
      continue;
    }
    ++c.frame;
    ++c.sequence;
    c.timestamp += kPayload;
    shared_.rtp_sent.add();
    if (in_window) shared_.rtp_sent_window.add();
  }
  io_.submit();
}

void MediaCalls::on_datagram(uint32_t call, std::span<const uint8_t> data, int64_t now) {
  if (call & kTargetTag) return on_target(call & ~kTargetTag, data, now);
  shared_.rtp_received.add();
  if (mode_ == Mode::kGateway) {
    if (now - last_rx_ns_ > kBurstGapNs) burst_start_ns_ = now;
    last_rx_ns_ = now;
  }
  if (rtp::SrtpSession* srtp = call < calls_.size() ? calls_[call].srtp.get() : nullptr) {
    size_t length = data.size();
    if (length > unprotect_scratch_.size()) {
      shared_.srtp_unprotect_failed.add();
      return;
    }
    std::copy(data.begin(), data.end(), unprotect_scratch_.begin());
    if (srtp->unprotect(unprotect_scratch_, length) != rtp::SrtpResult::kOk) {
      shared_.srtp_unprotect_failed.add();
      return;
    }
    data = std::span<const uint8_t>(unprotect_scratch_.data(), length);
  }
  rtp::RtpPacketView p;
  if (rtp::parse_rtp(data, p) != rtp::RtpParseStatus::kOk || p.payload_type != kPcmu) return;
  auto stamp = read_stamp(p.payload);
  if (!stamp) return;  // silence on the media clock while nothing is queued
  if (stamp->call != call) {
    shared_.rtp_unmatched.add();
    return;
  }
  shared_.rtp_stamped.add();
  if (mode_ == Mode::kRelay) on_relayed(call, stamp->seq, now);
  else on_echo(call, stamp->seq, now);
}

// Matches a returned frame with its origin time (t0 or t2) and records it; true when it counts for the
// window. Unmatched: the slot is empty or holds another lap's frame, or the time is implausible.
bool MediaCalls::record_return(int64_t origin, int64_t now, LatencyHistogram& all, LatencyHistogram& window,
                               Counter& window_count) {
  const int64_t latency = now - origin;
  if (origin < 0 || latency < 0 || latency > kMaxMatchNs) {
    shared_.rtp_unmatched.add();
    return false;
  }
  all.record(latency);
  if (!shared_.in_window(origin)) return false;
  window_count.add();
  window.record(latency);
  return true;
}

void MediaCalls::on_echo(uint32_t call, uint32_t seq, int64_t t3) {
  const int64_t t2 = shared_.echoed_at(call, seq);
  if (!record_return(t2, t3, shared_.ai_to_caller_all, shared_.ai_to_caller, shared_.rtp_stamped_window)) return;
  // out = tick wait + whole ticks spent queued behind earlier frames + tick to wire. The tick is taken
  // as the start of this packet's RTP burst (or t2, when the frame was echoed after the burst began).
  const int64_t tick = std::max(burst_start_ns_, t2);
  shared_.ai_to_caller_beyond_tick.record(t3 - tick);
  shared_.ai_to_caller_queued.record((tick - t2) / kTickNs * kTickNs);
}

void MediaCalls::on_relayed(uint32_t call, uint32_t seq, int64_t now) {
  record_return(shared_.sent_at(call, seq), now, shared_.relay_all, shared_.relay, shared_.rtp_stamped_window);
}

// The target's side of a bridged call: caller -> target latency, then the echo back through leg b.
void MediaCalls::on_target(uint32_t call, std::span<const uint8_t> data, int64_t now) {
  if (call >= calls_.size()) return;
  Call& c = calls_[call];
  shared_.target_received.add();
  rtp::RtpPacketView p;
  if (rtp::parse_rtp(data, p) != rtp::RtpParseStatus::kOk || p.payload_type != kPcmu) return;
  auto stamp = read_stamp(p.payload);
  if (!stamp || stamp->call != call || data.size() != c.echo[0].size()) {
    shared_.target_unmatched.add();
    return;
  }
  const int64_t t0 = shared_.sent_at(call, stamp->seq);
  record_return(t0, now, shared_.relay_all, shared_.relay, shared_.target_received_window);
  if (!c.target_up) return;
  auto& echo = c.echo[c.echo_next];
  c.echo_next = static_cast<uint8_t>((c.echo_next + 1) % c.echo.size());
  std::copy(data.begin(), data.end(), echo.begin());
  const uint32_t ssrc = 0x20000000u + call;  // the target's own stream, not the caller's
  echo[8] = static_cast<uint8_t>(ssrc >> 24);
  echo[9] = static_cast<uint8_t>(ssrc >> 16);
  echo[10] = static_cast<uint8_t>(ssrc >> 8);
  echo[11] = static_cast<uint8_t>(ssrc);
  const int64_t t2 = now_ns();
  shared_.store_echoed(call, stamp->seq, t2);
  if (!io_.queue_send(c.target_fd, echo, call | kTargetTag)) {
    shared_.rtp_send_errors.add();
    return;
  }
  echoes_queued_ = true;
  if (shared_.in_window(t2)) shared_.target_echoes_window.add();
}

void SlotClock::run_due(int64_t now, MediaCalls& media) {
  if (now - next_ > 100'000'000) next_ = now;  // far behind (a stopped process): resume from now
  while (now >= next_) {
    max_lag_ = std::max(max_lag_, now - next_);
    media.send_slot(slot_);
    slot_ = (slot_ + 1) % MediaCalls::kSlots;
    next_ += MediaCalls::kSlotNs;
  }
}

}  // namespace warmline::load
