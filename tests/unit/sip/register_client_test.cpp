// RegisterClient (RFC 3261 §10.2) against a scripted registrar on the loopback transport and a fake
// clock: the REGISTER's shape, digest, refresh at half the granted expiry, 423, backoff on every kind
// of failure, and removing the binding.
#include <gtest/gtest.h>

#include "register_client_fixture.hpp"

namespace warmline::sip {
namespace {

using State = RegistrationState;

TEST_F(RegisterClientFixture, FirstRegisterFollowsSection10_2) {
  start();
  ASSERT_EQ(transport.sent().size(), 1u);
  EXPECT_EQ(transport.last().to, registrar);
  const Message& r = last_register();
  EXPECT_EQ(r.request_uri.to_string(), "sip:198.51.100.7");
  EXPECT_EQ(r.to.uri.to_string(), "sip:gw-user@198.51.100.7");
  EXPECT_TRUE(r.to.tag().empty());
  EXPECT_EQ(r.from.uri.to_string(), "sip:gw-user@198.51.100.7");
  EXPECT_FALSE(r.from.tag().empty());
  EXPECT_EQ(r.call_id, "reg-1@192.0.2.10");
  EXPECT_EQ(r.cseq.number, 1u);
  EXPECT_EQ(r.cseq.method, "REGISTER");
  ASSERT_EQ(r.contacts.size(), 1u);
  EXPECT_EQ(r.contacts[0].uri.to_string(), "sip:gw-user@192.0.2.10:5060");
  EXPECT_EQ(r.header("Expires"), "3600");
  EXPECT_EQ(r.max_forwards, 70u);
  ASSERT_EQ(r.vias.size(), 1u);
  EXPECT_TRUE(r.vias[0].branch().starts_with(kBranchCookie));
  EXPECT_EQ(r.find_header("Authorization"), nullptr);  // nothing to answer yet
  EXPECT_EQ(client->status().state, State::kRegistering);
  EXPECT_EQ(states, std::vector<State>{State::kRegistering});
}

TEST_F(RegisterClientFixture, AnswersA401WithCredentialsTheRegistrarAccepts) {
  start();
  const Message first = last_register();
  deliver(challenge_to(first, "nonce-1"));
  auto sent = registers();
  ASSERT_EQ(sent.size(), 2u);
  const Message& retry = sent[1];
  EXPECT_EQ(retry.cseq.number, 2u);  // §8.1.3.5: a new request, the next CSeq
  EXPECT_EQ(retry.call_id, first.call_id);
  EXPECT_EQ(retry.from.tag(), first.from.tag());
  EXPECT_NE(retry.vias[0].branch(), first.vias[0].branch());
  expect_valid_credentials(retry);
  EXPECT_EQ(client->status().state, State::kRegistering);

  deliver(ok_to(retry, 3600));
  EXPECT_EQ(client->status().state, State::kRegistered);
  EXPECT_EQ(client->status().last_status, 200);
  EXPECT_EQ(client->status().granted_expires, 3600u);
  EXPECT_EQ(client->status().failures, 0u);
  EXPECT_EQ(client->status().expires_at, timers.now() + 3600s);
}

TEST_F(RegisterClientFixture, AnswersA407WithProxyAuthorization) {
  start();
  deliver(challenge_to(last_register(), "nonce-p", false, 407));
  ASSERT_EQ(register_count(), 2u);
  expect_valid_credentials(last_register(), "Proxy-Authorization");
  EXPECT_EQ(last_register().find_header("Authorization"), nullptr);
}

TEST_F(RegisterClientFixture, RefreshesAtHalfTheGrantedExpiryWithTheSameCallIdAndTheNextCSeq) {
  register_with_challenge(120);  // the registrar grants 120 s of our 3600
  EXPECT_EQ(until_next_attempt(), 60s);
  timers.advance(60s - 1ms);
  ASSERT_EQ(register_count(), 2u);
  timers.advance(1ms);
  auto sent = registers();
  ASSERT_EQ(sent.size(), 3u);
  const Message& refresh = sent[2];
  EXPECT_EQ(refresh.call_id, sent[0].call_id);
  EXPECT_EQ(refresh.from.tag(), sent[0].from.tag());
  EXPECT_EQ(refresh.cseq.number, 3u);
  EXPECT_EQ(refresh.header("Expires"), "3600");  // asks for what it wants again
  // Credentials at once, for the nonce of the last challenge, next nc.
  expect_valid_credentials(refresh, "Authorization", "00000002");
  EXPECT_EQ(client->status().state, State::kRegistered);  // the binding holds while the refresh runs

  // This time only the Expires header says how long.
  deliver(ok_to(refresh, std::nullopt, 90));
  EXPECT_EQ(client->status().granted_expires, 90u);
  EXPECT_EQ(until_next_attempt(), 45s);
  timers.advance(45s);
  EXPECT_EQ(registers().back().cseq.number, 4u);
}

TEST_F(RegisterClientFixture, A200WithoutExpiryKeepsTheExpiryAskedFor) {
  start();
  deliver(ok_to(last_register(), std::nullopt));  // a registrar that needs no digest, says no expiry
  EXPECT_EQ(client->status().state, State::kRegistered);
  EXPECT_EQ(client->status().granted_expires, 3600u);
  EXPECT_EQ(until_next_attempt(), 1800s);
}

TEST_F(RegisterClientFixture, AChallengeToAPreemptiveRefreshIsAnsweredAsAFirstOne) {
  register_with_challenge(120);
  timers.advance(60s);
  ASSERT_EQ(register_count(), 3u);
  // The registrar forgot nonce-1 and says so without stale=true.
  deliver(challenge_to(last_register(), "nonce-2"));
  ASSERT_EQ(register_count(), 4u);
  expect_valid_credentials(last_register());
  EXPECT_EQ(auth::test::credential_params(last_register().header("Authorization"))["nonce"], "nonce-2");
  deliver(ok_to(last_register(), 120));
  EXPECT_EQ(client->status().state, State::kRegistered);
  EXPECT_EQ(client->status().failures, 0u);
}

TEST_F(RegisterClientFixture, AStaleNonceIsAnsweredAgain) {
  start();
  deliver(challenge_to(last_register(), "nonce-1"));
  deliver(challenge_to(last_register(), "nonce-2", true));
  ASSERT_EQ(register_count(), 3u);
  expect_valid_credentials(last_register());
  deliver(ok_to(last_register(), 600));
  EXPECT_EQ(client->status().state, State::kRegistered);
}

TEST_F(RegisterClientFixture, RejectedCredentialsFailAndBackOff) {
  start();
  deliver(challenge_to(last_register(), "nonce-1"));
  deliver(challenge_to(last_register(), "nonce-2"));  // our answer was wrong: no stale
  EXPECT_EQ(register_count(), 2u);  // not sent a third time
  const RegistrationStatus& s = client->status();
  EXPECT_EQ(s.state, State::kFailed);
  EXPECT_EQ(s.last_status, 401);
  EXPECT_NE(s.last_reason.find("rejected"), std::string::npos) << s.last_reason;
  EXPECT_EQ(s.failures, 1u);
  EXPECT_FALSE(s.expires_at.has_value());
  EXPECT_EQ(until_next_attempt(), kRegisterRetryBase);

  timers.advance(kRegisterRetryBase);
  ASSERT_EQ(register_count(), 3u);
  // A retry starts afresh: no credentials until asked for.
  EXPECT_EQ(last_register().find_header("Authorization"), nullptr);
  EXPECT_EQ(client->status().state, State::kRegistering);
}

TEST_F(RegisterClientFixture, AChallengeWithoutCredentialsIsAFailure) {
  RegisterClientOptions o = options();
  o.credentials.reset();
  start(std::move(o));
  deliver(challenge_to(last_register(), "nonce-1"));
  EXPECT_EQ(register_count(), 1u);
  EXPECT_EQ(client->status().state, State::kFailed);
  EXPECT_EQ(client->status().last_status, 401);
}

TEST_F(RegisterClientFixture, FailuresBackOffDoublingUpToTheMaximum) {
  start();
  const std::vector<std::chrono::milliseconds> expected = {30s, 60s, 120s, 240s, 480s, 600s, 600s};
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    deliver(answer(last_register(), 503));
    EXPECT_EQ(client->status().state, State::kFailed);
    EXPECT_EQ(client->status().failures, i + 1);
    EXPECT_EQ(until_next_attempt(), expected[i]);
    const size_t before = register_count();
    timers.advance(expected[i] - 1ms);
    EXPECT_EQ(register_count(), before);
    timers.advance(1ms);
    ASSERT_EQ(register_count(), before + 1);
  }
  // A success starts the sequence again.
  deliver(ok_to(last_register(), 3600));
  EXPECT_EQ(client->status().failures, 0u);
  timers.advance(1800s);
  deliver(answer(last_register(), 500));
  EXPECT_EQ(until_next_attempt(), kRegisterRetryBase);
}

TEST_F(RegisterClientFixture, ALongerRetryAfterIsHonoured) {
  start();
  Message busy = answer(last_register(), 503);
  busy.add_header("Retry-After", "120 (maintenance)");
  deliver(busy);
  EXPECT_EQ(until_next_attempt(), 120s);
}

TEST_F(RegisterClientFixture, IntervalTooBriefAsksAgainWithMinExpires) {
  RegisterClientOptions o = options();
  o.expires = 60;
  start(std::move(o));
  Message brief = answer(last_register(), 423);
  brief.add_header("Min-Expires", "300");
  deliver(brief);
  auto sent = registers();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].header("Expires"), "300");
  EXPECT_EQ(sent[1].cseq.number, 2u);
  EXPECT_EQ(client->expires(), 300u);
  deliver(ok_to(sent[1], 300));
  EXPECT_EQ(client->status().state, State::kRegistered);
  EXPECT_EQ(until_next_attempt(), 150s);
}

