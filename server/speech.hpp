// Text-to-speech as the server uses it: asynchronous, never on a shard thread (synthesis takes tens of
// milliseconds; a shard that waited would stall every call on it). The result is delivered back on the
// requesting shard's thread through the callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "media/source.hpp"

namespace warmline::server {

class SpeechService {
 public:
  using Done = std::function<void(std::shared_ptr<const media::AudioClip> clip)>;  // null on failure
  virtual ~SpeechService() = default;
  // Speaks `text` at `rate_hz`; `done` runs later via `post_back` (which posts to the caller's shard).
  virtual void say(std::string text, uint32_t rate_hz, std::function<void(std::function<void()>)> post_back,
                   Done done) = 0;
};

}  // namespace warmline::server
