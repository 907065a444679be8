#pragma once
#include <memory>

#include "server/config.hpp"
#include "server/speech.hpp"

namespace warmline::server {

// The gateway's text-to-speech: espeak-ng on a worker pool (media/tts), never on a shard thread.
std::unique_ptr<SpeechService> make_speech_service(const Config& config);

}  // namespace warmline::server
