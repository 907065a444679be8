// One Transport over several: what a shard's transaction layer sends through. Each message goes to the
// transport of its destination's protocol (Endpoint::protocol), and the Via of a request names that
// transport and its sent-by (RFC 3261 §18.1.1). A protocol the node does not run (no tcp:/tls: address
// and no trunk using it) falls back to UDP, as before TCP existed: a Contact with ;transport=tcp from a
// caller on UDP still gets its BYE.
//
// Threading: one per shard, on the shard's thread, like the transports it holds.
#pragma once

#include <array>
#include <functional>
#include <optional>

#include "sip/transport.hpp"

namespace warmline::sip {

class TransportMux final : public Transport {
 public:
  // `sent_by`: the address and port our Vias name for this protocol; nullopt = the transport's local().
  void set(Protocol protocol, Transport* transport, std::optional<Endpoint> sent_by = std::nullopt) {
    slots_[index(protocol)] = Slot{transport, std::move(sent_by)};
  }
  bool has(Protocol protocol) const { return slots_[index(protocol)].transport != nullptr; }
  // Called with every message handed to a transport (retransmissions too), before it is sent.
  void set_on_send(std::function<void(const Message&)> on_send) { on_send_ = std::move(on_send); }

  std::error_code send(const Message& message, const Endpoint& to) override {
    if (on_send_) on_send_(message);
    const Protocol p = effective(to.protocol);
    Transport* t = slots_[index(p)].transport;
    if (!t) return std::make_error_code(std::errc::protocol_not_supported);
    if (p == to.protocol) return t->send(message, to);
    Endpoint udp = to;
    udp.protocol = p;
    return t->send(message, udp);
  }
  Endpoint local() const override { return local_for(Endpoint{}); }
  Endpoint local_for(const Endpoint& to) const override {
    const Slot& s = slots_[index(effective(to.protocol))];
    if (s.sent_by) return *s.sent_by;
    return s.transport ? s.transport->local() : Endpoint{};
  }
  std::string_view via_transport_for(const Endpoint& to) const override { return via_token(effective(to.protocol)); }

 private:
  struct Slot {
    Transport* transport = nullptr;
    std::optional<Endpoint> sent_by;
  };
  static size_t index(Protocol p) { return static_cast<size_t>(p); }
  Protocol effective(Protocol p) const { return has(p) ? p : Protocol::udp; }
  std::array<Slot, 3> slots_{};
  std::function<void(const Message&)> on_send_;
};

}  // namespace warmline::sip