TEST_F(RegisterClientFixture, IntervalTooBriefWithoutAHigherMinExpiresFails) {
  start();
  deliver(answer(last_register(), 423));  // no Min-Expires at all
  EXPECT_EQ(register_count(), 1u);
  EXPECT_EQ(client->status().state, State::kFailed);
  EXPECT_EQ(client->status().last_status, 423);
}

TEST_F(RegisterClientFixture, NoAnswerTimesOutAndBacksOff) {
  start();
  timers.advance(layer.config().timeout() - 1ms);  // Timer E retransmits meanwhile
  EXPECT_EQ(client->status().state, State::kRegistering);
  EXPECT_GT(transport.count_requests("REGISTER"), 1);
  EXPECT_EQ(register_count(), 1u);
  timers.advance(1ms);  // Timer F: the layer's own 408
  EXPECT_EQ(client->status().state, State::kFailed);
  EXPECT_EQ(client->status().last_status, 408);
  EXPECT_EQ(until_next_attempt(), kRegisterRetryBase);
  timers.advance(kRegisterRetryBase);
  EXPECT_EQ(register_count(), 2u);
}

TEST_F(RegisterClientFixture, ATransportErrorFailsAtOnce) {
  transport.fail_next(1);
  start();
  EXPECT_EQ(client->status().state, State::kFailed);
  EXPECT_EQ(client->status().last_status, 503);
  EXPECT_EQ(until_next_attempt(), kRegisterRetryBase);
}

