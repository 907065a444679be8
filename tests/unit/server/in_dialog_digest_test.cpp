// Digest challenges (RFC 3261 §22.2) to the requests warmline sends inside a dialog, through the call:
// the REFER of a cold transfer and the BYE on the caller's leg are answered with the credentials of the
// trunk the call came in through, the BYE on a dialled leg with those it was dialled with. One answer
// per challenge (a stale=true nonce gets one more); a refusal of our credentials, or no credentials at
// all, leaves the challenge as the request's final response, as before.
#include <stdexcept>

#include "bridged_dial_fixture.hpp"
#include "digest_check.hpp"

namespace warmline::server {
namespace {

using ::testing::ElementsAre;

constexpr ExpectedDigest kCarrierDigest{
    .username = "wl-carrier", .password = "carrier-pass", .realm = "carrier.example", .nonce = "nonce-1"};
constexpr ExpectedDigest kProviderDigest{
    .username = "acct-7", .password = "s3cret", .realm = "provider.example", .nonce = "nonce-1"};

struct InDialogDigestTest : BridgedDialTest {
  TrunkConfig& trunk(std::string_view name) {
    for (auto& t : config.trunks)
      if (t.name == name) return t;
    throw std::runtime_error("no trunk " + std::string(name) + " in the test config");
  }
  // The trunk the calls come from (kTrunkPeer) gets credentials.
  void carrier_has_credentials() {
    trunk("carrier").username = std::string(kCarrierDigest.username);
    trunk("carrier").password = std::string(kCarrierDigest.password);
  }
  std::optional<sip::Message> refer_after_transfer(Caller& c, std::vector<std::string> targets) {
    agent_transfers(c, std::move(targets));
    return nth(requests(c, "REFER"), 0);
  }
  // A copy of the i-th message (the transport's log grows under pointers), nullopt when there is none.
  static std::optional<sip::Message> nth(const std::vector<const sip::Message*>& all, size_t i) {
    return i < all.size() ? std::optional<sip::Message>(*all[i]) : std::nullopt;
  }
  // `retry` is `first` sent again as a new transaction in the same dialog with the next CSeq.
  static void expect_retry_of(const sip::Message& retry, const sip::Message& first, uint32_t cseq) {
    EXPECT_EQ(retry.method, first.method);
    EXPECT_EQ(retry.call_id, first.call_id);
    EXPECT_EQ(retry.from.tag(), first.from.tag());
    EXPECT_EQ(retry.to.tag(), first.to.tag());
    EXPECT_EQ(retry.request_uri.to_string(), first.request_uri.to_string());
    EXPECT_EQ(retry.cseq.number, cseq);
    EXPECT_EQ(retry.cseq.method, first.cseq.method);
    ASSERT_FALSE(retry.vias.empty());
    EXPECT_NE(retry.vias.front().branch(), first.vias.front().branch()) << "a new transaction";
  }
};

// ---------------------------------------------------------------------------------------------------
// REFER on the caller's leg

TEST_F(InDialogDigestTest, AReferChallengedWith407IsSentAgainWithCredentialsAndItsNotifiesComplete) {
  carrier_has_credentials();
  Caller c = active_call();
  auto first = refer_after_transfer(c, {"Support"});
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->header("Proxy-Authorization").empty()) << "no credentials before a challenge";
  challenge(c, *first, 407);

  auto retry = nth(requests(c, "REFER"), 1);
  ASSERT_TRUE(retry) << "the challenged REFER was not sent again";
  expect_retry_of(*retry, *first, first->cseq.number + 1);
  EXPECT_EQ(retry->header("Refer-To"), first->header("Refer-To"));
  EXPECT_EQ(retry->header("Referred-By"), first->header("Referred-By"));
  expect_valid_digest(retry->header("Proxy-Authorization"), *retry, kCarrierDigest);
  EXPECT_TRUE(retry->header("Authorization").empty());
  EXPECT_THAT(transfer_frames(c), ElementsAre("transfer t1 dialing")) << "a challenge is not an outcome";
  EXPECT_TRUE(c.media->ringback);

  // RFC 3515 §2.4.6: the NOTIFYs name the REFER that was accepted; the challenged one has none.
  notify(c, first->cseq.number, 200, "OK", true);
  EXPECT_EQ(statuses(c, "NOTIFY").back(), 481);
  EXPECT_TRUE(c.agent->ended_transfers().empty());

