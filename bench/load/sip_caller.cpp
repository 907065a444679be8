#include "bench/load/sip_caller.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench/load/caller_sdp.hpp"
#include "sip/parser.hpp"
#include "sip/sdp.hpp"
#include "sip/serializer.hpp"

namespace warmline::load {

namespace {

constexpr int64_t kT1 = 500'000'000;         // RFC 3261 §17.1.1.1
constexpr int64_t kT2 = 4'000'000'000;
constexpr int64_t kTimerB = 64 * kT1;        // 32 s: INVITE and BYE transaction timeouts
constexpr size_t kMaxDatagram = 65536;

std::string ip_of(const sockaddr_in& a) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  return buf;
}

sip::Uri sip_uri(std::string user, std::string host, uint16_t port) {
  sip::Uri u;
  u.scheme = "sip";
  u.user = std::move(user);
  u.host = std::move(host);
  u.port = port;
  return u;
}

// The gateway's RTP address from an SDP answer: the first audio stream with a port.
bool rtp_address_of(std::string_view body, sockaddr_in& out) {
  auto parsed = sip::parse_sdp(body);
  if (!parsed.sdp) return false;
  for (const auto& m : parsed.sdp->media) {
    const sip::SdpConnection* c = parsed.sdp->effective_connection(m);
    if (m.media != "audio" || m.port == 0 || !c) continue;
    out = {};
    out.sin_family = AF_INET;
    out.sin_port = htons(m.port);
    return inet_pton(AF_INET, c->address.c_str(), &out.sin_addr) == 1;
  }
  return false;
}

}  // namespace

int64_t call_index_of(std::string_view call_id) {
  if (call_id.size() < 3 || call_id.substr(0, 2) != "wl") return -1;
  int64_t v = 0;
  size_t i = 2;
  for (; i < call_id.size() && call_id[i] >= '0' && call_id[i] <= '9' && i < 12; ++i) v = v * 10 + (call_id[i] - '0');
  return (i > 2 && i < call_id.size() && call_id[i] == '-') ? v : -1;
}

SipCaller::SipCaller(SipCallerOptions options, SipCallerHandlers handlers, size_t calls)
    : options_(std::move(options)), handlers_(std::move(handlers)), calls_(calls) {
  buffer_.resize(kMaxDatagram);
}

SipCaller::~SipCaller() {
  if (fd_ >= 0 && !tls_) close(fd_);  // the stream closes its own
}

std::string SipCaller::tls_cipher() const { return tls_ ? tls_->cipher() : std::string(); }

bool SipCaller::open(std::string& error) {
  if (options_.tls) {
    tls_ = std::make_unique<TlsStream>();
    if (!tls_->connect(options_.gateway, options_.tls_ca, error)) return false;
    fd_ = tls_->fd();
    port_ = tls_->local_port();
    on_stream_message_ = [this](std::string_view bytes) {
      auto parsed = sip::parse_message(bytes);
      if (!parsed.ok()) {
        ++counters_.unparsable;
        return;
      }
      on_message(*parsed.message, stream_now_);
    };
    return true;
  }
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error = std::string("SIP socket: ") + std::strerror(errno);
    return false;
  }
  int size = 4 << 20;  // a burst of 2,000 responses must not overflow the default buffer
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, options_.local_ip.c_str(), &local.sin_addr);
  socklen_t len = sizeof local;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    error = std::string("SIP bind: ") + std::strerror(errno);
    return false;
  }
  port_ = ntohs(local.sin_port);
  return true;
}

void SipCaller::send(const std::string& wire) {
  if (tls_) return tls_->write(wire);
  sendto(fd_, wire.data(), wire.size(), 0, reinterpret_cast<const sockaddr*>(&options_.gateway),
         sizeof options_.gateway);
}

sip::Message SipCaller::new_request(std::string_view method, const Call& c) const {
  sip::Message m;
  m.method = std::string(method);
  m.request_uri = c.remote_target;
  sip::Via via;
  via.transport = options_.tls ? "TLS" : "UDP";
  via.host = options_.local_ip;
  via.port = port_;
  m.vias.push_back(std::move(via));
  m.from = c.request.from;
  m.to = c.remote;
  m.call_id = c.request.call_id;
  m.max_forwards = 70;
  return m;
}

