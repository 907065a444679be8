// Shared fixture for the transaction tests: a TransactionLayer on a fake clock and a loopback
// transport, with every TU callback recorded.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "sip/builders.hpp"
#include "sip/testing/fake_timer.hpp"
#include "sip/testing/loopback_transport.hpp"
#include "sip/transaction_layer.hpp"

namespace warmline::sip {

using namespace std::chrono_literals;

class TransactionFixture : public ::testing::Test {
 protected:
  TransactionFixture() {
    transport.on_send = [this](const testing::LoopbackTransport::Sent& s) {
      send_times.push_back(elapsed());
      (void)s;
    };
  }

  TransactionLayer::Handlers handlers() {
    return {
        .on_request = [this](ServerTransaction& tx, const Message& r) {
          server_txs.push_back(tx);
          requests.push_back(r);
        },
        .on_ack = [this](const Message& ack, const Endpoint&) { acks.push_back(ack); return take_acks; },
        .on_cancel = [this](ServerTransaction& tx, const Message& c, const Endpoint&) {
          cancelled.push_back(tx);
          cancels.push_back(c);
        },
        .on_stray_response = [this](const Message& r, const Endpoint&) { strays.push_back(r); },
        .on_ack_timeout = [this](const Message& invite, const Message&) { ack_timeouts.push_back(invite); },
    };
  }

  // Milliseconds since the fixture was created, on the fake clock.
  long elapsed() const {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(timers.now() - start).count());
  }
  // Send times relative to `from_index` (the n-th recorded send).
  std::vector<long> send_times_from(size_t from_index) const {
    return {send_times.begin() + static_cast<long>(from_index), send_times.end()};
  }

  // A request as a peer at `peer` would send it (top Via = the peer, branch given).
  Message peer_request(std::string method, std::string branch, uint32_t cseq = 1) const {
    Message m;
    m.method = method;
    m.request_uri.scheme = "sip";
    m.request_uri.user = "agent";
    m.request_uri.host = "192.0.2.10";
    Via via;
    via.host = peer.host;
    via.port = peer.port;
    set_param(via.params, "branch", branch);
    m.vias.push_back(via);
    m.from.uri.scheme = "sip";
    m.from.uri.user = "caller";
    m.from.uri.host = "carrier.example";
    m.from.set_tag("from-tag-1");
    m.to.uri.scheme = "sip";
    m.to.uri.user = "agent";
    m.to.uri.host = "192.0.2.10";
    m.call_id = "call-1@carrier.example";
    m.cseq = CSeq{cseq, method};
    m.max_forwards = 70;
    NameAddr contact;
    contact.uri.scheme = "sip";
    contact.uri.host = peer.host;
    contact.uri.port = peer.port;
    m.contacts.push_back(contact);
    return m;
  }

  // A request the TU hands to send_request (no Via: the layer adds it).
  Message our_request(std::string method, uint32_t cseq = 1) const {
    Message m = peer_request(method, "unused", cseq);
    m.vias.clear();
    m.request_uri.host = peer.host;
    return m;
  }

  // A response the peer sends back to `request` as we sent it.
  static Message reply(const Message& request, int status, std::string_view to_tag = "peer-tag") {
    Message r = make_response(request, status, {});
    if (status > 100 && !to_tag.empty()) r.to.set_tag(to_tag);
    return r;
  }

  // The last request we sent with `method`.
  const Message* last_sent_request(std::string_view method) const {
    for (auto it = transport.sent().rbegin(); it != transport.sent().rend(); ++it)
      if (it->message.is_request && it->message.method == method) return &it->message;
    return nullptr;
  }

  testing::FakeTimerService timers;
  std::chrono::steady_clock::time_point start = timers.now();
  testing::LoopbackTransport transport{{"192.0.2.10", 5060}};
  Endpoint peer{"198.51.100.7", 5062};
  std::vector<long> send_times;

  std::vector<ServerTransaction> server_txs;
  std::vector<Message> requests;
  std::vector<Message> acks;
  bool take_acks = true;  // what the TU answers for an ACK (false: not from the dialog's peer)
  std::vector<ServerTransaction> cancelled;
  std::vector<Message> cancels;
  std::vector<Message> strays;
  std::vector<Message> ack_timeouts;

  TransactionLayer layer{transport, timers, handlers()};
};

}  // namespace warmline::sip
