// Dialogs (RFC 3261 §12): creation on both sides, matching, in-dialog requests, CSeq rules.
#include "sip/dialog.hpp"

#include <gtest/gtest.h>

#include <unordered_map>

namespace warmline::sip {
namespace {

Uri sip_uri(std::string user, std::string host, uint16_t port = 0) {
  Uri u;
  u.scheme = "sip";
  u.user = std::move(user);
  u.host = std::move(host);
  u.port = port;
  return u;
}

NameAddr addr(Uri uri, bool lr = false) {
  NameAddr a;
  a.uri = std::move(uri);
  if (lr) a.uri.params.push_back(Param{"lr", "", false});
  return a;
}

// An INVITE from a carrier through two record-routing proxies.
Message incoming_invite() {
  Message m;
  m.method = "INVITE";
  m.request_uri = sip_uri("agent", "192.0.2.10", 5060);
  m.from = addr(sip_uri("alice", "carrier.example"));
  m.from.set_tag("alice-tag");
  m.to = addr(sip_uri("agent", "gateway.example"));
  m.call_id = "c1@carrier.example";
  m.cseq = CSeq{42, "INVITE"};
  m.contacts.push_back(addr(sip_uri("alice", "198.51.100.7", 5062)));
  m.record_routes = {addr(sip_uri("", "p1.example", 5070), true), addr(sip_uri("", "p2.example"), true)};
  return m;
}

TEST(DialogTest, UasDialogFromInvite) {
  NameAddr contact = addr(sip_uri("agent", "192.0.2.10", 5060));
  Dialog d = Dialog::from_uas(incoming_invite(), "our-tag", contact);
  EXPECT_EQ(d.call_id, "c1@carrier.example");
  EXPECT_EQ(d.local_tag, "our-tag");
  EXPECT_EQ(d.remote_tag, "alice-tag");
  EXPECT_EQ(d.remote_target.host, "198.51.100.7");
  EXPECT_EQ(d.remote_uri.user, "alice");
  EXPECT_EQ(d.local_uri.user, "agent");
  ASSERT_EQ(d.route_set.size(), 2u);
  EXPECT_EQ(d.route_set[0].uri.host, "p1.example");  // §12.1.1: Record-Route in order
  EXPECT_EQ(d.remote_cseq, 42u);
  EXPECT_FALSE(d.local_cseq.has_value());
  EXPECT_FALSE(d.secure);
}

TEST(DialogTest, UacDialogReversesRecordRoute) {
  Message request = incoming_invite();  // as if we sent it
  request.record_routes.clear();
  Message ok;
  ok.is_request = false;
  ok.status_code = 200;
  ok.to = request.to;
  ok.to.set_tag("remote-tag");
  ok.contacts.push_back(addr(sip_uri("bob", "203.0.113.5", 5080)));
  ok.record_routes = {addr(sip_uri("", "p2.example"), true), addr(sip_uri("", "p1.example"), true)};
  Dialog d = Dialog::from_uac(request, ok);
  EXPECT_EQ(d.local_tag, "alice-tag");
  EXPECT_EQ(d.remote_tag, "remote-tag");
  EXPECT_EQ(d.remote_target.host, "203.0.113.5");
  ASSERT_EQ(d.route_set.size(), 2u);
  EXPECT_EQ(d.route_set[0].uri.host, "p1.example");  // §12.1.2: reverse order
  EXPECT_EQ(d.local_cseq, 42u);
  EXPECT_FALSE(d.remote_cseq.has_value());
  EXPECT_EQ(d.local_contact.uri.host, "198.51.100.7");
}

TEST(DialogTest, InDialogRequestWithLooseRouting) {
  Dialog d = Dialog::from_uas(incoming_invite(), "our-tag", addr(sip_uri("agent", "192.0.2.10", 5060)));
  Message bye = d.make_request("BYE");
  EXPECT_EQ(bye.method, "BYE");
  EXPECT_EQ(bye.request_uri.host, "198.51.100.7");  // remote target
  ASSERT_EQ(bye.routes.size(), 2u);
  EXPECT_EQ(bye.routes[0].uri.host, "p1.example");
  EXPECT_EQ(bye.from.tag(), "our-tag");
  EXPECT_EQ(bye.from.uri.user, "agent");
  EXPECT_EQ(bye.to.tag(), "alice-tag");
  EXPECT_EQ(bye.to.uri.user, "alice");
  EXPECT_EQ(bye.call_id, "c1@carrier.example");
  EXPECT_EQ(bye.cseq.number, 1u);  // empty local CSeq starts at 1
  EXPECT_EQ(bye.cseq.method, "BYE");
  EXPECT_EQ(bye.max_forwards, 70u);
  ASSERT_EQ(bye.contacts.size(), 1u);
  EXPECT_TRUE(bye.vias.empty());  // the transaction layer adds the Via
  EXPECT_EQ(d.make_request("INFO").cseq.number, 2u);
  EXPECT_EQ(d.next_hop(), (Endpoint{"p1.example", 5070}));
}

TEST(DialogTest, InDialogRequestWithStrictRouting) {
  Message invite = incoming_invite();
  invite.record_routes = {addr(sip_uri("", "strict.example", 5090)), addr(sip_uri("", "p2.example"), true)};
  invite.record_routes[0].uri.params.push_back(Param{"method", "INVITE", true});
  Dialog d = Dialog::from_uas(invite, "our-tag", {});
  Message bye = d.make_request("BYE");
  // §12.2.1.1: first route into the Request-URI (without the method parameter), remote target last.
  EXPECT_EQ(bye.request_uri.host, "strict.example");
  EXPECT_EQ(find_param(bye.request_uri.params, "method"), nullptr);
  ASSERT_EQ(bye.routes.size(), 2u);
  EXPECT_EQ(bye.routes[0].uri.host, "p2.example");
  EXPECT_EQ(bye.routes[1].uri.host, "198.51.100.7");
  EXPECT_TRUE(bye.contacts.empty());  // no local contact given
  EXPECT_EQ(d.next_hop(), (Endpoint{"strict.example", 5090}));
}

TEST(DialogTest, NextHopWithoutRoutesIsTheRemoteTarget) {
  Message invite = incoming_invite();
  invite.record_routes.clear();
  invite.contacts[0].uri.port = 0;
  Dialog d = Dialog::from_uas(invite, "t", {});
  EXPECT_EQ(d.next_hop(), (Endpoint{"198.51.100.7", 5060}));
  d.remote_target.scheme = "sips";
  d.remote_target.host = "[2001:db8::1]";
  EXPECT_EQ(d.next_hop(), (Endpoint{"2001:db8::1", 5061, Protocol::tls}));  // sips: is TLS (§26.2)
  d.remote_target.scheme = "sip";
  d.remote_target.params.push_back(Param{"transport", "TCP", true});
  EXPECT_EQ(d.next_hop(), (Endpoint{"2001:db8::1", 5060, Protocol::tcp}));
}

// Over a stream the dialog's requests go back over the peer's connection, whatever the Contact says.
TEST(DialogTest, NextHopIsTheFlowWhenThereIsOne) {
  Message invite = incoming_invite();
  Dialog d = Dialog::from_uas(invite, "t", {});
  d.flow = Endpoint{"203.0.113.9", 40123, Protocol::tcp};
  EXPECT_EQ(d.next_hop(), (Endpoint{"203.0.113.9", 40123, Protocol::tcp}));
}

TEST(DialogTest, AckReusesTheInviteCSeq) {
  Message request = incoming_invite();
  Message ok;
  ok.is_request = false;
  ok.to = request.to;
  ok.to.set_tag("remote-tag");
  ok.contacts.push_back(addr(sip_uri("bob", "203.0.113.5")));
  Dialog d = Dialog::from_uac(request, ok);
  Message ack = d.make_ack(42);
  EXPECT_EQ(ack.cseq.number, 42u);
  EXPECT_EQ(ack.cseq.method, "ACK");
  EXPECT_EQ(ack.to.tag(), "remote-tag");
  EXPECT_EQ(d.local_cseq, 42u);  // unchanged
  EXPECT_EQ(d.make_request("BYE").cseq.number, 43u);
}

TEST(DialogTest, MatchesRequestsAndResponsesOfThisDialogOnly) {
  Dialog d = Dialog::from_uas(incoming_invite(), "our-tag", {});
  Message bye;
  bye.method = "BYE";
  bye.call_id = "c1@carrier.example";
  bye.from.set_tag("alice-tag");
  bye.to.set_tag("our-tag");
  EXPECT_TRUE(d.matches(bye));
  Message other = bye;
  other.to.set_tag("someone-else");
  EXPECT_FALSE(d.matches(other));
  other = bye;
  other.call_id = "c2";
  EXPECT_FALSE(d.matches(other));
  // A response to our own BYE carries our tag in From.
  Message resp;
  resp.is_request = false;
  resp.call_id = "c1@carrier.example";
  resp.from.set_tag("our-tag");
  resp.to.set_tag("alice-tag");
  EXPECT_TRUE(d.matches(resp));
}

TEST(DialogTest, DialogIdIsAHashMapKey) {
  Dialog d = Dialog::from_uas(incoming_invite(), "our-tag", {});
  std::unordered_map<DialogId, int, DialogIdHash> dialogs;
  dialogs[d.id()] = 7;
  Message bye;
  bye.call_id = "c1@carrier.example";
  bye.from.set_tag("alice-tag");
  bye.to.set_tag("our-tag");
  auto it = dialogs.find(DialogId::of_incoming(bye));
  ASSERT_NE(it, dialogs.end());
  EXPECT_EQ(it->second, 7);
  Message our_bye = d.make_request("BYE");
  EXPECT_EQ(DialogId::of_outgoing(our_bye), d.id());
  EXPECT_EQ(dialogs.count(DialogId{"c1@carrier.example", "alice-tag", "our-tag"}), 0u);
}

TEST(DialogTest, LowerRemoteCSeqIsRejected) {
  Dialog d = Dialog::from_uas(incoming_invite(), "our-tag", {});
  EXPECT_TRUE(d.accept_remote_cseq(43));
  EXPECT_EQ(d.remote_cseq, 43u);
  EXPECT_TRUE(d.accept_remote_cseq(43));  // equal is not "lower" (§12.2.2)
  EXPECT_FALSE(d.accept_remote_cseq(41));
  EXPECT_EQ(d.remote_cseq, 43u);
  Dialog uac;
  EXPECT_TRUE(uac.accept_remote_cseq(1));  // empty remote CSeq takes the first one
}

TEST(DialogTest, TargetRefreshReplacesRemoteTarget) {
  Dialog d = Dialog::from_uas(incoming_invite(), "our-tag", {});
  Message reinvite;
  reinvite.contacts.push_back(addr(sip_uri("alice", "198.51.100.99", 6000)));
  d.refresh_target(reinvite);
  EXPECT_EQ(d.remote_target.host, "198.51.100.99");
  EXPECT_EQ(d.make_request("BYE").request_uri.port, 6000);
}

TEST(DialogTest, SipsRequestUriMarksTheDialogSecure) {
  Message invite = incoming_invite();
  invite.request_uri.scheme = "sips";
  EXPECT_TRUE(Dialog::from_uas(invite, "t", {}).secure);
}

}  // namespace
}  // namespace warmline::sip
