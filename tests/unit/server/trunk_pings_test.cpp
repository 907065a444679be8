// TrunkPings on a shard's context (the call fixture's: loopback transport, fake clock): OPTIONS every
// ping_interval_s to each server of a trunk, a server up on any final answer and down on the
// transaction's timeout or a transport error, the trunk's state and gauge, and TrunkHealth's order of
// a trunk's servers for a dial.
#include "server/trunk_pings.hpp"

#include <gtest/gtest.h>

#include <set>

#include "call_fixture.hpp"
#include "server/shard.hpp"
#include "sip/builders.hpp"

namespace warmline::server {
namespace {

using namespace std::chrono_literals;

class TrunkPingsTest : public CallFixture {
 protected:
  TrunkPingsTest() {
    TrunkConfig t;
    t.name = "pinged";
    t.address = HostPort{"198.51.100.30", 5070};
    t.ping_interval_s = 5;
    config.trunks.push_back(t);  // after the fixture's own trunks (none of them pings)
    ctx.shard_count = 4;
  }

  // The OPTIONS sent to `to` so far, one per Call-ID (a retransmission is not a new ping).
  std::vector<sip::Message> pings_to(const sip::Endpoint& to) const {
    std::vector<sip::Message> out;
    std::set<std::string> seen;
    for (const auto& s : transport.sent())
      if (s.message.is_request && s.message.method == "OPTIONS" && s.to == to && seen.insert(s.message.call_id).second)
        out.push_back(s.message);
    return out;
  }
  void answer(const sip::Message& request, int status, const sip::Endpoint& from) {
    sip::Message r = sip::make_response(request, status, sip::reason_phrase(status));
    r.to.set_tag("srv");
    deliver(std::move(r), from);
  }
  static const TrunkPingView& view(const std::vector<TrunkPingView>& all) { return all.back(); }