  reply(c, *retry, 202, "Accepted");
  notify(c, retry->cseq.number, 180, "Ringing", false);
  notify(c, retry->cseq.number, 200, "OK", true);
  EXPECT_THAT(statuses(c, "NOTIFY"), ElementsAre(481, 200, 200));
  EXPECT_THAT(transfer_frames(c),
              ElementsAre("transfer t1 dialing", "transfer t1 ringing", "transfer t1 ended completed 200"));
  EXPECT_EQ(c.agent->frames.back(), "stop transferred");
  EXPECT_EQ(requests(c, "REFER").size(), 2u);
  auto bye = nth(requests(c, "BYE"), 0);
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->cseq.number, retry->cseq.number + 1) << "the dialog's CSeq counts the retry";
  reply(c, *bye, 200);
  expect_nothing_left();
}

TEST_F(InDialogDigestTest, AReferChallengedAgainForTheSameRealmIsRejectedWithoutALoop) {
  carrier_has_credentials();
  Caller c = active_call();
  auto first = refer_after_transfer(c, {"Support"});
  ASSERT_TRUE(first);
  challenge(c, *first, 407);
  auto retry = nth(requests(c, "REFER"), 1);
  ASSERT_TRUE(retry);
  challenge(c, *retry, 407, "nonce-2");  // not stale: our credentials are wrong

  EXPECT_EQ(requests(c, "REFER").size(), 2u) << "credentials that were refused are not sent again";
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kRejected);
  EXPECT_EQ(ended[0].sip_status, 407);
  expect_back_with_agent(c);
}

TEST_F(InDialogDigestTest, ARefusedReferChallengeFallsBackToADialWhenTheAgentSaysSo) {
  carrier_has_credentials();
  Caller c = dialer_call(kTrunkPeer);  // agent `dialer`: refer_fallback = "dial"
  auto first = refer_after_transfer(c, {"Craig"});
  ASSERT_TRUE(first);
  challenge(c, *first, 401);
  auto retry = nth(requests(c, "REFER"), 1);
  ASSERT_TRUE(retry);
  expect_valid_digest(retry->header("Authorization"), *retry, kCarrierDigest);
  EXPECT_TRUE(invites_to(kProvider).empty()) << "the answered challenge is not a refusal";
  challenge(c, *retry, 401);
  EXPECT_EQ(requests(c, "REFER").size(), 2u);
  EXPECT_TRUE(dialled(kProvider)) << "refer_fallback = dial after the REFER was refused";
  EXPECT_TRUE(c.agent->ended_transfers().empty());
}

TEST_F(InDialogDigestTest, AStaleNonceGetsOneMoreReferWithTheNewNonce) {
  carrier_has_credentials();
  Caller c = active_call();
  auto first = refer_after_transfer(c, {"Support"});
  ASSERT_TRUE(first);
  challenge(c, *first, 401);
  auto second = nth(requests(c, "REFER"), 1);
  ASSERT_TRUE(second);
  challenge(c, *second, 401, "nonce-2", "carrier.example", /*stale=*/true);
  auto third = nth(requests(c, "REFER"), 2);
  ASSERT_TRUE(third) << "stale=true: the credentials were right, only the nonce expired";
  expect_retry_of(*third, *second, second->cseq.number + 1);
  ExpectedDigest renewed = kCarrierDigest;
  renewed.nonce = "nonce-2";
  expect_valid_digest(third->header("Authorization"), *third, renewed);

  reply(c, *third, 202, "Accepted");
  notify(c, third->cseq.number, 200, "OK", true);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kCompleted);
}

TEST_F(InDialogDigestTest, AChallengedReferWithoutCredentialsIsRejectedAsBefore) {
  Caller c = active_call();  // trunk `carrier` has no username or password
  auto first = refer_after_transfer(c, {"Support"});
  ASSERT_TRUE(first);
  challenge(c, *first, 407);
  EXPECT_EQ(requests(c, "REFER").size(), 1u);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kRejected);
  EXPECT_EQ(ended[0].sip_status, 407);
  expect_back_with_agent(c);
}

// ---------------------------------------------------------------------------------------------------
// BYE on the caller's leg

TEST_F(InDialogDigestTest, OurByeChallengedWith401IsAnsweredOnceAfterTheCallHasGone) {
  carrier_has_credentials();
  Caller c = active_call();
  call(c)->hangup("api_hangup");
  settle();
  EXPECT_EQ(router->active_calls(), 0u) << "the call ended with its BYE; the answer must not need it";
  auto first = nth(requests(c, "BYE"), 0);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->header("Authorization").empty());
  challenge(c, *first, 401);

  auto retry = nth(requests(c, "BYE"), 1);
  ASSERT_TRUE(retry) << "a challenged BYE leaves the carrier billing the call";
  expect_retry_of(*retry, *first, first->cseq.number + 1);
  expect_valid_digest(retry->header("Authorization"), *retry, kCarrierDigest);

  challenge(c, *retry, 401, "nonce-2");
  EXPECT_EQ(requests(c, "BYE").size(), 2u) << "no third BYE after our credentials were refused";
  expect_nothing_left();
}

