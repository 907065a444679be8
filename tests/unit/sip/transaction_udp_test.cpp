// Two transaction layers talking over real UDP sockets on 127.0.0.1 with real timers: an INVITE that is
// answered 180/200 and ACKed, and an OPTIONS round trip. Waits end on events and are bounded.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "sip/builders.hpp"
#include "sip/dialog.hpp"
#include "sip/timer.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/udp_transport.hpp"
#include "io_wait.hpp"

namespace warmline::sip {
namespace {

using namespace std::chrono_literals;

// One UA: a UDP transport feeding a transaction layer, on a shared io_context.
struct Ua {
  Ua(boost::asio::io_context& io, TransactionLayer::Handlers handlers)
      : timers(io),
        transport(io, {.address = "127.0.0.1", .port = 0},
                  [this](Message&& m, const Endpoint& from) { layer->receive(std::move(m), from); }) {
    layer.emplace(transport, timers, std::move(handlers));
  }
  AsioTimerService timers;
  UdpTransport transport;
  std::optional<TransactionLayer> layer;
};

class TransactionUdpTest : public ::testing::Test {
 protected:
  template <class Pred>
  bool run_until(Pred done) {
    return test::run_until(io, done);
  }

  Message request_to(const Ua& to, std::string method) {
    Endpoint dst = to.transport.local();
    Message m;
    m.method = method;
    m.request_uri.scheme = "sip";
    m.request_uri.user = "agent";
    m.request_uri.host = dst.host;
    m.request_uri.port = dst.port;
    m.from.uri.scheme = "sip";
    m.from.uri.user = "caller";
    m.from.uri.host = "127.0.0.1";
    m.from.set_tag(new_tag(random));
    m.to.uri = m.request_uri;
    m.call_id = new_call_id(random, "127.0.0.1");
    m.cseq = CSeq{1, method};
    NameAddr contact;
    contact.uri = m.from.uri;
    contact.uri.port = uac->transport.local().port;
    m.contacts.push_back(contact);
    return m;
  }

  boost::asio::io_context io;
  RandomSource random{7};
  std::vector<Message> uas_acks;
  std::optional<Ua> uas;
  std::optional<Ua> uac;
};

TEST_F(TransactionUdpTest, InviteRingingOkAckOverLoopback) {
  uas.emplace(io, TransactionLayer::Handlers{
                      .on_request =
                          [&](ServerTransaction& tx, const Message& req) {
                            NameAddr contact;
                            contact.uri = req.request_uri;
                            tx.respond(180, {}, "uas-tag");
                            Message ok = make_response(req, 200, {});
                            ok.to.set_tag("uas-tag");
                            ok.contacts.push_back(contact);
                            tx.respond(std::move(ok));
                          },
                      .on_ack = [&](const Message& ack, const Endpoint&) { uas_acks.push_back(ack); return true; },
                  });
  uac.emplace(io, TransactionLayer::Handlers{});
  ASSERT_FALSE(uas->transport.start());
  ASSERT_FALSE(uac->transport.start());

  Message invite = request_to(*uas, "INVITE");
  std::vector<int> statuses;
  std::optional<Dialog> dialog;
  uac->layer->send_request(invite, uas->transport.local(), [&](const Message& r) {
    statuses.push_back(r.status_code);
    if (r.status_code == 200) {
      dialog = Dialog::from_uac(invite, r);
      (void)uac->layer->send_ack(dialog->make_ack(invite.cseq.number), dialog->next_hop());
    }
  });
  ASSERT_TRUE(run_until([&] { return !uas_acks.empty(); }));
  EXPECT_EQ(statuses, (std::vector<int>{180, 200}));
  ASSERT_TRUE(dialog.has_value());
  EXPECT_EQ(dialog->remote_tag, "uas-tag");
  EXPECT_EQ(uas_acks[0].cseq.method, "ACK");
  EXPECT_EQ(uas->layer->pending_2xx(), 0u);  // the ACK stopped the 2xx retransmission
}

TEST_F(TransactionUdpTest, OptionsRoundTrip) {
  uas.emplace(io, TransactionLayer::Handlers{
                      .on_request = [&](ServerTransaction& tx, const Message&) { tx.respond(200, {}, "t"); },
                  });
  uac.emplace(io, TransactionLayer::Handlers{});
  ASSERT_FALSE(uas->transport.start());
  ASSERT_FALSE(uac->transport.start());
  std::optional<int> status;
  uac->layer->send_request(request_to(*uas, "OPTIONS"), uas->transport.local(),
                           [&](const Message& r) { status = r.status_code; });
  ASSERT_TRUE(run_until([&] { return status.has_value(); }));
  EXPECT_EQ(*status, 200);
}

}  // namespace
}  // namespace warmline::sip
