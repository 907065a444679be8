// An in-memory transport for tests (after pjsip's sip_transport_loop.c): records every message it is
// asked to send, can drop the next N (simulated loss: send reports success, nothing is recorded as
// delivered) or fail the next N (a transport error, which a client transaction turns into 503).
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "sip/transport.hpp"

namespace warmline::sip::testing {

class LoopbackTransport final : public Transport {
 public:
  struct Sent {
    Message message;
    Endpoint to;
  };

  explicit LoopbackTransport(Endpoint local = {"192.0.2.10", 5060}) : local_(std::move(local)) {}

  std::error_code send(const Message& message, const Endpoint& to) override {
    ++attempts_;
    if (fail_next_ > 0) {
      --fail_next_;
      return std::make_error_code(std::errc::network_unreachable);
    }
    if (drop_next_ > 0) {
      --drop_next_;
      ++dropped_;
      return {};
    }
    sent_.push_back(Sent{message, to});
    if (on_send) on_send(sent_.back());
    return {};
  }
  Endpoint local() const override { return local_; }
  // The Via names the destination's protocol, as TransportMux does on a shard.
  std::string_view via_transport_for(const Endpoint& to) const override { return via_token(to.protocol); }

  // Called for every message recorded (not for dropped or failed ones): tests stamp send times here.
  std::function<void(const Sent&)> on_send;

  void drop_next(int n) { drop_next_ = n; }
  void fail_next(int n) { fail_next_ = n; }

  const std::vector<Sent>& sent() const { return sent_; }
  const Sent& last() const { return sent_.back(); }
  void clear() { sent_.clear(); }
  int attempts() const { return attempts_; }
  int dropped() const { return dropped_; }

  // Requests sent with this method (ACK, CANCEL, ...).
  int count_requests(std::string_view method) const {
    int n = 0;
    for (const auto& s : sent_) n += s.message.is_request && s.message.method == method;
    return n;
  }
  // Responses sent with this status code.
  int count_responses(int status) const {
    int n = 0;
    for (const auto& s : sent_) n += !s.message.is_request && s.message.status_code == status;
    return n;
  }

 private:
  Endpoint local_;
  std::vector<Sent> sent_;
  int drop_next_ = 0;
  int fail_next_ = 0;
  int attempts_ = 0;
  int dropped_ = 0;
};

}  // namespace warmline::sip::testing
