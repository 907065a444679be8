// The transaction layer (RFC 3261 §17): matches every message the transport delivers to its client or
// server transaction, creates server transactions for new requests, and hands the transaction user (TU)
// what it must see. It also carries two UA-core duties that need the same timers: retransmitting a 2xx
// to INVITE until its ACK arrives (§13.3.1.4), and CANCEL handling (§9).
//
// Threading: one TransactionLayer per shard; receive(), the TU calls and every callback run on that
// shard's io_context thread. Ownership: the layer owns all transactions; the TU holds ids and value
// handles (ServerTransaction) that stay safe after the transaction is gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/builders.hpp"
#include "sip/message.hpp"
#include "sip/timer.hpp"
#include "sip/transaction/common.hpp"
#include "sip/transport.hpp"

namespace warmline::sip {

class TransactionLayer;

using ClientTransactionId = uint64_t;  // 0 = none
// Gets every response of one client transaction: provisionals, then exactly one final (a synthesized
// 408 on timeout, 503 on transport error, §8.1.3.1).
using ResponseHandler = std::function<void(const Message& response)>;

// A copyable handle on a server transaction. Every call is safe after the transaction ended (timers
// J/H/I/L): respond() then returns false and request() nullptr.
class ServerTransaction {
 public:
  ServerTransaction() = default;
  bool valid() const;
  uint64_t id() const { return id_; }
  const Message* request() const;
  // Where the request came from (the transport's source address).
  const Endpoint* source() const;
  // Sends a response through the transaction. For an INVITE, a 2xx also starts the UAS core's 2xx
  // retransmission until the ACK (§13.3.1.4). False when the transaction is gone or already final.
  bool respond(Message response);
  // Shorthand: make_response(request, status, reason) with `to_tag` added to To when non-empty.
  bool respond(int status, std::string_view reason = {}, std::string_view to_tag = {});

 private:
  friend class TransactionLayer;
  ServerTransaction(TransactionLayer* layer, uint64_t id) : layer_(layer), id_(id) {}
  TransactionLayer* layer_ = nullptr;
  uint64_t id_ = 0;
};

struct TransactionHandlers {
  // Asked first about every new out-of-dialog request (no To tag), before any transaction exists:
  // 0 lets it in; a status (e.g. 403) is answered statelessly — no transaction, no timers, nothing kept
  // (RFC 3261 §8.2: a UAS may answer without one) — and a negative value drops it unanswered. Cheap
  // refusal of traffic that no configuration lets in (scanners, floods from unknown sources).
  std::function<int(const Message& request, const Endpoint& from)> screen{};
  // A new request (never ACK, never a retransmission). CANCEL matching no INVITE is answered 481 by
  // the layer and does not come here either.
  std::function<void(ServerTransaction& tx, const Message& request)> on_request{};
  // An ACK for a 2xx (a transaction of its own, §17.1.1.3). The TU returns true when it takes the ACK
  // (its dialog's peer sent it): only then does the 2xx retransmission stop. A TU that refuses a
  // forged ACK thus keeps the real peer's 2xx coming until the real ACK or the timeout.
  std::function<bool(const Message& ack, const Endpoint& from)> on_ack{};
  // A CANCEL matched an INVITE still awaiting its final response. The layer already answered the
  // CANCEL with 200; the TU now answers the INVITE with 487 (§9.2).
  std::function<void(ServerTransaction& invite, const Message& cancel, const Endpoint& from)> on_cancel{};
  // A response matching no client transaction, or a retransmitted 2xx to an INVITE already answered
  // (RFC 6026 §8.4): the dialog usage re-sends its ACK.
  std::function<void(const Message& response, const Endpoint& from)> on_stray_response{};
  // No ACK came for a 2xx within 64*T1 (§13.3.1.4): the TU should end the dialog with BYE.
  std::function<void(const Message& invite, const Message& response)> on_ack_timeout{};

  // Handlers that call `target`'s at the time of each event: for a layer built before the TU whose
  // handlers need the layer (fill `target` in afterwards; it must outlive the layer).
  static TransactionHandlers forwarding_to(const TransactionHandlers& target);
};

class TransactionLayer {
 public:
  using Handlers = TransactionHandlers;

  TransactionLayer(Transport& transport, TimerService& timers, Handlers handlers, TimerConfig config = {});
  ~TransactionLayer();
  TransactionLayer(const TransactionLayer&) = delete;
  TransactionLayer& operator=(const TransactionLayer&) = delete;

  // Fed by the transport with each parsed message and its source address.
  void receive(Message&& message, const Endpoint& from);

