// One Transport over several: what a shard's transaction layer sends through. Each message goes to the
// transport of its destination's protocol (Endpoint::protocol), and the Via of a request names that
// transport and its sent-by (RFC 3261 §18.1.1).
//
// Threading: one per shard, on the shard's thread, like the transports it holds.
#pragma once

#include <array>
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

  std::error_code send(const Message& message, const Endpoint& to) override {
    Transport* t = slots_[index(to.protocol)].transport;
    if (!t) return std::make_error_code(std::errc::protocol_not_supported);
    return t->send(message, to);
  }
  Endpoint local() const override { return local_for(Endpoint{}); }
  Endpoint local_for(const Endpoint& to) const override {
    const Slot& s = slots_[index(to.protocol)];
    if (s.sent_by) return *s.sent_by;
    return s.transport ? s.transport->local() : Endpoint{};
  }
  std::string_view via_transport_for(const Endpoint& to) const override { return via_token(to.protocol); }

 private:
  struct Slot {
    Transport* transport = nullptr;
    std::optional<Endpoint> sent_by;
  };
  static size_t index(Protocol p) { return static_cast<size_t>(p); }
  std::array<Slot, 3> slots_{};
};

}  // namespace warmline::sip
