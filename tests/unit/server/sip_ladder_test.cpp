// The call's SIP ladder (server/sip_ladder.hpp, GET /v1/calls/{id}/ladder): what one row shows of a
// message, the cap, the index by Call-ID, and a whole call (REFER refused, then a bridged dial) as the
// transaction layer's tap feeds it: both legs, in order, with directions; and the transfer's phases.
#include "bridged_dial_fixture.hpp"
#include "server/sip_ladder.hpp"
#include "server/ui_routes.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// CallFixture::parse, reachable outside a fixture.
struct Parse : CallFixture {
  using CallFixture::parse;
};
sip::Message parsed(std::string head, std::string_view content_type = {}, std::string_view body = {}) {
  return Parse::parse(std::move(head), content_type, body);
}

constexpr std::string_view kVia = "Via: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-1\n";

TEST(SipLadderRow, ShowsTheFirstLineCSeqAndTheKeyHeaderOfReferNotifyAndInvite) {
  SipLadder ladder;
  ladder.add(parsed(std::string("REFER sip:caller@203.0.113.5 SIP/2.0\n") + std::string(kVia) +
                    "From: <sip:a@x>;tag=1\nTo: <sip:b@y>;tag=2\nCall-ID: L1\nCSeq: 7 REFER\n"
                    "Refer-To: <sip:support@pbx.example.com>\n"),
             "a", true);
  ladder.add(parsed(std::string("NOTIFY sip:w@x SIP/2.0\n") + std::string(kVia) +
                        "From: <sip:a@x>;tag=1\nTo: <sip:b@y>;tag=2\nCall-ID: L1\nCSeq: 8 NOTIFY\n"
                        "Event: refer;id=7\nSubscription-State: active\n",
                    "message/sipfrag;version=2.0", "SIP/2.0 180 Ringing\r\n"),
             "a", false);
  ladder.add(parsed("SIP/2.0 202 Accepted\n" + std::string(kVia) +
                    "From: <sip:a@x>;tag=1\nTo: <sip:b@y>;tag=2\nCall-ID: L1\nCSeq: 7 REFER\n"),
             "a", false);
  ASSERT_EQ(ladder.entries().size(), 3u);
  const LadderEntry& refer = ladder.entries()[0];
  EXPECT_EQ(refer.leg, "a");
  EXPECT_TRUE(refer.outgoing);
  EXPECT_EQ(refer.first_line, "REFER sip:caller@203.0.113.5");
  EXPECT_EQ(refer.cseq, 7u);
  EXPECT_EQ(refer.cseq_method, "REFER");
  EXPECT_EQ(refer.detail, "Refer-To: <sip:support@pbx.example.com>");
  EXPECT_FALSE(ladder.entries()[1].outgoing);
  EXPECT_EQ(ladder.entries()[1].detail, "Event: refer;id=7 | SIP/2.0 180 Ringing");
  EXPECT_EQ(ladder.entries()[2].first_line, "202 Accepted");
  EXPECT_EQ(ladder.entries()[2].detail, "");
}

TEST(SipLadderRow, LongHostileTextIsCutAndKeptOnOneLine) {
  SipLadder ladder;
  const std::string long_target(5000, 'x');
  ladder.add(parsed(std::string("REFER sip:caller@203.0.113.5 SIP/2.0\n") + std::string(kVia) +
                    "From: <sip:a@x>;tag=1\nTo: <sip:b@y>;tag=2\nCall-ID: L1\nCSeq: 7 REFER\n"
                    "Refer-To: <sip:" + long_target + "@evil>\n"),
             "a", false);
  const LadderEntry& e = ladder.entries().front();
  EXPECT_EQ(e.detail.size(), kLadderTextCap + 3) << "cut, with ...";
  // The JSON escapes what the peer sent (quotes, angle brackets stay text for the page).
  const std::string json = ladder_json("c0-x", ladder);
  EXPECT_THAT(json, HasSubstr(R"("direction":"in")"));
  EXPECT_THAT(json, HasSubstr(R"("first_line":"REFER sip:caller@203.0.113.5")"));
}

TEST(SipLadderCap, KeepsTheLatestEntriesAndCountsTheDropped) {
  SipLadder ladder(3);
  for (int i = 1; i <= 5; ++i)
    ladder.add(parsed("OPTIONS sip:x SIP/2.0\n" + std::string(kVia) + "From: <sip:a@x>;tag=1\nTo: <sip:b@y>\n"
                      "Call-ID: L1\nCSeq: " + std::to_string(i) + " OPTIONS\n"),
               "a", true);
  ASSERT_EQ(ladder.entries().size(), 3u);
  EXPECT_EQ(ladder.entries().front().cseq, 3u);
  EXPECT_EQ(ladder.entries().back().cseq, 5u);
  EXPECT_EQ(ladder.dropped(), 2u);
}