void SipCaller::invite(uint32_t index, uint16_t rtp_port, int64_t now) {
  Call& c = calls_[index];
  const std::string user = "wl" + std::to_string(index);
  sip::Message& m = c.request;
  m = {};
  m.method = "INVITE";
  m.request_uri = sip_uri(options_.number, ip_of(options_.gateway), ntohs(options_.gateway.sin_port));
  sip::Via via;
  via.transport = options_.tls ? "TLS" : "UDP";
  via.host = options_.local_ip;
  via.port = port_;
  sip::set_param(via.params, "branch", sip::new_branch(random_));
  via.params.push_back({"rport", "", false});
  m.vias.push_back(std::move(via));
  m.from.uri = sip_uri(user, options_.local_ip, port_);
  m.from.set_tag(sip::new_tag(random_));
  m.to.uri = m.request_uri;
  m.call_id = user + "-" + random_.token(12) + "@" + options_.local_ip;
  m.cseq = {1, "INVITE"};
  m.max_forwards = 70;
  m.contacts.push_back(m.from);
  m.contacts.back().params.clear();
  // In-dialog requests to us (a BYE of the gateway) come back over the connection we opened.
  if (options_.tls) m.contacts.back().uri.params.push_back({"transport", "tls", true});
  m.content_type = "application/sdp";
  sip::SessionDescription offer =
      sip::make_offer(caller_media_caps(options_.local_ip, rtp_port, index + 1, options_.srtp));
  m.body = offer.serialize();
  if (options_.srtp) c.offer = std::move(offer);
  c.remote = m.to;
  c.remote_target = m.request_uri;
  c.wire = sip::serialize(m);
  c.state = State::kInviting;
  c.first_sent = now;
  c.interval = kT1;
  c.next_retransmit = now + kT1;
  ++active_;
  ++counters_.invites;
  send(c.wire);
}

void SipCaller::hang_up(uint32_t index, int64_t now) {
  Call& c = calls_[index];
  if (c.state != State::kUp) return;
  sip::Message bye = new_request("BYE", c);
  sip::set_param(bye.vias.front().params, "branch", sip::new_branch(random_));
  bye.cseq = {2, "BYE"};
  c.request.cseq = bye.cseq;
  c.wire = sip::serialize(bye);
  c.state = State::kByeing;
  --up_;
  c.first_sent = now;
  c.interval = kT1;
  c.next_retransmit = now + kT1;
  ++counters_.byes;
  send(c.wire);
}

