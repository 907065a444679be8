#pragma once
// The default prompts warmline speaks itself. conf/audio/<file> holds them pre-rendered by
// scripts/make-audio.sh (espeak-ng, at build time); when a file is missing, the server speaks the text
// with Tts at first use, so the two must stay in step.
#include <array>
#include <string_view>

namespace warmline::media {

enum class Prompt { kPleaseHold, kFallback };

struct PromptInfo {
  Prompt prompt;
  std::string_view file;  // under conf/audio
  std::string_view text;
};

inline constexpr std::array<PromptInfo, 2> kPrompts{{
    {Prompt::kPleaseHold, "please-hold.wav", "Please hold while I transfer your call."},
    {Prompt::kFallback, "fallback.wav", "Sorry, I could not connect you. Please try again later."},
}};

inline constexpr std::string_view kHoldMusicFile = "hold-music.wav";

constexpr const PromptInfo& prompt_info(Prompt p) { return kPrompts[static_cast<size_t>(p)]; }

}  // namespace warmline::media