  // Starts a client transaction. Adds a top Via (this transport, a fresh branch, rport) when the
  // request has none, a branch when the top Via lacks one, and Max-Forwards: 70 when unset. An ACK is
  // sent statelessly (send_ack) and returns 0. A transport failure on the first send calls `handler`
  // with 503 before this returns.
  ClientTransactionId send_request(Message request, const Endpoint& to, ResponseHandler handler);
  // The transport could not open the connection to `to` (TCP/TLS: refused, unreachable, the TLS
  // handshake failed) at `when` (the timer service's clock, steady_clock in production): every client
  // transaction to `to` started by then that has heard nothing gets its 503 now, its reason phrase
  // `why` (§8.1.3.1), instead of a 408 at timer B/F. The number of transactions failed.
  size_t transport_failed(const Endpoint& to, std::string_view why, std::chrono::steady_clock::time_point when);
  // §9.1: CANCELs a pending INVITE (now if a provisional arrived, else on the first one). False when the
  // id is unknown, not an INVITE, or already final.
  bool cancel(ClientTransactionId id);
  // An ACK for a 2xx, or any request sent outside a transaction: adds Via/branch like send_request.
  std::error_code send_ack(Message ack, const Endpoint& to);
  // Adds what send_request/send_ack would (top Via with a fresh branch and rport, Max-Forwards, the
  // CSeq method) to a request the TU keeps: an ACK for a 2xx that it re-sends, identical, for every
  // retransmission of that 2xx (RFC 3261 §13.2.2.4, RFC 6026 §8.4). Sending it later adds nothing.
  // `to` is where it will go (its protocol picks the Via's transport and sent-by).
  void prepare(Message& request, const Endpoint& to) { prepare_outgoing(request, to); }

  // Sees each message the layer takes in (received retransmissions too) and each one it sends for the
  // TU: requests, ACKs, CANCELs, responses (not the transactions' own retransmissions, nor stateless
  // refusals). For a call's SIP ladder (server/sip_ladder.hpp). Empty: none.
  using MessageTap = std::function<void(const Message& message, bool outgoing)>;
  void set_tap(MessageTap tap) { tap_ = std::move(tap); }

  size_t client_transactions() const { return clients_.size(); }
  size_t server_transactions() const { return servers_.size(); }
  size_t pending_2xx() const { return pending_2xx_.size(); }
  RandomSource& random() { return random_; }
  const TimerConfig& config() const { return env_.config; }

 private:
  friend class ServerTransaction;
  struct Client {
    std::unique_ptr<transaction::ClientTx> tx;
    std::string key;
    bool cancel_pending = false;
    std::chrono::steady_clock::time_point started{};  // for transport_failed
  };
  struct Server {
    std::unique_ptr<transaction::ServerTx> tx;
    std::string key;
    bool is_invite = false;
  };
  struct Pending2xx;  // §13.3.1.4 retransmission state
  // Entry points hold a Guard; terminated transactions are destroyed only when the outermost one
  // returns, so a reference handed to a TU callback (the request, a handler) never dies under it.
  class Guard;

  void on_timer(transaction::TxId id, int slot);
  void receive_response(const Message& response, const Endpoint& from);
  void receive_ack(const Message& ack, const Endpoint& from);
  void receive_cancel(Message&& cancel, const Endpoint& from);
  Server* find_server(const std::string& key, transaction::TxId* id);
  transaction::TxId add_server(Message&& request, const Endpoint& from);
  void prepare_outgoing(Message& request, const Endpoint& to);
  void send_cancel(Client& invite);
  void reap_client(transaction::TxId id) { dead_clients_.push_back(id); }
  void reap_server(transaction::TxId id) { dead_servers_.push_back(id); }
  void collect_garbage();

  bool server_respond(uint64_t id, Message response);
  void start_2xx_retransmission(const Message& invite, const Message& response, const Endpoint& source);
  void retransmit_2xx(const std::string& key);
  void give_up_2xx(const std::string& key);

  transaction::Env env_;
  Handlers handlers_;
  MessageTap tap_;
  RandomSource random_;
  transaction::TxId next_id_ = 1;
  std::unordered_map<transaction::TxId, Client> clients_;
  std::unordered_map<std::string, transaction::TxId> client_index_;
  std::unordered_map<transaction::TxId, Server> servers_;
  std::unordered_map<std::string, transaction::TxId> server_index_;
  std::unordered_map<std::string, std::unique_ptr<Pending2xx>> pending_2xx_;
  int depth_ = 0;
  std::vector<transaction::TxId> dead_clients_;
  std::vector<transaction::TxId> dead_servers_;
};

}  // namespace warmline::sip
