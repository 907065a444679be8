// What every transaction state machine (RFC 3261 §17) shares: the environment the owning
// TransactionLayer gives it, and the per-transaction timer slots.
//
// Ownership: the layer owns each transaction by id. A transaction never schedules a callback that
// captures itself: timers re-enter through Env::fire(id, timer) and the layer looks the id up, so a
// timer that outlives its transaction does nothing. Threading: one shard, no locks.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "sip/message.hpp"
#include "sip/timer.hpp"
#include "sip/transport.hpp"

namespace warmline::sip::transaction {

using TxId = uint64_t;

struct Env {
  Transport& transport;
  TimerService& timers;
  TimerConfig config;
  std::function<void(TxId, int timer)> fire;
  // Responses a transaction absorbs from the TU's point of view but that the UA core still needs
  // (2xx retransmissions in the INVITE client's Accepted state, RFC 6026 §8.4: the core re-sends ACK).
  std::function<void(const Message&, const Endpoint&)> stray;
};

// Up to four named timers per transaction (A/B/D/M, E/F/K, G/H/I/L + 100 Trying, J).
class TxTimers {
 public:
  static constexpr int kSlots = 5;

  TxTimers(Env& env, TxId id) : env_(env), id_(id) {}
  ~TxTimers() {
    for (int i = 0; i < kSlots; ++i) cancel(i);
  }
  TxTimers(const TxTimers&) = delete;
  TxTimers& operator=(const TxTimers&) = delete;

  void arm(int slot, std::chrono::milliseconds delay) {
    cancel(slot);
    ids_[slot] = env_.timers.schedule(delay, [env = &env_, id = id_, slot] { env->fire(id, slot); });
  }
  void cancel(int slot) {
    if (ids_[slot] != kNoTimer) env_.timers.cancel(ids_[slot]);
    ids_[slot] = kNoTimer;
  }
  // Called by the transaction when its timer fired (the id is spent).
  void fired(int slot) { ids_[slot] = kNoTimer; }

 private:
  Env& env_;
  TxId id_;
  std::array<TimerId, kSlots> ids_{};
};

inline bool is_provisional(int status) { return status >= 100 && status < 200; }
inline bool is_success(int status) { return status >= 200 && status < 300; }

// Server transactions as the layer drives them.
class ServerTx {
 public:
  virtual ~ServerTx() = default;
  // A retransmission of the request, or (INVITE only) the ACK for a non-2xx final response.
  virtual void on_request(const Message& request) = 0;
  // A response from the TU; false when the transaction can no longer send one (already final).
  virtual bool respond(const Message& response) = 0;
  virtual void on_timer(int slot) = 0;
  virtual bool terminated() const = 0;
  // True until a final response was sent (a CANCEL still has an effect, §9.2).
  virtual bool awaiting_final() const = 0;
  const Message& request() const { return request_; }
  const Endpoint& source() const { return source_; }
  // The last response sent, or nullptr (a CANCEL's 200 reuses its To tag, §9.2).
  const Message* last_response() const { return last_response_ ? &*last_response_ : nullptr; }

 protected:
  ServerTx(Message request, Endpoint source) : request_(std::move(request)), source_(std::move(source)) {}
  // §18.2.2: responses follow the top Via (received/rport filled by the transport).
  Endpoint reply_to() const {
    return request_.vias.empty() ? source_ : reply_destination(request_.vias.front(), source_);
  }

  Message request_;
  Endpoint source_;
  std::optional<Message> last_response_;
};

// Client transactions as the layer drives them.
class ClientTx {
 public:
  using ResponseHandler = std::function<void(const Message&)>;
  virtual ~ClientTx() = default;
  virtual void start() = 0;  // sends the request for the first time
  virtual void on_response(const Message& response, const Endpoint& from) = 0;
  virtual void on_timer(int slot) = 0;
  virtual bool terminated() const = 0;
  // True once a provisional response arrived and before any final one (§9.1: when CANCEL may be sent).
  virtual bool cancellable() const = 0;
  // True while nothing has come back (Calling, Trying): a connection that failed to open took the
  // request with it.
  virtual bool awaiting_response() const = 0;
  // The connection the request went on could not be opened (refused, TLS handshake failed): §8.1.3.1,
  // a 503 to the TU now, its reason phrase saying why, instead of timer B/F's 408 much later. Only while
  // awaiting_response(); ignored otherwise.
  void transport_failed(std::string_view why) {
    if (!awaiting_response()) return;
    transport_error_ = why;
    on_transport_error();
  }
  const Message& request() const { return request_; }
  const Endpoint& destination() const { return destination_; }

 protected:
  ClientTx(Message request, Endpoint destination, ResponseHandler handler)
      : request_(std::move(request)), destination_(std::move(destination)), handler_(std::move(handler)) {}
  // §8.1.3.1 / §17.1.1.2: a timeout reaches the TU as 408, a transport failure as 503 (with the
  // transport's reason when it gave one).
  void synthesize(int status);
  virtual void on_transport_error() = 0;  // applies the state machine's kTransportError

  Message request_;
  Endpoint destination_;
  ResponseHandler handler_;
  std::string transport_error_;  // why the connection failed ("" = no reason known)
};

}  // namespace warmline::sip::transaction
