#include "server/hep_tracer.hpp"

#include "sip/hep.hpp"

namespace warmline::server {

namespace asio = boost::asio;
using asio::ip::udp;

void TraceLinks::link(const std::string& leg_call_id, const std::string& caller_call_id, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  std::erase_if(legs_, [now](const auto& e) { return e.second.expires <= now; });
  legs_[leg_call_id] = Entry{caller_call_id, Clock::time_point::max()};
}

void TraceLinks::retire(const std::string& leg_call_id, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = legs_.find(leg_call_id);
  if (it != legs_.end()) it->second.expires = now + kLinger;
}

void TraceLinks::correlation(const std::string& call_id, std::string& out) const {
  std::lock_guard lock(mutex_);
  auto it = legs_.find(call_id);
  out.assign(it == legs_.end() ? call_id : it->second.caller);
}

size_t TraceLinks::size() const {
  std::lock_guard lock(mutex_);
  return legs_.size();
}

HepTracer::HepTracer(asio::io_context& io, const HepOptions& options, const TraceLinks* links,
                     std::atomic<uint64_t>& sent, std::atomic<uint64_t>& errors)
    : socket_(io), options_(options), links_(links), sent_(sent), errors_(errors) {}

std::error_code HepTracer::start() {
  boost::system::error_code ec;
  socket_.open(options_.collector.protocol(), ec);
  if (!ec) socket_.non_blocking(true, ec);
  return ec;
}

std::string_view HepTracer::shown(const std::string& host) const {
  if ((host == "0.0.0.0" || host == "::") && !options_.advertised_ip.empty()) return options_.advertised_ip;
  return host;
}

void HepTracer::trace(const sip::TracedMessage& m) {
  call_id_.assign(sip::raw_call_id(m.bytes));
  correlation_.clear();
  if (!call_id_.empty()) {
    if (links_) links_->correlation(call_id_, correlation_);
    else correlation_ = call_id_;
  }
  const auto since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(m.at.time_since_epoch()).count();
  sip::hep::Packet p;
  p.protocol = m.protocol;
  p.source_ip = shown(m.source.host);
  p.source_port = m.source.port;
  p.destination_ip = shown(m.destination.host);
  p.destination_port = m.destination.port;
  p.seconds = static_cast<uint32_t>(since_epoch / 1000000);
  p.microseconds = static_cast<uint32_t>(since_epoch % 1000000);
  p.capture_id = options_.capture_id;
  p.auth_key = options_.password;
  p.correlation = correlation_;
  p.payload = m.bytes;
  if (!sip::hep::encode(p, packet_)) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(packet_), options_.collector, 0, ec);
  if (ec) errors_.fetch_add(1, std::memory_order_relaxed);  // would_block, refused, unreachable: dropped
  else sent_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace warmline::server