void SipCaller::on_readable(int64_t now) {
  if (tls_) {
    if (transport_error_.empty()) {
      stream_now_ = now;
      if (!tls_->read(on_stream_message_, transport_error_)) ++counters_.transport_failures;
    }
    return;
  }
  for (int i = 0; i < 4096; ++i) {  // bounded: the rest waits for the next wake-up
    ssize_t n = recv(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (n <= 0) return;
    auto parsed = sip::parse_message(std::string_view(buffer_.data(), static_cast<size_t>(n)));
    if (!parsed.ok()) {
      ++counters_.unparsable;
      continue;
    }
    on_message(*parsed.message, now);
  }
}

void SipCaller::on_message(const sip::Message& m, int64_t now) {
  if (m.is_request) return on_request(m);
  const int64_t index = call_index_of(m.call_id);
  if (index < 0 || static_cast<size_t>(index) >= calls_.size()) return;
  Call& c = calls_[static_cast<size_t>(index)];
  if (m.call_id != c.request.call_id) return;
  if (m.cseq.method == "INVITE") on_invite_response(static_cast<uint32_t>(index), c, m, now);
  else if (m.cseq.method == "BYE" && c.state == State::kByeing) on_bye_response(c, m);
}

void SipCaller::on_invite_response(uint32_t index, Call& c, const sip::Message& m, int64_t now) {
  if (m.status_code < 200) {
    if (c.state == State::kInviting && !c.got_provisional) ++counters_.provisional;
    c.got_provisional = true;
    return;
  }
  if (m.status_code >= 300) {  // §17.1.1.3: the ACK of a non-2xx belongs to the transaction
    send(sip::serialize(sip::make_non_2xx_ack(c.request, m)));
    if (c.state == State::kInviting) {
      counters_.last_failure_status = m.status_code;
      ++counters_.failed;
      end(index, c, State::kFailed);
    }
    return;
  }
  if (c.state == State::kInviting) {
    c.remote = m.to;
    if (!m.contacts.empty()) c.remote_target = m.contacts.front().uri;
    sockaddr_in rtp{};
    std::unique_ptr<rtp::SrtpSession> srtp;
    const bool usable = rtp_address_of(m.body, rtp);
    if (usable && options_.srtp && !(srtp = caller_srtp_session(c.offer, m.body, srtp_error_))) ++counters_.srtp_refused;
    if (!usable || (options_.srtp && !srtp)) {
      send_ack(c, m);
      c.state = State::kUp;
      ++up_;
      counters_.last_failure_status = 488;
      hang_up(index, now);
      ++counters_.failed;
      ++settled_;
      return;
    }
    setup_.record(now - c.first_sent);
    c.state = State::kUp;
    ++up_;
    ++settled_;
    ++counters_.answered;
    if (srtp) ++counters_.srtp_calls;
    if (handlers_.on_answered) handlers_.on_answered(index, rtp, std::move(srtp));
  }
  // §13.2.2.4: every 2xx (first or retransmitted) is ACKed end to end.
  if (c.state == State::kUp || c.state == State::kByeing) send_ack(c, m);
}

void SipCaller::send_ack(Call& c, const sip::Message& ok) {
  sip::Message ack = new_request("ACK", c);
  ack.to = ok.to;
  sip::set_param(ack.vias.front().params, "branch", sip::new_branch(random_));
  ack.cseq = {1, "ACK"};
  scratch_.clear();
  sip::serialize_to(ack, scratch_);
  send(scratch_);
}

void SipCaller::on_bye_response(Call& c, const sip::Message& m) {
  if (m.status_code < 200) return;
  if (m.status_code < 300) ++counters_.bye_ok; else ++counters_.bye_failed;
  c.state = State::kDone;
  --active_;
}

void SipCaller::on_request(const sip::Message& m) {
  // The gateway ends a call (BYE) or probes us: answer so its transaction completes.
  if (m.method == "ACK") return;
  sip::Message r = sip::make_response(m, m.method == "BYE" || m.method == "OPTIONS" ? 200 : 501, "");
  scratch_.clear();
  sip::serialize_to(r, scratch_);
  send(scratch_);
  if (m.method != "BYE") return;
  const int64_t index = call_index_of(m.call_id);
  if (index < 0 || static_cast<size_t>(index) >= calls_.size()) return;
  Call& c = calls_[static_cast<size_t>(index)];
  if (c.request.call_id != m.call_id || (c.state != State::kUp && c.state != State::kInviting)) return;
  ++counters_.dropped_by_gateway;
  end(static_cast<uint32_t>(index), c, State::kDone);
}

void SipCaller::end(uint32_t index, Call& c, State state) {
  if (c.state == State::kUp) --up_;
  if (c.state == State::kInviting) ++settled_;  // the caller counted why (failed, timeout, dropped)
  c.state = state;
  --active_;
  if (handlers_.on_ended) handlers_.on_ended(index);
}

void SipCaller::abandon_pending() {
  for (uint32_t i = 0; i < calls_.size(); ++i) {
    if (calls_[i].state != State::kInviting) continue;
    ++counters_.timeouts;
    end(i, calls_[i], State::kFailed);
  }
}

void SipCaller::on_timer(int64_t now) {
  if (tls_) {
    tls_->flush();
    if (tls_->has_buffered()) on_readable(now);  // a bounded read left decrypted bytes behind
  }
  for (uint32_t i = 0; i < calls_.size(); ++i) {
    Call& c = calls_[i];
    if (c.state != State::kInviting && c.state != State::kByeing) continue;
    if (now - c.first_sent >= kTimerB) {
      if (c.state == State::kInviting) {
        ++counters_.timeouts;
        end(i, c, State::kFailed);
      } else {
        ++counters_.bye_failed;
        c.state = State::kDone;
        --active_;
      }
      continue;
    }
    // §17.1.1.2 / §17.1.2.2: over TLS (reliable) nothing is retransmitted; Timer B / F still apply.
    const bool retransmit = !tls_ && (c.state == State::kByeing || !c.got_provisional);
    if (!retransmit || now < c.next_retransmit) continue;
    send(c.wire);
    if (c.state == State::kInviting) ++counters_.invite_retransmits; else ++counters_.bye_retransmits;
    c.interval = c.state == State::kInviting ? c.interval * 2 : std::min(c.interval * 2, kT2);
    c.next_retransmit = now + c.interval;
  }
}

}  // namespace warmline::load
