#include "bench/load/sip_callee.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "sip/parser.hpp"
#include "sip/sdp.hpp"
#include "sip/serializer.hpp"

namespace warmline::load {

namespace {

constexpr int64_t kT1 = 500'000'000;  // RFC 3261 §17.1.1.1
constexpr int64_t kT2 = 4'000'000'000;
constexpr size_t kMaxDatagram = 65536;

std::optional<uint32_t> header_number(std::string_view v) {
  uint32_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return n;
}

}  // namespace

SipCallee::SipCallee(SharedState& shared, SipCalleeHandlers handlers, size_t calls)
    : shared_(shared), handlers_(std::move(handlers)), calls_(calls) {
  buffer_.resize(kMaxDatagram);
}

SipCallee::~SipCallee() {
  if (fd_ >= 0) close(fd_);
}

bool SipCallee::open(const std::string& listen, std::string& error) {
  const auto colon = listen.rfind(':');
  sockaddr_in local{};
  local.sin_family = AF_INET;
  uint16_t port = 0;
  if (colon == std::string::npos || inet_pton(AF_INET, listen.substr(0, colon).c_str(), &local.sin_addr) != 1 ||
      std::from_chars(listen.data() + colon + 1, listen.data() + listen.size(), port).ec != std::errc()) {
    error = "--target-listen: expected IPv4:PORT, got '" + listen + "'";
    return false;
  }
  local.sin_port = htons(port);
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    error = "target SIP bind to " + listen + ": " + std::strerror(errno);
    return false;
  }
  int size = 4 << 20;  // a burst of INVITEs must not overflow the default buffer
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  local_ip_ = listen.substr(0, colon);
  port_ = port;
  return true;
}

void SipCallee::send_to(const std::string& wire, const sockaddr_in& to) {
  sendto(fd_, wire.data(), wire.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
}

void SipCallee::respond(const sip::Message& request, int status, const sockaddr_in& to) {
  sip::Message r = sip::make_response(request, status, "");
  scratch_.clear();
  sip::serialize_to(r, scratch_);
  send_to(scratch_, to);
}

void SipCallee::on_readable(int64_t now) {
  for (int i = 0; i < 4096; ++i) {  // bounded: the rest waits for the next wake-up
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) return;
    auto parsed = sip::parse_message(std::string_view(buffer_.data(), static_cast<size_t>(n)));
    if (!parsed.ok()) {
      ++counters_.unparsable;
      continue;
    }
    on_message(*parsed.message, from, now);
  }
}

SipCallee::Call* SipCallee::find(const sip::Message& m) {
  // The call index the INVITE named; later requests of the dialog match by Call-ID and our tag.
  auto it = std::find_if(calls_.begin(), calls_.end(), [&](const Call& c) { return c.call_id == m.call_id; });
  return it == calls_.end() ? nullptr : &*it;
}

void SipCallee::on_message(const sip::Message& m, const sockaddr_in& from, int64_t now) {
  if (!m.is_request) return;  // we send no requests
  if (m.method == "INVITE") return on_invite(m, from, now);
  Call* c = find(m);
  if (m.method == "ACK") {
    if (!c || c->acked || m.to.tag() != c->to_tag) return;
    c->acked = true;
    ++counters_.acked;
    ++bridged_;
    const auto index = static_cast<uint32_t>(c - calls_.data());
    const int64_t sent = shared_.transfer_sent_at[index].load(std::memory_order_acquire);
    if (sent >= 0) shared_.transfer_to_ack.record(now - sent);
    if (handlers_.on_bridged) handlers_.on_bridged(index, c->gateway_rtp);
    return;
  }
  if (m.method == "BYE") {
    respond(m, c ? 200 : 481, from);
    if (!c || !c->answered) return;
    ++counters_.byes;
    if (c->acked) --bridged_;
    c->answered = c->acked = false;
    c->call_id.clear();
    if (handlers_.on_ended) handlers_.on_ended(static_cast<uint32_t>(c - calls_.data()));
    return;
  }
  // CANCEL after our 200 (a race the gateway's ring timeout could lose), OPTIONS: 200 ends their
  // transactions; anything else is not for a load target.
  respond(m, m.method == "CANCEL" || m.method == "OPTIONS" ? 200 : 501, from);
}

void SipCallee::on_invite(const sip::Message& m, const sockaddr_in& from, int64_t now) {
  auto index = header_number(m.header("X-Load-Call"));
  if (!index || *index >= calls_.size()) {
    ++counters_.unknown_call;
    return respond(m, 404, from);
  }
  Call& c = calls_[*index];
  if (c.answered && c.call_id == m.call_id) {
    if (m.to.tag().empty()) {  // the INVITE again: our 200 again
      send_to(c.ok_wire, from);
      return;
    }
    ++counters_.reinvites;  // a session refresh or hold: the same answer
  } else {
    ++counters_.invites;
    const int64_t sent = shared_.transfer_sent_at[*index].load(std::memory_order_acquire);
    if (sent >= 0) shared_.transfer_to_invite.record(now - sent);
  }
  auto offer = sip::parse_sdp(m.body);
  sip::LocalMediaCaps caps;
  caps.codecs = {"PCMU"};
  caps.local_ip = local_ip_;
  caps.local_rtp_port = c.rtp_port;
  caps.session_id = *index + 1;
  caps.session_name = "warmline-load-target";
  sip::AnswerResult answer;
  if (offer.sdp) answer = sip::negotiate_answer(*offer.sdp, caps);
  sockaddr_in rtp{};
  rtp.sin_family = AF_INET;
  rtp.sin_port = htons(answer.remote_port);
  if (!answer.ok || answer.remote_port == 0 || inet_pton(AF_INET, answer.remote_address.c_str(), &rtp.sin_addr) != 1) {
    ++counters_.refused;
    return respond(m, 488, from);
  }
  sip::Message ok = sip::make_response(m, 200, "OK");
  if (!c.answered || c.call_id != m.call_id) {
    const uint16_t rtp_port = c.rtp_port;
    c = Call{};
    c.rtp_port = rtp_port;
    c.call_id = m.call_id;
    c.to_tag = sip::new_tag(random_);
  }
  ok.to.set_tag(c.to_tag);
  sip::NameAddr contact;
  contact.uri.scheme = "sip";
  contact.uri.user = "target";
  contact.uri.host = local_ip_;
  contact.uri.port = port_;
  ok.contacts.push_back(std::move(contact));
  ok.content_type = "application/sdp";
  ok.body = answer.answer.serialize();
  c.ok_wire = sip::serialize(ok);
  c.peer = from;
  c.gateway_rtp = rtp;
  if (!c.answered) {
    c.answered = true;
    ++counters_.answered;
    c.first_sent = now;
    c.interval = kT1;
    c.next_retransmit = now + kT1;
  }
  send_to(c.ok_wire, from);
}

void SipCallee::on_timer(int64_t now) {
  for (Call& c : calls_) {
    if (!c.answered || c.acked || now < c.next_retransmit) continue;
    if (now - c.first_sent >= 64 * kT1) {  // §13.3.1.4: no ACK, the UAS ends the call (counted)
      ++counters_.ack_timeouts;
      c.answered = false;
      continue;
    }
    send_to(c.ok_wire, c.peer);
    ++counters_.ok_retransmits;
    c.interval = std::min(c.interval * 2, kT2);
    c.next_retransmit = now + c.interval;
  }
}

}  // namespace warmline::load
