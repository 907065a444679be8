#include <gtest/gtest.h>

#include "sip/usage/dialog_usage.hpp"

namespace warmline::sip {
namespace {

struct NullUsage final : DialogUsage {
  void on_request(ServerTransaction&, const Message&) override {}
  bool on_ack(const Message&, const Endpoint&) override { return true; }
  void on_cancel(ServerTransaction&, const Message&, const Endpoint&) override {}
  void on_ack_timeout() override {}
  void on_2xx_retransmission(const Message&, const Endpoint&) override {}
};

TEST(DialogRegistry, RoutesOnlyTheFullDialogId) {
  DialogRegistry r;
  NullUsage a, b;
  ASSERT_TRUE(r.add({"call-1", "ours-a", "theirs"}, &a));
  ASSERT_TRUE(r.add({"call-1", "ours-b", "target"}, &b));  // a second dialog of the same call
  EXPECT_FALSE(r.add({"call-1", "ours-a", "theirs"}, &b));
  EXPECT_EQ(r.find({"call-1", "ours-a", "theirs"}), &a);
  EXPECT_EQ(r.find({"call-1", "ours-b", "target"}), &b);
  // RFC 3261 §12.2.2: the Call-ID alone, or one right tag, is not the dialog.
  EXPECT_EQ(r.find({"call-1", "ours-a", "made-up"}), nullptr);
  EXPECT_EQ(r.find({"call-1", "made-up", "theirs"}), nullptr);
  EXPECT_EQ(r.find({"call-2", "ours-a", "theirs"}), nullptr);
  EXPECT_EQ(r.find_by_remote_tag("call-1", "theirs"), &a);
  EXPECT_EQ(r.find_by_remote_tag("call-1", "other"), nullptr);
  EXPECT_TRUE(r.has_call_id("call-1"));
  EXPECT_EQ(r.size(), 2u);
}

TEST(DialogRegistry, RemoveOnlyByItsOwner) {
  DialogRegistry r;
  NullUsage a, b;
  DialogId id{"c", "l", "r"};
  ASSERT_TRUE(r.add(id, &a));
  r.remove(id, &b);  // not b's: stays
  EXPECT_EQ(r.find(id), &a);
  r.remove(id, &a);
  EXPECT_EQ(r.find(id), nullptr);
  EXPECT_FALSE(r.has_call_id("c"));
  EXPECT_EQ(r.size(), 0u);
}

TEST(DialogRegistry, FindsTheUsageOfOurOwnTagForAForksResponse) {
  DialogRegistry r;
  NullUsage uac, other;
  ASSERT_TRUE(r.add({"call-1", "our-from-tag", "fork-a"}, &uac));
  ASSERT_TRUE(r.add({"call-1", "leg-tag", "caller"}, &other));
  // A 2xx from fork b (a To tag no dialog has) still names our INVITE by its From tag.
  EXPECT_EQ(r.find({"call-1", "our-from-tag", "fork-b"}), nullptr);
  EXPECT_EQ(r.find_by_local_tag("call-1", "our-from-tag"), &uac);
  EXPECT_EQ(r.find_by_local_tag("call-1", "leg-tag"), &other);
  EXPECT_EQ(r.find_by_local_tag("call-1", "made-up"), nullptr);
  EXPECT_EQ(r.find_by_local_tag("call-2", "our-from-tag"), nullptr);
  r.remove({"call-1", "our-from-tag", "fork-a"}, &uac);
  EXPECT_EQ(r.find_by_local_tag("call-1", "our-from-tag"), nullptr);
}

}  // namespace
}  // namespace warmline::sip
