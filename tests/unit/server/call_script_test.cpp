// The call script runner (server/call_script.hpp) against recording actions and the fake clock: the
// order of steps, which step waits for the audio before it, the bound on that wait, a transfer's
// refusal at start and later, stop(), and an action that calls back into the script.
#include "server/call_script.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sip/testing/fake_timer.hpp"

namespace warmline::server {
namespace {

using namespace std::chrono_literals;

class CallScriptTest : public ::testing::Test {
 protected:
  // The call as the script sees it: audio queued (ms), speech being synthesised, what it was told.
  struct FakeCall {
    uint32_t queued_ms = 0;
    int speaking = 0;
    std::vector<std::string> log;
    std::optional<TransferRefusal> refuse;
    std::function<void()> on_say;  // runs inside say (a synchronous callback into the script)
  };

  std::shared_ptr<CallScript> make(std::vector<ScriptStep> steps) {
    ScriptActions a{
        .say = [this](const std::string& text) {
          call.log.push_back("say " + text);
          if (call.on_say) call.on_say();
        },
        .audio_pending = [this] { return call.queued_ms > 0 || call.speaking > 0; },
        .speech_pending = [this] { return call.speaking > 0; },
        .audio_queued_ms = [this] { return call.queued_ms; },
        .transfer = [this](ai::TransferRequest r, bool tell_agent) {
          call.log.push_back("transfer " + r.targets.front() + (tell_agent ? " (agent told)" : ""));
          return call.refuse;
        },
        .hangup = [this] { call.log.push_back("hangup"); },
    };
    return std::make_shared<CallScript>(timers, std::move(steps), std::move(a));
  }

  // The queued audio has played out: the call's hook.
  void drained(CallScript& s) {
    call.queued_ms = 0;
    s.on_audio_done();
  }

  static ai::TransferRequest to(std::string target) {
    ai::TransferRequest r;
    r.targets = {std::move(target)};
    return r;
  }

