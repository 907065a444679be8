#pragma once
// Audio sources that feed a mixer port on every media-clock tick: a (looping) clip of PCM such as hold
// music or a TTS prompt, and call-progress tones. read() fills one frame and never allocates; it runs on
// the call's shard.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "media/frame.hpp"

namespace warmline::media {

class Source {
 public:
  virtual ~Source() = default;
  // Fills `out` (whose format the caller chose) with the next frame. Returns false once the source has
  // nothing more to play; `out` is then silence.
  virtual bool read(Frame& out) = 0;
};

// Immutable mono PCM at one rate, shared by every call that plays it (1,000 calls on hold share one
// copy of the music; each source only keeps a position).
struct AudioClip {
  uint32_t rate_hz = 8000;
  std::vector<int16_t> samples;
};

struct ClipLoad {
  std::shared_ptr<const AudioClip> clip;  // null on error
  std::string error;                      // what went wrong, for the log / check-config
};

// Loads any file libsndfile reads (WAV, FLAC, ...; any rate, channels mixed down to mono) and resamples
// it once, at load, to rate_hz with the highest SpeexDSP quality. Control path only (file I/O):
// call it at start-up or on a worker, never on a shard's tick.
ClipLoad load_audio_file(const std::string& path, uint32_t rate_hz);

// What a file holds, read from its header only (no samples decoded): for check-config, which must say
// that a configured file is unusable without loading it. `error` is empty when libsndfile reads it as
// audio with at least one frame; the other fields are set then. Control path only (file I/O).
struct AudioFileInfo {
  uint32_t rate_hz = 0;
  uint32_t channels = 0;
  uint64_t frames = 0;  // samples per channel
  std::string error;    // "no such file", "not audio that libsndfile can read (...)", "no audio in it"
  double seconds() const { return rate_hz ? static_cast<double>(frames) / rate_hz : 0.0; }
};
AudioFileInfo probe_audio_file(const std::string& path);

// Plays a clip once or in a loop. The clip's rate must equal the frames' rate (read() returns false and
// silence otherwise, rather than playing at the wrong speed).
class ClipSource final : public Source {
 public:
  ClipSource(std::shared_ptr<const AudioClip> clip, bool loop);
  bool read(Frame& out) override;
  bool finished() const { return finished_; }
  void rewind() {
    pos_ = 0;
    finished_ = false;
  }

 private:
  std::shared_ptr<const AudioClip> clip_;
  bool loop_;
  bool finished_ = false;
  size_t pos_ = 0;
};

}  // namespace warmline::media