TEST_F(RegisterClientFixture, TheNextHopIsLocatedBeforeEachAttempt) {
  RegisterClientOptions o = options();
  o.registrar.host = "sip.carrier.example";  // a name: only the hook can find it
  int lookups = 0;
  o.locate = [&](NextHopDone done) {
    ++lookups;
    if (lookups == 1) return done(std::nullopt, "NXDOMAIN");
    done(registrar, "");
  };
  start(std::move(o));
  EXPECT_EQ(lookups, 1);
  EXPECT_EQ(register_count(), 0u);
  EXPECT_EQ(client->status().state, State::kFailed);
  EXPECT_NE(client->status().last_reason.find("NXDOMAIN"), std::string::npos);
  timers.advance(kRegisterRetryBase);
  EXPECT_EQ(lookups, 2);
  ASSERT_EQ(register_count(), 1u);
  EXPECT_EQ(transport.last().to, registrar);
  EXPECT_EQ(last_register().request_uri.to_string(), "sip:sip.carrier.example");
}

TEST_F(RegisterClientFixture, WithoutAHookAHostNameCannotBeReached) {
  RegisterClientOptions o = options();
  o.registrar.host = "sip.carrier.example";
  start(std::move(o));
  EXPECT_EQ(register_count(), 0u);
  EXPECT_EQ(client->status().state, State::kFailed);
}

TEST_F(RegisterClientFixture, UnregisterRemovesTheBindingWithExpiresZero) {
  register_with_challenge(3600);
  client->unregister();
  auto sent = registers();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].header("Expires"), "0");
  EXPECT_EQ(sent[2].call_id, sent[0].call_id);
  EXPECT_EQ(sent[2].cseq.number, 3u);
  expect_valid_credentials(sent[2], "Authorization", "00000002");
  EXPECT_FALSE(client->status().next_attempt.has_value());
  deliver(answer(sent[2], 200));
  EXPECT_EQ(client->status().state, State::kUnregistered);
  timers.advance(2h);  // no refresh, no retry
  EXPECT_EQ(register_count(), 3u);
}

TEST_F(RegisterClientFixture, UnregisterWithoutABindingSendsNothing) {
  start();
  deliver(answer(last_register(), 500));
  client->unregister();
  EXPECT_EQ(client->status().state, State::kUnregistered);
  timers.advance(1h);
  EXPECT_EQ(register_count(), 1u);
}

TEST_F(RegisterClientFixture, AFailedUnregisterIsNotRetried) {
  register_with_challenge(3600);
  client->unregister();
  deliver(answer(last_register(), 500));
  EXPECT_EQ(client->status().state, State::kUnregistered);
  timers.advance(2h);
  EXPECT_EQ(register_count(), 3u);
}

TEST_F(RegisterClientFixture, ALateAnswerAfterDestructionIsIgnored) {
  start();
  const Message sent = last_register();
  client.reset();
  deliver(ok_to(sent, 3600));  // the transaction still exists; its handler must touch nothing
  timers.advance(1h);
  EXPECT_EQ(register_count(), 1u);
}

}  // namespace
}  // namespace warmline::sip