  sip::Endpoint server{"198.51.100.30", 5070};
};

TEST_F(TrunkPingsTest, AnAnsweredPingMakesTheTrunkUpAndTimerFMakesItDown) {
  TrunkHealth health(config);
  ASSERT_EQ(health.gauges().size(), 1u);  // only the trunk with ping_interval_s
  EXPECT_EQ(health.gauges()[0]->trunk, "pinged");
  TrunkPings pings(config, health);
  pings.start(ctx);

  std::vector<TrunkPingView> all = pings.snapshot();
  ASSERT_EQ(all.size(), config.trunks.size());
  EXPECT_FALSE(all.front().pings);
  EXPECT_TRUE(view(all).pings);
  EXPECT_EQ(view(all).state, "unknown");
  EXPECT_EQ(view(all).changed_at, std::nullopt);

  ASSERT_EQ(pings_to(server).size(), 1u);
  const sip::Message first = pings_to(server)[0];
  EXPECT_EQ(first.request_uri.to_string(), "sip:198.51.100.30:5070");
  EXPECT_EQ(first.to.uri.to_string(), "sip:198.51.100.30:5070");
  EXPECT_TRUE(first.to.tag().empty());
  EXPECT_EQ(first.from.uri.host, "198.51.100.30");
  EXPECT_FALSE(first.from.tag().empty());
  EXPECT_EQ(first.max_forwards, 70u);
  EXPECT_EQ(first.cseq.method, "OPTIONS");
  EXPECT_EQ(shard_for_call_id(first.call_id, 4), 0u);

  answer(first, 404, server);  // it answered: up, whatever it thinks of OPTIONS
  all = pings.snapshot();
  EXPECT_EQ(view(all).state, "up");
  EXPECT_EQ(view(all).status, 404);
  EXPECT_NE(view(all).changed_at, std::nullopt);
  ASSERT_EQ(view(all).servers.size(), 1u);
  EXPECT_EQ(view(all).servers[0].address, "198.51.100.30:5070");
  EXPECT_EQ(view(all).servers[0].state, "up");
  EXPECT_EQ(health.gauges()[0]->up.load(), 1);

  advance(5s);  // the next round: a fresh Call-ID
  ASSERT_EQ(pings_to(server).size(), 2u);
  EXPECT_NE(pings_to(server)[1].call_id, first.call_id);
  advance(30s);  // no answer: still in flight, so no further ping to it yet; not down before Timer F
  EXPECT_EQ(pings_to(server).size(), 2u);
  EXPECT_EQ(view(pings.snapshot()).state, "up");
  advance(3s);  // 32 s after it went out: Timer F
  all = pings.snapshot();
  EXPECT_EQ(view(all).state, "down");
  EXPECT_EQ(view(all).status, 408);
  EXPECT_EQ(view(all).reason, "no answer");
  EXPECT_EQ(view(all).servers[0].state, "down");
  EXPECT_EQ(health.gauges()[0]->up.load(), 0);
  EXPECT_TRUE(health.is_down("pinged", server));

  advance(5s);  // pinged again; an answer brings it back
  ASSERT_EQ(pings_to(server).size(), 3u);
  answer(pings_to(server)[2], 200, server);
  EXPECT_EQ(view(pings.snapshot()).state, "up");
  EXPECT_FALSE(health.is_down("pinged", server));
  EXPECT_EQ(health.gauges()[0]->up.load(), 1);
  pings.stop();
}

TEST_F(TrunkPingsTest, ATransportErrorIsDownAtOnceButTheServersOwn503IsAnAnswer) {
  TrunkHealth health(config);
  TrunkPings pings(config, health);
  transport.fail_next(1);
  pings.start(ctx);
  EXPECT_EQ(view(pings.snapshot()).state, "down");
  EXPECT_EQ(view(pings.snapshot()).status, 503);
  EXPECT_EQ(view(pings.snapshot()).reason, "cannot send");

  advance(5s);
  ASSERT_EQ(pings_to(server).size(), 1u);  // the failed send was not recorded
  answer(pings_to(server)[0], 503, server);  // the server's own 503 (with its tag): it is there
  EXPECT_EQ(view(pings.snapshot()).state, "up");
  EXPECT_EQ(view(pings.snapshot()).status, 503);
  pings.stop();
}

TEST_F(TrunkPingsTest, EachResolvedServerIsPingedAndTheTrunkIsDownOnlyWhenAllAre) {
  const sip::Endpoint a{"198.51.100.31", 5060}, b{"198.51.100.32", 5060};
  TrunkHealth health(config);
  TrunkPings pings(config, health);
  int lookups = 0;
  pings.start(ctx, [&](const TrunkConfig& t, PingLocateDone done) {
    EXPECT_EQ(t.name, "pinged");
    ++lookups;
    done({a, b}, "");
  });
  EXPECT_EQ(lookups, 1);
  ASSERT_EQ(pings_to(a).size(), 1u);
  ASSERT_EQ(pings_to(b).size(), 1u);
  answer(pings_to(b)[0], 200, b);
  advance(32s);  // a never answers: Timer F
  std::vector<TrunkPingView> all = pings.snapshot();
  EXPECT_EQ(view(all).state, "up");  // b answers
  ASSERT_EQ(view(all).servers.size(), 2u);
  EXPECT_EQ(view(all).servers[0].state, "down");
  EXPECT_EQ(view(all).servers[0].status, 408);
  EXPECT_EQ(view(all).servers[1].state, "up");
  EXPECT_TRUE(health.is_down("pinged", a));
  EXPECT_FALSE(health.is_down("pinged", b));
  EXPECT_FALSE(health.is_down("other", a));  // per trunk

  // A dial through the trunk tries b first now, a after it; another trunk's order is its own.
  std::vector<sip::Target> targets{{a.host, a.port}, {b.host, b.port}};
  health.order("pinged", targets);
  EXPECT_EQ(targets[0].endpoint(), b);
  EXPECT_EQ(targets[1].endpoint(), a);
  std::vector<sip::Target> elsewhere{{a.host, a.port}, {b.host, b.port}};
  health.order("carrier", elsewhere);
  EXPECT_EQ(elsewhere[0].endpoint(), a);

  // Rounds every 5 s: a timed-out ping is sent again, b's answered one too; b then stops answering.
  const size_t b_pings = pings_to(b).size();
  EXPECT_GE(b_pings, 2u);
  advance(32s);  // neither answers within Timer F of its ping
  EXPECT_EQ(view(pings.snapshot()).state, "down");
  EXPECT_EQ(health.gauges()[0]->up.load(), 0);
  EXPECT_GT(lookups, 2);  // each round asks again (the resolver caches)

  // All down: both still tried, in the resolved order.
  std::vector<sip::Target> all_down{{a.host, a.port}, {b.host, b.port}};
  health.order("pinged", all_down);
  EXPECT_EQ(all_down[0].endpoint(), a);
  EXPECT_EQ(all_down[1].endpoint(), b);
  pings.stop();
}

TEST_F(TrunkPingsTest, AnAddressThatDoesNotResolveIsDownAndAServerDroppedFromTheListIsForgotten) {
  const sip::Endpoint a{"198.51.100.31", 5060}, b{"198.51.100.32", 5060};
  TrunkHealth health(config);
  TrunkPings pings(config, health);
  std::vector<sip::Endpoint> servers;  // what the next lookup finds
  pings.start(ctx, [&](const TrunkConfig&, PingLocateDone done) { done(servers, servers.empty() ? "NXDOMAIN" : ""); });
  EXPECT_EQ(view(pings.snapshot()).state, "down");
  EXPECT_EQ(view(pings.snapshot()).reason, "no servers: NXDOMAIN");
  EXPECT_TRUE(transport.sent().empty());

  servers = {a, b};
  advance(5s);
  advance(32s);  // neither answers
  EXPECT_TRUE(health.is_down("pinged", a));
  EXPECT_TRUE(health.is_down("pinged", b));
  servers = {b};  // a leaves the list: its down mark goes with it
  advance(5s);
  EXPECT_FALSE(health.is_down("pinged", a));
  ASSERT_EQ(view(pings.snapshot()).servers.size(), 1u);
  EXPECT_EQ(view(pings.snapshot()).servers[0].address, "198.51.100.32:5060");
  pings.stop();
}

TEST_F(TrunkPingsTest, StopSendsNothingMoreAndClearsTheGauge) {
  TrunkHealth health(config);
  TrunkPings pings(config, health);
  pings.start(ctx);
  answer(pings_to(server)[0], 200, server);
  EXPECT_EQ(health.gauges()[0]->up.load(), 1);
  pings.stop();
  EXPECT_EQ(health.gauges()[0]->up.load(), 0);
  const size_t sent = transport.sent().size();
  advance(1h);
  EXPECT_EQ(transport.sent().size(), sent);
}

TEST_F(TrunkPingsTest, TrunksWithoutPingsHaveNoGaugeAndSendNothing) {
  config.trunks.back().ping_interval_s = 0;
  TrunkHealth health(config);
  EXPECT_TRUE(health.gauges().empty());
  TrunkPings pings(config, health);
  pings.start(ctx);
  advance(1min);
  EXPECT_EQ(transport.count_requests("OPTIONS"), 0);
  for (const TrunkPingView& v : pings.snapshot()) EXPECT_FALSE(v.pings);
  pings.stop();
}

}  // namespace
}  // namespace warmline::server
