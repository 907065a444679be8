#pragma once
// Text-to-speech with espeak-ng, off the shard threads. Synthesis takes tens to hundreds of
// milliseconds, so say() only queues the request: a worker thread synthesises it, resamples it to the
// engine rate, caches it (same text + voice -> the same clip, shared), and hands the result back through
// the caller's `post` - so `done` runs on the caller's shard, never on the worker.
//
// espeak-ng's library keeps process-global state: synthesis is serialised (one worker, and a process-wide
// lock shared by all Tts instances, taken only on worker threads).
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "media/source.hpp"

namespace warmline::media {

struct TtsOptions {
  std::string default_voice = "en-us";
  uint32_t rate_hz = 8000;        // clips come out at this rate (the mixers' rate)
  size_t cache_entries = 64;      // LRU, by text + voice
  size_t max_text_bytes = 4000;   // longer text is refused (std::errc::message_size)
  std::string espeak_data_path;   // "" = espeak-ng's default; only the first Tts of a process sets it
};

class Tts {
 public:
  // Runs a task on the requester's thread (for a shard: boost::asio::post to its io_context).
  using Post = std::function<void(std::function<void()>)>;
  // clip is null on error; error is std::errc::invalid_argument (empty text), message_size,
  // io_error (synthesis failed) or operation_canceled (the Tts shut down first).
  using Done = std::function<void(std::shared_ptr<const AudioClip> clip, std::error_code error)>;

  explicit Tts(TtsOptions options);
  ~Tts();  // finishes the request in progress, cancels the rest, joins the worker
  Tts(const Tts&) = delete;
  Tts& operator=(const Tts&) = delete;

  // Never blocks on synthesis; `done` always comes through `post`, even on a cache hit. voice "" = the
  // default voice.
  void say(std::string text, std::string voice, Post post, Done done);

  uint64_t cache_hits() const;
  uint64_t syntheses() const;

 private:
  struct Request {
    std::string text;
    std::string voice;
    Post post;
    Done done;
  };

  void run();
  void serve(Request& r);
  std::shared_ptr<const AudioClip> synthesize(const std::string& text, const std::string& voice);
  std::shared_ptr<const AudioClip> cache_find(const std::string& key);
  void cache_store(const std::string& key, std::shared_ptr<const AudioClip> clip);

  TtsOptions options_;
  mutable std::mutex mutex_;  // guards queue_, stopping_ and the counters (control path, not media)
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  uint64_t cache_hits_ = 0;
  uint64_t syntheses_ = 0;
  // Worker thread only:
  int espeak_rate_ = 0;
  std::list<std::string> lru_;
  std::unordered_map<std::string, std::pair<std::shared_ptr<const AudioClip>, std::list<std::string>::iterator>>
      cache_;
  std::thread worker_;  // last: started after everything it uses exists
};

}  // namespace warmline::media
