#include "media/tts.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "signal_util.hpp"

namespace warmline::media {
namespace {

// Stands in for a shard's io_context: tasks posted from the TTS worker are run by the test thread.
class Inbox {
 public:
  Tts::Post poster() {
    return [this](std::function<void()> task) {
      std::lock_guard lock(mutex_);
      post_threads_.push_back(std::this_thread::get_id());
      tasks_.push_back(std::move(task));
      cv_.notify_all();
    };
  }
  // Runs one posted task; false if none came within the bound (a bounded wait on a real event).
  bool run_one(std::chrono::seconds bound = std::chrono::seconds(30)) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      if (!cv_.wait_for(lock, bound, [&] { return !tasks_.empty(); })) return false;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
    return true;
  }
  std::vector<std::thread::id> post_threads() {
    std::lock_guard lock(mutex_);
    return post_threads_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread::id> post_threads_;
};

struct Result {
  std::shared_ptr<const AudioClip> clip;
  std::error_code error;
  std::thread::id thread;
  bool done = false;
};

Tts::Done capture(Result& r) {
  return [&r](std::shared_ptr<const AudioClip> clip, std::error_code ec) {
    r = {std::move(clip), ec, std::this_thread::get_id(), true};
  };
}

TEST(Tts, SpeaksOffThreadDeliversOnCallerAndCaches) {
  TtsOptions opts;
  opts.rate_hz = 8000;
  Tts tts(opts);
  Inbox inbox;
  Result first, second;
  const std::string text = "Please hold while I transfer your call.";
  tts.say(text, "", inbox.poster(), capture(first));
  EXPECT_FALSE(first.done);  // say() returned before any synthesis result was delivered
  ASSERT_TRUE(inbox.run_one());
  ASSERT_TRUE(first.done);
  ASSERT_FALSE(first.error) << first.error.message();
  ASSERT_TRUE(first.clip);
  EXPECT_EQ(first.thread, std::this_thread::get_id());  // `done` ran on the requester's thread
  ASSERT_EQ(inbox.post_threads().size(), 1U);
  EXPECT_NE(inbox.post_threads()[0], std::this_thread::get_id());  // synthesis happened elsewhere

  // Plausible: ~7 words at espeak's default 175 words/min is ~2.5 s; allow 1..6 s, clearly audible.
  EXPECT_EQ(first.clip->rate_hz, 8000U);
  const double seconds = static_cast<double>(first.clip->samples.size()) / 8000.0;
  EXPECT_GT(seconds, 1.0);
  EXPECT_LT(seconds, 6.0);
  EXPECT_GT(test::rms(first.clip->samples), 300.0);

  tts.say(text, "", inbox.poster(), capture(second));
  ASSERT_TRUE(inbox.run_one());
  ASSERT_TRUE(second.clip);
  EXPECT_EQ(second.clip, first.clip);  // the same shared clip, not a second synthesis
  EXPECT_EQ(tts.syntheses(), 1U);
  EXPECT_EQ(tts.cache_hits(), 1U);
}

TEST(Tts, LongerTextGivesLongerAudioAndErrorsAreReported) {
  TtsOptions opts;
  opts.rate_hz = 16000;
  opts.max_text_bytes = 200;
  Tts tts(opts);
  Inbox inbox;
  Result short_r, long_r, empty_r, huge_r;
  tts.say("Hello.", "en-us", inbox.poster(), capture(short_r));
  tts.say("Hello. I am transferring you to the billing team now; it may take a minute.", "en-us",
          inbox.poster(), capture(long_r));
  tts.say("", "", inbox.poster(), capture(empty_r));
  tts.say(std::string(300, 'a'), "", inbox.poster(), capture(huge_r));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(inbox.run_one());
  ASSERT_TRUE(short_r.clip && long_r.clip);
  EXPECT_EQ(long_r.clip->rate_hz, 16000U);
  EXPECT_GT(long_r.clip->samples.size(), 3 * short_r.clip->samples.size());
  EXPECT_EQ(empty_r.error, std::make_error_code(std::errc::invalid_argument));
  EXPECT_EQ(huge_r.error, std::make_error_code(std::errc::message_size));
  EXPECT_FALSE(huge_r.clip);
}

TEST(Tts, ClipPlaysThroughAClipSource) {
  Tts tts(TtsOptions{});
  Inbox inbox;
  Result r;
  tts.say("One moment.", "", inbox.poster(), capture(r));
  ASSERT_TRUE(inbox.run_one());
  ASSERT_TRUE(r.clip);
  ClipSource src(r.clip, false);
  Frame f;
  size_t frames = 0;
  while (src.read(f) && frames < 1000) ++frames;
  EXPECT_EQ(frames, (r.clip->samples.size() + 159) / 160);
  EXPECT_TRUE(src.finished());
}

}  // namespace
}  // namespace warmline::media