  sip::testing::FakeTimerService timers;
  FakeCall call;
};

TEST_F(CallScriptTest, SpeechQueuesAtOnceAndHangupWaitsForIt) {
  auto s = make({ScriptSay{"one"}, ScriptSay{"two"}, ScriptHangup{}});
  call.queued_ms = 1500;  // the agent's own audio, and then the speech, are still to play
  EXPECT_EQ(s->start(), std::nullopt);
  EXPECT_EQ(call.log, (std::vector<std::string>{"say one", "say two"}));
  timers.advance(1000ms);
  EXPECT_EQ(call.log.size(), 2u);  // not yet: the wait is bounded by 1500 ms + a margin
  drained(*s);
  EXPECT_EQ(call.log.back(), "hangup");
  EXPECT_TRUE(s->done());
  EXPECT_EQ(timers.pending(), 0u);
}

TEST_F(CallScriptTest, HangupWithNothingQueuedIsImmediate) {
  auto s = make({ScriptHangup{}, ScriptSay{"never"}});
  s->start();
  EXPECT_EQ(call.log, (std::vector<std::string>{"hangup"}));
  EXPECT_TRUE(s->done());
}

TEST_F(CallScriptTest, PauseStartsAfterTheAudioAndLastsItsLength) {
  auto s = make({ScriptSay{"hold on"}, ScriptPause{2000ms}, ScriptSay{"still there?"}, ScriptHangup{}});
  call.speaking = 1;
  s->start();
  EXPECT_EQ(call.log, (std::vector<std::string>{"say hold on"}));
  // The speech arrives and plays (800 ms); the pause's 2 s start then.
  call.speaking = 0;
  call.queued_ms = 800;
  drained(*s);
  timers.advance(1999ms);
  EXPECT_EQ(call.log.size(), 1u);
  timers.advance(1ms);
  EXPECT_EQ(call.log, (std::vector<std::string>{"say hold on", "say still there?", "hangup"}));
}

TEST_F(CallScriptTest, AudioThatNeverStopsBoundsTheWait) {
  // An agent that streams silence: the queue never drains, so the hang-up goes after what was queued
  // when the wait began, plus 100 ms.
  auto s = make({ScriptHangup{}});
  call.queued_ms = 400;
  s->start();
  timers.advance(499ms);
  EXPECT_TRUE(call.log.empty());
  timers.advance(1ms);
  EXPECT_EQ(call.log, (std::vector<std::string>{"hangup"}));
}

TEST_F(CallScriptTest, SpeechStillBeingSynthesisedExtendsTheBound) {
  auto s = make({ScriptSay{"long"}, ScriptHangup{}});
  call.speaking = 1;
  s->start();
  timers.advance(1000ms);  // still synthesising: measured again every time the bound runs out
  EXPECT_EQ(call.log.size(), 1u);
  call.speaking = 0;
  call.queued_ms = 3000;  // the clip is queued; the bound measured while it was synthesised measures again
  timers.advance(100ms);
  timers.advance(2999ms);
  EXPECT_EQ(call.log.size(), 1u);
  drained(*s);
  EXPECT_EQ(call.log.back(), "hangup");
}

TEST_F(CallScriptTest, QueuedClipIsWaitedForEvenIfItNeverDrains) {
  auto s = make({ScriptSay{"long"}, ScriptHangup{}});
  call.speaking = 1;
  s->start();
  call.speaking = 0;
  call.queued_ms = 3000;
  timers.advance(100ms);   // the first bound (0 ms + 100) ends: measured again, now 3000 + 100 ms
  timers.advance(3099ms);
  EXPECT_EQ(call.log.size(), 1u);
  timers.advance(1ms);
  EXPECT_EQ(call.log.back(), "hangup");
}

TEST_F(CallScriptTest, TransferStartsOnceTheSpeechBeforeItHasPlayed) {
  auto s = make({ScriptSay{"transferring you"}, ScriptTransfer{to("Support"), "", false}});
  call.speaking = 1;
  EXPECT_EQ(s->start(), std::nullopt);
  EXPECT_EQ(call.log, (std::vector<std::string>{"say transferring you"}));
  call.speaking = 0;
  call.queued_ms = 1200;  // synthesised and queued: still not played
  timers.advance(100ms);  // the first bound (measured while synthesising) is measured again
  EXPECT_EQ(call.log.size(), 1u);
  drained(*s);
  EXPECT_EQ(call.log, (std::vector<std::string>{"say transferring you", "transfer Support (agent told)"}));
}

TEST_F(CallScriptTest, ATransferRefusedAtStartIsTheRequestsAnswer) {
  auto s = make({ScriptTransfer{to("Support"), "", false}});
  call.refuse = TransferRefusal{TransferRefusal::Code::kUnknownTarget, "no such target"};
  auto refusal = s->start();
  EXPECT_EQ(call.log, (std::vector<std::string>{"transfer Support"}));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, TransferRefusal::Code::kUnknownTarget);
}

TEST_F(CallScriptTest, ALaterTransferRefusalGoesToTheAgent) {
  auto s = make({ScriptPause{1000ms}, ScriptTransfer{to("Support"), "", false}});
  call.refuse = TransferRefusal{TransferRefusal::Code::kTransferInProgress, "t9 is running"};
  EXPECT_EQ(s->start(), std::nullopt);
  timers.advance(1000ms);
  EXPECT_EQ(call.log, (std::vector<std::string>{"transfer Support (agent told)"}));
}

TEST_F(CallScriptTest, StopEndsTheScriptAndItsTimer) {
  auto s = make({ScriptPause{1000ms}, ScriptHangup{}});
  s->start();
  EXPECT_EQ(timers.pending(), 1u);
  s->stop();
  EXPECT_EQ(timers.pending(), 0u);
  timers.advance(5000ms);
  s->on_audio_done();
  EXPECT_TRUE(call.log.empty());
  EXPECT_TRUE(s->done());
}

TEST_F(CallScriptTest, ATimerOutlivingTheScriptDoesNothing) {
  {
    auto s = make({ScriptPause{1000ms}, ScriptHangup{}});
    s->start();
  }  // destroyed with its timer pending: the destructor cancels it
  EXPECT_EQ(timers.pending(), 0u);
  timers.advance(2000ms);
  EXPECT_TRUE(call.log.empty());
}

TEST_F(CallScriptTest, ACallbackFromInsideAnActionDoesNotRunStepsTwice) {
  auto s = make({ScriptSay{"a"}, ScriptHangup{}});
  std::weak_ptr<CallScript> weak = s;
  // A failed synthesis reports "audio done" from inside say(): the script is mid-step, not waiting.
  call.on_say = [weak] {
    if (auto p = weak.lock()) p->on_audio_done();
  };
  s->start();
  EXPECT_EQ(call.log, (std::vector<std::string>{"say a", "hangup"}));
}

TEST_F(CallScriptTest, AHangupThatDropsTheLastReferenceIsSafe) {
  // The call's hang-up can release the call, and with it the call's reference to the script.
  auto s = make({ScriptHangup{}});
  std::shared_ptr<CallScript>* holder = &s;
  ScriptActions a{
      .say = {}, .audio_pending = [] { return false; }, .speech_pending = [] { return false; },
      .audio_queued_ms = [] { return 0u; }, .transfer = {},
      .hangup = [&holder, this] {
        call.log.push_back("hangup");
        holder->reset();
      }};
  *holder = std::make_shared<CallScript>(timers, std::vector<ScriptStep>{ScriptHangup{}}, std::move(a));
  std::weak_ptr<CallScript> weak = *holder;
  (*holder)->start();
  EXPECT_EQ(call.log, (std::vector<std::string>{"hangup"}));
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace warmline::server
