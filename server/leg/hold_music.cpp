#include "server/leg/hold_music.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "media/codec.hpp"

#ifndef WARMLINE_AUDIO_DIR
#error "WARMLINE_AUDIO_DIR (the folder of the shipped audio) is set by CMakeLists.txt"
#endif

namespace warmline::server {

std::string shipped_audio_file(std::string_view name) {
  return std::string(WARMLINE_AUDIO_DIR) + "/" + std::string(name);
}

std::string check_hold_music_file(const std::string& path) {
  const media::AudioFileInfo info = media::probe_audio_file(path);
  if (!info.error.empty()) return fmt::format("cannot play '{}' as hold music: {}", path, info.error);
  if (info.seconds() > kMaxHoldMusicSeconds)
    return fmt::format("'{}' is {:.0f} s long; hold music may be at most {:.0f} s (it loops, and it is kept "
                       "decoded in memory)", path, info.seconds(), kMaxHoldMusicSeconds);
  return {};
}

std::vector<uint32_t> HoldMusic::rates_for(const std::vector<std::string>& codecs) {
  std::vector<uint32_t> rates;
  for (const std::string& name : codecs) {
    for (const media::CodecInfo& info : media::supported_codecs()) {
      if (info.name != name) continue;
      if (std::find(rates.begin(), rates.end(), info.pcm_rate_hz) == rates.end()) rates.push_back(info.pcm_rate_hz);
    }
  }
  return rates;
}

std::unique_ptr<HoldMusic> HoldMusic::load(const std::string& path, std::span<const uint32_t> rates,
                                           std::string& error) {
  std::unique_ptr<HoldMusic> music(new HoldMusic());
  music->path_ = path;
  for (uint32_t rate : rates) {
    media::ClipLoad loaded = media::load_audio_file(path, rate);
    if (!loaded.clip) {
      error = std::move(loaded.error);
      return nullptr;
    }
    music->clips_.push_back(std::move(loaded.clip));
  }
  return music;
}

std::unique_ptr<HoldMusic> HoldMusic::from_clips(std::string name,
                                                 std::vector<std::shared_ptr<const media::AudioClip>> clips) {
  std::unique_ptr<HoldMusic> music(new HoldMusic());
  music->path_ = std::move(name);
  music->clips_ = std::move(clips);
  return music;
}

std::shared_ptr<const media::AudioClip> HoldMusic::at(uint32_t rate_hz) const {
  for (const auto& clip : clips_)
    if (clip && clip->rate_hz == rate_hz && !clip->samples.empty()) return clip;
  return nullptr;
}

double HoldMusic::seconds() const {
  if (clips_.empty() || !clips_.front() || clips_.front()->rate_hz == 0) return 0;
  return static_cast<double>(clips_.front()->samples.size()) / clips_.front()->rate_hz;
}

}  // namespace warmline::server
