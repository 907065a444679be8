// The music a caller on hold hears during a warm transfer (DESIGN.md "Transfers", `hold = "music"`):
// `[media] hold_music`, or the shipped conf/audio/hold-music.wav when that is empty. Decoded and
// resampled once at start-up to every PCM rate a caller's leg can run at with the configured codecs,
// so a media-clock tick only copies samples: one copy per rate for the whole process, shared read-only
// by every call on every shard; each leg keeps only its own position (media::ClipSource).
//
// Thread: loaded on the main thread before the shards start (file I/O and resampling: never on a
// tick); immutable afterwards, so the shards read it without locks.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "media/source.hpp"

namespace warmline::server {

// Longest hold music accepted (check-config refuses a longer file): it is kept decoded at up to three
// rates, 144 KiB per second at 8 + 16 + 48 kHz, and it loops anyway.
inline constexpr double kMaxHoldMusicSeconds = 600;

// conf/audio/<name> as this build ships it (the folder is fixed when warmline is built:
// -DWARMLINE_AUDIO_DIR, by default the source tree's conf/audio).
std::string shipped_audio_file(std::string_view name);

// What check-config says about a configured hold music file: "" when it can be played.
std::string check_hold_music_file(const std::string& path);

class HoldMusic {
 public:
  // The PCM rates of the caller legs these codecs give (G.711: 8 kHz, G.722: 16 kHz, Opus: 48 kHz),
  // each once. Unknown names are left out (the config loader has refused them).
  static std::vector<uint32_t> rates_for(const std::vector<std::string>& codecs);

  // Loads `path` at each of `rates`. nullptr with `error` set when the file cannot be read as audio.
  static std::unique_ptr<HoldMusic> load(const std::string& path, std::span<const uint32_t> rates,
                                         std::string& error);
  // From clips already in memory (tests); each at its own rate.
  static std::unique_ptr<HoldMusic> from_clips(std::string name,
                                               std::vector<std::shared_ptr<const media::AudioClip>> clips);

  // The music at `rate_hz`, or null when it was not loaded for that rate.
  std::shared_ptr<const media::AudioClip> at(uint32_t rate_hz) const;
  const std::string& path() const { return path_; }
  double seconds() const;

 private:
  HoldMusic() = default;
  std::string path_;
  std::vector<std::shared_ptr<const media::AudioClip>> clips_;  // one per rate
};

}  // namespace warmline::server
