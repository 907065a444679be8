// A REFER received (server/transfer/refer_in.hpp): the NOTIFYs of its implicit subscription. What is
// acted on and what it resolves to: targets_test.cpp (check_refer, with the targets' configuration).
#include "server/transfer/refer_in.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace warmline::server {
namespace {

TEST(ReferSipfrag, FinalStatusLines) {
  EXPECT_EQ(sipfrag_final(TransferResult::kCompleted, 200, "answered"), "SIP/2.0 200 OK\r\n");
  EXPECT_EQ(sipfrag_final(TransferResult::kBusy, 486, "Busy Here"), "SIP/2.0 486 Busy Here\r\n");
  EXPECT_EQ(sipfrag_final(TransferResult::kDeclined, 603, "Decline"), "SIP/2.0 603 Decline\r\n");
  // No final status of the target's own: the one that says the same, with its standard phrase.
  EXPECT_EQ(sipfrag_final(TransferResult::kNoAnswer, 0, "no answer within the ring timeout"),
            "SIP/2.0 480 Temporarily Unavailable\r\n");
  EXPECT_EQ(sipfrag_final(TransferResult::kUnreachable, 0, "DNS"), "SIP/2.0 404 Not Found\r\n");
  EXPECT_EQ(sipfrag_final(TransferResult::kCallerHungUp, 0, "caller hung up"), "SIP/2.0 487 Request Terminated\r\n");
  // A reason that would break the status line is not copied.
  EXPECT_EQ(sipfrag_final(TransferResult::kBusy, 486, "Busy\r\nX: y"), "SIP/2.0 486 Busy Here\r\n");
}

// The NOTIFYs a notifier sends, and the answers still owed to it.
struct Sent {
  std::vector<ReferNotify> notifies;
  std::vector<std::function<void(int)>> answers;
  bool dialog_up = true;
  ReferNotifier::Send send() {
    return [this](const ReferNotify& n, std::function<void(int)> answered) {
      if (!dialog_up) return false;
      notifies.push_back(n);
      answers.push_back(std::move(answered));
      return true;
    };
  }
  void answer(size_t i, int status = 200) { answers.at(i)(status); }
};

TEST(ReferNotifier, OneAtATimeInOrderAndTheFinalTerminates) {
  Sent sent;
  ReferNotifier n(7, true, sent.send());
  bool done = false;
  n.on_done([&] { done = true; });
  n.accepted();
  n.progress(180);
  n.progress(183);  // the first 18x only
  n.finished(TransferResult::kCompleted, 200, "answered");
  ASSERT_EQ(sent.notifies.size(), 1u);  // the next waits for the answer to the one in flight
  EXPECT_EQ(sent.notifies[0].event, "refer;id=7");
  EXPECT_EQ(sent.notifies[0].subscription_state, "active;expires=60");
  EXPECT_EQ(sent.notifies[0].body, "SIP/2.0 100 Trying\r\n");
  sent.answer(0);
  ASSERT_EQ(sent.notifies.size(), 2u);
  EXPECT_EQ(sent.notifies[1].body, "SIP/2.0 180 Ringing\r\n");
  EXPECT_FALSE(done);
  sent.answer(1, 481);  // any final answer moves on
  ASSERT_EQ(sent.notifies.size(), 3u);
  EXPECT_EQ(sent.notifies[2].body, "SIP/2.0 200 OK\r\n");
  EXPECT_EQ(sent.notifies[2].subscription_state, "terminated;reason=noresource");
  EXPECT_TRUE(sent.notifies[2].final);
  EXPECT_FALSE(done);
  sent.answer(2);
  EXPECT_TRUE(done);
  EXPECT_TRUE(n.done());
  n.progress(180);  // nothing after the final
  EXPECT_EQ(sent.notifies.size(), 3u);
}

TEST(ReferNotifier, WithoutASubscriptionNothingIsSentAndItIsDoneAtOnce) {
  Sent sent;
  ReferNotifier n(3, false, sent.send());
  n.accepted();
  n.finished(TransferResult::kBusy, 486, "Busy Here");
  EXPECT_TRUE(sent.notifies.empty());
  bool done = false;
  n.on_done([&] { done = true; });
  EXPECT_TRUE(done);
}

TEST(ReferNotifier, AGoneDialogEndsIt) {
  Sent sent;
  ReferNotifier n(3, true, sent.send());
  bool done = false;
  n.on_done([&] { done = true; });
  n.accepted();
  sent.dialog_up = false;
  n.finished(TransferResult::kBusy, 486, "Busy Here");
  sent.answer(0);  // the final cannot go: the subscription is over
  EXPECT_TRUE(done);
  EXPECT_EQ(sent.notifies.size(), 1u);
}

TEST(ReferNotifier, AnAnswerAfterTheNotifierIsGoneIsIgnored) {
  Sent sent;
  {
    ReferNotifier n(3, true, sent.send());
    n.accepted();
  }
  sent.answer(0);  // must not touch the destroyed notifier (ASan would say)
  EXPECT_EQ(sent.notifies.size(), 1u);
}

TEST(ReferNotify, FillsTheRequest) {
  sip::Message notify;
  notify.method = "NOTIFY";
  fill_notify(notify, {"refer;id=2", "active;expires=60", "SIP/2.0 100 Trying\r\n", false});
  EXPECT_EQ(notify.header("Event"), "refer;id=2");
  EXPECT_EQ(notify.header("Subscription-State"), "active;expires=60");
  EXPECT_EQ(notify.content_type, "message/sipfrag;version=2.0");
  EXPECT_EQ(notify.body, "SIP/2.0 100 Trying\r\n");
}

}  // namespace
}  // namespace warmline::server
