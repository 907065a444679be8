#include "sip/udp_transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <spdlog/spdlog.h>

#include "sip/parse_check.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"

namespace warmline::sip {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

// The largest UDP payload over IPv4 (65535 - 8 UDP - 20 IP). §18.1.1 would move a request over the
// MTU to TCP; this transport refuses rather than letting the kernel fail or fragment silently.
constexpr size_t kMaxUdpPayload = 65507;

std::string_view strip_brackets(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

struct UdpTransport::Impl {
  Impl(asio::io_context& io, UdpTransportOptions opts, MessageHandler handler)
      : socket(io), options(std::move(opts)), on_message(std::move(handler)), buffer(options.max_datagram) {}

  void receive_loop(UdpTransport& owner);
  void on_datagram(UdpTransport& owner, size_t size);

  udp::socket socket;
  UdpTransportOptions options;
  MessageHandler on_message;
  std::vector<char> buffer;
  udp::endpoint sender;
  std::string send_buffer;  // reused: a warm buffer does not allocate per send
  Endpoint bound;           // the bound address and port, for the tracer

  void trace(const Endpoint& source, const Endpoint& destination, std::string_view bytes) {
    options.tracer->trace(TracedMessage{Protocol::udp, source, destination, bytes, std::chrono::system_clock::now()});
  }
  // The receive completion may run after stop(); it checks this token, not the owner.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

UdpTransport::UdpTransport(asio::io_context& io, UdpTransportOptions options, MessageHandler on_message)
    : impl_(std::make_unique<Impl>(io, std::move(options), std::move(on_message))) {}

UdpTransport::~UdpTransport() { stop(); }

std::error_code UdpTransport::start() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(strip_brackets(impl_->options.address), ec);
  if (ec) return ec;
  udp::endpoint bind_to(address, impl_->options.port);
  impl_->socket.open(bind_to.protocol(), ec);
  if (ec) return ec;
  impl_->socket.set_option(udp::socket::reuse_address(true), ec);
  if (!ec && impl_->options.reuse_port) {
    using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    impl_->socket.set_option(ReusePort(true), ec);
  }
  if (!ec) impl_->socket.bind(bind_to, ec);
  if (ec) {
    boost::system::error_code ignored;
    impl_->socket.close(ignored);
    return ec;
  }
  impl_->bound = local();
  impl_->receive_loop(*this);
  return {};
}

void UdpTransport::stop() {
  if (!impl_) return;
  *impl_->alive = false;
  impl_->alive = std::make_shared<bool>(true);
  boost::system::error_code ignored;
  impl_->socket.close(ignored);
}

void UdpTransport::Impl::receive_loop(UdpTransport& owner) {
  std::weak_ptr<bool> token = alive;
  socket.async_receive_from(asio::buffer(buffer), sender,
                            [this, &owner, token](const boost::system::error_code& ec, size_t size) {
                              auto live = token.lock();
                              if (!live || !*live) return;  // stopped or destroyed
                              if (ec == asio::error::operation_aborted) return;
                              // Other errors (ICMP port unreachable surfaces as connection_refused
                              // on Linux) are about an earlier send, not this socket: keep reading.
                              if (!ec) on_datagram(owner, size);
                              if (*live) receive_loop(owner);
                            });
}

void UdpTransport::Impl::on_datagram(UdpTransport& owner, size_t size) {
  ++owner.stats_.received;
  std::string_view raw(buffer.data(), size);
  Endpoint from{sender.address().to_string(), sender.port()};
  if (options.tracer) trace(from, bound, raw);
  ParseResult parsed = parse_message(raw);
  if (!parsed.ok()) {
    // §18.2.1/§16.3: an unparsable request is answered when it can be; responses are never answered.
    std::string answer = parsed.drop ? std::string() : build_stateless_response(raw, parsed.status, parsed.reason);
    if (answer.empty()) {
      ++owner.stats_.dropped;
      return;
    }
    ++owner.stats_.rejected;
    boost::system::error_code ec;
    socket.send_to(asio::buffer(answer), sender, 0, ec);
    if (!ec && options.tracer) trace(bound, from, answer);
    return;
  }
  Message message = std::move(*parsed.message);
  if (message.is_request) stamp_via_source(message, from);
  if (on_message) on_message(std::move(message), from);
}

std::error_code UdpTransport::send(const Message& message, const Endpoint& to) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(strip_brackets(to.host), ec);
  if (ec || to.port == 0) {
    ++stats_.send_errors;
    return std::make_error_code(std::errc::invalid_argument);
  }
  impl_->send_buffer.clear();
  serialize_to(message, impl_->send_buffer);
  if (impl_->send_buffer.size() > kMaxUdpPayload) {
    ++stats_.send_errors;
    return std::make_error_code(std::errc::message_size);
  }
  impl_->socket.send_to(asio::buffer(impl_->send_buffer), udp::endpoint(address, to.port), 0, ec);
  if (ec) {
    ++stats_.send_errors;
    return ec;
  }
  ++stats_.sent;
  if (impl_->options.tracer) impl_->trace(impl_->bound, Endpoint{std::string(strip_brackets(to.host)), to.port}, impl_->send_buffer);
  return {};
}

Endpoint UdpTransport::local() const {
  boost::system::error_code ec;
  udp::endpoint ep = impl_->socket.local_endpoint(ec);
  if (ec) return {};
  return {ep.address().to_string(), ep.port()};
}

void stamp_via_source(Message& request, const Endpoint& source) {
  if (request.vias.empty()) return;
  Via& top = request.vias.front();
  const Param* rport = find_param(top.params, "rport");
  bool wants_rport = rport != nullptr;
  // §18.2.1: "If the host portion of the "sent-by" field contains a domain name, or if it contains an
  // IP address that differs from the packet source address, the server MUST add a "received" parameter".
  // RFC 3581 §4: with rport present, received is added even when the address matches.
  if (wants_rport || strip_brackets(top.host) != source.host) set_param(top.params, "received", source.host);
  // RFC 3581 §4: "the server MUST set the value of the "rport" parameter to the source port".
  if (wants_rport) set_param(top.params, "rport", std::to_string(source.port));
}

}  // namespace warmline::sip