TEST(LadderIndexTest, RoutesByCallIdAndForgetsAnEndedCall) {
  LadderIndex index;
  auto ladder = std::make_shared<SipLadder>();
  index.watch("call-a", ladder, "a");
  index.watch("call-b", ladder, ladder->next_dialled_leg());
  EXPECT_EQ(ladder->next_dialled_leg(), "b2");
  auto msg = [](std::string call_id) {
    return parsed("BYE sip:x SIP/2.0\n" + std::string(kVia) + "From: <sip:a@x>;tag=1\nTo: <sip:b@y>;tag=2\n"
                  "Call-ID: " + call_id + "\nCSeq: 2 BYE\n");
  };
  index.on_message(msg("call-b"), true);
  index.on_message(msg("someone-else"), false);
  index.on_message(msg("call-a"), false);
  ASSERT_EQ(ladder->entries().size(), 2u);
  EXPECT_EQ(ladder->entries()[0].leg, "b1");
  EXPECT_EQ(ladder->entries()[1].leg, "a");
  index.forget(*ladder);
  EXPECT_EQ(index.size(), 0u);
  index.on_message(msg("call-a"), false);
  EXPECT_EQ(ladder->entries().size(), 2u);
}

// A whole call through the real transaction layer's tap.
struct SipLadderCallTest : BridgedDialTest {
  SipLadderCallTest() {
    layer.set_tap([this](const sip::Message& m, bool outgoing) { ladders.on_message(m, outgoing); });
    ctx.ladders = &ladders;
  }
  ~SipLadderCallTest() override {
    // The calls go with the fixture's router, after this class's members.
    layer.set_tap({});
    ctx.ladders = nullptr;
  }
  // "a in INVITE", "b1 out ACK", ... (first word of the first line: a method or a status code).
  static std::vector<std::string> rows(const SipLadder& ladder) {
    std::vector<std::string> out;
    for (const LadderEntry& e : ladder.entries())
      out.push_back(e.leg + (e.outgoing ? " out " : " in ") + e.first_line.substr(0, e.first_line.find(' ')));
    return out;
  }
  LadderIndex ladders;
};

TEST_F(SipLadderCallTest, BothLegsInOrderWithDirectionsAndTheTransferPhases) {
  Caller c = dialer_call(kTrunkPeer);
  agent_transfers(c, {"Craig"});
  auto refers = requests(c, "REFER");
  ASSERT_EQ(refers.size(), 1u);
  reply(c, *refers[0], 603);
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  ring(*t);
  pick_up(*t);
  ASSERT_EQ(call(c)->state(), CallState::kBridged);

  const SipLadder& ladder = call(c)->ladder();
  std::vector<std::string> r = rows(ladder);
  // Responses the transactions send by themselves (100 Trying) may come in between: the rows that
  // matter, in this order.
  const std::vector<std::string> expected = {"a in INVITE", "a out 200",  "a in ACK",   "a out REFER", "a in 603",
                                             "b1 out INVITE", "b1 in 180", "b1 in 200", "b1 out ACK"};
  size_t next = 0;
  for (const std::string& row : r)
    if (next < expected.size() && row == expected[next]) ++next;
  EXPECT_EQ(next, expected.size()) << ::testing::PrintToString(r);
  for (const LadderEntry& e : ladder.entries()) {
    if (e.first_line.starts_with("REFER ")) EXPECT_EQ(e.detail, "Refer-To: <tel:+27115550142>");
    if (e.leg == "b1" && e.first_line.starts_with("INVITE ")) EXPECT_THAT(e.detail, HasSubstr("To: "));
  }
  ASSERT_EQ(ladder.legs().size(), 2u);
  EXPECT_EQ(ladder.legs()[0].first, c.call_id);
  EXPECT_EQ(ladder.legs()[1].second, "b1");

  auto snap = call(c)->snapshot();
  ASSERT_TRUE(snap.transfer);
  std::vector<std::string> phases;
  for (const TransferPhase& p : snap.transfer->phases)
    phases.push_back(p.phase + (p.result.empty() ? "" : ":" + p.result));
  EXPECT_EQ(phases.front(), "requested");
  EXPECT_EQ(phases.back(), "ended:completed");
  const std::vector<std::string> steps = {"requested", "dialing", "ended:rejected", "ringing", "bridged",
                                          "ended:completed"};
  next = 0;
  for (const std::string& p : phases)
    if (next < steps.size() && p == steps[next]) ++next;
  EXPECT_EQ(next, steps.size()) << ::testing::PrintToString(phases);

  target_bye(*t);
  caller_answers_bye(c);
  expect_nothing_left();
  EXPECT_EQ(ladders.size(), 0u) << "the ended call's Call-IDs are no longer followed";
}

}  // namespace
}  // namespace warmline::server
