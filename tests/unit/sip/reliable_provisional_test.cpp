// RFC 3262 pieces: the 100rel option tag, RSeq/RAck parsing (hostile input included), and the UAS core's
// reliable provisional on a fake clock — its headers, the T1-doubling retransmissions, PRACK matching,
// one unacknowledged at a time, stop() on a final response, and the 64*T1 give-up.
#include "sip/usage/reliable_provisional.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "sip/builders.hpp"
#include "sip/parser.hpp"
#include "sip/testing/fake_timer.hpp"

namespace warmline::sip {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

Message parse_text(std::string text) {
  std::string wire;
  for (char ch : text) {
    if (ch == '\n') wire += '\r';
    wire += ch;
  }
  wire += "Content-Length: 0\r\n\r\n";
  ParseResult r = parse_message(wire);
  if (!r.ok()) throw std::runtime_error(r.reason);
  return std::move(*r.message);
}

Message request(std::string method, std::string extra = {}) {
  return parse_text(method + " sip:wl@192.0.2.10 SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-1\n" +
                    "From: <sip:a@x>;tag=a\nTo: <sip:b@y>\nCall-ID: c1\nCSeq: 7 " + method + "\nMax-Forwards: 70\n" + extra);
}

Message response(int status, std::string extra = {}) {
  return parse_text("SIP/2.0 " + std::to_string(status) +
                    " Progress\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\nFrom: <sip:a@x>;tag=a\n"
                    "To: <sip:b@y>;tag=b\nCall-ID: c1\nCSeq: 7 INVITE\n" + extra);
}

TEST(HundredRel, ModeFollowsRequireThenSupported) {
  EXPECT_EQ(reliable_mode(request("INVITE")), ReliableMode::kNever);
  EXPECT_EQ(reliable_mode(request("INVITE", "Supported: timer, 100REL\n")), ReliableMode::kSupported);
  EXPECT_EQ(reliable_mode(request("INVITE", "Supported: timer\nk: 100rel\n")), ReliableMode::kSupported);
  EXPECT_EQ(reliable_mode(request("INVITE", "Supported: 100rel\nRequire: 100rel\n")), ReliableMode::kRequired);
  EXPECT_EQ(reliable_mode(request("INVITE", "Supported: 100relx, x100rel\n")), ReliableMode::kNever);
}

TEST(HundredRel, RSeqIsOneToTwoToThe32MinusOne) {
  EXPECT_EQ(parse_rseq(response(183, "RSeq: 1\n")), 1u);
  EXPECT_EQ(parse_rseq(response(183, "RSeq: 4294967295\n")), 4294967295u);
  EXPECT_EQ(parse_rseq(response(183, "RSeq: 4294967296\n")), std::nullopt);
  EXPECT_EQ(parse_rseq(response(183, "RSeq: 0\n")), std::nullopt);
  EXPECT_EQ(parse_rseq(response(183, "RSeq: -1\n")), std::nullopt);
  EXPECT_EQ(parse_rseq(response(183, "RSeq: 12 13\n")), std::nullopt);
  EXPECT_EQ(parse_rseq(response(183, "RSeq: 5\nRSeq: 6\n")), std::nullopt) << "two values: malformed";
  EXPECT_EQ(parse_rseq(response(183)), std::nullopt);
}

TEST(HundredRel, RAckHasThreePartsAndNothingElse) {
  auto r = parse_rack(request("PRACK", "RAck: 776656  1 INVITE\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rseq, 776656u);
  EXPECT_EQ(r->cseq, 1u);
  EXPECT_EQ(r->method, "INVITE");
  EXPECT_EQ(to_string(*r), "776656 1 INVITE");
  for (std::string bad : {"", "1", "1 2", "1 2 INVITE x", "x 2 INVITE", "1 y INVITE", "0 1 INVITE",
                          "99999999999 1 INVITE", "1 2 INV\"ITE"})
    EXPECT_EQ(parse_rack(request("PRACK", "RAck: " + bad + "\n")), std::nullopt) << bad;
  EXPECT_EQ(parse_rack(request("PRACK")), std::nullopt);
}

TEST(HundredRel, OnlyANon100WithRequireAndRSeqIsReliable) {
  EXPECT_EQ(reliable_rseq(response(183, "Require: 100rel\nRSeq: 9\n")), 9u);
  EXPECT_EQ(reliable_rseq(response(100, "Require: 100rel\nRSeq: 9\n")), std::nullopt) << "§4: a 100 never is";
  EXPECT_EQ(reliable_rseq(response(183, "RSeq: 9\n")), std::nullopt);
  EXPECT_EQ(reliable_rseq(response(183, "Require: 100rel\n")), std::nullopt);
  EXPECT_EQ(reliable_rseq(response(200, "Require: 100rel\nRSeq: 9\n")), std::nullopt);
}

struct ReliableProvisionalsTest : ::testing::Test {
  ReliableProvisionalsTest() {
    rel = std::make_unique<ReliableProvisionals>(
        timers, TimerConfig{}, 41,
        [this](const Message& m) {
          sent.push_back(m);
          return transaction_open;
        },
        [this] { ++gave_up; });
  }
  Message provisional(int status = 183, std::string_view body = "v=0\r\n") {
    Message r = make_response(request("INVITE"), status, {});
    r.to.set_tag("wl");
    r.body = std::string(body);
    if (!body.empty()) r.content_type = "application/sdp";
    return r;
  }
  std::vector<std::string> rseqs() const {
    std::vector<std::string> out;
    for (const auto& m : sent) out.emplace_back(m.header("RSeq"));
    return out;
  }

  testing::FakeTimerService timers;
  std::vector<Message> sent;
  bool transaction_open = true;
  int gave_up = 0;
  std::unique_ptr<ReliableProvisionals> rel;
};

TEST_F(ReliableProvisionalsTest, SendAddsRequireAndRSeqAndRetransmitsWithDoublingIntervals) {
  ASSERT_TRUE(rel->send(provisional()));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].header("Require"), "100rel");
  EXPECT_EQ(sent[0].header("RSeq"), "41");
  EXPECT_TRUE(rel->unacknowledged_with_body());
  // T1 = 500 ms, then 1 s, 2 s, 4 s ...: past T2 (4 s) too, §3 does not cap it.
  const std::vector<std::pair<std::chrono::milliseconds, size_t>> schedule = {
      {499ms, 1}, {1ms, 2}, {999ms, 2}, {1ms, 3}, {2s, 4}, {4s, 5}, {8s, 6}, {16s, 7}};
  for (auto [step, expected] : schedule) {
    timers.advance(step);
    EXPECT_EQ(sent.size(), expected);
  }
  EXPECT_THAT(rseqs(), ElementsAre("41", "41", "41", "41", "41", "41", "41")) << "a retransmission is identical";
  EXPECT_EQ(gave_up, 0);
}

TEST_F(ReliableProvisionalsTest, OnlyAMatchingRAckAcknowledgesAndTheNextRSeqIsOneHigher) {
  ASSERT_TRUE(rel->send(provisional()));
  EXPECT_FALSE(rel->send(provisional(180, ""))) << "§3: one unacknowledged at a time";
  EXPECT_EQ(sent.size(), 1u);
  EXPECT_FALSE(rel->acknowledge(RAck{42, 7, "INVITE"}));
  EXPECT_FALSE(rel->acknowledge(RAck{41, 8, "INVITE"}));
  EXPECT_FALSE(rel->acknowledge(RAck{41, 7, "invite"})) << "methods are case-sensitive";
  EXPECT_TRUE(rel->acknowledge(RAck{41, 7, "INVITE"}));
  EXPECT_FALSE(rel->unacknowledged());
  EXPECT_FALSE(rel->acknowledge(RAck{41, 7, "INVITE"})) << "acknowledged already";
  timers.advance(10s);
  EXPECT_EQ(sent.size(), 1u) << "no retransmission after the PRACK";

  ASSERT_TRUE(rel->send(provisional(180, "")));
  EXPECT_EQ(sent.back().header("RSeq"), "42");
  EXPECT_FALSE(rel->unacknowledged_with_body());
  timers.advance(64 * 500ms);
  EXPECT_EQ(gave_up, 1);
}

TEST_F(ReliableProvisionalsTest, NoPrackFor64T1GivesUpOnce) {
  ASSERT_TRUE(rel->send(provisional()));
  timers.advance(64 * 500ms - 1ms);
  EXPECT_EQ(gave_up, 0);
  timers.advance(1ms);
  EXPECT_EQ(gave_up, 1);
  const size_t sends = sent.size();
  timers.advance(120s);
  EXPECT_EQ(gave_up, 1);
  EXPECT_EQ(sent.size(), sends);
}

TEST_F(ReliableProvisionalsTest, StopEndsRetransmissionsButThePrackStillMatches) {
  ASSERT_TRUE(rel->send(provisional()));
  rel->stop();
  timers.advance(60s);
  EXPECT_EQ(sent.size(), 1u);
  EXPECT_EQ(gave_up, 0);
  EXPECT_TRUE(rel->acknowledge(RAck{41, 7, "INVITE"})) << "§3: MUST be prepared to process PRACK requests";
}

TEST_F(ReliableProvisionalsTest, ATransactionThatCanSendNoMoreEndsTheRetransmissions) {
  transaction_open = false;
  EXPECT_FALSE(rel->send(provisional()));
  EXPECT_FALSE(rel->unacknowledged());
  transaction_open = true;
  ASSERT_TRUE(rel->send(provisional()));
  EXPECT_EQ(sent.back().header("RSeq"), "41") << "a refused send used no RSeq";
  transaction_open = false;  // the INVITE went final meanwhile
  timers.advance(500ms);
  timers.advance(60s);
  EXPECT_EQ(sent.size(), 3u);
  EXPECT_EQ(gave_up, 0);
}

TEST_F(ReliableProvisionalsTest, DestroyingItCancelsItsTimers) {
  ASSERT_TRUE(rel->send(provisional()));
  rel.reset();
  timers.advance(60s);
  EXPECT_EQ(sent.size(), 1u);
  EXPECT_EQ(gave_up, 0);
}

}  // namespace
}  // namespace warmline::sip
