#include "server/speech_service.hpp"

#include <map>

#include "media/tts.hpp"

namespace warmline::server {

namespace {

// One espeak-ng Tts per sample rate the agents use, so a clip comes out at the agent's rate and goes
// into the playout buffer as it is. The map is built before the shards start and only read after, so
// shards call say() concurrently without a lock of ours (Tts::say is thread-safe).
class EspeakSpeech final : public SpeechService {
 public:
  EspeakSpeech(const Config& config) : voice_(config.media.tts_voice) {
    for (const auto& a : config.agents) {
      uint32_t rate = a.sample_rate;
      if (!tts_.count(rate))
        tts_.emplace(rate, std::make_unique<media::Tts>(media::TtsOptions{.default_voice = voice_, .rate_hz = rate, .cache_entries = 64, .max_text_bytes = 4000, .espeak_data_path = ""}));
    }
  }

  void say(std::string text, uint32_t rate_hz, std::function<void(std::function<void()>)> post_back,
           Done done) override {
    auto it = tts_.find(rate_hz);
    if (it == tts_.end()) {
      post_back([done = std::move(done)] { done(nullptr); });
      return;
    }
    it->second->say(std::move(text), "", std::move(post_back),
                    [done = std::move(done)](std::shared_ptr<const media::AudioClip> clip, std::error_code) {
                      done(std::move(clip));
                    });
  }

 private:
  std::string voice_;
  std::map<uint32_t, std::unique_ptr<media::Tts>> tts_;
};

}  // namespace

std::unique_ptr<SpeechService> make_speech_service(const Config& config) {
  return std::make_unique<EspeakSpeech>(config);
}

}  // namespace warmline::server