TEST_F(InDialogDigestTest, OurByeChallengedWithoutCredentialsIsLeftAsItIs) {
  Caller c = active_call();
  call(c)->hangup("api_hangup");
  auto first = nth(requests(c, "BYE"), 0);
  ASSERT_TRUE(first);
  challenge(c, *first, 401);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  expect_nothing_left();
}

TEST_F(InDialogDigestTest, TheByeThatWaitedForTheAckIsAnsweredToo) {
  carrier_has_credentials();
  Caller c = make_caller();
  invite(c);
  ASSERT_TRUE(c.agent);
  c.agent->open();
  settle();
  call(c)->hangup("api_hangup");  // our 2xx is out, its ACK is not in: the BYE waits (RFC 3261 §15)
  EXPECT_TRUE(requests(c, "BYE").empty());
  ack(c);
  auto first = nth(requests(c, "BYE"), 0);
  ASSERT_TRUE(first);
  challenge(c, *first, 407);
  auto retry = nth(requests(c, "BYE"), 1);
  ASSERT_TRUE(retry);
  expect_valid_digest(retry->header("Proxy-Authorization"), *retry, kCarrierDigest);
  reply(c, *retry, 200);
  expect_nothing_left();
}

// ---------------------------------------------------------------------------------------------------
// BYE on a dialled leg (leg b)

TEST_F(InDialogDigestTest, TheTargetsChallengeToOurByeIsAnsweredOnceWithTheDialCredentials) {
  Caller c = dialer_call();
  Target t = bridged(c);  // Craig, through trunk `provider` (acct-7)
  send(c, "BYE");         // the caller hangs up: leg b gets our BYE
  auto first = nth(requests(t, "BYE"), 0);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->header("Proxy-Authorization").empty());
  challenge(t, *first, 407);

  auto retry = nth(requests(t, "BYE"), 1);
  ASSERT_TRUE(retry) << "the provider keeps billing a call whose challenged BYE is never answered";
  expect_retry_of(*retry, *first, first->cseq.number + 1);
  EXPECT_EQ(*destination_of(requests(t, "BYE")[1]), kProvider);
  expect_valid_digest(retry->header("Proxy-Authorization"), *retry, kProviderDigest);

  challenge(t, *retry, 407, "nonce-2");
  EXPECT_EQ(requests(t, "BYE").size(), 2u) << "no third BYE after our credentials were refused";
  expect_nothing_left();
}

TEST_F(InDialogDigestTest, AByeAfterAChallengedInviteIsAnsweredForTheSameRealm) {
  Caller c = dialer_call();
  agent_transfers(c, {"Craig"});
  auto first = dialled(kProvider);
  ASSERT_TRUE(first);
  challenge(*first, 407);  // the INVITE: nonce-1
  auto t = dialled(kProvider);
  ASSERT_TRUE(t);
  pick_up(*t);
  ASSERT_EQ(call(c)->state(), CallState::kBridged);
  send(c, "BYE");
  auto bye = nth(requests(*t, "BYE"), 0);
  ASSERT_TRUE(bye);
  challenge(*t, *bye, 407, "nonce-bye");
  auto retry = nth(requests(*t, "BYE"), 1);
  ASSERT_TRUE(retry);
  ExpectedDigest fresh = kProviderDigest;
  fresh.nonce = "nonce-bye";  // a new nonce counts from 1 again
  expect_valid_digest(retry->header("Proxy-Authorization"), *retry, fresh);
  reply(*t, *retry, 200);
  expect_nothing_left();
}

TEST_F(InDialogDigestTest, ATargetDialledWithoutCredentialsGetsNoSecondBye) {
  Caller c = dialer_call();
  Target t = bridged(c, "Desk", kDeskServer);  // a SIP URI dialled directly: no trunk, no credentials
  send(c, "BYE");
  auto first = nth(requests(t, "BYE"), 0);
  ASSERT_TRUE(first);
  challenge(t, *first, 401);
  EXPECT_EQ(requests(t, "BYE").size(), 1u);
  expect_nothing_left();
}

}  // namespace
}  // namespace warmline::server
