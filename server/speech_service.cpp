#include "server/speech_service.hpp"

namespace warmline::server {

std::unique_ptr<SpeechService> make_speech_service(const Config&) { return nullptr; }

}  // namespace warmline::server
