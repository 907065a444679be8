#include "media/tts.hpp"

#include <espeak-ng/speak_lib.h>

#include <vector>

#include "media/resampler.hpp"

namespace warmline::media {
namespace {

// espeak-ng has one global engine per process, so every Tts instance serialises on this lock. It is
// taken only on Tts worker threads, never on a shard thread.
std::mutex& espeak_lock() {
  static std::mutex m;
  return m;
}

// espeak-ng cannot be initialised again after espeak_Terminate (a second Initialize hangs on its
// internal thread), so the engine is initialised once per process, on first use, and left to process
// exit. This mirrors the library's own global state; it is not ours to reset. Returns its sample rate,
// or <= 0 if espeak-ng is unusable. Call with espeak_lock() held.
int espeak_engine(const std::string& data_path) {
  static const int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                            data_path.empty() ? nullptr : data_path.c_str(),
                                            espeakINITIALIZE_DONT_EXIT);
  return rate;
}

int on_samples(short* wav, int count, espeak_EVENT* events) {
  if (wav == nullptr || count <= 0 || events == nullptr) return 0;
  auto* out = static_cast<std::vector<int16_t>*>(events->user_data);
  if (out != nullptr) out->insert(out->end(), wav, wav + count);
  return 0;  // continue
}

}  // namespace

Tts::Tts(TtsOptions options) : options_(std::move(options)) {
  if (!is_supported_rate(options_.rate_hz)) options_.rate_hz = 8000;
  worker_ = std::thread([this] { run(); });
}

Tts::~Tts() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void Tts::say(std::string text, std::string voice, Post post, Done done) {
  if (voice.empty()) voice = options_.default_voice;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back({std::move(text), std::move(voice), std::move(post), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  post([done = std::move(done)] { done(nullptr, std::make_error_code(std::errc::operation_canceled)); });
}

uint64_t Tts::cache_hits() const {
  std::lock_guard lock(mutex_);
  return cache_hits_;
}

uint64_t Tts::syntheses() const {
  std::lock_guard lock(mutex_);
  return syntheses_;
}

void Tts::run() {
  {
    std::lock_guard engine(espeak_lock());
    espeak_rate_ = espeak_engine(options_.espeak_data_path);
  }
  for (;;) {
    Request r;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      r = std::move(queue_.front());
      queue_.pop_front();
    }
    serve(r);
  }
  std::deque<Request> cancelled;
  {
    std::lock_guard lock(mutex_);
    cancelled.swap(queue_);
  }
  for (auto& r : cancelled) {
    r.post([done = std::move(r.done)] { done(nullptr, std::make_error_code(std::errc::operation_canceled)); });
  }
}

void Tts::serve(Request& r) {
  std::error_code ec;
  std::shared_ptr<const AudioClip> clip;
  if (r.text.empty()) {
    ec = std::make_error_code(std::errc::invalid_argument);
  } else if (r.text.size() > options_.max_text_bytes) {
    ec = std::make_error_code(std::errc::message_size);
  } else {
    const std::string key = r.voice + '\n' + r.text;
    clip = cache_find(key);
    if (!clip) {
      clip = synthesize(r.text, r.voice);
      if (clip) cache_store(key, clip);
    }
    if (!clip) ec = std::make_error_code(std::errc::io_error);
  }
  r.post([done = std::move(r.done), clip = std::move(clip), ec] { done(clip, ec); });
}

std::shared_ptr<const AudioClip> Tts::synthesize(const std::string& text, const std::string& voice) {
  std::vector<int16_t> raw;
  {
    std::lock_guard engine(espeak_lock());
    if (espeak_rate_ <= 0) return nullptr;
    espeak_SetSynthCallback(on_samples);
    if (espeak_SetVoiceByName(voice.c_str()) != EE_OK) return nullptr;
    const espeak_ERROR err = espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                                          nullptr, &raw);
    if (err != EE_OK) return nullptr;
  }
  {
    std::lock_guard lock(mutex_);
    ++syntheses_;
  }
  if (raw.empty()) return nullptr;
  auto r = Resampler::create({.in_rate_hz = static_cast<uint32_t>(espeak_rate_), .out_rate_hz = options_.rate_hz,
                              .quality = 6});
  if (!r) return nullptr;
  auto clip = std::make_shared<AudioClip>();
  clip->rate_hz = options_.rate_hz;
  clip->samples.resize(r->output_size(raw.size()));
  clip->samples.resize(r->process(raw, clip->samples));
  return clip;
}

std::shared_ptr<const AudioClip> Tts::cache_find(const std::string& key) {
  auto it = cache_.find(key);
  if (it == cache_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.second);
  std::lock_guard lock(mutex_);
  ++cache_hits_;
  return it->second.first;
}

void Tts::cache_store(const std::string& key, std::shared_ptr<const AudioClip> clip) {
  if (options_.cache_entries == 0) return;
  while (cache_.size() >= options_.cache_entries && !lru_.empty()) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(key);
  cache_[key] = {std::move(clip), lru_.begin()};
}

}  // namespace warmline::media
