// TrunkRegistrations on a shard's context (the call fixture's: loopback transport, fake clock): one
// REGISTER client per trunk with register = true, built from the trunk's configuration, a Call-ID that
// shard 0 owns, the gauge /metrics reads and the view GET /v1/trunks shows.
#include "server/trunk_registrations.hpp"

#include <gtest/gtest.h>

#include "call_fixture.hpp"
#include "server/shard.hpp"
#include "sip/builders.hpp"

namespace warmline::server {
namespace {

using namespace std::chrono_literals;

class TrunkRegistrationsTest : public CallFixture {
 protected:
  TrunkRegistrationsTest() {
    TrunkConfig t;
    t.name = "registrar";
    t.address = HostPort{"198.51.100.20", 5070};
    t.username = "acct-9";
    t.password = "pw";
    t.register_ = true;
    t.register_expires_s = 600;
    config.trunks.push_back(t);  // after the fixture's own trunks; no call holds a pointer into them yet
    ctx.shard_count = 4;
  }

  const sip::Message* last_register() const {
    for (auto it = transport.sent().rbegin(); it != transport.sent().rend(); ++it)
      if (it->message.is_request && it->message.method == "REGISTER") return &it->message;
    return nullptr;
  }
  void answer(const sip::Message& request, int status, std::optional<uint32_t> expires = std::nullopt) {
    sip::Message r = sip::make_response(request, status, sip::reason_phrase(status));
    r.to.set_tag("reg");
    if (expires) r.add_header("Expires", std::to_string(*expires));
    deliver(std::move(r), registrar);
  }
  const TrunkView& view(const std::vector<TrunkView>& all) const { return all.back(); }

  sip::Endpoint registrar{"198.51.100.20", 5070};
};

TEST_F(TrunkRegistrationsTest, RegistersEachTrunkThatAsksWithACallIdShardZeroOwns) {
  TrunkRegistrations regs(config);
  ASSERT_EQ(regs.gauges().size(), 1u);  // only the trunk with register = true
  EXPECT_EQ(regs.gauges()[0]->trunk, "registrar");
  regs.start(ctx);
  ASSERT_NE(last_register(), nullptr);
  const sip::Message first = *last_register();  // a copy: the transport's log grows
  const sip::Message* reg = &first;
  EXPECT_EQ(transport.last().to, registrar);
  EXPECT_EQ(reg->request_uri.to_string(), "sip:198.51.100.20:5070");
  EXPECT_EQ(reg->to.uri.to_string(), "sip:acct-9@198.51.100.20");
  EXPECT_EQ(reg->contacts.at(0).uri.to_string(), "sip:acct-9@192.0.2.10:5060");
  EXPECT_EQ(reg->header("Expires"), "600");
  EXPECT_EQ(shard_for_call_id(reg->call_id, 4), 0u);

  std::vector<TrunkView> all = regs.snapshot();
  ASSERT_EQ(all.size(), config.trunks.size());
  EXPECT_FALSE(all.front().registers);
  EXPECT_EQ(view(all).state, "registering");
  EXPECT_EQ(regs.gauges()[0]->registered.load(), 0);

  answer(*reg, 200, 300);
  all = regs.snapshot();
  EXPECT_EQ(view(all).name, "registrar");
  EXPECT_EQ(view(all).address, "198.51.100.20:5070");
  EXPECT_EQ(view(all).state, "registered");
  EXPECT_EQ(view(all).status, 200);
  EXPECT_EQ(view(all).expires_in_s, 300);
  EXPECT_EQ(view(all).next_attempt_in_s, 150);
  EXPECT_EQ(regs.gauges()[0]->registered.load(), 1);

  advance(150s);  // the refresh, on the same Call-ID
  const sip::Message refreshed = *last_register();
  const sip::Message* refresh = &refreshed;
  EXPECT_EQ(refresh->cseq.number, reg->cseq.number + 1);
  EXPECT_EQ(refresh->call_id, reg->call_id);
  answer(*refresh, 503);
  all = regs.snapshot();
  EXPECT_EQ(view(all).state, "failed");
  EXPECT_EQ(view(all).status, 503);
  EXPECT_EQ(view(all).failures, 1u);
  EXPECT_EQ(view(all).expires_in_s, std::nullopt);
  EXPECT_EQ(view(all).next_attempt_in_s, 30);
  EXPECT_EQ(regs.gauges()[0]->registered.load(), 0);
  regs.stop();
}

TEST_F(TrunkRegistrationsTest, ShutdownRemovesTheBindingAndStopClearsTheGauge) {
  TrunkRegistrations regs(config);
  regs.start(ctx);
  answer(*last_register(), 200, 300);
  regs.unregister_all();
  EXPECT_EQ(last_register()->header("Expires"), "0");
  answer(*last_register(), 200);
  EXPECT_EQ(view(regs.snapshot()).state, "unregistered");
  EXPECT_EQ(regs.gauges()[0]->registered.load(), 0);
  regs.stop();
  const size_t sent = transport.sent().size();
  advance(1h);  // nothing more goes out
  EXPECT_EQ(transport.sent().size(), sent);
}

}  // namespace
}  // namespace warmline::server
